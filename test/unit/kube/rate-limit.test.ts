import assert from "node:assert/strict";
import { createRateLimiter } from "../../../src/kube/rate-limit.ts";
import { parseConfig } from "../../../src/config.ts";

/** A manual clock whose timers fire only when the test advances time. */
function manualClock() {
  let time = 0;
  let timers: { due: number; fn: () => void }[] = [];
  return {
    now: () => time,
    setTimer: (fn: () => void, ms: number) => {
      const t = { due: time + ms, fn };
      timers.push(t);
      return () => void (timers = timers.filter((x) => x !== t));
    },
    async advance(ms: number) {
      time += ms;
      const due = timers.filter((t) => t.due <= time).sort((a, b) => a.due - b.due);
      timers = timers.filter((t) => t.due > time);
      for (const t of due) t.fn();
      await new Promise((r) => setImmediate(r));
    },
    pending: () => timers.length,
  };
}

describe("kube client rate limit (token bucket)", () => {
  it("lets a burst through at once, then one request per 1/qps, in the order they asked", async () => {
    const clock = manualClock();
    const limiter = createRateLimiter({ qps: 10, burst: 3, ...clock });
    const sent: number[] = [];
    const waits = Array.from({ length: 6 }, (_, i) => limiter.acquire().then((ms) => { sent.push(i); return ms; }));
    await clock.advance(0);
    assert.deepEqual(sent, [0, 1, 2], "the burst goes at once");
    await clock.advance(100);
    assert.deepEqual(sent, [0, 1, 2, 3]);
    await clock.advance(100);
    await clock.advance(100);
    assert.deepEqual(sent, [0, 1, 2, 3, 4, 5], "first come, first served");
    assert.deepEqual(await Promise.all(waits), [0, 0, 0, 100, 200, 300]);
  });

  it("refills while quiet, never beyond the burst", async () => {
    const clock = manualClock();
    const limiter = createRateLimiter({ qps: 10, burst: 2, ...clock });
    await limiter.acquire();
    await limiter.acquire();
    await clock.advance(10_000);
    const sent: number[] = [];
    for (let i = 0; i < 3; i++) void limiter.acquire().then(() => sent.push(i));
    await clock.advance(0);
    assert.deepEqual(sent, [0, 1], "only `burst` tokens accumulated");
    assert.equal(clock.pending(), 1);
  });

  it("gives the slot of a request whose caller gave up to the next one", async () => {
    const clock = manualClock();
    const limiter = createRateLimiter({ qps: 10, burst: 1, ...clock });
    await limiter.acquire();
    const gaveUp = new AbortController();
    const first = limiter.acquire(gaveUp.signal);
    gaveUp.abort(new Error("reconcile cancelled"));
    await assert.rejects(first, /reconcile cancelled/);
    assert.equal(clock.pending(), 0, "no timer outlives an abandoned wait");
    const second = limiter.acquire();
    await clock.advance(100);
    assert.equal(await second, 100, "waits one slot, not two");
  });

  it("is set by --kube-api-qps and --kube-api-burst, and refuses values that are not positive", () => {
    const config = parseConfig(["--kube-api-qps", "20.5", "--kube-api-burst", "40"], {}, "host", 1);
    assert.ok(config !== "help");
    assert.deepEqual([config.kubeApiQps, config.kubeApiBurst], [20.5, 40]);
    const defaults = parseConfig([], {}, "host", 1);
    assert.ok(defaults !== "help");
    assert.deepEqual([defaults.kubeApiQps, defaults.kubeApiBurst, defaults.workers], [100, 250, 16]);
    assert.throws(() => parseConfig(["--kube-api-qps", "0"], {}, "host", 1), /--kube-api-qps: must be a number > 0, got "0"/);
    assert.throws(() => parseConfig(["--kube-api-burst", "1.5"], {}, "host", 1), /--kube-api-burst: must be an integer >= 1/);
  });
});
