import assert from "node:assert/strict";
import { emptyRatioTest, logEValueAbove, logEValueBelow, logRegressionEValue, observeRatioWindow, REGRESSION_STEPS } from "../../../src/judge/ratio-test.ts";
import { ratioInterval } from "../../../src/judge/confidence.ts";
import { GRID_SIZE, TOLERANCE_INDEX, gridRatio } from "../../../src/judge/grid.ts";
import type { WindowCounts } from "../../../src/judge/types.ts";

/** P(a bad event is the canary's) for canary share s and ratio ρ, straight from the model. */
const canaryProbability = (s: number, rho: number) => (s * rho) / (s * rho + 1 - s);

/** The likelihood ratio of ρ1 to ρ0 for x canary events among k, by plain arithmetic. */
function binomialLikelihoodRatio(s: number, x: number, k: number, rho1: number, rho0: number): number {
  const p1 = canaryProbability(s, rho1);
  const p0 = canaryProbability(s, rho0);
  return (p1 / p0) ** x * ((1 - p1) / (1 - p0)) ** (k - x);
}

const window = (nc: number, xc: number, np: number, xp: number): WindowCounts => ({ canary: { requests: nc, bad: xc }, primary: { requests: np, bad: xp } });

describe("judge: the rate-ratio e-process", () => {
  it("keeps the exact binomial likelihood ratio between grid ratios (3 of 4 bad events at an even split: 128/81 for ratio 2 against 1)", () => {
    const state = observeRatioWindow(emptyRatioTest(), 1, window(10, 3, 10, 1));
    // Tolerance 1 puts ratio 2 four steps (one doubling) above the middle.
    const logRatio = state.logLikelihood[TOLERANCE_INDEX + 4]! - state.logLikelihood[TOLERANCE_INDEX]!;
    assert.ok(Math.abs(logRatio - Math.log(128 / 81)) < 2e-6, `log LR ${logRatio}`);
  });

  it("multiplies windows with different traffic shares, and its e-value is the mean likelihood ratio of the alternatives", () => {
    const tolerance = 1.2;
    const windows = [window(10, 3, 10, 1), window(5, 2, 15, 2), window(30, 0, 70, 4)];
    let state = emptyRatioTest();
    for (const w of windows) state = observeRatioWindow(state, tolerance, w);

    let expected = 0;
    for (let step = 1; step <= REGRESSION_STEPS; step++) {
      const rho = gridRatio(tolerance, TOLERANCE_INDEX + step);
      let lr = 1;
      for (const w of windows) {
        const s = w.canary.requests / (w.canary.requests + w.primary.requests);
        lr *= binomialLikelihoodRatio(s, w.canary.bad, w.canary.bad + w.primary.bad, rho, tolerance);
      }
      expected += lr / REGRESSION_STEPS;
    }
    const actual = Math.exp(logRegressionEValue(state));
    assert.ok(Math.abs(actual / expected - 1) < 1e-5, `e-value ${actual}, by hand ${expected}`);
    assert.deepEqual(state.canary, { requests: 45, bad: 5 });
    assert.deepEqual(state.primary, { requests: 95, bad: 7 });
  });

  it("learns nothing from a window without bad events or with an arm that served nothing, but counts its requests", () => {
    const before = observeRatioWindow(emptyRatioTest(), 1.2, window(10, 3, 10, 1));
    for (const w of [window(50, 0, 50, 0), window(0, 0, 80, 3), window(20, 2, 0, 0)]) {
      const after = observeRatioWindow(before, 1.2, w);
      assert.deepEqual(after.logLikelihood, before.logLikelihood);
      assert.equal(after.canary.requests, before.canary.requests + w.canary.requests);
    }
  });

  it("stays finite and exact in its ratios with very large counts", () => {
    const big = window(3e11, 3e9 + 7, 7e11, 7e9);
    const state = observeRatioWindow(emptyRatioTest(), 1, big);
    assert.equal(state.logLikelihood.length, GRID_SIZE);
    assert.ok(state.logLikelihood.every((x) => x >= -1000 && x <= 0));
    // Rates are equal (1%): the likelihood peaks at ratio 1 and the e-value is tiny, not NaN.
    assert.equal(state.logLikelihood[TOLERANCE_INDEX], 0);
    assert.ok(logRegressionEValue(state) < -900);
    // A canary rate 20% higher is enormous evidence at this volume: against tolerance 1 it is a regression.
    const worse = observeRatioWindow(emptyRatioTest(), 1, window(3e11, 3.6e9, 7e11, 7e9));
    assert.ok(logRegressionEValue(worse) > 900);
  });

  it("rounds fractional counts (Prometheus' increase() extrapolates) to whole events", () => {
    const a = observeRatioWindow(emptyRatioTest(), 1.2, window(99.6, 2.8, 200.2, 1.1));
    const b = observeRatioWindow(emptyRatioTest(), 1.2, window(100, 3, 200, 1));
    assert.deepEqual(a, b);
  });

  it("gives the grid's top ratio an e-value of 1 against the points above it, which do not exist", () => {
    const state = observeRatioWindow(emptyRatioTest(), 1.2, window(10, 10, 10, 0));
    assert.equal(logEValueAbove(state, GRID_SIZE - 1), 0);
  });
});

describe("judge: the confidence interval's tests", () => {
  it("agree with the one-sided e-values at every grid point", () => {
    let state = emptyRatioTest();
    for (const w of [window(100, 9, 400, 10), window(200, 14, 300, 8)]) state = observeRatioWindow(state, 1.2, w);
    for (const alpha of [0.5, 0.1, 0.01, 1e-4]) {
      const ci = ratioInterval(state, 1.2, alpha);
      const threshold = Math.log(2 / alpha);
      // Lower end: every point up to it rejects "ρ ≤ point", the next does not.
      let lower = -1;
      while (lower + 1 < GRID_SIZE - 1 && logEValueAbove(state, lower + 1) >= threshold) lower++;
      let upper = GRID_SIZE;
      while (upper - 1 > 0 && logEValueBelow(state, upper - 1) >= threshold) upper--;
      assert.equal(ci.lower, lower < 0 ? 0 : gridRatio(1.2, lower), `lower at α=${alpha}`);
      assert.equal(ci.upper, upper >= GRID_SIZE ? Infinity : gridRatio(1.2, upper), `upper at α=${alpha}`);
    }
  });
});
