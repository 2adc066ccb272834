/**
 * The AWS Load Balancer Controller's weighted forward action, as the `alb` router writes it
 * on the user's Ingress, and the split read back from it. Pure.
 *
 * An Ingress rule whose backend is `service: {name: <action>, port: {name: use-annotation}}`
 * takes its action from the annotation `<prefix>/actions.<action>`. aviary's action is named
 * after the apex Service `<svc>` and forwards to two target groups, `<svc>-primary` and
 * `<svc>-canary` on the Canary's service port, whose weights sum to 100.
 */
import type { Canary } from "../api/types.ts";
import { serviceNames } from "../ground/identity.ts";
import type { Split } from "../ground/split.ts";
import { backendsOf } from "./ingress-spec.ts";
import type { IngressSpec } from "./ingress-spec.ts";
import { RouterSpecError } from "./types.ts";

export const DEFAULT_ALB_ANNOTATION_PREFIX = "alb.ingress.kubernetes.io";
/** The backend port name that tells the AWS Load Balancer Controller to read the action annotation. */
export const USE_ANNOTATION = "use-annotation";

/** The action annotation aviary writes: `<prefix>/actions.<svc>`. */
export const actionAnnotation = (canary: Canary, prefix: string): string => `${prefix}/actions.${serviceNames(canary).apex}`;

/**
 * Checks that the user's Ingress takes the action from the annotation: some backend names
 * the apex Service with port name `use-annotation`. Otherwise a RouterSpecError naming
 * `spec.ingressRef` that says what to write.
 */
export function checkActionBackend(canary: Canary, source: { metadata: { namespace?: string; name: string }; spec?: unknown }): void {
  const { apex } = serviceNames(canary);
  const spec = (source.spec ?? {}) as IngressSpec;
  const backends = [...backendsOf(spec)].filter((b) => b.service?.name === apex);
  if (backends.some((b) => b.service?.port?.name === USE_ANNOTATION)) return;
  const ingress = `Ingress ${source.metadata.namespace}/${source.metadata.name}`;
  const want = `service {name: ${apex}, port: {name: ${USE_ANNOTATION}}}`;
  throw new RouterSpecError(
    "spec.ingressRef",
    backends.length > 0
      ? `${ingress} sends traffic to Service ${apex} directly; give that backend ${want} so the weighted action applies`
      : `${ingress} has no backend ${want}; the weighted action applies only to such a rule`,
  );
}

export interface TargetGroup {
  serviceName: string;
  servicePort: string;
  weight: number;
}

/** The forward action's JSON for a split, in the controller's documented camelCase spelling. */
export function forwardAction(canary: Canary, routes: Split): string {
  if (!Number.isInteger(routes.canary) || routes.canary < 0 || routes.canary > 100) {
    throw new RangeError(`canary weight must be an integer from 0 to 100, got ${routes.canary}`);
  }
  const names = serviceNames(canary);
  const port = String(canary.spec.service.port);
  const targetGroups: TargetGroup[] = [
    { serviceName: names.primary, servicePort: port, weight: 100 - routes.canary },
    { serviceName: names.canary, servicePort: port, weight: routes.canary },
  ];
  return JSON.stringify({ type: "forward", forwardConfig: { targetGroups } });
}

/** A field of a JSON object whatever its case: the controller decodes actions case-insensitively (Argo Rollouts writes PascalCase). */
function field(o: unknown, name: string): unknown {
  if (typeof o !== "object" || o === null || Array.isArray(o)) return undefined;
  const key = Object.keys(o).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : (o as Record<string, unknown>)[key];
}

/**
 * The split an action carries: the weights of the `<svc>-primary` and `<svc>-canary` target
 * groups as a ratio. `undefined` when the action is missing, not JSON, not a forward, or
 * does not name both Services.
 */
export function readForwardAction(canary: Canary, value: string | undefined): Split | undefined {
  if (value === undefined) return undefined;
  let action: unknown;
  try {
    action = JSON.parse(value);
  } catch {
    return undefined;
  }
  if (field(action, "type") !== "forward") return undefined;
  const groups = field(field(action, "forwardConfig"), "targetGroups");
  if (!Array.isArray(groups)) return undefined;
  const names = serviceNames(canary);
  const weightOf = (service: string): number | undefined => {
    const group = groups.find((g) => field(g, "serviceName") === service);
    const weight = group === undefined ? undefined : field(group, "weight");
    return typeof weight === "number" && weight >= 0 ? weight : undefined;
  };
  const primary = weightOf(names.primary);
  const canaryWeight = weightOf(names.canary);
  if (primary === undefined || canaryWeight === undefined || primary + canaryWeight <= 0) return undefined;
  const percent = Math.round((100 * canaryWeight) / (primary + canaryWeight));
  return { primary: 100 - percent, canary: percent, mirror: false };
}
