/**
 * The shape of a run: which strategy an analysis selects, how many checks it needs, and
 * what the Canary's router lets it do with traffic.
 */
import { isSupportedBy, resolveRouterProvider, strategyOf } from "../../../api/features.ts";
import type { Canary, CanaryAnalysis, RouterProvider } from "../../../api/types.ts";
import { TerminalError } from "../../../ground/errors.ts";
import type { RunShape } from "./weights.ts";

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

/**
 * The router provider a Canary selects. Validation rejects unknown names before a Canary is
 * planned; should one get here anyway it is a terminal error, never a silent fallback.
 */
export function routerProviderOf(canary: Canary): RouterProvider {
  const provider = resolveRouterProvider(canary.spec.provider);
  if (provider === undefined) throw new TerminalError(`spec.provider: unknown router provider "${String(canary.spec.provider)}"`);
  return provider;
}

/** The strategy of the Canary's runs and what its router can do with traffic. */
export function runShapeOf(canary: Canary): RunShape {
  const provider = routerProviderOf(canary);
  const analysis = canary.spec.analysis;
  return { strategy: selectStrategy(analysis), shiftsWeights: routerShiftsWeights(provider), mirrorFirst: mirrorsFirstStep(analysis, provider) };
}
