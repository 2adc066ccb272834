/**
 * The sequential test of one rate ratio: is the canary's rate of bad events more than
 * `tolerance` times the primary's?
 *
 * The model. In a window where the canary served n_c requests and the primary n_p, its
 * traffic share is s = n_c / (n_c + n_p). If bad events arrive at rate r_c per canary request
 * and r_p per primary request (Poisson counts), then given that k bad events happened in
 * the window, the number that were the canary's is Binomial(k, p) with
 *
 *     p(ρ) = sρ / (sρ + 1 − s),   ρ = r_c / r_p.
 *
 * Conditioning on k removes the unknown common rate: an incident that raises both arms'
 * rates alike leaves ρ, and so the test, unchanged. Only the split of bad events between
 * the arms, against the split of traffic, carries evidence.
 *
 * The e-process. For every grid ratio ρ_j the state keeps the log-likelihood of all windows
 * so far, Σ x_c·log p_j + (k − x_c)·log(1 − p_j) (up to a constant shared by all j, which
 * cancels). The e-value against "ρ ≤ tolerance" is the average, over grid points above
 * the tolerance (REGRESSION_STEPS of them) with equal prior weight, of the likelihood
 * ratio of ρ_j to the tolerance:
 *
 *     E_t = mean_j Π_windows (p_j/p_0)^x_c ((1−p_j)/(1−p_0))^(k−x_c),   p_0 = p(tolerance).
 *
 * Why this is valid for the whole null "ρ ≤ tolerance", checked at every window: for one
 * bad event that is the canary's with probability q, the expected factor is
 * q·(p_j/p_0) + (1−q)·(1−p_j)/(1−p_0). It is linear in q, equals 1 at q = p_0, and
 * increases with q because p_j > p_0; p(ρ) increases with ρ, so for any true ρ ≤ tolerance
 * (q ≤ p_0) the factor is at most 1. Windows multiply factors whose conditional
 * expectations are at most 1, whatever the traffic shares and totals are (they are known
 * before the split is), so each alternative's product is a nonnegative supermartingale
 * under every null ratio, and so is their average. Ville's inequality then bounds the
 * chance that E_t ever reaches 1/α, at any of the windows looked at, by α. Looking every
 * interval costs nothing; stopping early costs nothing.
 *
 * Per-request (binomial) counts rather than Poisson ones: with equal rates in both arms the
 * canary's share of k bad events is hypergeometric, which Hoeffding (1963) showed is less
 * spread, in convex order, than the binomial with the same mean; the expected factor, a
 * convex function of x_c, is then still at most 1. With rates far from zero (a latency
 * boundary below the median) and a ratio between 1 and the tolerance the binomial is an
 * approximation; the simulations in test/unit/judge and the benchmark measure it.
 */
import type { ArmCounts, WindowCounts } from "./types.ts";
import { GRID_SIZE, TOLERANCE_INDEX, logGridRatio } from "./grid.ts";
import { LOG_LIKELIHOOD_FLOOR, logAddExp, logSumExp, roundLog } from "./logspace.ts";

/** One test's accumulated evidence: plain JSON, GRID_SIZE + 4 numbers. */
export interface RatioTestState {
  /** Totals over every window observed. */
  canary: ArmCounts;
  primary: ArmCounts;
  /** Log-likelihood of all windows at each grid ratio, minus its maximum: 0 down to LOG_LIKELIHOOD_FLOOR. */
  logLikelihood: number[];
}

export function emptyRatioTest(): RatioTestState {
  return { canary: { requests: 0, bad: 0 }, primary: { requests: 0, bad: 0 }, logLikelihood: new Array<number>(GRID_SIZE).fill(0) };
}

/**
 * Adds one window. Counts are rounded to whole events first (Prometheus' `increase()`
 * extrapolates to fractions). A window where either arm served nothing, or no bad event
 * happened, says nothing about the split and leaves the likelihoods as they were.
 */
export function observeRatioWindow(state: RatioTestState, tolerance: number, window: WindowCounts): RatioTestState {
  const c = wholeCounts(window.canary);
  const p = wholeCounts(window.primary);
  const next: RatioTestState = {
    canary: { requests: state.canary.requests + c.requests, bad: state.canary.bad + c.bad },
    primary: { requests: state.primary.requests + p.requests, bad: state.primary.bad + p.bad },
    logLikelihood: state.logLikelihood,
  };
  const badEvents = c.bad + p.bad;
  if (c.requests === 0 || p.requests === 0 || badEvents === 0) return next;

  // log p(ρ) − log(1−p(ρ)) terms without the parts shared by every ρ:
  // x_c·log ρ − k·log(n_c·ρ + n_p).
  const logTolerance = Math.log(tolerance);
  const logCanary = Math.log(c.requests);
  const logPrimary = Math.log(p.requests);
  const added = state.logLikelihood.map((ll, j) => {
    const logRho = logGridRatio(logTolerance, j);
    return ll + c.bad * logRho - badEvents * logAddExp(logCanary + logRho, logPrimary);
  });
  const top = Math.max(...added);
  next.logLikelihood = added.map((ll) => Math.max(LOG_LIKELIHOOD_FLOOR, roundLog(ll - top)));
  return next;
}

function wholeCounts(arm: ArmCounts): ArmCounts {
  const requests = Math.round(arm.requests);
  return { requests, bad: Math.min(Math.round(arm.bad), requests) };
}

/**
 * The regressions the test weighs, in grid steps above the tolerance: 1 to 12, ratios of
 * 1.19 to 8 times the tolerance, with equal prior weight. A larger regression is found by
 * these alternatives within a window or two anyway, and every alternative added dilutes
 * the evidence for the others (the e-value is their mean).
 */
export const REGRESSION_STEPS = 12;

/** log of the regression e-value: "ρ ≤ tolerance" against the REGRESSION_STEPS ratios above it. */
export function logRegressionEValue(state: RatioTestState): number {
  const ll = state.logLikelihood;
  return logSumExp(ll, TOLERANCE_INDEX + 1, TOLERANCE_INDEX + 1 + REGRESSION_STEPS) - Math.log(REGRESSION_STEPS) - ll[TOLERANCE_INDEX]!;
}

/**
 * log of the e-value for "ρ ≤ the ratio at grid point `index`" against every grid point
 * above it, equal weights (the confidence interval's tests). The top point has nothing
 * above it: its e-value is 1 and it is never rejected.
 */
export function logEValueAbove(state: RatioTestState, index: number): number {
  const ll = state.logLikelihood;
  const alternatives = ll.length - 1 - index;
  if (alternatives <= 0) return 0;
  return logSumExp(ll, index + 1) - Math.log(alternatives) - ll[index]!;
}

/** log of the e-value for "ρ ≥ the ratio at grid point `index`" (alternatives below it). */
export function logEValueBelow(state: RatioTestState, index: number): number {
  const ll = state.logLikelihood;
  if (index <= 0) return 0;
  return logSumExp(ll, 0, index) - Math.log(index) - ll[index]!;
}
