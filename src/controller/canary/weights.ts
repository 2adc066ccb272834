/**
 * Traffic-weight arithmetic and strategy selection for a canary run. Pure functions of the
 * analysis spec: `plan` asks these what the next weight is, the CLI and the README use them
 * to print the schedule, and the unit tests pin Flagger's rules down edge case by edge case.
 *
 * Weights are absolute percentages of traffic sent to the canary (0..100); the primary gets
 * the rest. Specs are validated upstream (stepWeights strictly increasing, 1..100), so these
 * functions only defend against values that would make a run loop forever.
 */
import { isSupportedBy, strategyOf } from "../../api/features.ts";
import type { CanaryAnalysis, RouterProvider } from "../../api/types.ts";

/** All traffic. Flagger calls this the total weight; routers split it between primary and canary. */
export const FULL_WEIGHT = 100;

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

/** Every weight a run visits, in order, from the first step to the maximum (e.g. [20, 40, 60]). */
export function weightSchedule(analysis: WeightFields): number[] {
  const out: number[] = [];
  let w = 0;
  while (!isLastStep(analysis, w)) {
    w = nextStepWeight(analysis, w);
    out.push(w);
  }
  return out;
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

export interface WeightSplit {
  primary: number;
  canary: number;
}

/**
 * The splits a promotion walks through from `fromCanaryWeight` until the primary has all
 * traffic: stepWeightPromotion 20 from a canary at 60 gives primary 60, 80, 100.
 */
export function promotionWeights(stepWeightPromotion: number | undefined, fromCanaryWeight: number): WeightSplit[] {
  const out: WeightSplit[] = [];
  let canary = clampWeight(fromCanaryWeight);
  do {
    canary = nextPromotionWeight(stepWeightPromotion, canary);
    out.push({ primary: FULL_WEIGHT - canary, canary });
  } while (canary > 0);
  return out;
}

/**
 * How a run exposes the canary:
 * - `canary`: weighted steps up to maxWeight (with `mirror`, one mirrored step at weight 0 first);
 * - `blue-green`: `iterations` checks while users stay on the primary, then a cut-over;
 * - `ab`: `iterations` checks while requests matching `analysis.match` go to the canary;
 * - `mirror`: blue/green whose checks run on a mirrored copy of live traffic.
 */
export type RunStrategy = "canary" | "blue-green" | "ab" | "mirror";

/**
 * The strategy of a run, on top of the API's `strategyOf` (iterations + match is A/B,
 * iterations alone blue/green, weights a canary). A spec with neither (only valid with
 * skipAnalysis, which never reaches a check) runs as blue/green with one iteration: one
 * check, then promotion, rather than promoting blind.
 */
export function selectStrategy(analysis: CanaryAnalysis | undefined): RunStrategy {
  switch (strategyOf(analysis)) {
    case "ab-testing":
      return "ab";
    case "blue-green":
      return analysis?.mirror === true ? "mirror" : "blue-green";
    case "canary":
      return "canary";
    case "none":
      return "blue-green";
  }
}

/** The number of passing checks blue/green, A/B and mirror runs need (at least one). */
export function iterationsOf(analysis: CanaryAnalysis | undefined): number {
  return Math.max(1, analysis?.iterations ?? 0);
}

/** A weighted canary run with `mirror` mirrors traffic for one step before shifting any. */
export function mirrorsFirstStep(analysis: CanaryAnalysis | undefined, provider: RouterProvider): boolean {
  return analysis?.mirror === true && isSupportedBy(provider, "mirroring");
}

/**
 * Whether the router moves traffic by weight. `kubernetes` only switches Services, so its
 * blue/green runs never cut users over to the canary before promotion.
 */
export function routerShiftsWeights(provider: RouterProvider): boolean {
  return isSupportedBy(provider, "weights");
}
