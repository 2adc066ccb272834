import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { X509Certificate } from "node:crypto";
import { Agent } from "node:https";
import { once } from "node:events";
import { connect as tlsConnect } from "node:tls";
import type { AdmissionHandler, AdmissionResponse, AdmissionResult } from "../../../src/webhook/admission.ts";
import { allowed, denied } from "../../../src/webhook/admission.ts";
import { generateCertBundle } from "../../../src/webhook/certs.ts";
import type { CertBundle } from "../../../src/webhook/certs.ts";
import { DirectoryCertStore } from "../../../src/webhook/cert-store.ts";
import { CertManager } from "../../../src/webhook/cert-manager.ts";
import { WebhookServer } from "../../../src/webhook/server.ts";
import type { AdmissionOutcome } from "../../../src/webhook/server.ts";
import { admissionRequest, collectingLogger, deployment, DEPLOYMENT_GVK, review, send } from "./helpers.ts";

/** Decides by the object's name, so each test can pick the behaviour it needs. */
function scriptedHandler(type: "mutate" | "validate", name: string, failurePolicy: "Fail" | "Ignore"): AdmissionHandler {
  return {
    type,
    name,
    failurePolicy,
    timeoutMs: 200,
    async handle(request, ctx): Promise<AdmissionResult> {
      const objName = request.object?.metadata.name;
      if (objName === "deny") return denied("deny is not welcome here", 403);
      if (objName === "throw") throw new Error("lookup exploded");
      if (objName === "slow") {
        await sleep(2_000, undefined, { signal: ctx.signal }).catch(() => {});
        return allowed();
      }
      if (objName === "patch") return { allowed: true, patch: [{ op: "add", path: "/metadata/annotations", value: { a: "b" } }] };
      return allowed(objName === "warn" ? ["careful"] : undefined);
    },
  };
}

const body = (name: string, uid?: string): string => {
  const req = admissionRequest("UPDATE", DEPLOYMENT_GVK, deployment(name), deployment(name));
  if (uid) req.uid = uid;
  return JSON.stringify(review(req));
};

