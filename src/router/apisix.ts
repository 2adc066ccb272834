/**
 * The `apisix` router (APISIX ingress controller): `spec.routeRef` names your ApisixRoute
 * (`apisix.apache.org/v2`), which aviary never modifies. aviary writes a copy of it,
 * `<route>-<svc>-canary` (Flagger's name), holding only the http rule whose backend is the
 * apex Service `<svc>`, at priority 10000 so APISIX prefers it to yours, with two backends:
 * `<svc>-primary` (the rest of your backend's settings kept) and `<svc>-canary` (same port,
 * resolve granularity and subset), weighted by the split. Your route's labels, annotations
 * and ingress class are carried over; a change to your route is copied at the next reconcile.
 *
 * Weights only: no header matching, mirroring or session affinity here.
 */
import { capabilitiesOf } from "../api/features.ts";
import type { Canary } from "../api/types.ts";
import { serviceNames } from "../ground/identity.ts";
import { ALL_TO_PRIMARY } from "../ground/split.ts";
import type { Split } from "../ground/split.ts";
import type { KubeObject, ObjectRef } from "../kube/types.ts";
import { createdFor, desiredRouteObject, getRouteObject, percentWeight, reconciled, relativeSplit, releaseRouteObject, storedSplit, writeRouteObject } from "./route-objects.ts";
import type { RouteKind } from "./route-objects.ts";
import { RouteStateError, RouterSpecError } from "./types.ts";
import type { ReconcileResult, Router, RouterDeps } from "./types.ts";

export const APISIX_API_VERSION = "apisix.apache.org/v2";
/** The priority of the canary route: above any route of yours, as Flagger sets it. */
export const CANARY_ROUTE_PRIORITY = 10000;
/** APISIX's weight for a backend that gives none. */
const DEFAULT_BACKEND_WEIGHT = 100;
const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";

// `stream` is owned too, so that none is ever copied into the canary route (TCP routes cannot be split twice).
const APISIX_ROUTE: RouteKind = { apiVersion: APISIX_API_VERSION, kind: "ApisixRoute", plural: "apisixroutes", specFields: ["ingressClassName", "http", "stream"] };

type Backend = Record<string, unknown> & { serviceName?: string; servicePort?: unknown; weight?: number };
type HttpRule = Record<string, unknown> & { name?: string; backends?: Backend[] };

/** `<route>-<svc>-canary`. */
export function canaryRouteName(canary: Canary): string {
  return `${canary.spec.routeRef?.name ?? ""}-${serviceNames(canary).apex}-canary`;
}

/**
 * The canary route's spec: the http rule of `source` (your ApisixRoute's spec) whose backend
 * is the apex Service, with the split as the weights of its two backends. Pure; RouterSpecError
 * naming spec.routeRef when your route has no such rule or that rule has several backends.
 */
export function buildCanaryRouteSpec(canary: Canary, source: unknown, split: Split): Record<string, unknown> {
  if (split.mirror === true) throw new RouterSpecError("spec.analysis.mirror", "an ApisixRoute cannot mirror traffic to a weighted backend");
  const names = serviceNames(canary);
  const route = `ApisixRoute ${canary.metadata.namespace}/${canary.spec.routeRef?.name}`;
  const src = (source ?? {}) as { ingressClassName?: string; http?: HttpRule[] };
  const rule = (src.http ?? []).find((r) => (r.backends ?? []).some((b) => b.serviceName === names.apex));
  if (rule === undefined) throw new RouterSpecError("spec.routeRef", `${route} has no http rule with a backend serviceName ${names.apex}`);
  const backends = rule.backends ?? [];
  if (backends.length !== 1) throw new RouterSpecError("spec.routeRef", `${route}: http rule ${rule.name ?? ""} has ${backends.length} backends; the canary route needs exactly one, ${names.apex}`);
  const original = backends[0]!;
  const canaryBackend: Backend = { serviceName: names.canary, servicePort: original.servicePort, weight: percentWeight(split.canary, "canary") };
  for (const f of ["resolveGranularity", "subset"]) if (original[f] !== undefined) canaryBackend[f] = original[f];
  const http: HttpRule = {
    ...rule,
    priority: CANARY_ROUTE_PRIORITY,
    backends: [{ ...original, serviceName: names.primary, weight: percentWeight(split.primary, "primary") }, canaryBackend],
  };
  return { ...(src.ingressClassName !== undefined ? { ingressClassName: src.ingressClassName } : {}), http: [http] };
}

