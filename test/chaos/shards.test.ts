/**
 * Sharding at scale: three aviary processes (eight workers each) hold six shards of 300
 * Canaries (blue/green, three iterations of 5 s); one process is SIGKILLed while the release of
 * all of them runs. Its shards must move to the other two within the lease, and every run must
 * end promoted exactly once, none standing still for its progress deadline.
 * test/e2e/shards.test.ts is the same with 30 Canaries, in the end-to-end tier.
 * AVIARY_SHARDS_CANARIES changes the count; AVIARY_SHARDS_LOGS keeps the processes' logs there.
 */
import { strict as assert } from "node:assert";
import { runShardedReleases, shardedReleaseProblems, type ShardedReleases } from "../support/sharded-releases.ts";

const OPTIONS = {
  canaries: Number(process.env.AVIARY_SHARDS_CANARIES ?? 300), shards: 6, leaseSeconds: 8, progressDeadlineSeconds: 300, interval: "5s", workers: 8, timeoutMs: 900_000,
};

describe("sharding at scale: 300 Canaries, three processes, one killed mid-run", function () {
  this.timeout(2_400_000);
  let run: ShardedReleases | undefined;
  after(async () => run?.stop());

  it("moves the dead process's shards to the others and ends every run with one promotion", async () => {
    const started = Date.now();
    run = await runShardedReleases(OPTIONS);
    console.log(`      ${run.killed} held shards ${run.killedShards.join(", ")}; taken over in ${(run.takeoverMs / 1000).toFixed(1)} s ` +
      `(lease ${OPTIONS.leaseSeconds} s); all ${OPTIONS.canaries} runs ended ${((run.endedAt - run.releasedAt) / 1000).toFixed(0)} s after the release, ` +
      `${((Date.now() - started) / 1000).toFixed(0)} s in all`);
    assert.deepEqual(shardedReleaseProblems(run, OPTIONS), [], `the processes' logs are in ${run.logDir}`);
  });
});
