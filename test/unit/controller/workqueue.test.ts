import assert from "node:assert/strict";
import { backoffDelay, createWorkQueue } from "../../../src/controller/workqueue.ts";
import type { QueueClock, WorkQueue } from "../../../src/controller/workqueue.ts";

/** A manual clock: timers fire only when the test advances time. */
class FakeClock implements QueueClock {
  time = 0;
  private timers: Array<{ due: number; fn: () => void; id: number }> = [];
  private nextId = 0;
  now(): number {
    return this.time;
  }
  setTimer(fn: () => void, ms: number): () => void {
    const id = this.nextId++;
    this.timers.push({ due: this.time + ms, fn, id });
    return () => {
      this.timers = this.timers.filter((t) => t.id !== id);
    };
  }
  pending(): number {
    return this.timers.length;
  }
  advance(ms: number): void {
    const until = this.time + ms;
    for (;;) {
      this.timers.sort((a, b) => a.due - b.due || a.id - b.id);
      const next = this.timers[0];
      if (!next || next.due > until) break;
      this.timers.shift();
      this.time = next.due;
      next.fn();
    }
    this.time = until;
  }
}

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Takes every key that is ready right now (and marks each in flight). */
async function drainReady(q: WorkQueue): Promise<string[]> {
  const keys: string[] = [];
  while (q.depth() > 0) keys.push((await q.get())!);
  return keys;
}

/** A handler whose runs the test finishes one by one. */
function gatedHandler() {
  const started: string[] = [];
  const gates: Array<{ key: string; finish: (err?: Error) => void }> = [];
  let running = 0;
  let maxRunning = 0;
  const handler = (key: string) => {
    started.push(key);
    running++;
    maxRunning = Math.max(maxRunning, running);
    return new Promise<void>((resolve, reject) => {
      gates.push({
        key,
        finish: (err) => {
          running--;
          if (err) reject(err);
          else resolve();
        },
      });
    });
  };
  const finish = async (key: string, err?: Error) => {
    const i = gates.findIndex((g) => g.key === key);
    assert.ok(i >= 0, `${key} is not running`);
    gates.splice(i, 1)[0]!.finish(err);
    await flush();
  };
  return { handler, started, finish, running: () => running, maxRunning: () => maxRunning };
}

