import assert from "node:assert/strict";
import { DEFAULT_COMPARE, judge, observeErrors, observeLatency, startErrorsTest, startLatencyTest } from "../../../src/judge/index.ts";
import type { ErrorsJudgeState, LatencyJudgeState, WindowCounts } from "../../../src/judge/index.ts";
import { logRegressionEValue } from "../../../src/judge/ratio-test.ts";

function errorsAfter(windows: WindowCounts[], tolerance = 1.2): ErrorsJudgeState {
  let state = startErrorsTest(tolerance);
  for (const w of windows) {
    const r = observeErrors(state, w);
    assert.ok(r.ok);
    state = r.state;
  }
  return state;
}

const repeat = <T>(n: number, x: T): T[] => Array.from({ length: n }, () => x);
const BOUNDARIES = [25, 50, 100, 250, 500, 1000, 2500];

describe("judge: verdicts and their sentences", () => {
  it("fails a canary with five times the primary's 5xx rate, and says why in one sentence", () => {
    const state = errorsAfter(repeat(3, { canary: { requests: 1000, bad: 26 }, primary: { requests: 4000, bad: 20 } }));
    const v = judge(state, DEFAULT_COMPARE);
    assert.equal(v.outcome, "regression");
    assert.equal(v.threshold, 100);
    assert.equal(v.message, "5xx: canary 2.6% vs primary 0.5% (ratio 5.2, 99% CI 2.4–11) > tolerance 1.2 (e-value 6.2e+14 ≥ 100)");
    assert.ok(v.evidence.interval.lower <= 5.2 && 5.2 <= v.evidence.interval.upper);
  });

  it("passes the check of a canary as good as the primary, with the interval that rules out large regressions", () => {
    const v = judge(errorsAfter(repeat(3, { canary: { requests: 1000, bad: 5 }, primary: { requests: 4000, bad: 20 } })), DEFAULT_COMPARE);
    assert.equal(v.outcome, "no-regression-yet");
    assert.equal(v.message, "5xx: canary 0.5% vs primary 0.5% (ratio 1.0, 99% CI 0.25–2.9) within tolerance 1.2 so far (e-value 0.066 < 100)");
  });

  it("calls too few requests not enough data, naming the arm and the minimum", () => {
    const v = judge(errorsAfter([{ canary: { requests: 40, bad: 0 }, primary: { requests: 360, bad: 2 } }]), DEFAULT_COMPARE);
    assert.equal(v.outcome, "insufficient-data");
    assert.equal(v.message, "5xx: not enough data (the canary has served 40 of the 100 requests needed): canary 0 of 40 vs primary 2 of 360");
    // minRequests 0 lifts that rule; two 5xx answers are still too few to bound the ratio.
    const again = judge(errorsAfter([{ canary: { requests: 40, bad: 0 }, primary: { requests: 360, bad: 2 } }]), { ...DEFAULT_COMPARE, minRequests: 0 });
    assert.equal(again.outcome, "insufficient-data");
    assert.match(again.message, /too few 5xx answers to rule out even a ratio of 38/);
  });

  it("calls many requests without any 5xx not enough data: no error rate to compare, so no pass", () => {
    const v = judge(errorsAfter(repeat(5, { canary: { requests: 500, bad: 0 }, primary: { requests: 500, bad: 0 } })), DEFAULT_COMPARE);
    assert.equal(v.outcome, "insufficient-data");
    assert.equal(v.evidence.interval.upper, Infinity);
  });

  it("finds a plain regression (10% against 0.44%) from a single window", () => {
    const v = judge(errorsAfter([{ canary: { requests: 150, bad: 15 }, primary: { requests: 1350, bad: 6 } }]), DEFAULT_COMPARE);
    assert.equal(v.outcome, "regression");
  });

  it("weighs the latency boundaries' e-values, and reports the boundary with the most evidence", () => {
    const started = startLatencyTest(1.2, BOUNDARIES);
    assert.ok(started.ok);
    let state: LatencyJudgeState = started.state;
    for (let i = 0; i < 3; i++) {
      const r = observeLatency(state, {
        canary: { requests: 1000, slowerThan: [995, 930, 670, 138, 12, 1, 0] },
        primary: { requests: 4000, slowerThan: [3960, 3500, 2000, 252, 15, 1, 0] },
      });
      assert.ok(r.ok);
      state = r.state;
    }
    const v = judge(state, DEFAULT_COMPARE);
    const weighted = state.tests.reduce((sum, t, i) => sum + state.weights![i]! * Math.exp(logRegressionEValue(t)), 0);
    assert.ok(Math.abs(v.eValue / weighted - 1) < 1e-9);
    assert.equal(v.tests, 7);
    assert.equal(v.outcome, "regression");
    assert.equal(
      v.message,
      "slower than 250ms: canary 13.8% vs primary 6.3% (ratio 2.2, 99% CI 1.4–3.4) > tolerance 1.2 (e-value 1.5e+18 ≥ 100, weighted mean over 7 boundaries)",
    );
  });

  it("fixes the weights at the first window from both arms together: the tail boundaries only, half evenly, half by slow requests", () => {
    const started = startLatencyTest(1.2, BOUNDARIES);
    assert.ok(started.ok);
    const first = observeLatency(started.state, {
      canary: { requests: 1000, slowerThan: [990, 875, 500, 118, 4, 0, 0] },
      primary: { requests: 4000, slowerThan: [3960, 3500, 2000, 252, 15, 1, 0] },
    });
    assert.ok(first.ok);
    // 5000 requests: 25, 50 and 100 ms hold more than a quarter of them; 250 ms–2.5 s are the tail
    // (370, 19, 1 and 0 slow requests of 390).
    const tail = [370, 19, 1, 0];
    const expected = [0, 0, 0, ...tail.map((k) => 0.5 / 4 + (0.5 * k) / 390)];
    first.state.weights!.forEach((w, i) => assert.ok(Math.abs(w - expected[i]!) < 1e-12, `weight ${i}: ${w} vs ${expected[i]}`));
    // The same split of other pooled counts later does not move them.
    const second = observeLatency(first.state, {
      canary: { requests: 10, slowerThan: [10, 10, 10, 10, 10, 10, 10] },
      primary: { requests: 10, slowerThan: [0, 0, 0, 0, 0, 0, 0] },
    });
    assert.ok(second.ok);
    assert.deepEqual(second.state.weights, first.state.weights);
    // With no tail boundary at all, every boundary shares evenly.
    const noTail = observeLatency(started.state, {
      canary: { requests: 100, slowerThan: [100, 100, 100, 100, 100, 100, 100] },
      primary: { requests: 100, slowerThan: [100, 100, 100, 100, 100, 90, 80] },
    });
    assert.ok(noTail.ok);
    assert.deepEqual(noTail.state.weights, BOUNDARIES.map(() => 1 / BOUNDARIES.length));
  });
});

describe("judge: not enough latency data", () => {
  it("shows the boundary whose slow requests fall short, not one that holds nearly every request", () => {
    const started = startLatencyTest(1.2, BOUNDARIES);
    assert.ok(started.ok);
    const r = observeLatency(started.state, {
      canary: { requests: 30, slowerThan: [30, 27, 15, 2, 0, 0, 0] },
      primary: { requests: 270, slowerThan: [268, 236, 135, 17, 1, 0, 0] },
    });
    assert.ok(r.ok);
    const v = judge(r.state, DEFAULT_COMPARE);
    assert.equal(v.outcome, "insufficient-data");
    assert.equal(v.message, "slower than 100ms: not enough data (the canary has served 30 of the 100 requests needed): canary 15 of 30 vs primary 135 of 270");
  });
});
