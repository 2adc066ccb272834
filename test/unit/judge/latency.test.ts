/**
 * The latency comparison under per-request sampling (each request lands in a histogram
 * bucket; "slower than" counts are cumulative and far from rare at low boundaries), where
 * the Poisson model behind the test is only approximate: identical versions, with and
 * without an incident that slows both arms, must still be failed in at most α of runs.
 */
import assert from "node:assert/strict";
import { DEFAULT_COMPARE, judge, observeLatency, startLatencyTest } from "../../../src/judge/index.ts";
import type { LatencyJudgeState } from "../../../src/judge/index.ts";
import { mixSeed, seededRandom } from "../../bench/judge/random.ts";
import { BOUNDARIES_MS, emptyArmWindow, sampleSlice, slowerThan } from "../../bench/judge/traffic.ts";

function runRegresses(seed: number, canaryLatencyFactor: number, incident: boolean): boolean {
  const rand = seededRandom(seed);
  const started = startLatencyTest(DEFAULT_COMPARE.tolerance, BOUNDARIES_MS);
  assert.ok(started.ok);
  let state: LatencyJudgeState = started.state;
  const perWindow = 300 + rand() * 3000;
  for (let w = 0; w < 15; w++) {
    const share = 0.05 + 0.45 * rand();
    const slow = incident && (w === 2 || w === 3) ? 2 : 1;
    const canary = emptyArmWindow();
    const primary = emptyArmWindow();
    sampleSlice(rand, canary, perWindow * share, { errorRate: 0, latencyFactor: slow * canaryLatencyFactor });
    sampleSlice(rand, primary, perWindow * (1 - share), { errorRate: 0, latencyFactor: slow });
    const r = observeLatency(state, {
      canary: { requests: canary.requests, slowerThan: slowerThan(canary) },
      primary: { requests: primary.requests, slowerThan: slowerThan(primary) },
    });
    assert.ok(r.ok);
    state = r.state;
    if (judge(state, DEFAULT_COMPARE).outcome === "regression") return true;
  }
  return false;
}

describe("judge: latency over histogram boundaries (simulation)", function () {
  this.timeout(60_000);

  it("fails at most α of 1000 identical versions, half of them through an incident that doubles both arms' latency", () => {
    let failed = 0;
    for (let run = 0; run < 1000; run++) if (runRegresses(mixSeed(11, run), 1, run % 2 === 0)) failed++;
    assert.ok(failed <= 0.01 * 1000, `${failed} of 1000 identical versions failed`);
  });

  it("fails nearly every canary that is 50% slower throughout", () => {
    let failed = 0;
    for (let run = 0; run < 200; run++) if (runRegresses(mixSeed(12, run), 1.5, false)) failed++;
    assert.ok(failed >= 0.98 * 200, `${failed} of 200 slow canaries failed`);
  });
});
