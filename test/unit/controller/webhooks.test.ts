import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Canary, CanaryWebhook } from "../../../src/api/types.ts";
import { allPassed, callWebhook, redactUrl, runWebhooks, webhooksOfType } from "../../../src/controller/checks/webhooks.ts";
import type { WebhookPayload } from "../../../src/controller/checks/webhooks.ts";
import { startLocalServer } from "../../support/local-server.ts";

interface Received {
  method: string;
  contentType: string;
  body: unknown;
}

/** A local webhook whose answer to the n-th request (0-based) is decided by `answer`. */
async function webhookServer(answer: (n: number, res: http.ServerResponse) => void) {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({ method: req.method ?? "", contentType: req.headers["content-type"] ?? "", body: JSON.parse(Buffer.concat(chunks).toString() || "null") });
      answer(received.length - 1, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return {
    url,
    received,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

/** A port that nothing listens on: bind, note the port, close. */
async function closedPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const payload: WebhookPayload = { name: "podinfo", namespace: "test", phase: "Progressing", checksum: "abc123", metadata: { cmd: "hey" } };
const signal = () => new AbortController().signal;
const noBackoff = () => 1;

function canaryWith(webhooks: CanaryWebhook[]): Canary {
  return {
    apiVersion: "aviary.dev/v1beta1",
    kind: "Canary",
    metadata: { name: "podinfo", namespace: "test", uid: "u1" },
    spec: { targetRef: { name: "podinfo" }, service: { port: 9898 }, analysis: { webhooks } },
    status: { phase: "Progressing" },
  };
}

describe("analysis webhooks", () => {
  const servers: { close: () => Promise<void> }[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
  const serve = async (answer: (n: number, res: http.ServerResponse) => void) => {
    const s = await webhookServer(answer);
    servers.push(s);
    return s;
  };

  it("POSTs Flagger's JSON payload and passes on 200", async () => {
    const s = await serve((_n, res) => res.end("ok, go ahead"));
    const out = await callWebhook(s.url, payload, 2000, 0, { signal: signal() });
    assert.equal(out.ok, true);
    assert.equal(out.status, 200);
    assert.equal(out.attempts, 1);
    assert.match(out.message, /answered 200: ok, go ahead/);
    assert.ok(out.durationMs >= 0);
    assert.deepEqual(s.received, [{ method: "POST", contentType: "application/json", body: payload }]);
  });

  it("fails on 500 with the status and the body in the message", async () => {
    const s = await serve((_n, res) => { res.statusCode = 500; res.end("load test failed: p99 2s"); });
    const out = await callWebhook(s.url, payload, 2000, 0, { signal: signal() });
    assert.equal(out.ok, false);
    assert.equal(out.status, 500);
    assert.match(out.message, /answered 500: load test failed: p99 2s/);
  });

  it("times out a slow webhook and says so", async () => {
    const s = await serve((_n, res) => setTimeout(() => res.end("late"), 2000).unref());
    const out = await callWebhook(s.url, payload, 100, 0, { signal: signal() });
    assert.equal(out.ok, false);
    assert.equal(out.status, 0);
    assert.match(out.message, /no answer within 100ms \(timeout\)/);
    assert.ok(out.durationMs < 1500, `took ${out.durationMs}ms`);
  });

  it("retries 5xx with backoff and passes when a retry succeeds", async () => {
    const s = await serve((n, res) => { res.statusCode = n < 2 ? 503 : 200; res.end(); });
    const delays: number[] = [];
    const out = await callWebhook(s.url, payload, 2000, 3, { signal: signal(), backoffMs: (r) => { delays.push(r); return 5; } });
    assert.equal(out.ok, true);
    assert.equal(out.attempts, 3);
    assert.deepEqual(delays, [1, 2]);
    assert.equal(s.received.length, 3);
    assert.match(out.message, /after 3 attempts/);
  });

  it("gives up after the configured retries", async () => {
    const s = await serve((_n, res) => { res.statusCode = 502; res.end(); });
    const out = await callWebhook(s.url, payload, 2000, 2, { signal: signal(), backoffMs: noBackoff });
    assert.equal(out.ok, false);
    assert.equal(out.attempts, 3);
    assert.equal(s.received.length, 3);
  });

  it("does not retry a 4xx: the webhook said no", async () => {
    const s = await serve((_n, res) => { res.statusCode = 403; res.end("not approved"); });
    const out = await callWebhook(s.url, payload, 2000, 5, { signal: signal(), backoffMs: noBackoff });
    assert.equal(out.ok, false);
    assert.equal(out.attempts, 1);
    assert.equal(out.status, 403);
  });

  it("reports a refused connection as a failed check instead of throwing", async () => {
    const port = await closedPort();
    const out = await callWebhook(`http://127.0.0.1:${port}/hook?token=secret`, payload, 2000, 1, { signal: signal(), backoffMs: noBackoff });
    assert.equal(out.ok, false);
    assert.equal(out.status, 0);
    assert.equal(out.attempts, 2);
    assert.match(out.message, /unreachable: connection refused/);
    assert.doesNotMatch(out.message, /secret/);
  });

  it("throws when the caller aborts, instead of inventing a verdict", async () => {
    const s = await serve((_n, res) => setTimeout(() => res.end(), 2000).unref());
    const ctl = new AbortController();
    setTimeout(() => ctl.abort(new Error("shutting down")), 50);
    await assert.rejects(callWebhook(s.url, payload, 5000, 3, { signal: ctl.signal }), /shutting down/);
  });

  it("redacts credentials and query strings from URLs", () => {
    assert.equal(redactUrl("https://user:pw@hooks.example.com:8443/a/b?token=x"), "https://hooks.example.com:8443/a/b");
    assert.equal(redactUrl("not a url"), "<invalid URL>");
  });

  it("selects webhooks by type, an untyped webhook being a rollout hook", () => {
    const canary = canaryWith([
      { name: "a", url: "http://x" },
      { name: "b", type: "pre-rollout", url: "http://x" },
      { name: "c", type: "rollout", url: "http://x" },
    ]);
    assert.deepEqual(webhooksOfType(canary, "rollout").map((w) => w.name), ["a", "c"]);
    assert.deepEqual(webhooksOfType(canary, "pre-rollout").map((w) => w.name), ["b"]);
    assert.deepEqual(webhooksOfType(canary, "event"), []);
  });

  it("runs every webhook of a type and summarizes each as an AnalysisResult", async () => {
    const good = await serve((_n, res) => res.end("fine"));
    const bad = await serve((_n, res) => { res.statusCode = 500; res.end("broken"); });
    const canary = canaryWith([
      { name: "load-test", type: "rollout", url: bad.url, timeout: "2s", metadata: { cmd: "hey -z 1m" } },
      { name: "smoke", type: "rollout", url: good.url },
      { name: "gate", type: "confirm-promotion", url: good.url },
      { name: "bad-timeout", type: "rollout", url: good.url, timeout: "soon" },
    ]);
    const results = await runWebhooks(canary, "rollout", {
      signal: signal(), checksum: "rev-2", now: () => new Date(0), extraMetadata: { eventType: "Normal" },
    });
    assert.deepEqual(results.map((r) => [r.name, r.kind, r.verdict, r.time]), [
      ["load-test", "webhook", "fail", "1970-01-01T00:00:00.000Z"],
      ["smoke", "webhook", "pass", "1970-01-01T00:00:00.000Z"],
      ["bad-timeout", "webhook", "fail", "1970-01-01T00:00:00.000Z"],
    ]);
    assert.match(results[0]!.message, /answered 500: broken/);
    assert.match(results[2]!.message, /timeout must be a duration/);
    assert.deepEqual(bad.received[0]!.body, {
      name: "podinfo", namespace: "test", phase: "Progressing", checksum: "rev-2", metadata: { cmd: "hey -z 1m", eventType: "Normal" },
    });
    assert.equal(good.received.length, 1, "the confirm-promotion gate is not a rollout hook");
    assert.equal(allPassed(results), false);
    assert.equal(allPassed(results.filter((r) => r.name === "smoke")), true);
  });
});

describe("analysis webhooks: disableTLS", () => {
  it("verifies the certificate by default and skips the verification for a webhook with disableTLS", async () => {
    const tls = await startLocalServer(() => ({ status: 200, text: "ok over TLS" }), { tls: true });
    try {
      const verified = await runWebhooks(canaryWith([{ name: "strict", type: "rollout", url: `${tls.url}/hook` }]), "rollout", { signal: AbortSignal.timeout(10_000), checksum: "rev-1" });
      assert.equal(verified[0]!.verdict, "fail");
      assert.match(verified[0]!.message, /POST https:\/\/127\.0\.0\.1:\d+\/hook: unreachable: .*(certificate|self.signed)/i);
      const skipped = await runWebhooks(canaryWith([{ name: "lenient", type: "rollout", url: `${tls.url}/hook`, disableTLS: true }]), "rollout", { signal: AbortSignal.timeout(10_000), checksum: "rev-1" });
      assert.equal(skipped[0]!.verdict, "pass", skipped[0]!.message);
      assert.match(skipped[0]!.message, /answered 200: ok over TLS/);
      assert.equal(tls.requests.length, 1, "only the lenient call got through");
      assert.equal(JSON.parse(tls.requests[0]!.body).checksum, "rev-1");
    } finally {
      await tls.close();
    }
  });

  it("keeps the timeout for an insecure call", async () => {
    const tls = await startLocalServer(() => ({ hang: true }), { tls: true });
    try {
      const out = await callWebhook(tls.url, payload, 100, 0, { signal: AbortSignal.timeout(10_000), insecureSkipVerify: true });
      assert.equal(out.ok, false);
      assert.match(out.message, /timed out after 100ms/);
    } finally {
      await tls.close();
    }
  });
});