describe("workqueue", () => {
  describe("backoffDelay", () => {
    it("doubles from the base delay up to the cap", () => {
      assert.deepEqual([1, 2, 3, 4, 5].map((n) => backoffDelay(n, 200, 1000)), [200, 400, 800, 1000, 1000]);
    });
    it("is zero before the first failure and never overflows", () => {
      assert.equal(backoffDelay(0, 200, 1000), 0);
      assert.equal(backoffDelay(5000, 200, 1000), 1000);
    });
  });

  describe("add / get / done", () => {
    it("hands keys out in the order they were added", async () => {
      const q = createWorkQueue({ clock: new FakeClock() });
      q.add("ns/a");
      q.add("ns/b");
      q.add("ns/c");
      assert.deepEqual(await drainReady(q), ["ns/a", "ns/b", "ns/c"]);
    });

    it("keeps a key at most once while it waits", async () => {
      const q = createWorkQueue({ clock: new FakeClock() });
      q.add("ns/a");
      q.add("ns/b");
      q.add("ns/a");
      assert.equal(q.depth(), 2);
      assert.deepEqual(await drainReady(q), ["ns/a", "ns/b"]);
    });

    it("parks a key re-added while in flight and queues it once on done", async () => {
      const q = createWorkQueue({ clock: new FakeClock() });
      q.add("ns/a");
      const key = await q.get();
      assert.equal(key, "ns/a");
      q.add("ns/a");
      q.add("ns/a");
      assert.equal(q.depth(), 0, "an in-flight key must not be handed out again");
      assert.equal(q.inFlight(), 1);
      q.done("ns/a");
      assert.equal(q.depth(), 1);
      assert.deepEqual(await drainReady(q), ["ns/a"]);
    });

    it("hands urgent keys out before routine ones, each lane in arrival order", async () => {
      const q = createWorkQueue({ clock: new FakeClock() });
      for (const k of ["ns/r1", "ns/r2", "ns/r3"]) q.add(k);
      q.add("ns/u1", { urgent: true });
      q.add("ns/u2", { urgent: true });
      assert.equal(q.depth(), 5);
      assert.equal(q.urgentDepth(), 2);
      assert.deepEqual(await drainReady(q), ["ns/u1", "ns/u2", "ns/r1", "ns/r2", "ns/r3"]);
    });

    it("moves a waiting routine key to the urgent lane when it is added as urgent, and never back", async () => {
      const q = createWorkQueue({ clock: new FakeClock() });
      for (const k of ["ns/a", "ns/b", "ns/c"]) q.add(k);
      q.add("ns/c", { urgent: true });
      q.add("ns/c");
      assert.equal(q.depth(), 3, "still one entry per key");
      assert.deepEqual(await drainReady(q), ["ns/c", "ns/a", "ns/b"]);
    });

    it("keeps the urgency of a key re-added while in flight when it is queued again", async () => {
      const q = createWorkQueue({ clock: new FakeClock() });
      q.add("ns/busy");
      assert.equal(await q.get(), "ns/busy");
      q.add("ns/r1");
      q.add("ns/busy", { urgent: true });
      q.add("ns/busy");
      q.done("ns/busy");
      assert.deepEqual(await drainReady(q), ["ns/busy", "ns/r1"]);
    });

    it("lets an urgent key overtake a long routine backlog with one worker", async () => {
      const q = createWorkQueue({ clock: new FakeClock() });
      const seen: string[] = [];
      for (let i = 0; i < 100; i++) q.add(`ns/routine-${i}`);
      let urgentAt = -1;
      const running = q.run(async (key) => {
        seen.push(key);
        if (seen.length === 3) q.add("ns/new-revision", { urgent: true });
        if (key === "ns/new-revision") urgentAt = seen.length;
        await flush();
      }, 1);
      while (seen.length < 101) await flush();
      await q.shutdown();
      await running;
      assert.equal(urgentAt, 4, "the urgent key runs right after the key in flight when it arrived");
    });

    it("does not requeue a key that was not re-added", async () => {
      const q = createWorkQueue({ clock: new FakeClock() });
      q.add("ns/a");
      await q.get();
      q.done("ns/a");
      assert.equal(q.depth(), 0);
      assert.equal(q.inFlight(), 0);
    });

    it("ignores done for a key that is not in flight", () => {
      const q = createWorkQueue({ clock: new FakeClock() });
      q.add("ns/a");
      q.done("ns/a");
      assert.equal(q.depth(), 1);
      assert.equal(q.inFlight(), 0);
    });

    it("wakes a waiting get when a key arrives", async () => {
      const q = createWorkQueue({ clock: new FakeClock() });
      const waiting = q.get();
      q.add("ns/late");
      assert.equal(await waiting, "ns/late");
      assert.equal(q.inFlight(), 1);
    });
  });

  describe("addAfter", () => {
    it("adds the key once the delay has passed", async () => {
      const clock = new FakeClock();
      const q = createWorkQueue({ clock });
      q.addAfter("ns/a", 1000);
      assert.equal(q.depth(), 0);
      assert.equal(q.delayed(), 1);
      clock.advance(999);
      assert.equal(q.depth(), 0);
      clock.advance(1);
      assert.equal(q.depth(), 1);
      assert.equal(q.delayed(), 0);
    });

    it("adds at once for a zero or negative delay", () => {
      const q = createWorkQueue({ clock: new FakeClock() });
      q.addAfter("ns/a", 0);
      q.addAfter("ns/b", -5);
      assert.equal(q.depth(), 2);
    });

    it("keeps the earliest of several deadlines for one key", () => {
      const clock = new FakeClock();
      const q = createWorkQueue({ clock });
      q.addAfter("ns/a", 5000);
      q.addAfter("ns/a", 1000);
      q.addAfter("ns/a", 3000);
      assert.equal(clock.pending(), 1, "the later timers are cancelled or never set");
      clock.advance(1000);
      assert.equal(q.depth(), 1);
      clock.advance(10_000);
      assert.equal(q.depth(), 1, "no second copy arrives from a superseded timer");
    });

    it("parks a delayed key that comes due while the key is in flight", async () => {
      const clock = new FakeClock();
      const q = createWorkQueue({ clock });
      q.add("ns/a");
      await q.get();
      q.addAfter("ns/a", 100);
      clock.advance(100);
      assert.equal(q.depth(), 0);
      q.done("ns/a");
      assert.equal(q.depth(), 1);
    });
  });

  describe("addRateLimited / forget", () => {
    it("backs a failing key off exponentially up to the cap", async () => {
      const clock = new FakeClock();
      const q = createWorkQueue({ clock, baseDelayMs: 200, maxDelayMs: 1000 });
      const delays: number[] = [];
      for (let i = 0; i < 5; i++) {
        const before = clock.now();
        q.addRateLimited("ns/a");
        // Step to the moment it becomes ready (bounded, so a bug fails instead of spinning).
        for (let step = 0; step < 10_000 && q.depth() === 0; step++) clock.advance(1);
        delays.push(clock.now() - before);
        q.done((await q.get())!);
      }
      assert.deepEqual(delays, [200, 400, 800, 1000, 1000]);
      assert.equal(q.numRequeues("ns/a"), 5);
    });

    it("backs off at most outageMaxDelayMs after an outage, so runs resume soon after the API server is back", async () => {
      const clock = new FakeClock();
      const outage = new Error("connect ECONNREFUSED");
      const q = createWorkQueue({ clock, baseDelayMs: 100, maxDelayMs: 60_000, outageMaxDelayMs: 1000, isOutage: (err) => err === outage });
      let fail: Error = outage;
      let calls = 0;
      const running = q.run(async () => {
        calls++;
        throw fail;
      }, 1);
      q.add("ns/a");
      await flush();
      // Twelve failures in an outage: 100, 200, 400, 800, then 1000 ms each, never more.
      for (let i = 0; i < 12; i++) {
        clock.advance(1000);
        await flush();
      }
      assert.equal(calls, 13);
      assert.equal(q.numRequeues("ns/a"), 13);
      // Any other failure backs off on the full scale: 100 · 2^13 ms, capped at 60 s.
      fail = new Error("a bug");
      clock.advance(1000);
      await flush();
      assert.equal(calls, 14);
      clock.advance(59_000);
      await flush();
      assert.equal(calls, 14, "not retried before the full backoff");
      clock.advance(1000);
      await flush();
      assert.equal(calls, 15);
      await q.shutdown({ drain: false });
      await running;
    });

    it("tracks backoff per key", () => {
      const clock = new FakeClock();
      const q = createWorkQueue({ clock, baseDelayMs: 100, maxDelayMs: 10_000 });
      q.addRateLimited("ns/a");
      q.addRateLimited("ns/a");
      q.addRateLimited("ns/b");
      assert.equal(q.numRequeues("ns/a"), 2);
      assert.equal(q.numRequeues("ns/b"), 1);
      clock.advance(100);
      assert.equal(q.depth(), 2, "ns/a keeps its first (earlier) deadline, ns/b is due too");
    });

    it("starts over at the base delay after forget", () => {
      const clock = new FakeClock();
      const q = createWorkQueue({ clock, baseDelayMs: 100, maxDelayMs: 10_000 });
      q.addRateLimited("ns/a");
      q.addRateLimited("ns/a");
      q.addRateLimited("ns/a");
      q.forget("ns/a");
      assert.equal(q.numRequeues("ns/a"), 0);
      clock.advance(100);
      assert.equal(q.depth(), 1);
    });
  });

  describe("run", () => {
    it("never runs one key twice at once and reruns it after a re-add", async () => {
      const q = createWorkQueue({ clock: new FakeClock() });
      const h = gatedHandler();
      const running = q.run(h.handler, 4);
      q.add("ns/a");
      await flush();
      q.add("ns/a");
      q.add("ns/a");
      await flush();
      assert.deepEqual(h.started, ["ns/a"]);
      await h.finish("ns/a");
      assert.deepEqual(h.started, ["ns/a", "ns/a"], "processed again after done");
      await h.finish("ns/a");
      assert.equal(h.maxRunning(), 1);
      await q.shutdown();
      await running;
    });

    it("runs different keys in parallel up to the concurrency", async () => {
      const q = createWorkQueue({ clock: new FakeClock() });
      const h = gatedHandler();
      const running = q.run(h.handler, 2);
      for (const k of ["ns/a", "ns/b", "ns/c"]) q.add(k);
      await flush();
      assert.deepEqual(h.started, ["ns/a", "ns/b"]);
      assert.equal(q.depth(), 1);
      await h.finish("ns/b");
      assert.deepEqual(h.started, ["ns/a", "ns/b", "ns/c"]);
      await h.finish("ns/a");
      await h.finish("ns/c");
      assert.equal(h.maxRunning(), 2);
      await q.shutdown();
      await running;
    });

    it("requeues a failed key with backoff and forgets the backoff on success", async () => {
      const clock = new FakeClock();
      const q = createWorkQueue({ clock, baseDelayMs: 200, maxDelayMs: 5000 });
      const errors: string[] = [];
      let failuresLeft = 2;
      const runs: number[] = [];
      const running = q.run(
        async () => {
          runs.push(clock.now());
          if (failuresLeft-- > 0) throw new Error("transient");
        },
        1,
        (key, err) => errors.push(`${key}: ${(err as Error).message}`),
      );
      q.add("ns/a");
      await flush();
      assert.equal(q.numRequeues("ns/a"), 1);
      clock.advance(200);
      await flush();
      assert.equal(q.numRequeues("ns/a"), 2);
      clock.advance(399);
      await flush();
      assert.equal(runs.length, 2, "second retry waits 400ms");
      clock.advance(1);
      await flush();
      assert.deepEqual(runs, [0, 200, 600]);
      assert.equal(q.numRequeues("ns/a"), 0, "success forgets the key");
      assert.deepEqual(errors, ["ns/a: transient", "ns/a: transient"]);
      assert.equal(q.delayed(), 0);
      await q.shutdown();
      await running;
    });

    it("does not retry a terminal error", async () => {
      const clock = new FakeClock();
      const q = createWorkQueue({ clock });
      let runs = 0;
      const running = q.run(async () => {
        runs++;
        throw Object.assign(new Error("spec is invalid"), { retryable: false });
      }, 1);
      q.add("ns/a");
      await flush();
      clock.advance(60_000);
      await flush();
      assert.equal(runs, 1);
      assert.equal(q.delayed(), 0);
      assert.equal(q.numRequeues("ns/a"), 0);
      await q.shutdown();
      await running;
    });

    it("requeues after the interval a successful handler asks for", async () => {
      const clock = new FakeClock();
      const q = createWorkQueue({ clock });
      const runs: number[] = [];
      const running = q.run(async () => {
        runs.push(clock.now());
        return runs.length < 3 ? { requeueAfterMs: 1000 } : undefined;
      }, 1);
      q.add("ns/a");
      await flush();
      clock.advance(1000);
      await flush();
      clock.advance(1000);
      await flush();
      clock.advance(5000);
      await flush();
      assert.deepEqual(runs, [0, 1000, 2000]);
      await q.shutdown();
      await running;
    });

    it("drops a timer an earlier run asked for once a later run succeeds without one", async () => {
      const clock = new FakeClock();
      const q = createWorkQueue({ clock });
      const runs: number[] = [];
      // The first run waits (requeue in 10 s); an event wakes the key at 3 s and that run is done.
      const running = q.run(async () => {
        runs.push(clock.now());
        return runs.length === 1 ? { requeueAfterMs: 10_000 } : undefined;
      }, 1);
      q.add("ns/a");
      await flush();
      clock.advance(3000);
      q.add("ns/a");
      await flush();
      assert.equal(q.delayed(), 0, "the 10 s timer is gone");
      clock.advance(20_000);
      await flush();
      assert.deepEqual(runs, [0, 3000]);
      await q.shutdown();
      await running;
    });

    it("rejects a concurrency that is not a positive integer", () => {
      const q = createWorkQueue({ clock: new FakeClock() });
      assert.throws(() => q.run(async () => {}, 0), /positive integer/);
      assert.throws(() => q.run(async () => {}, 1.5), /positive integer/);
    });
  });

  describe("shutdown", () => {
    it("drains queued and in-flight keys, then the workers exit", async () => {
      const q = createWorkQueue({ clock: new FakeClock() });
      const h = gatedHandler();
      const running = q.run(h.handler, 1);
      q.add("ns/a");
      q.add("ns/b");
      await flush();
      let stopped = false;
      const stopping = q.shutdown().then(() => (stopped = true));
      q.add("ns/c");
      await flush();
      assert.equal(stopped, false, "waits for the in-flight key");
      await h.finish("ns/a");
      assert.deepEqual(h.started, ["ns/a", "ns/b"], "the queued key is still processed; the late one is not");
      await h.finish("ns/b");
      await stopping;
      await running;
      assert.equal(stopped, true);
    });

    it("processes a key that was re-added while in flight before shutdown", async () => {
      const q = createWorkQueue({ clock: new FakeClock() });
      const h = gatedHandler();
      const running = q.run(h.handler, 1);
      q.add("ns/a");
      await flush();
      q.add("ns/a");
      const stopping = q.shutdown();
      await h.finish("ns/a");
      assert.deepEqual(h.started, ["ns/a", "ns/a"]);
      await h.finish("ns/a");
      await stopping;
      await running;
    });

    it("cancels delayed keys so no timer outlives the queue", async () => {
      const clock = new FakeClock();
      const q = createWorkQueue({ clock });
      q.addAfter("ns/a", 1000);
      q.addRateLimited("ns/b");
      await q.shutdown();
      assert.equal(clock.pending(), 0);
      assert.equal(q.delayed(), 0);
      q.addAfter("ns/c", 10);
      assert.equal(clock.pending(), 0, "no timers after shutdown");
    });

    it("without drain drops queued keys and aborts in-flight handlers", async () => {
      const q = createWorkQueue({ clock: new FakeClock() });
      const started: string[] = [];
      let abortedReason: unknown;
      const running = q.run(
        (key, signal) =>
          new Promise<void>((resolve) => {
            started.push(key);
            signal.addEventListener("abort", () => {
              abortedReason = signal.reason;
              resolve();
            });
          }),
        1,
      );
      q.add("ns/a");
      q.add("ns/b");
      await flush();
      await q.shutdown({ drain: false });
      await running;
      assert.deepEqual(started, ["ns/a"]);
      assert.match(String(abortedReason), /shut down/);
      assert.equal(q.depth(), 0);
    });

    it("releases idle workers at once and returns undefined from get afterwards", async () => {
      const q = createWorkQueue({ clock: new FakeClock() });
      const running = q.run(async () => {}, 3);
      await flush();
      await q.shutdown();
      await running;
      assert.equal(await q.get(), undefined);
      assert.equal(q.isShuttingDown(), true);
    });

    it("waits for a manual consumer to call done", async () => {
      const q = createWorkQueue({ clock: new FakeClock() });
      q.add("ns/a");
      const key = await q.get();
      let stopped = false;
      const stopping = q.shutdown().then(() => (stopped = true));
      await flush();
      assert.equal(stopped, false);
      q.done(key!);
      await stopping;
      assert.equal(stopped, true);
    });

    it("resolves every caller of shutdown", async () => {
      const q = createWorkQueue({ clock: new FakeClock() });
      q.add("ns/a");
      const key = await q.get();
      const resolved: string[] = [];
      const first = q.shutdown().then(() => resolved.push("first"));
      const second = q.shutdown().then(() => resolved.push("second"));
      await flush();
      assert.deepEqual(resolved, [], "neither resolves while a key is in flight");
      q.done(key!);
      await Promise.all([first, second]);
      assert.deepEqual(resolved.sort(), ["first", "second"]);
    });
  });

  it("uses real timers by default", async () => {
    const q = createWorkQueue({ baseDelayMs: 200 });
    const started = performance.now();
    q.addRateLimited("ns/a");
    const key = await q.get();
    // The backoff ran on a real timer: the key came back, and not before its delay.
    assert.equal(key, "ns/a");
    assert.ok(performance.now() - started >= 150, `returned after ${Math.round(performance.now() - started)}ms`);
    assert.equal(key, "ns/a");
    q.done(key!);
    await q.shutdown();
  });
});
