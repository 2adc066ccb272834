/**
 * Where the weight is decided. Every value `status.canaryWeight` can take, and the traffic
 * split each status implies, is computed here; the steps of a run (run.ts, promotion.ts)
 * only choose when to ask:
 *
 * - a run starts at 0 and steps up with `nextStepWeight` (run.ts advanceWeight, behind the
 *   confirm-traffic-increase gate) until `isLastStep`;
 * - blue/green and mirror runs on a weighted router cut over to `CUT_OVER_WEIGHT` when
 *   promoted (promotion.ts promoteNow); a promotion walks back down with
 *   `nextPromotionWeight` (stepWeightPromotion);
 * - rollback and the end of a promotion return to `IDLE_WEIGHT`;
 * - `splitForStatus` turns a status into the split the router must carry. The status is
 *   the truth for the weights (ground/split.ts states the rule); the router is corrected
 *   to this split on every reconcile.
 *
 * Weights are absolute percentages of traffic sent to the canary (0..100); the primary gets
 * the rest. Specs are validated upstream (stepWeights strictly increasing, 1..100), so these
 * functions only defend against values that would make a run loop forever.
 */
import type { CanaryAnalysis, CanaryStatus } from "../../../api/types.ts";
import { ALL_TO_PRIMARY, FULL_WEIGHT, splitAt } from "../../../ground/split.ts";
import type { Split } from "../../../ground/split.ts";
import type { RunStrategy } from "./strategy.ts";

/** The weight of a canary that is not under analysis: no traffic. */
export const IDLE_WEIGHT = 0;

/** The weight blue/green and mirror runs cut over to when promoted: all traffic on the new version. */
export const CUT_OVER_WEIGHT = FULL_WEIGHT;

type WeightFields = Pick<CanaryAnalysis, "maxWeight" | "stepWeight" | "stepWeights">;

const clampWeight = (w: number): number => Math.min(FULL_WEIGHT, Math.max(0, Math.round(w)));

/**
 * The weight at which the canary is promoted. Flagger's precedence: the last entry of
 * `stepWeights` (a `maxWeight` beside it is ignored, validation warns), else `maxWeight`,
 * else 100. A maxWeight of 0 means "unset", as in Flagger.
 */
export function maxWeightOf(analysis: WeightFields): number {
  const steps = analysis.stepWeights ?? [];
  const last = steps[steps.length - 1];
  if (last !== undefined) return clampWeight(last);
  if (analysis.maxWeight !== undefined && analysis.maxWeight > 0) return clampWeight(analysis.maxWeight);
  return FULL_WEIGHT;
}

/**
 * The canary weight after one more step from `currentWeight`.
 *
 * - `stepWeights`: the first entry greater than the current weight (so a weight that is not
 *   on the list, e.g. after the list was edited mid-run, still moves to the next one up).
 * - `stepWeight`: current + stepWeight, the last step capped at the maximum (maxWeight 50,
 *   stepWeight 20 gives 20, 40, 50).
 * - neither: one step straight to the maximum, so a run can never stall at a weight.
 *
 * At or above the maximum the weight is returned unchanged: this function never lowers
 * traffic (lowering is promotion's or rollback's job).
 */
export function nextStepWeight(analysis: WeightFields, currentWeight: number): number {
  const max = maxWeightOf(analysis);
  const current = clampWeight(currentWeight);
  if (current >= max) return current;
  const steps = analysis.stepWeights ?? [];
  if (steps.length > 0) {
    const next = steps.find((w) => w > current);
    return Math.min(next ?? max, max);
  }
  const step = analysis.stepWeight ?? 0;
  if (step > 0) return Math.min(current + step, max);
  return max;
}

/** True when the canary has reached the promotion weight: the next passing check promotes. */
export function isLastStep(analysis: WeightFields, currentWeight: number): boolean {
  return clampWeight(currentWeight) >= maxWeightOf(analysis);
}

/**
 * The canary weight after one promotion step: with `stepWeightPromotion` the primary's
 * share grows by that much per interval, otherwise all traffic returns at once.
 */
export function nextPromotionWeight(stepWeightPromotion: number | undefined, canaryWeight: number): number {
  const step = stepWeightPromotion ?? 0;
  if (step <= 0) return 0;
  return Math.max(0, clampWeight(canaryWeight) - step);
}

/** What of a run's shape decides the split: the strategy and what the router can do. */
export interface RunShape {
  strategy: RunStrategy;
  /** The router moves traffic by weight (every provider but `kubernetes`). */
  shiftsWeights: boolean;
  /** A weighted canary run with `mirror`: one mirrored step at weight 0 before any traffic shifts. */
  mirrorFirst: boolean;
}

/**
 * The split a status implies. Runs that have not started (iterations 0) and every phase
 * outside a run send everything to the primary; so does a router that cannot shift weights.
 */
export function splitForStatus(shape: RunShape, s: CanaryStatus): Split {
  const weight = s.canaryWeight ?? IDLE_WEIGHT;
  const started = (s.iterations ?? 0) > 0;
  if (!shape.shiftsWeights) return { ...ALL_TO_PRIMARY };
  switch (s.phase) {
    case "Progressing":
    case "WaitingPromotion":
      if (!started) return { ...ALL_TO_PRIMARY };
      switch (shape.strategy) {
        case "canary":
          return weight === 0 && shape.mirrorFirst ? { ...ALL_TO_PRIMARY, mirror: true } : splitAt(weight);
        case "mirror":
          return { ...ALL_TO_PRIMARY, mirror: true };
        case "ab":
          // The weights of the matched route: matching requests all go to the canary.
          return splitAt(FULL_WEIGHT);
        case "blue-green":
          return { ...ALL_TO_PRIMARY };
      }
      return { ...ALL_TO_PRIMARY };
    case "Promoting":
      return splitAt(weight);
    default:
      return { ...ALL_TO_PRIMARY };
  }
}
