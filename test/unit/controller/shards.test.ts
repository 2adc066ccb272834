import assert from "node:assert/strict";
import { createShardManager, excessShards, fairShare, mayAcquireShard } from "../../../src/controller/shards.ts";
import type { ShardManager } from "../../../src/controller/shards.ts";
import type { LeaseObject } from "../../../src/kube/lease.ts";
import { createLogger } from "../../../src/observability/logger.ts";
import { shardOf } from "../../../src/ground/shard.ts";
import { FakeKube } from "../../support/fake-kube.ts";
import { ConfigError, HELP, parseConfig } from "../../../src/config.ts";
import type { Config } from "../../../src/config.ts";

const NS = "aviary-system";
const until = async (what: string, cond: () => boolean, ms = 5000) => {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe("shards", () => {
  describe("--shards", () => {
    const parse = (argv: string[], env: Record<string, string> = {}) => parseConfig(argv, env, "host", 1) as Config;
    it("defaults to 1 (one leader Lease); the flag wins over AVIARY_SHARDS", () => {
      assert.equal(parse([]).shards, 1);
      assert.equal(parse(["--shards", "4"]).shards, 4);
      assert.equal(parse([], { AVIARY_SHARDS: "3" }).shards, 3);
      assert.equal(parse(["--shards=2"], { AVIARY_SHARDS: "3" }).shards, 2);
      assert.equal(parse(["--shards", "256"]).shards, 256);
    });
    it("rejects 0, fractions, words and more than 256, naming the flag and the rule", () => {
      for (const bad of ["0", "-1", "1.5", "three", "257"]) {
        assert.throws(() => parse([`--shards=${bad}`]), (err: unknown) => err instanceof ConfigError && err.message === `--shards: must be an integer from 1 to 256, got "${bad}"`);
      }
      assert.throws(() => parse([], { AVIARY_SHARDS: "0" }), /--shards: must be an integer from 1 to 256, got "0"/);
    });
    it("is in --help with its environment variable", () => {
      assert.match(HELP, /--shards N .*\n(.*\n)*.*\[AVIARY_SHARDS\]/);
    });
  });

  describe("assignment", () => {
    it("a fair share is ceil(shards / live replicas)", () => {
      assert.equal(fairShare(6, 3), 2);
      assert.equal(fairShare(7, 3), 3);
      assert.equal(fairShare(6, 2), 3);
      assert.equal(fairShare(2, 5), 1);
      assert.equal(fairShare(4, 0), 4);
    });

    const base = { shards: 6, members: 3, freeForMs: 0, graceMs: 10_000, otherLayout: false };
    it("takes a free shard below the fair share, not at it", () => {
      assert.equal(mayAcquireShard({ ...base, held: 1 }), true);
      assert.equal(mayAcquireShard({ ...base, held: 2 }), false);
    });
    it("takes a shard that has been free for the grace period whatever it holds", () => {
      assert.equal(mayAcquireShard({ ...base, held: 4, freeForMs: 9_999 }), false);
      assert.equal(mayAcquireShard({ ...base, held: 4, freeForMs: 10_000 }), true);
    });
    it("takes nothing while a Lease of another layout is held", () => {
      assert.equal(mayAcquireShard({ ...base, held: 0, freeForMs: 60_000, otherLayout: true }), false);
    });
    it("gives up what it holds beyond the fair share", () => {
      assert.equal(excessShards(6, 6, 3), 4);
      assert.equal(excessShards(2, 6, 3), 0);
      assert.equal(excessShards(1, 6, 3), 0);
    });
  });

  describe("manager", () => {
    const managers: ShardManager[] = [];
    afterEach(async () => {
      await Promise.all(managers.splice(0).map((m) => m.stop()));
    });
    const manager = (client: FakeKube, identity: string, shards = 4) => {
      const events: string[] = [];
      const m = createShardManager({
        client, namespace: NS, leaderLeaseName: "aviary-leader", identity, shards, logger: createLogger({ write: () => {} }),
        leaseDurationMs: 300, renewDeadlineMs: 200, retryPeriodMs: 20,
        onGained: (s) => events.push(`+${s}`), onLost: (s) => events.push(`-${s}`),
      });
      managers.push(m);
      m.run();
      return { m, events };
    };
    const holders = (client: FakeKube) =>
      [...client.objects.values()]
        .filter((o) => o.kind === "Lease" && o.metadata.name.includes("-shard-"))
        .map((o) => [o.metadata.name, (o as LeaseObject).spec?.holderIdentity ?? ""] as const);

    it("shares the shards out fairly between replicas, each through its own Lease", async () => {
      const client = new FakeKube();
      const a = manager(client, "a");
      await until("a holds every shard (alone)", () => a.m.held().length === 4);
      const b = manager(client, "b");
      // a gives up its excess once b has been seen for a lease duration; b takes it.
      await until("two shards each", () => a.m.held().length === 2 && b.m.held().length === 2);
      assert.deepEqual([...a.m.held(), ...b.m.held()].sort(), [0, 1, 2, 3]);
      assert.deepEqual(holders(client).map(([name]) => name).sort(), ["aviary-shard-0-of-4", "aviary-shard-1-of-4", "aviary-shard-2-of-4", "aviary-shard-3-of-4"]);
      assert.ok(a.events.some((e) => e.startsWith("-")), `a gave up shards: ${a.events.join(" ")}`);
    });

    it("hands a stopped replica's shards to the others at once", async () => {
      const client = new FakeKube();
      const a = manager(client, "a");
      await until("a holds every shard", () => a.m.held().length === 4);
      const b = manager(client, "b");
      await until("two shards each", () => a.m.held().length === 2 && b.m.held().length === 2);
      await a.m.stop();
      assert.deepEqual(a.events.filter((e) => e.startsWith("-")).length, a.events.filter((e) => e.startsWith("+")).length);
      await until("b holds every shard", () => b.m.held().length === 4, 2000);
    });

    it("reconciles only the keys of the shards it holds, and aborts them when a shard is lost", async () => {
      const client = new FakeKube();
      const a = manager(client, "a", 2);
      await until("a holds both shards", () => a.m.held().length === 2);
      const keys = Array.from({ length: 20 }, (_, i) => `ns/app-${i}`);
      const inShard = (s: number) => keys.find((k) => shardOf(k, 2) === s)!;
      const signals = new Map<string, AbortSignal>();
      const guarded = a.m.guard(async (key, signal) => void signals.set(key, signal));
      const queueSignal = new AbortController().signal;
      await guarded(inShard(0), queueSignal);
      await guarded(inShard(1), queueSignal);
      assert.equal(signals.size, 2);
      // Someone else holds shard 1 now: a steps down and its reconciles of shard 1 are aborted.
      const lease = [...client.objects.values()].find((o) => o.metadata.name === "aviary-shard-1-of-2") as LeaseObject;
      client.put({ ...lease, spec: { ...lease.spec, holderIdentity: "intruder", leaseDurationSeconds: 60 } });
      await until("shard 1 lost", () => a.m.held().join() === "0");
      assert.equal(signals.get(inShard(1))?.aborted, true);
      assert.equal(signals.get(inShard(0))?.aborted, false);
      signals.clear();
      await guarded(inShard(1), queueSignal);
      await guarded(inShard(0), queueSignal);
      assert.deepEqual([...signals.keys()], [inShard(0)]);
    });

    it("takes no shard while a live Lease of another layout is held", async () => {
      const client = new FakeKube();
      const now = new Date().toISOString().replace("Z", "000Z");
      client.put({ apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name: "aviary-leader", namespace: NS }, spec: { holderIdentity: "old", leaseDurationSeconds: 60, renewTime: now } } as LeaseObject);
      const a = manager(client, "a");
      await new Promise((r) => setTimeout(r, 300 * 3));
      assert.deepEqual(a.m.held(), []);
      assert.deepEqual(holders(client).filter(([, h]) => h !== ""), []);
      // The old leader is gone (its Lease released): the shards are taken.
      const lease = [...client.objects.values()].find((o) => o.metadata.name === "aviary-leader") as LeaseObject;
      client.put({ ...lease, spec: { ...lease.spec, holderIdentity: "" } });
      await until("a holds every shard", () => a.m.held().length === 4);
    });

    it("deletes member Leases long dead, keeps the live ones", async () => {
      const client = new FakeKube();
      const old = "2020-01-01T00:00:00.000000Z";
      client.put({ apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name: "aviary-member-gone", namespace: NS }, spec: { holderIdentity: "gone", leaseDurationSeconds: 1, renewTime: old } } as LeaseObject);
      manager(client, "a");
      await until("the dead member's Lease deleted", () => ![...client.objects.values()].some((o) => o.metadata.name === "aviary-member-gone"));
      assert.ok([...client.objects.values()].some((o) => o.metadata.name === "aviary-member-a"));
    });
  });
});
