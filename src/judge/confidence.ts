/**
 * A confidence sequence for the rate ratio: the ratios the data has not rejected.
 *
 * Each grid ratio ρ_i gets two one-sided tests built like the regression test: "ρ ≤ ρ_i"
 * against every grid point above it, and "ρ ≥ ρ_i" against every one below it, with equal
 * weights (logEValueAbove and logEValueBelow in ratio-test.ts; the same supermartingale
 * argument, with the inequality turned round for the second). Each runs at level α/2.
 *
 * The lower bound is the highest ρ_i such that "ρ ≤ ρ_i" and every such hypothesis below it
 * are rejected; the upper bound is the lowest ρ_i such that "ρ ≥ ρ_i" and every one above it
 * are rejected. If the true ratio lies below the lower bound, the test at the first grid
 * point at or above the true ratio was rejected although its null is true, which happens
 * with probability at most α/2 at any time over the whole run; likewise above. So the
 * interval covers the true ratio at every check at once with probability at least 1 − α.
 * Its ends are grid points, so they move in steps of 19%.
 */
import type { RatioInterval } from "./types.ts";
import { GRID_SIZE, gridRatio } from "./grid.ts";
import type { RatioTestState } from "./ratio-test.ts";
import { logAddExp } from "./logspace.ts";

/** The (1 − alpha) interval for the ratio; 0 and Infinity when the grid's ends are not ruled out. */
export function ratioInterval(state: RatioTestState, tolerance: number, alpha: number): RatioInterval {
  const logThreshold = Math.log(2 / alpha);
  const ll = state.logLikelihood;
  // Running log-sums from each end, so that every point's two e-values cost O(1):
  // below[i] = log Σ_{j<i} e^ll[j], above[i] = log Σ_{j>i} e^ll[j].
  const below = new Array<number>(GRID_SIZE).fill(-Infinity);
  const above = new Array<number>(GRID_SIZE).fill(-Infinity);
  for (let i = 1; i < GRID_SIZE; i++) below[i] = logAddExp(below[i - 1]!, ll[i - 1]!);
  for (let i = GRID_SIZE - 2; i >= 0; i--) above[i] = logAddExp(above[i + 1]!, ll[i + 1]!);
  const rejectsAtOrBelow = (i: number) => above[i]! - Math.log(GRID_SIZE - 1 - i) - ll[i]! >= logThreshold;
  const rejectsAtOrAbove = (i: number) => below[i]! - Math.log(i) - ll[i]! >= logThreshold;

  let lowerIndex = -1;
  while (lowerIndex + 1 < GRID_SIZE - 1 && rejectsAtOrBelow(lowerIndex + 1)) lowerIndex++;
  let upperIndex = GRID_SIZE;
  while (upperIndex - 1 > 0 && rejectsAtOrAbove(upperIndex - 1)) upperIndex--;
  return {
    lower: lowerIndex < 0 ? 0 : gridRatio(tolerance, lowerIndex),
    upper: upperIndex >= GRID_SIZE ? Infinity : gridRatio(tolerance, upperIndex),
  };
}
