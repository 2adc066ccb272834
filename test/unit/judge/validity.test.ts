/**
 * The judge's statistical promises, checked by seeded simulation: a version within
 * tolerance is failed in at most α of runs although it is looked at after every window; a
 * clear regression is found; the confidence interval holds the true ratio at every window.
 */
import assert from "node:assert/strict";
import { emptyRatioTest, logRegressionEValue, observeRatioWindow } from "../../../src/judge/ratio-test.ts";
import type { RatioTestState } from "../../../src/judge/ratio-test.ts";
import { ratioInterval } from "../../../src/judge/confidence.ts";
import { DEFAULT_COMPARE, judge, observeLatency, startLatencyTest } from "../../../src/judge/index.ts";
import type { LatencyJudgeState } from "../../../src/judge/index.ts";
import { mixSeed, seededRandom } from "../../bench/judge/random.ts";
import { BOUNDARIES_MS, emptyArmWindow, sampleSlice, slowerThan } from "../../bench/judge/traffic.ts";
import { sampleWindow } from "./simulate.ts";
import type { SequenceSpec } from "./simulate.ts";

const ALPHA = 0.01;
const WINDOWS = 30;

/** The first window (1-based) at which the regression e-value reached 1/α, or 0. */
function firstRejection(seed: number, tolerance: number, spec: SequenceSpec, windows = WINDOWS): number {
  const rand = seededRandom(seed);
  let state: RatioTestState = emptyRatioTest();
  for (let t = 1; t <= windows; t++) {
    state = observeRatioWindow(state, tolerance, sampleWindow(rand, spec));
    if (logRegressionEValue(state) >= Math.log(1 / ALPHA)) return t;
  }
  return 0;
}

describe("judge: anytime validity (simulation)", function () {
  this.timeout(60_000);

  it("fails at most α of 2000 versions at or below the tolerance, checked after each of 30 windows", () => {
    const requests = [300, 2000, 20000];
    const baseRates = [0.005, 0.02, 0.1];
    let rejected = 0;
    let atBoundary = 0;
    for (let run = 0; run < 2000; run++) {
      const rand = seededRandom(mixSeed(1, run));
      const tolerance = run % 4 === 0 ? 1 : 1.2;
      // Half the runs sit exactly on the null's boundary (the hardest case), half below it.
      const ratio = run % 2 === 0 ? tolerance : tolerance * (0.3 + 0.7 * rand());
      if (ratio === tolerance) atBoundary++;
      const spec = { requests: requests[run % 3]!, baseRate: baseRates[Math.floor(run / 3) % 3]!, ratio };
      if (firstRejection(mixSeed(2, run), tolerance, spec) > 0) rejected++;
    }
    assert.equal(atBoundary, 1000);
    assert.ok(rejected <= ALPHA * 2000, `${rejected} of 2000 false alarms (limit ${ALPHA * 2000})`);
  });

  it("fails at most α of 1000 latency tests of identical versions at tolerance 1, weights and all, checked after each of 30 windows", () => {
    let rejected = 0;
    for (let run = 0; run < 1000; run++) {
      const rand = seededRandom(mixSeed(5, run));
      // Every run its own latency (median 20 ms to 1 s, so the tail boundaries and their weights differ) and traffic.
      const behaviour = { errorRate: 0, latencyFactor: 0.2 * Math.exp(rand() * Math.log(50)) };
      const requests = [300, 2000, 20000][run % 3]!;
      const started = startLatencyTest(1, BOUNDARIES_MS);
      assert.ok(started.ok);
      let state: LatencyJudgeState = started.state;
      for (let t = 0; t < WINDOWS; t++) {
        const share = 0.05 + 0.45 * rand();
        const canary = emptyArmWindow();
        const primary = emptyArmWindow();
        sampleSlice(rand, canary, requests * share, behaviour);
        sampleSlice(rand, primary, requests * (1 - share), behaviour);
        const r = observeLatency(state, {
          canary: { requests: canary.requests, slowerThan: slowerThan(canary) },
          primary: { requests: primary.requests, slowerThan: slowerThan(primary) },
        });
        assert.ok(r.ok);
        state = r.state;
        if (judge(state, { ...DEFAULT_COMPARE, tolerance: 1 }).outcome === "regression") {
          rejected++;
          break;
        }
      }
    }
    assert.ok(rejected <= ALPHA * 1000, `${rejected} of 1000 false alarms (limit ${ALPHA * 1000})`);
  });

  it("finds a clear regression (5 times the primary's 0.5% against tolerance 1.2) in nearly every run, within a few windows", () => {
    const found: number[] = [];
    for (let run = 0; run < 300; run++) {
      found.push(firstRejection(mixSeed(3, run), 1.2, { requests: 1500, baseRate: 0.005, ratio: 5 }, 10));
    }
    const detected = found.filter((t) => t > 0);
    assert.ok(detected.length >= 0.98 * 300, `${detected.length} of 300 detected`);
    const sorted = [...detected].sort((a, b) => a - b);
    assert.ok(sorted[Math.floor(sorted.length / 2)]! <= 3, `median window ${sorted[Math.floor(sorted.length / 2)]}`);
  });

  it("holds the true ratio inside its confidence interval at every window in at least 1 − α of runs", () => {
    const alpha = 0.05;
    let missed = 0;
    let narrowed = 0;
    for (let run = 0; run < 600; run++) {
      const rand = seededRandom(mixSeed(4, run));
      const ratio = 0.3 * Math.exp(rand() * Math.log(20)); // 0.3 to 6
      const spec = { requests: [500, 3000][run % 2]!, baseRate: 0.02, ratio };
      let state = emptyRatioTest();
      let covered = true;
      for (let t = 0; t < 20; t++) {
        state = observeRatioWindow(state, 1.2, sampleWindow(rand, spec));
        const ci = ratioInterval(state, 1.2, alpha);
        if (ratio < ci.lower || ratio > ci.upper) covered = false;
        if (t === 19 && ci.upper / ci.lower < 8) narrowed++;
      }
      if (!covered) missed++;
    }
    assert.ok(missed <= alpha * 600, `${missed} of 600 runs lost the true ratio (limit ${alpha * 600})`);
    // An interval that covers because it is always [0, ∞] would pass the line above.
    assert.ok(narrowed >= 0.95 * 600, `${narrowed} of 600 intervals narrowed below a factor of 8`);
  });
});
