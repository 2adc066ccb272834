/**
 * The ratios the judge weighs: a fixed grid around the tolerance, four points per doubling,
 * from tolerance/32 to tolerance×32. Its middle point is the tolerance itself, which is the
 * boundary of "no regression"; the points above it are the regressions the test looks for
 * (from 19% over the tolerance to 32 times it), the points on both sides bound the
 * confidence interval. A ratio outside the grid is reported as beyond its end (0 or ∞).
 */

export const STEPS_PER_DOUBLING = 4;
export const HALF_WIDTH = 20;
export const GRID_SIZE = 2 * HALF_WIDTH + 1;
/** The index of the tolerance in the grid. */
export const TOLERANCE_INDEX = HALF_WIDTH;

/** The ratio at grid point `index` for a test anchored at `tolerance`. */
export function gridRatio(tolerance: number, index: number): number {
  return tolerance * 2 ** ((index - TOLERANCE_INDEX) / STEPS_PER_DOUBLING);
}

/** log of the ratio at grid point `index`: a step of log(2)/4 per point from log(tolerance). */
export function logGridRatio(logTolerance: number, index: number): number {
  return logTolerance + ((index - TOLERANCE_INDEX) * Math.LN2) / STEPS_PER_DOUBLING;
}
