/**
 * The canary Ingress (networking.k8s.io/v1) the `skipper` router keeps beside the user's
 * Ingress, and the split read back from its annotations. Pure.
 *
 * Skipper turns an Ingress path with several backends into one route that splits requests
 * by the `zalando.org/backend-weights` annotation (`{"<service>": weight, …}`, read as
 * ratios). The copy lists each path of the apex Service twice, once for `<svc>-primary` and
 * once for `<svc>-canary`, so the weights decide between them; its route predicate
 * `Weight(100)` makes Skipper prefer it over the user's Ingress for the same host and path.
 * While the canary gets nothing the copy is switched off with `False()`, and the user's
 * Ingress serves through the apex Service again.
 */
import type { Canary } from "../api/types.ts";
import { serviceNames } from "../ground/identity.ts";
import type { Split } from "../ground/split.ts";
import { INGRESS_CLASS_ANNOTATION } from "./ingress-spec.ts";
import type { IngressPath, IngressSpec } from "./ingress-spec.ts";
import { RouterSpecError } from "./types.ts";

export const SKIPPER_ANNOTATION_PREFIX = "zalando.org";
export const BACKEND_WEIGHTS_ANNOTATION = `${SKIPPER_ANNOTATION_PREFIX}/backend-weights`;
export const PREDICATE_ANNOTATION = `${SKIPPER_ANNOTATION_PREFIX}/skipper-predicate`;
/** Puts the copy's route ahead of the user's Ingress route for the same host and path. */
export const ROUTE_PREFERRED = "Weight(100)";
/** Switches the copy's route off: requests go through the user's Ingress. */
export const ROUTE_DISABLED = "False()";

/**
 * The user's Ingress spec with every path of the apex Service `<svc>` sent to
 * `<svc>-primary`, followed by the same path for `<svc>-canary`. Paths of other Services
 * stay as they are; the default backend is left to the user's Ingress (one backend cannot
 * be weighted). No path for the apex Service: a RouterSpecError naming `spec.ingressRef`.
 */
export function buildSkipperIngressSpec(canary: Canary, source: { metadata: { namespace?: string; name: string }; spec?: unknown }): IngressSpec {
  const names = serviceNames(canary);
  const spec = structuredClone((source.spec ?? {}) as IngressSpec);
  delete spec.defaultBackend;
  let found = false;
  for (const rule of spec.rules ?? []) {
    if (rule.http === undefined) continue;
    const paths: IngressPath[] = [];
    for (const p of rule.http.paths) {
      paths.push(p);
      if (p.backend.service?.name !== names.apex) continue;
      found = true;
      p.backend.service.name = names.primary;
      const copy = structuredClone(p);
      copy.backend.service!.name = names.canary;
      paths.push(copy);
    }
    rule.http.paths = paths;
  }
  if (!found) {
    throw new RouterSpecError("spec.ingressRef", `Ingress ${source.metadata.namespace}/${source.metadata.name} has no path for Service ${names.apex}; its rules must send traffic to ${names.apex}`);
  }
  return spec;
}

/** Annotations aviary manages on the canary Ingress: Skipper's own and the ingress class. */
export const isManagedAnnotation = (key: string): boolean => key.startsWith(`${SKIPPER_ANNOTATION_PREFIX}/`) || key === INGRESS_CLASS_ANNOTATION;

/**
 * The user's Ingress annotations the copy carries: Skipper's settings (filters, routes,
 * redirects) and the legacy class; not the weights or the predicate, which aviary writes.
 * Others are not copied: tracking annotations of GitOps tools would make them claim the copy.
 */
export function copiedAnnotations(source: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(source ?? {}).filter(([k]) => isManagedAnnotation(k) && k !== BACKEND_WEIGHTS_ANNOTATION && k !== PREDICATE_ANNOTATION));
}

/** `first && <the user's predicates>`, without any `Weight(100)` or `False()` already there. */
export function withPredicate(predicates: string | undefined, first: string): string {
  const rest = (predicates ?? "").split("&&").map((p) => p.trim()).filter((p) => p !== "" && p !== ROUTE_PREFERRED && p !== ROUTE_DISABLED);
  return [first, ...rest].join(" && ");
}

/** The copy's weights and predicate for a split; the user's own predicate is kept after aviary's. */
export function skipperAnnotations(canary: Canary, routes: Split, sourcePredicate: string | undefined): Record<string, string> {
  if (!Number.isInteger(routes.canary) || routes.canary < 0 || routes.canary > 100) {
    throw new RangeError(`canary weight must be an integer from 0 to 100, got ${routes.canary}`);
  }
  const names = serviceNames(canary);
  return {
    [BACKEND_WEIGHTS_ANNOTATION]: JSON.stringify({ [names.primary]: 100 - routes.canary, [names.canary]: routes.canary }),
    [PREDICATE_ANNOTATION]: withPredicate(sourcePredicate, routes.canary === 0 ? ROUTE_DISABLED : ROUTE_PREFERRED),
  };
}

/**
 * The split the copy carries: the weights of `<svc>-primary` and `<svc>-canary` as a ratio,
 * or everything to the primary while `False()` switches the copy off. `undefined` when
 * the weights are missing, not JSON, or do not name both Services.
 */
export function readSkipperRoutes(canary: Canary, annotations: Record<string, string>): Split | undefined {
  const names = serviceNames(canary);
  let weights: unknown;
  try {
    weights = JSON.parse(annotations[BACKEND_WEIGHTS_ANNOTATION] ?? "");
  } catch {
    return undefined;
  }
  if (typeof weights !== "object" || weights === null) return undefined;
  const primary = (weights as Record<string, unknown>)[names.primary];
  const canaryWeight = (weights as Record<string, unknown>)[names.canary];
  if (typeof primary !== "number" || typeof canaryWeight !== "number" || primary < 0 || canaryWeight < 0 || primary + canaryWeight <= 0) return undefined;
  const disabled = (annotations[PREDICATE_ANNOTATION] ?? "").split("&&").some((p) => p.trim() === ROUTE_DISABLED);
  if (disabled) return { primary: 100, canary: 0, mirror: false };
  const percent = Math.round((100 * canaryWeight) / (primary + canaryWeight));
  return { primary: 100 - percent, canary: percent, mirror: false };
}
