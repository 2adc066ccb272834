import assert from "node:assert/strict";
import { createLeaderElector, decideLease, freeForMs, toMicroTime } from "../../../src/kube/lease.ts";
import type { LeaderElectorOptions, LeaseObject } from "../../../src/kube/lease.ts";
import { KubeApiError } from "../../../src/kube/types.ts";
import { createLogger } from "../../../src/observability/logger.ts";
import { FakeKube } from "../../support/fake-kube.ts";

const leaseKey = "coordination.k8s.io/v1/Lease/aviary-system/aviary-leader";

describe("lease", () => {
  describe("decideLease", () => {
    const D = 15_000;
    it("creates a Lease that does not exist", () => {
      assert.deepEqual(decideLease(null, "me", 0, 0, D), { action: "create" });
    });
    it("renews its own Lease", () => {
      assert.deepEqual(decideLease({ holderIdentity: "me", leaseTransitions: 3 }, "me", 0, 0, D), { action: "renew" });
    });
    it("takes a Lease without a holder, counting a transition", () => {
      assert.deepEqual(decideLease({ holderIdentity: "", leaseTransitions: 3 }, "me", 0, 0, D), { action: "take", transitions: 4 });
      assert.deepEqual(decideLease({}, "me", 0, 0, D), { action: "take", transitions: 1 });
    });
    it("waits while another holder's Lease is fresh, measured from when it was observed", () => {
      assert.deepEqual(decideLease({ holderIdentity: "other", leaseDurationSeconds: 10 }, "me", 19_000, 10_000, D), { action: "wait", holder: "other", expiresInMs: 1000 });
    });
    it("takes another holder's Lease once it has expired on our clock", () => {
      assert.deepEqual(decideLease({ holderIdentity: "other", leaseDurationSeconds: 10, leaseTransitions: 1 }, "me", 20_000, 10_000, D), { action: "take", transitions: 2 });
    });
    it("ignores the holder's own timestamps (clock skew)", () => {
      const farFuture = { holderIdentity: "other", leaseDurationSeconds: 10, renewTime: "2999-01-01T00:00:00.000000Z" };
      assert.equal(decideLease(farFuture, "me", 20_000, 10_000, D).action, "take");
    });
    it("falls back to the configured duration when the Lease has none", () => {
      assert.equal(decideLease({ holderIdentity: "other" }, "me", 14_999, 0, D).action, "wait");
      assert.equal(decideLease({ holderIdentity: "other" }, "me", 15_000, 0, D).action, "take");
    });
  });

  describe("freeForMs", () => {
    it("counts from when a missing or holder-less Lease was seen", () => {
      assert.equal(freeForMs(null, 5000, 2000, 15_000), 3000);
      assert.equal(freeForMs({ holderIdentity: "" }, 5000, 2000, 15_000), 3000);
    });
    it("counts from the end of an expired holder's lease, on the candidate's clock", () => {
      assert.equal(freeForMs({ holderIdentity: "other", leaseDurationSeconds: 10 }, 25_000, 10_000, 15_000), 5000);
      assert.equal(freeForMs({ holderIdentity: "other" }, 25_000, 0, 15_000), 10_000);
    });
  });

  it("toMicroTime writes six fractional digits", () => {
    assert.equal(toMicroTime(Date.UTC(2025, 0, 2, 3, 4, 5, 678)), "2025-01-02T03:04:05.678000Z");
  });

  describe("elector", () => {
    const electors: Array<{ stop(): Promise<void> }> = [];
    afterEach(async () => {
      await Promise.all(electors.splice(0).map((e) => e.stop()));
    });

    const elector = (client: FakeKube, identity: string, extra: Partial<LeaderElectorOptions> = {}) => {
      const log = { started: 0, stopped: 0, leaders: [] as string[], signal: undefined as AbortSignal | undefined };
      const e = createLeaderElector({
        client,
        namespace: "aviary-system",
        name: "aviary-leader",
        identity,
        leaseDurationMs: 300,
        renewDeadlineMs: 200,
        retryPeriodMs: 20,
        logger: createLogger({ write: () => {} }),
        onStartedLeading: (signal) => {
          log.started++;
          log.signal = signal;
        },
        onStoppedLeading: () => log.stopped++,
        onNewLeader: (id) => log.leaders.push(id),
        ...extra,
      });
      electors.push(e);
      void e.run();
      return { e, log };
    };
    const until = async (what: string, cond: () => boolean, ms = 3000) => {
      const deadline = Date.now() + ms;
      while (!cond()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    const lease = (client: FakeKube) => client.objects.get(leaseKey) as LeaseObject | undefined;

    it("creates the Lease, leads, and renews it", async () => {
      const client = new FakeKube();
      const { e, log } = elector(client, "a");
      await until("leadership", () => e.isLeader());
      assert.equal(log.started, 1);
      assert.equal(lease(client)?.spec?.holderIdentity, "a");
      assert.equal(lease(client)?.spec?.leaseDurationSeconds, 1);
      assert.match(lease(client)?.spec?.renewTime ?? "", /\.\d{6}Z$/);
      const firstRenew = lease(client)?.spec?.renewTime;
      await until("a renewal", () => lease(client)?.spec?.renewTime !== firstRenew);
      assert.deepEqual(log.leaders, ["a"]);
    });

    it("lets only one of two candidates lead", async () => {
      const client = new FakeKube();
      const a = elector(client, "a");
      const b = elector(client, "b");
      await until("a leader", () => a.e.isLeader() || b.e.isLeader());
      await new Promise((r) => setTimeout(r, 100));
      assert.notEqual(a.e.isLeader(), b.e.isLeader());
    });

    it("steps down at once when renewals fail past the deadline", async () => {
      const client = new FakeKube();
      const { e, log } = elector(client, "a");
      await until("leadership", () => e.isLeader());
      const down = Array.from({ length: 1000 }, () => new KubeApiError("get: no answer within the timeout", 0, "Timeout"));
      client.failNext.set("get", down);
      const since = Date.now();
      await until("the step-down", () => log.stopped === 1);
      const took = Date.now() - since;
      assert.ok(took >= 150 && took < 2000, `stepped down after ${took}ms; the renew deadline is 200ms`);
      assert.equal(log.signal?.aborted, true);
      assert.equal(e.isLeader(), false);
      // Once the API answers again it campaigns and leads again.
      client.failNext.set("get", []);
      await until("leadership again", () => e.isLeader());
      assert.equal(log.started, 2);
    });

    it("keeps leading through renewals slower than the retry period but within the renew deadline", async () => {
      const client = new FakeKube();
      const { e, log } = elector(client, "a");
      await until("leadership", () => e.isLeader());
      // Every read now takes 40 ms: two retry periods, a fifth of the renew deadline.
      const get = client.get.bind(client);
      client.get = (async (ref: Parameters<FakeKube["get"]>[0], opts?: Parameters<FakeKube["get"]>[1]) => {
        await new Promise((r) => setTimeout(r, 40));
        return get(ref, opts);
      }) as FakeKube["get"];
      const renewed = lease(client)?.spec?.renewTime;
      await new Promise((r) => setTimeout(r, 600));
      assert.notEqual(lease(client)?.spec?.renewTime, renewed);
      assert.equal(log.stopped, 0);
      assert.equal(e.isLeader(), true);
    });

    it("steps down when someone else holds the Lease", async () => {
      const client = new FakeKube();
      // A long renew deadline, so only noticing the new holder can explain a quick step-down.
      const { e, log } = elector(client, "a", { leaseDurationMs: 30_000, renewDeadlineMs: 20_000 });
      await until("leadership", () => e.isLeader());
      const current = lease(client)!;
      client.put({ ...current, spec: { ...current.spec, holderIdentity: "b", leaseDurationSeconds: 60 } });
      await until("the step-down", () => log.stopped === 1, 2000);
      assert.ok(log.leaders.includes("b"));
    });

    it("releases the Lease on stop so a standby need not wait for expiry", async () => {
      const client = new FakeKube();
      const { e, log } = elector(client, "a");
      await until("leadership", () => e.isLeader());
      await e.stop();
      assert.equal(log.stopped, 1);
      assert.equal(lease(client)?.spec?.holderIdentity, "");
      assert.equal(lease(client)?.spec?.leaseDurationSeconds, 1);
      // The Lease lasts 1 s; taking it well before then shows the release worked.
      const b = elector(client, "b");
      await until("b leads", () => b.e.isLeader(), 800);
    });

    it("leaves the Lease to expire when releaseOnStop is false", async () => {
      const client = new FakeKube();
      const { e } = elector(client, "a", { releaseOnStop: false });
      await until("leadership", () => e.isLeader());
      await e.stop();
      assert.equal(lease(client)?.spec?.holderIdentity, "a");
    });

    it("asks mayAcquire before taking a free Lease, never before renewing it", async () => {
      const client = new FakeKube();
      const asked: number[] = [];
      let allow = false;
      const { e } = elector(client, "a", { mayAcquire: (free) => (asked.push(free), allow) });
      await until("two refusals", () => asked.length >= 2);
      assert.equal(e.isLeader(), false);
      assert.equal(lease(client), undefined);
      assert.ok(asked[1]! >= asked[0]!, `free time grows: ${asked.join(", ")}`);
      allow = true;
      await until("leadership", () => e.isLeader());
      const n = asked.length;
      const renewed = lease(client)?.spec?.renewTime;
      await until("a renewal", () => lease(client)?.spec?.renewTime !== renewed);
      assert.equal(asked.length, n);
    });

    it("campaigns with durations that do not divide evenly (timeouts are whole milliseconds)", async () => {
      const client = new FakeKube();
      const { e } = elector(client, "a", { leaseDurationMs: 301, renewDeadlineMs: 201, retryPeriodMs: 21 });
      await until("leadership", () => e.isLeader());
    });

    it("rejects durations that cannot work", () => {
      assert.throws(() => createLeaderElector({
        client: new FakeKube(), namespace: "n", name: "l", identity: "a", logger: createLogger({ write: () => {} }),
        leaseDurationMs: 10_000, renewDeadlineMs: 10_000, retryPeriodMs: 2000, onStartedLeading: () => {}, onStoppedLeading: () => {},
      }), /leaseDuration .* > renewDeadline/);
    });
  });
});
