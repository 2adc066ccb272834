/**
 * What each router can do (read from api/providers.ts's table), and which strategy an
 * analysis selects. Read by validation, the admission webhook, the routers and the README,
 * so that they cannot disagree about e.g. whether `smi` can match headers.
 */
import { DEFAULT_ROUTER_PROVIDER, PROVIDER_TABLE, ROUTER_PROVIDERS, effectiveProvider } from "./providers.ts";
import type { RouterProvider } from "./providers.ts";
import type { CanaryAnalysis } from "./types.ts";

export const ROUTER_FEATURES = ["weights", "abMatch", "mirroring", "sessionAffinity"] as const;
export type RouterFeature = (typeof ROUTER_FEATURES)[number];

/** Human names for messages and the README table. */
export const ROUTER_FEATURE_LABELS: Record<RouterFeature, string> = {
  weights: "weighted traffic shifting",
  abMatch: "A/B header and cookie matching",
  mirroring: "traffic mirroring",
  sessionAffinity: "session affinity",
};

export function isRouterProvider(name: unknown): name is RouterProvider {
  return typeof name === "string" && Object.hasOwn(PROVIDER_TABLE, name);
}

/**
 * The router a spec selects: an absent or empty `provider` means the default (Flagger
 * semantics); any other unknown name yields `undefined`, never a fallback.
 */
export function resolveRouterProvider(provider: unknown, fallback: RouterProvider = DEFAULT_ROUTER_PROVIDER): RouterProvider | undefined {
  const effective = effectiveProvider({ spec: { provider } }, fallback);
  return effective.known ? (effective.name as RouterProvider) : undefined;
}

export function isSupportedBy(provider: RouterProvider, feature: RouterFeature): boolean {
  return (PROVIDER_TABLE[provider].features as readonly RouterFeature[]).includes(feature);
}

/** Every feature with whether `provider` supports it: what a router declares as `supports`. */
export function capabilitiesOf(provider: RouterProvider): Readonly<Record<RouterFeature, boolean>> {
  return Object.fromEntries(ROUTER_FEATURES.map((f) => [f, isSupportedBy(provider, f)])) as Record<RouterFeature, boolean>;
}

/** The routers that support a feature, in ROUTER_PROVIDERS order (for messages). */
export function routersSupporting(feature: RouterFeature): RouterProvider[] {
  return ROUTER_PROVIDERS.filter((p) => isSupportedBy(p, feature));
}

export type CanaryStrategy = "canary" | "blue-green" | "ab-testing" | "none";

/**
 * The strategy an analysis selects, with Flagger's precedence: iterations plus match is
 * A/B testing; iterations alone is blue/green (weights are ignored); otherwise a
 * stepWeight or stepWeights is a progressive canary. `none` means nothing to run.
 */
export function strategyOf(analysis: CanaryAnalysis | undefined): CanaryStrategy {
  if (analysis === undefined) return "none";
  const iterations = analysis.iterations ?? 0;
  if (iterations > 0) return (analysis.match?.length ?? 0) > 0 ? "ab-testing" : "blue-green";
  if ((analysis.steps?.length ?? 0) > 0 || (analysis.stepWeights?.length ?? 0) > 0 || (analysis.stepWeight ?? 0) > 0) return "canary";
  return "none";
}
