import assert from "node:assert/strict";
import { fnv1a32, memberLeaseName, memberLeasePrefix, shardCountOfLease, shardLeaseName, shardOf } from "../../../src/ground/shard.ts";

describe("shard", () => {
  it("fnv1a32 is FNV-1a, 32 bits (the published test vectors)", () => {
    assert.equal(fnv1a32(""), 0x811c9dc5);
    assert.equal(fnv1a32("a"), 0xe40c292c);
    assert.equal(fnv1a32("foobar"), 0xbf9cf968);
  });

  it("hashes the UTF-8 bytes, so every process agrees on non-ASCII keys", () => {
    // "é" is two bytes in UTF-8 (c3 a9); hashing UTF-16 code units would give another value.
    let h = 0x811c9dc5;
    for (const b of [0xc3, 0xa9]) h = Math.imul(h ^ b, 0x01000193);
    assert.equal(fnv1a32("é"), h >>> 0);
  });

  it("puts a Canary in the same shard on every release (pinned values)", () => {
    // These must never change: a change moves Canaries between shards during an upgrade.
    // (Computed with an independent FNV-1a implementation.)
    const keys = ["default/podinfo", "prod/checkout", "team-a/api"];
    assert.deepEqual(keys.map((k) => fnv1a32(k)), [0x4f50b51a, 0xd1883e15, 0xb7b8f1a9]);
    assert.deepEqual(keys.map((k) => shardOf(k, 7)), [2, 1, 4]);
  });

  it("spreads keys evenly over the shards", () => {
    for (const shards of [2, 3, 6, 16]) {
      const counts = new Array<number>(shards).fill(0);
      const n = 12_000;
      for (let i = 0; i < n; i++) {
        const s = shardOf(`ns-${i % 40}/app-${i}`, shards);
        counts[s] = (counts[s] ?? 0) + 1;
      }
      const mean = n / shards;
      for (const c of counts) assert.ok(Math.abs(c - mean) < mean * 0.1, `${shards} shards: ${counts.join(", ")}`);
    }
  });

  it("one shard holds everything", () => {
    assert.equal(shardOf("any/key", 1), 0);
  });

  it("names the shard Leases after the leader Lease", () => {
    assert.equal(shardLeaseName("aviary-leader", 0, 3), "aviary-shard-0-of-3");
    assert.equal(shardLeaseName("rel-aviary-leader", 2, 3), "rel-aviary-shard-2-of-3");
    assert.equal(shardLeaseName("custom", 1, 4), "custom-shard-1-of-4");
    assert.equal(shardCountOfLease("aviary-leader", "aviary-shard-2-of-5"), 5);
    assert.equal(shardCountOfLease("aviary-leader", "aviary-member-x"), undefined);
    assert.equal(shardCountOfLease("aviary-leader", "other-shard-0-of-3"), undefined);
  });

  it("names member Leases by identity, or by its hash when it is no valid name", () => {
    assert.equal(memberLeasePrefix("aviary-leader"), "aviary-member-");
    assert.equal(memberLeaseName("aviary-leader", "aviary-7d9f-x2"), "aviary-member-aviary-7d9f-x2");
    assert.match(memberLeaseName("aviary-leader", "Host_Name-42"), /^aviary-member-[0-9a-f]{8}$/);
  });
});
