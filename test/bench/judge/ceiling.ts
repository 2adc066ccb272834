/**
 * How well any test could do on a scenario's 5xx data: the bar the judge's detection is
 * measured against. Both figures are for a test that is told the canary's true ratio of
 * 5xx rates (the judge is not), on the same simulated traffic, with the weight advancing
 * at every check, counting rollbacks by the third check at level α:
 *
 * - sequential: the likelihood ratio of that ratio against the tolerance, looked at every
 *   check and stopped at 1/α (Wald's test). Among tests that may be looked at every
 *   interval, none grows its evidence faster, so this is about what an anytime-valid
 *   test can reach.
 * - one look: the most powerful test that looks once, at the third check (Neyman–Pearson,
 *   conditional on each window's number of 5xx, its cut-off the 99th percentile of its
 *   null distribution by simulation). It is not valid if looked at sooner; no test at
 *   level α, sequential or not, catches more regressions by then.
 */
import { seededRandom } from "./random.ts";
import type { DeciderKind } from "./deciders.ts";
import { simulateRun } from "./simulate.ts";
import type { Scenario } from "./traffic.ts";

export interface Ceiling {
  tolerance: number;
  /** Share of runs the sequential test told the true ratio rolls back within 3 checks. */
  sequentialWithin3: number;
  /** Share of runs the most powerful single look at the third check rolls back. */
  oneLookAt3: number;
}

interface Window {
  /** The canary's share of requests. */
  share: number;
  badEvents: number;
  canaryBad: number;
}

const CHECKS = 3;
const NULL_DRAWS = 2000;

/** The first three windows of one run, the weight advancing at every check. */
function windowsOf(scenario: Scenario, seed: number): Window[] {
  const windows: Window[] = [];
  const recorder: DeciderKind = {
    name: "recorder",
    intervalSlices: 1,
    start: () => ({
      check(canary, primary) {
        windows.push({ share: canary.requests / (canary.requests + primary.requests || 1), badEvents: canary.errors + primary.errors, canaryBad: canary.errors });
        return "advance";
      },
    }),
  };
  simulateRun(scenario, recorder, seed);
  return windows.slice(0, CHECKS);
}

/** The canary's share of bad events when its rate is `ratio` times the primary's. */
const splitAt = (share: number, ratio: number) => (share * ratio) / (share * ratio + 1 - share);

/** log likelihood ratio of `trueRatio` against `tolerance` for one window's split. */
function windowLlr(w: Window, canaryBad: number, trueRatio: number, tolerance: number): number {
  const p1 = splitAt(w.share, trueRatio);
  const p0 = splitAt(w.share, tolerance);
  return canaryBad * Math.log(p1 / p0) + (w.badEvents - canaryBad) * Math.log((1 - p1) / (1 - p0));
}

function binomial(rand: () => number, n: number, p: number): number {
  let x = 0;
  for (let i = 0; i < n; i++) if (rand() < p) x++;
  return x;
}

export function ceilings(scenario: Scenario, trueRatio: number, tolerances: readonly number[], alpha: number, seeds: readonly number[]): Ceiling[] {
  const runs = seeds.map((seed) => windowsOf(scenario, seed));
  return tolerances.map((tolerance) => {
    let sequential = 0;
    let oneLook = 0;
    runs.forEach((windows, i) => {
      let llr = 0;
      let crossed = false;
      for (const w of windows) {
        llr += windowLlr(w, w.canaryBad, trueRatio, tolerance);
        if (llr >= Math.log(1 / alpha)) crossed = true;
      }
      if (crossed) sequential++;
      const rand = seededRandom(seeds[i]! ^ 0x5bd1e995);
      const underNull: number[] = [];
      for (let d = 0; d < NULL_DRAWS; d++) {
        underNull.push(windows.reduce((sum, w) => sum + windowLlr(w, binomial(rand, w.badEvents, splitAt(w.share, tolerance)), trueRatio, tolerance), 0));
      }
      underNull.sort((a, b) => a - b);
      if (llr > underNull[Math.floor((1 - alpha) * NULL_DRAWS)]!) oneLook++;
    });
    return { tolerance, sequentialWithin3: sequential / runs.length, oneLookAt3: oneLook / runs.length };
  });
}
