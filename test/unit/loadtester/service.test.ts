import assert from "node:assert/strict";
import { virtualClock } from "../../../src/loadtester/clock.ts";
import { startLoadTester } from "../../../src/loadtester/server.ts";
import type { LoadTester, LoadTesterOptions } from "../../../src/loadtester/server.ts";
import type { RunReport } from "../../../src/loadtester/runs.ts";
import { createLogger } from "../../../src/observability/logger.ts";
import { closedPort, startLocalServer } from "../../support/local-server.ts";
import type { LocalServer } from "../../support/local-server.ts";

const quiet = createLogger({ write: () => undefined });

async function post(tester: LoadTester, path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${tester.url}${path}`, { method: "POST", body: JSON.stringify(body), signal: AbortSignal.timeout(20_000) });
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) as Record<string, unknown> };
  } catch {
    return { status: res.status, body: { text } };
  }
}

const hook = (metadata: Record<string, string>, name = "podinfo") => ({ name, namespace: "test", phase: "Progressing", checksum: "abc", metadata });

/** Polls `check` until it is true; fails after `ms`. */
async function eventually(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("load tester service", () => {
  let target: LocalServer;
  let tester: LoadTester;
  const start = async (opts: LoadTesterOptions = {}) => {
    tester = await startLoadTester({ host: "127.0.0.1", port: 0, allowHosts: ["127.0.0.1"], logger: quiet, clock: virtualClock(), seed: 7, ...opts });
    return tester;
  };

  beforeEach(async () => {
    target = await startLocalServer(() => ({ status: 200, text: "ok" }));
  });
  afterEach(async () => {
    await tester?.close();
    await target.close();
  });

  it("runs a blocking hey -n command and answers with what it sent", async () => {
    await start();
    const res = await post(tester, "/", hook({ type: "cmd", cmd: `hey -n 20 -c 2 -q 50 -m POST -d 'x=1' -H 'X-Test: yes' ${target.url}/echo`, blocking: "true" }));
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const report = res.body as unknown as RunReport;
    assert.equal(report.requests, 20);
    assert.equal(report.succeeded, 20);
    assert.deepEqual(report.errors, {});
    assert.deepEqual(report.codes, { "200": 20 });
    assert.equal(report.canary, "podinfo.test");
    assert.ok(report.latencyMs.p50 > 0 && report.latencyMs.p50 <= report.latencyMs.p90 && report.latencyMs.p90 <= report.latencyMs.p99);
    assert.equal(target.requests.length, 20);
    assert.ok(target.requests.every((r) => r.method === "POST" && r.path === "/echo" && r.body === "x=1" && r.headers["x-test"] === "yes"));
  });

  it("sends about rate × duration for a -z run", async () => {
    await start();
    const res = await post(tester, "/", hook({ cmd: `hey -z 3s -q 10 -c 2 ${target.url}/`, blocking: "true" }));
    assert.equal(res.status, 200);
    const sent = target.requests.length;
    assert.ok(sent >= 57 && sent <= 63, `2 workers × 10/s × 3s ≈ 60, sent ${sent}`);
    assert.equal((res.body as unknown as RunReport).requests, sent);
  });

  it("counts 500s and a down target as errors by class, keeps serving, and exports the counts", async () => {
    await start();
    target.handle(() => ({ status: 500, text: "boom" }));
    const failing = await post(tester, "/", hook({ cmd: `hey -n 10 -c 2 ${target.url}/`, blocking: "true" }));
    assert.equal(failing.status, 500, "a blocking run with failed requests fails the hook");
    assert.deepEqual((failing.body as unknown as RunReport).errors, { http_5xx: 10 });
    const down = await post(tester, "/", hook({ cmd: `hey -n 6 -c 3 http://127.0.0.1:${await closedPort()}/`, blocking: "true" }));
    assert.equal(down.status, 500);
    assert.deepEqual((down.body as unknown as RunReport).errors, { refused: 6 });
    assert.equal((await fetch(`${tester.url}/healthz`)).status, 200);
    const metrics = await (await fetch(`${tester.url}/metrics`)).text();
    assert.match(metrics, /aviary_loadtester_requests_total\{tool="hey",outcome="http_5xx"\} 10/);
    assert.match(metrics, /aviary_loadtester_requests_total\{tool="hey",outcome="refused"\} 6/);
    assert.match(metrics, /aviary_loadtester_runs_total\{mode="blocking",result="completed"\} 2/);
  });

  it("sends to https targets with self-signed certificates, as hey does", async () => {
    await start();
    const secure = await startLocalServer(() => ({ status: 204, text: "" }), { tls: true });
    try {
      const res = await post(tester, "/", hook({ cmd: `hey -n 4 -c 2 ${secure.url}/`, blocking: "true" }));
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual((res.body as unknown as RunReport).codes, { "204": 4 });
      assert.equal(secure.requests.length, 4);
    } finally {
      await secure.close();
    }
  });

  it("counts a target that never answers as a timeout after -t", async () => {
    await start();
    target.handle(() => ({ hang: true }));
    const res = await post(tester, "/", hook({ cmd: `hey -n 2 -c 2 -t 1 ${target.url}/`, blocking: "true" }));
    assert.equal(res.status, 500);
    assert.deepEqual((res.body as unknown as RunReport).errors, { timeout: 2 });
  });

  it("starts a background command once per canary while it runs, like Flagger's rollout hook", async () => {
    // Real time and a target that never answers keep the first run going.
    await start({ clock: undefined });
    target.handle(() => ({ hang: true }));
    const cmd = `hey -z 1m -q 1 -c 1 ${target.url}/`;
    const first = await post(tester, "/", hook({ type: "cmd", cmd }));
    assert.equal(first.status, 202);
    assert.match(String(first.body.message), /started/);
    await eventually(() => target.requests.length === 1, "the first request");
    const again = await post(tester, "/", hook({ type: "cmd", cmd }));
    assert.equal(again.status, 202);
    assert.match(String(again.body.message), /already running/);
    assert.equal(again.body.run, first.body.run);
    const other = await post(tester, "/", hook({ type: "cmd", cmd }, "other"));
    assert.notEqual(other.body.run, first.body.run, "another canary's identical command is its own run");
    const runs = (await (await fetch(`${tester.url}/runs`)).json()) as { runs: unknown[] };
    assert.equal(runs.runs.length, 2);
    await eventually(() => target.requests.length === 2, "the second canary's request");
    assert.equal(target.requests.length, 2, "the deduplicated call sent nothing");
  });

  it("cancels a blocking run when its caller gives up (the webhook's timeout)", async () => {
    await start({ clock: undefined });
    target.handle(() => ({ hang: true }));
    const call = fetch(`${tester.url}/`, {
      method: "POST",
      body: JSON.stringify(hook({ cmd: `hey -z 1m -q 1 -c 1 ${target.url}/`, blocking: "true" })),
      signal: AbortSignal.timeout(300),
    });
    await assert.rejects(call);
    assert.equal(target.requests.length, 1);
    await eventually(() => tester.runs.size === 0, "the run to stop");
    const metrics = await (await fetch(`${tester.url}/metrics`)).text();
    assert.match(metrics, /aviary_loadtester_runs_total\{mode="blocking",result="cancelled"\} 1/);
  });

  it("refuses bash, unknown flags, outside targets and requests above a bound, naming each", async () => {
    await start({ allowHosts: ["127.0.0.1"], limits: { maxRuns: 1 } });
    const cases: Array<[Record<string, string>, number, RegExp]> = [
      [{ type: "bash", cmd: "curl -s http://podinfo-canary.test/ | grep podinfo" }, 400, /type "bash"/],
      [{ cmd: "hey -k http://podinfo.test/" }, 400, /unknown flag -k/],
      [{ cmd: "hey -z 1m -q 1 -c 1 http://podinfo.example.com/" }, 400, /podinfo\.example\.com is not an in-cluster Service/],
      [{ cmd: "hey -z 1m -q 1 -c 1 http://10.0.0.1/" }, 400, /10\.0\.0\.1 is an IP address/],
      [{ cmd: `hey -z 1m -q 1000 -c 2 ${target.url}/` }, 400, /--max-rate/],
      [{ cmd: `hey -z 20m -q 1 -c 1 ${target.url}/` }, 400, /--max-duration/],
      [{ cmd: "sh -c 'hey http://svc/'" }, 400, /"sh" is not a command/],
      [{}, 400, /metadata not found/],
    ];
    for (const [metadata, status, message] of cases) {
      const res = await post(tester, "/", hook(metadata));
      assert.equal(res.status, status, JSON.stringify(metadata));
      assert.match(String(res.body.error), message);
    }
    assert.equal((await post(tester, "/", { metadata: { cmd: "hey http://svc/" } })).status, 400, "name and namespace are required");
    assert.equal((await fetch(`${tester.url}/`, { method: "POST", body: "not json" })).status, 400);
    assert.equal(target.requests.length, 0, "no refused command sent anything");

    target.handle(() => ({ hang: true }));
    assert.equal((await post(tester, "/", hook({ cmd: `hey -z 1m -q 1 -c 1 ${target.url}/` }))).status, 202);
    const busy = await post(tester, "/", hook({ cmd: `hey -z 1m -q 1 -c 1 ${target.url}/other` }));
    assert.equal(busy.status, 429);
    assert.match(String(busy.body.error), /--max-runs/);
  });

  it("answers malformed payloads with a 4xx naming the field, and stays up", async () => {
    await start();
    const bodies = [
      "", "null", "[]", "42", '"x"', "{", '{"name": 1, "namespace": "t"}', '{"name": "a"}', '{"name": "a", "namespace": "t", "metadata": []}',
      '{"name": "a", "namespace": "t", "metadata": {"cmd": 5}}', '{"name": "a", "namespace": "t", "metadata": {"cmd": null}}',
      '{"name": "a", "namespace": "t", "metadata": {"type": {}}}', JSON.stringify({ name: "a", namespace: "t", metadata: { cmd: "x".repeat(70_000) } }),
    ];
    for (const body of bodies) {
      const res = await fetch(`${tester.url}/`, { method: "POST", body });
      assert.ok(res.status >= 400 && res.status < 500, `${body.slice(0, 60)} → ${res.status}`);
      const answer = (await res.json()) as { error: string };
      assert.ok(answer.error.length > 0);
    }
    const field = await post(tester, "/", { name: "a", namespace: "t", metadata: { cmd: 5 } });
    assert.match(String(field.body.error), /metadata\.cmd/);
    assert.equal((await fetch(`${tester.url}/`)).status, 405);
    assert.equal((await fetch(`${tester.url}/nowhere`)).status, 404);
    assert.equal((await fetch(`${tester.url}/healthz`)).status, 200);
  });

  it("keeps Flagger's manual gates per canary", async () => {
    await start();
    const payload = { name: "podinfo", namespace: "test" };
    assert.equal((await post(tester, "/gate/approve", payload)).status, 200);
    assert.equal((await post(tester, "/gate/halt", payload)).status, 403);
    assert.equal((await post(tester, "/gate/check", payload)).status, 403, "closed by default");
    assert.equal((await post(tester, "/gate/open", payload)).status, 202);
    assert.equal((await post(tester, "/gate/check", payload)).status, 200);
    assert.equal((await post(tester, "/gate/check", { ...payload, name: "other" })).status, 403, "per canary");
    assert.equal((await post(tester, "/rollback/check", payload)).status, 403, "the rollback gate is separate");
    assert.equal((await post(tester, "/gate/close", payload)).status, 202);
    assert.equal((await post(tester, "/gate/check", payload)).status, 403);
  });
});