/** The split the first http rule's backends carry (relative; APISIX weighs a backend without a weight 100); undefined when it names neither Service. */
export function readCanaryRoute(spec: unknown, canary: Canary): Split | undefined {
  const names = serviceNames(canary);
  const backends = (spec as { http?: HttpRule[] } | undefined)?.http?.[0]?.backends ?? [];
  if (!backends.some((b) => b.serviceName === names.primary || b.serviceName === names.canary)) return undefined;
  const weightOf = (s: string) => backends.filter((b) => b.serviceName === s).reduce((sum, b) => sum + (typeof b.weight === "number" ? b.weight : DEFAULT_BACKEND_WEIGHT), 0);
  return relativeSplit(weightOf(names.primary), weightOf(names.canary));
}

export function createApisixRouter(deps: RouterDeps): Router {
  const { kube } = deps;
  const ref = (canary: Canary, name: string): ObjectRef => ({ apiVersion: APISIX_API_VERSION, kind: "ApisixRoute", namespace: canary.metadata.namespace!, name });

  function routeRefName(canary: Canary): string {
    const name = canary.spec.routeRef?.name;
    if (name === undefined || name === "") throw new RouterSpecError("spec.routeRef", "is required when provider is apisix");
    return name;
  }

  async function readSource(canary: Canary, signal: AbortSignal): Promise<KubeObject> {
    const where = ref(canary, routeRefName(canary));
    const source = await getRouteObject(kube, APISIX_ROUTE, where, signal);
    if (source === null) throw new RouteStateError(`ApisixRoute ${where.namespace}/${where.name} named by spec.routeRef does not exist`);
    return source;
  }

  async function readOwnRoute(canary: Canary, signal: AbortSignal): Promise<KubeObject | null> {
    const where = ref(canary, canaryRouteName(canary));
    const existing = await getRouteObject(kube, APISIX_ROUTE, where, signal);
    // Never taken over: the name is aviary's own, and there would be nothing to give back.
    if (existing !== null && !createdFor(existing, canary)) {
      throw new RouterSpecError("spec.routeRef", `ApisixRoute ${where.namespace}/${where.name} exists and was not made by aviary for Canary ${canary.metadata.name}; delete or rename it`);
    }
    return existing;
  }

  async function write(canary: Canary, routes: Split, existing: KubeObject | null, signal: AbortSignal): Promise<boolean> {
    const source = await readSource(canary, signal);
    const name = canaryRouteName(canary);
    const desired = desiredRouteObject(APISIX_ROUTE, canary, name, buildCanaryRouteSpec(canary, source.spec, routes), existing);
    const annotations = Object.fromEntries(Object.entries(source.metadata.annotations ?? {}).filter(([k]) => k !== LAST_APPLIED));
    desired.metadata.labels = { ...(source.metadata.labels ?? {}), ...desired.metadata.labels };
    if (Object.keys(annotations).length > 0 || desired.metadata.annotations !== undefined) desired.metadata.annotations = { ...annotations, ...desired.metadata.annotations };
    if (!(await writeRouteObject(kube, APISIX_ROUTE, existing, desired, signal))) return false;
    deps.logger.info("canary ApisixRoute written", { namespace: canary.metadata.namespace, name: canary.metadata.name, route: name, primary: routes.primary, canary: routes.canary, created: existing === null });
    return true;
  }

  return {
    name: "apisix",
    supports: capabilitiesOf("apisix"),

    async reconcile(canary, signal, split): Promise<ReconcileResult> {
      const existing = await readOwnRoute(canary, signal);
      const found = (existing !== null ? readCanaryRoute(existing.spec, canary) : undefined) ?? null;
      const current = split ?? found ?? { ...ALL_TO_PRIMARY };
      return reconciled(await write(canary, current, existing, signal), split, found);
    },

    async setRoutes(canary, routes, signal): Promise<void> {
      await write(canary, routes, await readOwnRoute(canary, signal), signal);
    },

    async getRoutes(canary, signal): Promise<Split> {
      routeRefName(canary);
      return storedSplit(kube, APISIX_ROUTE, ref(canary, canaryRouteName(canary)), canary, readCanaryRoute, signal, "has no backend");
    },

    async finalize(canary, signal): Promise<void> {
      if (canary.spec.routeRef?.name === undefined || canary.spec.routeRef.name === "") return;
      const outcome = await releaseRouteObject(kube, APISIX_ROUTE, canary, canaryRouteName(canary), signal);
      deps.logger.info("canary ApisixRoute finalized", { namespace: canary.metadata.namespace, name: canary.metadata.name, outcome });
    },
  };
}