describe("webhook server", function () {
  this.timeout(20_000);
  let bundle: CertBundle;
  let server: WebhookServer;
  let port: number;
  const samples: Array<{ route: string; outcome: AdmissionOutcome; seconds: number }> = [];
  const logger = collectingLogger();

  before(async () => {
    bundle = await generateCertBundle({ dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"] });
    server = new WebhookServer({
      handlers: [scriptedHandler("validate", "test", "Fail"), scriptedHandler("mutate", "ignored", "Ignore")],
      tls: bundle,
      log: logger.log,
      metrics: { observe: (s) => samples.push(s) },
      host: "127.0.0.1",
      port: 0,
      maxBodyBytes: 64 * 1024,
    });
    port = (await server.listen()).port;
  });
  after(async () => {
    await server.close();
  });

  const post = (payload: string | undefined, opts: { path?: string; headers?: Record<string, string>; method?: string } = {}) =>
    send(port, payload, { ca: bundle.caCert, ...opts });

  it("serves /healthz and lists its routes", async () => {
    const res = await send(port, undefined, { ca: bundle.caCert, method: "GET", path: "/healthz" });
    assert.equal(res.status, 200);
    assert.equal(res.body, "ok");
    assert.deepEqual(server.routes(), ["/validate/test", "/mutate/ignored"]);
  });

  it("answers with an AdmissionReview v1 that echoes the request uid", async () => {
    const agent = new Agent({ keepAlive: true });
    const res = await send(port, body("fine", "5f3e2c1a-0000-4000-8000-000000000001"), { ca: bundle.caCert, agent });
    agent.destroy();
    assert.equal(res.status, 200);
    assert.match(String(res.headers["content-type"]), /^application\/json/);
    assert.match(String(res.headers["keep-alive"]), /timeout=120/);
    assert.deepEqual(res.json(), {
      apiVersion: "admission.k8s.io/v1",
      kind: "AdmissionReview",
      response: { uid: "5f3e2c1a-0000-4000-8000-000000000001", allowed: true },
    });
  });

  it("encodes a handler's patch as base64 JSONPatch and passes warnings", async () => {
    const patched = (await post(body("patch"), { path: "/validate/test" })).json() as { response: AdmissionResponse };
    assert.equal(patched.response.patchType, "JSONPatch");
    assert.deepEqual(JSON.parse(Buffer.from(patched.response.patch ?? "", "base64").toString()), [
      { op: "add", path: "/metadata/annotations", value: { a: "b" } },
    ]);
    const warned = (await post(body("warn"))).json() as { response: AdmissionResponse };
    assert.deepEqual(warned.response.warnings, ["careful"]);
  });

  it("reports a denial with its code and message", async () => {
    const res = (await post(body("deny"))).json() as { response: AdmissionResponse };
    assert.equal(res.response.allowed, false);
    assert.deepEqual(res.response.status, { code: 403, message: "deny is not welcome here", reason: "Forbidden" });
  });

  it("turns a handler exception into the route's failurePolicy answer and logs it", async () => {
    const failed = (await post(body("throw"))).json() as { response: AdmissionResponse };
    assert.equal(failed.response.allowed, false);
    assert.equal(failed.response.status?.code, 500);
    assert.match(failed.response.status?.message ?? "", /aviary \/validate\/test failed: lookup exploded/);

    const ignored = (await post(body("throw"), { path: "/mutate/ignored" })).json() as { response: AdmissionResponse };
    assert.equal(ignored.response.allowed, true);
    assert.deepEqual(ignored.response.warnings, ["aviary /mutate/ignored skipped: lookup exploded"]);
    assert.ok(logger.lines().some((l) => l.msg === "admission handler failed" && l.route === "/validate/test"));
  });

  it("answers a handler that overruns its budget by failurePolicy, in time", async () => {
    const started = Date.now();
    const res = (await post(body("slow"))).json() as { response: AdmissionResponse };
    assert.ok(Date.now() - started < 1_500, "the server waited for the slow handler");
    assert.equal(res.response.allowed, false);
    assert.match(res.response.status?.message ?? "", /did not answer within 200 ms/);
  });

  it("rejects non-JSON content types with 415 and an empty body with 400", async () => {
    const text = await post("hello", { headers: { "content-type": "text/plain" } });
    assert.equal(text.status, 415);
    assert.deepEqual(text.json(), { error: "Content-Type must be application/json" });
    const yaml = await post(body("fine"), { headers: { "content-type": "application/yaml" } });
    assert.equal(yaml.status, 415);
    const gz = await post(body("fine"), { headers: { "content-encoding": "gzip" } });
    assert.equal(gz.status, 415);
    const empty = await post("", {});
    assert.equal(empty.status, 400);
  });

  it("rejects malformed JSON and malformed reviews with 400 and a JSON error, never a stack", async () => {
    const broken = await post('{"apiVersion": "admission.k8s.io/v1", "kind": ');
    assert.equal(broken.status, 400);
    assert.deepEqual(broken.json(), { error: "request body is not valid JSON" });

    const noUid = await post(JSON.stringify({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request: { operation: "CREATE" } }));
    assert.equal(noUid.status, 400);
    assert.match((noUid.json() as { error: string }).error, /^invalid AdmissionReview: request\.uid must be/);

    const v1beta1 = await post(body("fine").replace("admission.k8s.io/v1", "admission.k8s.io/v1beta1"));
    assert.equal(v1beta1.status, 400);
    for (const res of [broken, noUid, v1beta1]) assert.doesNotMatch(res.body, /\s+at\s+\S+\s+\(/);
  });

  it("rejects a body over the cap with 413 and keeps serving", async () => {
    const huge = JSON.stringify({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", pad: "x".repeat(100 * 1024) });
    const res = await post(huge);
    assert.equal(res.status, 413);
    assert.deepEqual(res.json(), { error: "request body exceeds 65536 bytes" });
    assert.equal((await post(body("fine"))).status, 200);
  });

  it("answers 405 for other methods on a route and 404 elsewhere", async () => {
    assert.equal((await post(undefined, { method: "GET" })).status, 405);
    const missing = await post(body("fine"), { path: "/mutate/pods" });
    assert.equal(missing.status, 404);
    assert.deepEqual(missing.json(), { error: "no admission route POST /mutate/pods" });
  });

  it("refuses TLS below 1.2", async () => {
    await assert.rejects(send(port, body("fine"), { ca: bundle.caCert, minVersion: "TLSv1", maxVersion: "TLSv1.1" }));
  });

  it("reports every answer to the metrics recorder", async () => {
    samples.length = 0;
    await post(body("fine"));
    await post(body("deny"));
    await post(body("patch"));
    await post("{", {});
    await post(body("fine"), { path: "/nowhere" });
    assert.deepEqual(
      samples.map((s) => [s.route, s.outcome]),
      [
        ["/validate/test", "allowed"],
        ["/validate/test", "denied"],
        ["/validate/test", "patched"],
        ["/validate/test", "invalid"],
        ["unmatched", "invalid"],
      ],
    );
    assert.ok(samples.every((s) => s.seconds >= 0 && s.seconds < 5));
  });

  it("swaps the certificate in place and keeps the old one when the new pair is broken", async () => {
    const next = await generateCertBundle({ dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"] });
    const before = await post(body("fine"));
    server.setCertificate(next);
    const afterSwap = await send(port, body("fine"), { ca: next.caCert });
    assert.equal(afterSwap.status, 200);
    assert.equal(afterSwap.peerFingerprint, new X509Certificate(next.cert).fingerprint256);
    assert.notEqual(afterSwap.peerFingerprint, before.peerFingerprint);
    // Clients that trust only the old CA now fail: the old certificate is gone.
    await assert.rejects(post(body("fine")));

    assert.throws(() => server.setCertificate({ cert: bundle.cert, key: next.key }));
    const still = await send(port, body("fine"), { ca: next.caCert });
    assert.equal(still.peerFingerprint, new X509Certificate(next.cert).fingerprint256);
    await assert.rejects(send(port, body("fine"), { ca: next.caCert, minVersion: "TLSv1", maxVersion: "TLSv1.1" }));
    server.setCertificate(bundle);
  });
});

describe("webhook server with a CertManager on a directory", function () {
  this.timeout(20_000);
  let dir: string;
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it("serves the files' certificate and a replaced one after the next poll, without a restart", async () => {
    dir = await mkdtemp(join(tmpdir(), "aviary-certs-"));
    const store = new DirectoryCertStore(dir);
    const { log } = collectingLogger();
    const manager = new CertManager({ store, dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"], log, pollIntervalMs: 50 });
    const first = await manager.start();
    const server = new WebhookServer({ handlers: [scriptedHandler("validate", "test", "Fail")], tls: first, log, host: "127.0.0.1", port: 0 });
    manager.onChange((change) => server.setCertificate(change.bundle));
    const { port } = await server.listen();
    try {
      const res1 = await send(port, body("fine"), { ca: first.caCert });
      assert.equal(res1.peerFingerprint, new X509Certificate(first.cert).fingerprint256);

      // Someone (hack/dev-certs --force, a mounted Secret) replaces the files.
      const replacement = await generateCertBundle({ dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"] });
      await store.save(replacement);
      const want = new X509Certificate(replacement.cert).fingerprint256;
      let served = "";
      for (let i = 0; i < 100 && served !== want; i++) {
        await sleep(20);
        served = await send(port, body("fine"), { ca: replacement.caCert }).then((r) => r.peerFingerprint, () => "");
      }
      assert.equal(served, want);
      assert.equal(manager.current()?.cert, replacement.cert);
    } finally {
      manager.stop();
      await server.close();
    }
  });
});

describe("webhook server timeouts", function () {
  this.timeout(20_000);
  let bundle: CertBundle;
  let server: WebhookServer;
  let port: number;
  before(async () => {
    bundle = await generateCertBundle({ dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"] });
    server = new WebhookServer({
      handlers: [scriptedHandler("validate", "test", "Fail")],
      tls: bundle,
      log: collectingLogger().log,
      host: "127.0.0.1",
      port: 0,
      headersTimeoutMs: 400,
      requestTimeoutMs: 800,
      keepAliveTimeoutMs: 3_000,
    });
    port = (await server.listen()).port;
  });
  after(async () => server.close());

  it("cuts off a client that never finishes its headers", async () => {
    const socket = tlsConnect({ host: "127.0.0.1", port, ca: bundle.caCert });
    await once(socket, "secureConnect");
    socket.write("POST /validate/test HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n");
    const started = Date.now();
    const chunks: Buffer[] = [];
    socket.on("data", (c: Buffer) => chunks.push(c));
    await once(socket, "close");
    assert.ok(Date.now() - started < 3_000, "the connection stayed open");
    assert.match(Buffer.concat(chunks).toString(), /^HTTP\/1\.1 408/);
  });

  it("keeps an idle keep-alive connection usable past the header timeout", async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const first = await send(port, body("fine"), { ca: bundle.caCert, agent });
      await sleep(1_000);
      const second = await send(port, body("fine"), { ca: bundle.caCert, agent });
      assert.equal(first.status, 200);
      assert.equal(second.status, 200);
    } finally {
      agent.destroy();
    }
  });
});
