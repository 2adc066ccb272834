/**
 * The `contour` router: one HTTPProxy `<svc>` (projectcontour.io/v1) with a single route
 * whose two services, `<svc>-primary` and `<svc>-canary`, carry the split as weights. The
 * proxy has no virtualhost: a root HTTPProxy owned by the platform team includes it, which
 * is how Contour delegates a path to a team. Each service sets `l5d-dst-override` so that a
 * Linkerd mesh behind Contour keeps the split Contour chose.
 *
 * Weights only: header matching is not offered here (validation rejects `analysis.match`
 * for this provider), nor mirroring or session affinity.
 */
import { capabilitiesOf } from "../api/features.ts";
import type { Canary } from "../api/types.ts";
import { serviceNames } from "../ground/identity.ts";
import type { Split } from "../ground/split.ts";
import type { KubeObject, ObjectRef } from "../kube/types.ts";
import { currentSplit, desiredRouteObject, getRouteObject, reconciled, releaseRouteObject, storedSplit, writeRouteObject } from "./route-objects.ts";
import type { RouteKind } from "./route-objects.ts";
import { RouterSpecError } from "./types.ts";
import type { ReconcileResult, Router, RouterDeps } from "./types.ts";

export const CONTOUR_API_VERSION = "projectcontour.io/v1";

interface ContourService {
  name: string;
  port: number;
  weight: number;
  requestHeadersPolicy: { set: { name: string; value: string }[] };
}

export interface HTTPProxyRoute {
  conditions: { prefix: string }[];
  services: ContourService[];
  timeoutPolicy?: { response: string; idle: string };
  retryPolicy?: { count?: number; perTryTimeout?: string };
}

export interface HTTPProxySpec {
  routes: HTTPProxyRoute[];
}

/** The path the route serves: the first `service.match` URI prefix, else `/`. */
function prefixOf(canary: Canary): string {
  const prefix = canary.spec.service.match?.[0]?.uri?.prefix;
  return typeof prefix === "string" && prefix !== "" ? prefix : "/";
}

const integerWeight = (w: number, which: string): number => {
  if (!Number.isInteger(w) || w < 0 || w > 100) throw new RangeError(`${which} weight must be an integer from 0 to 100, got ${w}`);
  return w;
};

/** The HTTPProxy spec for a split. Pure. */
export function buildHTTPProxySpec(canary: Canary, split: Split): HTTPProxySpec {
  if (split.mirror === true) throw new RouterSpecError("spec.analysis.mirror", "an HTTPProxy route cannot mirror traffic to a weighted service");
  const names = serviceNames(canary);
  const ns = canary.metadata.namespace ?? "default";
  const port = canary.spec.service.port;
  const service = (name: string, weight: number): ContourService => ({
    name,
    port,
    weight,
    requestHeadersPolicy: { set: [{ name: "l5d-dst-override", value: `${name}.${ns}.svc.cluster.local:${port}` }] },
  });
  const route: HTTPProxyRoute = {
    conditions: [{ prefix: prefixOf(canary) }],
    services: [service(names.primary, integerWeight(split.primary, "primary")), service(names.canary, integerWeight(split.canary, "canary"))],
  };
  const { timeout, retries } = canary.spec.service;
  if (timeout) route.timeoutPolicy = { response: timeout, idle: "5m" };
  if (retries !== undefined && (retries.attempts !== undefined || retries.perTryTimeout !== undefined)) {
    route.retryPolicy = {
      ...(retries.attempts !== undefined ? { count: retries.attempts } : {}),
      ...(retries.perTryTimeout !== undefined ? { perTryTimeout: retries.perTryTimeout } : {}),
    };
  }
  return { routes: [route] };
}

/** The split the first route carries (Contour weights are relative); undefined when it names neither Service. */
export function readHTTPProxy(spec: unknown, canary: Canary): Split | undefined {
  const names = serviceNames(canary);
  const services = (spec as { routes?: { services?: { name?: string; weight?: number }[] }[] } | undefined)?.routes?.[0]?.services ?? [];
  if (!services.some((s) => s.name === names.primary || s.name === names.canary)) return undefined;
  const weightOf = (name: string) => services.filter((s) => s.name === name).reduce((sum, s) => sum + (typeof s.weight === "number" ? s.weight : 0), 0);
  const [p, c] = [weightOf(names.primary), weightOf(names.canary)];
  const total = p + c;
  const primary = total === 0 ? 0 : Math.round((100 * p) / total);
  return { primary, canary: total === 0 ? 0 : 100 - primary, mirror: false };
}

export function createContourRouter(deps: RouterDeps): Router {
  // aviary owns `includes` and `tcpproxy` too: either would send traffic around the split.
  const kind: RouteKind = { apiVersion: CONTOUR_API_VERSION, kind: "HTTPProxy", plural: "httpproxies", specFields: ["routes", "includes", "tcpproxy"] };
  const { kube } = deps;
  const refOf = (canary: Canary): ObjectRef => ({ apiVersion: kind.apiVersion, kind: kind.kind, namespace: canary.metadata.namespace!, name: serviceNames(canary).apex });

  async function write(canary: Canary, routes: Split, existing: KubeObject | null, signal: AbortSignal): Promise<boolean> {
    const ref = refOf(canary);
    const desired = desiredRouteObject(kind, canary, ref.name, { ...buildHTTPProxySpec(canary, routes) }, existing);
    if (!(await writeRouteObject(kube, kind, existing, desired, signal))) return false;
    deps.logger.info("HTTPProxy written", { namespace: ref.namespace, name: canary.metadata.name, proxy: ref.name, primary: routes.primary, canary: routes.canary, created: existing === null });
    return true;
  }

  return {
    name: "contour",
    supports: capabilitiesOf("contour"),

    async reconcile(canary, signal, split): Promise<ReconcileResult> {
      const { existing, found, current } = await currentSplit(kube, kind, refOf(canary), canary, readHTTPProxy, signal, split);
      return reconciled(await write(canary, current, existing, signal), split, found);
    },

    async setRoutes(canary, routes, signal): Promise<void> {
      const existing = await getRouteObject(kube, kind, refOf(canary), signal);
      await write(canary, routes, existing, signal);
    },

    async getRoutes(canary, signal): Promise<Split> {
      return storedSplit(kube, kind, refOf(canary), canary, readHTTPProxy, signal, "routes to neither");
    },

    async finalize(canary, signal): Promise<void> {
      const outcome = await releaseRouteObject(kube, kind, canary, refOf(canary).name, signal);
      deps.logger.info("HTTPProxy finalized", { namespace: canary.metadata.namespace, name: canary.metadata.name, outcome });
    },
  };
}
