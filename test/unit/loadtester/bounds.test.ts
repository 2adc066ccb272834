import assert from "node:assert/strict";
import { DEFAULT_LIMITS, scheduleWithin } from "../../../src/loadtester/bounds.ts";
import { virtualClock } from "../../../src/loadtester/clock.ts";
import { parseCommand } from "../../../src/loadtester/command.ts";
import { runLoad } from "../../../src/loadtester/run.ts";
import { hostRefusal } from "../../../src/loadtester/targets.ts";
import { CommandRefusedError } from "../../../src/loadtester/tokenize.ts";

const limits = DEFAULT_LIMITS;
const schedule = (cmd: string, l = limits) => scheduleWithin(parseCommand(cmd), l);

function refusedBy(cmd: string, subject: string, bound: string, l = limits): void {
  assert.throws(
    () => schedule(cmd, l),
    (err: unknown) => err instanceof CommandRefusedError && err.subject === subject && err.message.includes(bound),
    `${cmd} should be refused by ${bound}`,
  );
}

describe("load tester bounds", () => {
  it("turns rate and concurrency into a per-worker interval and a share of requests", () => {
    const z = schedule("hey -z 1m -q 10 -c 2 http://svc/");
    assert.equal(z.intervalMs, 100);
    assert.equal(z.ratePerSecond, 20);
    assert.equal(z.durationMs, 60_000);
    const n = schedule("hey -n 10 -c 3 -q 5 http://svc/");
    assert.deepEqual(n.requestsPerWorker, [4, 3, 3]);
    assert.equal(n.intervalMs, 200);
    assert.equal(n.durationMs, 800, "the last request of the busiest worker starts at 600ms");
    assert.equal(n.stopAfterMs, limits.maxDurationMs, "a -n run ends by its count, within the bound");
    assert.equal(z.stopAfterMs, 60_000);
    const ghz = schedule("ghz --insecure --call grpc.health.v1.Health/Check -q 10 -c 2 -z 10s svc.ns:9000");
    assert.equal(ghz.intervalMs, 200, "ghz -q is over all workers");
  });

  it("paces an open rate (no -q) at the rate bound", () => {
    const open = schedule("hey -n 200 -c 50 http://svc/");
    assert.equal(open.ratePerSecond, 1000);
    assert.equal(open.intervalMs, 50);
    assert.equal(open.timeoutMs, 20_000);
    assert.equal(schedule("hey -t 0 -n 1 -c 1 http://svc/").timeoutMs, limits.maxDurationMs, "no timeout becomes the run bound");
  });

  it("refuses a run above any bound, naming the bound and its flag", () => {
    refusedBy("hey -z 11m -q 1 -c 1 http://svc/", "-z", "--max-duration");
    refusedBy("hey -c 101 -z 1m -q 1 http://svc/", "-c", "--max-concurrency");
    refusedBy("hey -c 10 -q 101 -z 1m http://svc/", "-q", "1010 requests/s");
    refusedBy("ghz --insecure --call grpc.health.v1.Health/Check -q 2000 -c 1 -z 1m svc:1", "-q", "--max-rate");
    refusedBy("hey -n 100 -c 1 -q 0.1 http://svc/", "-n", "--max-duration");
    refusedBy("hey -t 700 -n 1 -c 1 http://svc/", "-t", "--max-duration");
    refusedBy("hey -z 2s -q 1 -c 1 http://svc/", "-z", "1s", { ...limits, maxDurationMs: 1000 });
  });

  it("sends exactly what a -z schedule says, on a virtual clock", async () => {
    const plan = parseCommand("hey -z 2s -q 10 -c 3 http://svc/");
    const s = scheduleWithin(plan, limits);
    let sent = 0;
    await runLoad({ schedule: s, clock: virtualClock(), signal: new AbortController().signal, send: async () => (sent++, { outcome: "ok" }), observe: () => undefined });
    assert.equal(sent, 60, "3 workers × 10/s × 2s");
  });

  it("skips missed starts after a slow answer instead of bursting", async () => {
    const s = scheduleWithin(parseCommand("hey -z 1s -q 10 -c 1 http://svc/"), limits);
    const clock = virtualClock();
    let sent = 0;
    // Each answer takes 250ms of clock time: 1s holds 4 requests, not 10.
    const send = async () => {
      sent++;
      await clock.sleepUntil(clock.now() + 250, new AbortController().signal);
      return { outcome: "ok" };
    };
    await runLoad({ schedule: s, clock, signal: new AbortController().signal, send, observe: () => undefined });
    assert.equal(sent, 4);
  });

  it("sends every request of a -n run however slow the answers, and no more", async () => {
    const s = scheduleWithin(parseCommand("hey -n 12 -c 3 -q 10 http://svc/"), limits);
    const clock = virtualClock();
    let sent = 0;
    const send = async () => {
      sent++;
      await clock.sleepUntil(clock.now() + 450, new AbortController().signal);
      return { outcome: "ok" };
    };
    await runLoad({ schedule: s, clock, signal: new AbortController().signal, send, observe: () => undefined });
    assert.equal(sent, 12);
  });

  describe("targets", () => {
    const policy = { clusterDomain: "cluster.local", allowHosts: [] as string[] };
    it("allows in-cluster Service names in every form pods resolve", () => {
      for (const host of ["podinfo", "podinfo-canary.test", "podinfo.test.svc", "podinfo.test.svc.cluster.local", "PodInfo.Test.svc.cluster.local."]) {
        assert.equal(hostRefusal(host, policy), undefined, host);
      }
      assert.equal(hostRefusal("podinfo.test.svc.corp.internal", { ...policy, clusterDomain: "corp.internal" }), undefined);
    });

    it("refuses IPs, localhost and names outside the cluster unless allowed, naming the host", () => {
      for (const host of ["127.0.0.1", "::1", "localhost", "podinfo.example.com", "podinfo.test.svc.other.domain", "bad_name.test"]) {
        const why = hostRefusal(host, policy);
        assert.ok(why?.includes(host), `${host}: ${why}`);
      }
      const allowing = { ...policy, allowHosts: ["127.0.0.1", "*.example.com", "[::1]"] };
      for (const host of ["127.0.0.1", "api.example.com", "::1"]) assert.equal(hostRefusal(host, allowing), undefined, host);
      assert.ok(hostRefusal("example.com.evil.org", allowing));
    });
  });
});
