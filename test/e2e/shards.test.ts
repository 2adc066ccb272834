/**
 * Sharding across processes: three aviary processes hold six shards of 30 Canaries; one is
 * SIGKILLed in the middle of a blue/green release of all of them. Its shards move to the other
 * two within the lease, and every run ends promoted exactly once, none standing still for its
 * progress deadline. (The same with 300 Canaries is in the chaos tier, test/chaos/shards.test.ts.)
 */
import { strict as assert } from "node:assert";
import { runShardedReleases, shardedReleaseProblems, type ShardedReleases } from "../support/sharded-releases.ts";

const OPTIONS = { canaries: 30, shards: 6, leaseSeconds: 8, progressDeadlineSeconds: 120, interval: "2s", workers: 4, timeoutMs: 240_000 };

describe("sharding: three processes, one killed mid-run", function () {
  this.timeout(600_000);
  let run: ShardedReleases | undefined;
  after(async () => run?.stop());

  it("moves the dead process's shards to the others and ends every run with one promotion", async () => {
    run = await runShardedReleases(OPTIONS);
    console.log(`      ${run.killed} held shards ${run.killedShards.join(", ")}; taken over in ${(run.takeoverMs / 1000).toFixed(1)} s ` +
      `(lease ${OPTIONS.leaseSeconds} s); all ${OPTIONS.canaries} runs ended ${((run.endedAt - run.releasedAt) / 1000).toFixed(0)} s after the release`);
    assert.deepEqual(shardedReleaseProblems(run, OPTIONS), [], `the processes' logs are in ${run.logDir}`);
    const survivors = run.identities.filter((id) => id !== run!.killed);
    assert.ok([...run.holdersAfter.values()].every((h) => survivors.includes(h)), `holders after the kill: ${JSON.stringify([...run.holdersAfter])}`);
  });
});
