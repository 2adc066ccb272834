/**
 * The router provider a Canary runs with. `spec.provider` wins; a Canary without one
 * uses the controller-wide default (`--mesh-provider`, Flagger's `-mesh-provider`), and
 * only without that the built-in default `kubernetes`. Validation, defaults, routing and
 * built-in metrics all ask this one function, so they cannot disagree about which router
 * a Canary gets.
 */
import { isRouterProvider } from "./features.ts";
import { DEFAULT_ROUTER_PROVIDER } from "./types.ts";
import type { RouterProvider } from "./types.ts";

/** Where the effective provider came from, for status and messages. */
export type ProviderSource = "spec" | "mesh-provider" | "default";

export interface EffectiveProvider {
  /** The provider name, or the unknown name as written (validation reports it). */
  name: string;
  /** The name is one aviary serves. */
  known: boolean;
  source: ProviderSource;
}

const isUnset = (v: unknown): boolean => v === undefined || v === null || v === "";

/**
 * The provider in effect for a Canary (or a bare spec), given the controller-wide default.
 * Never falls back from an unknown `spec.provider`: that stays unknown, so it can be reported.
 */
export function effectiveProvider(canary: { spec?: { provider?: unknown } } | undefined, meshProvider?: RouterProvider): EffectiveProvider {
  const raw = canary?.spec?.provider;
  if (isUnset(raw)) {
    const name = meshProvider ?? DEFAULT_ROUTER_PROVIDER;
    return { name, known: true, source: meshProvider === undefined ? "default" : "mesh-provider" };
  }
  const name = typeof raw === "string" ? raw : String(raw);
  return { name, known: isRouterProvider(name), source: "spec" };
}
