/**
 * The `kuma` router: one TrafficRoute `<svc>` (`kuma.io/v1alpha1`, the object Flagger's kuma
 * router writes) for the apex Kuma service `<svc>_<namespace>_svc_<port>`, from any source,
 * splitting it between `<svc>-primary_…` and `<svc>-canary_…` by weight. The mesh is the
 * Canary's `kuma.io/mesh` annotation, `default` without one.
 *
 * TrafficRoute is cluster-scoped, so it carries no owner reference (a namespaced Canary
 * cannot own it): the label `aviary.dev/canary-namespace` says which Canary made it, a
 * Canary of the same service name in another namespace is refused rather than overwriting
 * it, and it is removed when the Canary is finalized (`revertOnDeletion`), not by the
 * garbage collector. One left behind by a Canary that no longer exists is taken as this
 * Canary's own.
 *
 * Weights only: no header matching, mirroring or session affinity here.
 */
import { capabilitiesOf } from "../api/features.ts";
import { API_VERSION, KIND_CANARY, LABEL_CANARY, LABEL_CANARY_NAMESPACE, LABEL_MANAGED_BY, MANAGED_BY_VALUE } from "../api/types.ts";
import type { Canary } from "../api/types.ts";
import { serviceNames } from "../ground/identity.ts";
import type { Split } from "../ground/split.ts";
import type { KubeObject, ObjectRef } from "../kube/types.ts";
import { createdFor, currentSplit, desiredRouteObject, getRouteObject, percentWeight, reconciled, relativeSplit, releaseRouteObject, storedSplit, writeRouteObject } from "./route-objects.ts";
import type { RouteKind } from "./route-objects.ts";
import { RouterSpecError } from "./types.ts";
import type { ReconcileResult, Router, RouterDeps } from "./types.ts";

export const KUMA_API_VERSION = "kuma.io/v1alpha1";
/** The Canary annotation naming the Kuma mesh, as with Flagger. */
export const ANNOTATION_KUMA_MESH = "kuma.io/mesh";
const SERVICE_TAG = "kuma.io/service";

const TRAFFIC_ROUTE: RouteKind = {
  apiVersion: KUMA_API_VERSION, kind: "TrafficRoute", plural: "trafficroutes",
  specFields: ["sources", "destinations", "conf"], topFields: ["mesh"], clusterScoped: true,
};

/** Kuma's name for a Kubernetes Service's port: `<service>_<namespace>_svc_<port>`. */
export const kumaService = (service: string, canary: Canary): string =>
  `${service}_${canary.metadata.namespace ?? "default"}_svc_${canary.spec.service.port}`;

/** The mesh the TrafficRoute belongs to. */
export const kumaMesh = (canary: Canary): string => canary.metadata.annotations?.[ANNOTATION_KUMA_MESH] || "default";

interface SplitEntry {
  weight: number;
  destination: Record<string, string>;
}

export interface TrafficRouteSpec {
  sources: { match: Record<string, string> }[];
  destinations: { match: Record<string, string> }[];
  conf: { split: SplitEntry[] };
}

/** The TrafficRoute spec for a split. Pure. */
export function buildTrafficRouteSpec(canary: Canary, split: Split): TrafficRouteSpec {
  if (split.mirror === true) throw new RouterSpecError("spec.analysis.mirror", "a Kuma TrafficRoute cannot mirror traffic");
  const names = serviceNames(canary);
  const entry = (service: string, weight: number): SplitEntry => ({ weight, destination: { [SERVICE_TAG]: kumaService(service, canary) } });
  return {
    sources: [{ match: { [SERVICE_TAG]: "*" } }],
    destinations: [{ match: { [SERVICE_TAG]: kumaService(names.apex, canary) } }],
    conf: { split: [entry(names.primary, percentWeight(split.primary, "primary")), entry(names.canary, percentWeight(split.canary, "canary"))] },
  };
}

/** The split `conf.split` carries (relative weights); undefined when it names neither generated service. */
export function readTrafficRoute(spec: unknown, canary: Canary): Split | undefined {
  const names = serviceNames(canary);
  const [primary, canaryService] = [kumaService(names.primary, canary), kumaService(names.canary, canary)];
  const entries = (spec as { conf?: { split?: { weight?: number; destination?: Record<string, string> }[] } } | undefined)?.conf?.split ?? [];
  const serviceOf = (e: (typeof entries)[number]) => e.destination?.[SERVICE_TAG];
  if (!entries.some((e) => serviceOf(e) === primary || serviceOf(e) === canaryService)) return undefined;
  const weightOf = (s: string) => entries.filter((e) => serviceOf(e) === s).reduce((sum, e) => sum + (typeof e.weight === "number" ? e.weight : 0), 0);
  return relativeSplit(weightOf(primary), weightOf(canaryService));
}

export function createKumaRouter(deps: RouterDeps): Router {
  const { kube } = deps;
  const refOf = (canary: Canary): ObjectRef => ({ apiVersion: TRAFFIC_ROUTE.apiVersion, kind: TRAFFIC_ROUTE.kind, name: serviceNames(canary).apex });

  /** Made by aviary for a Canary (another namespace's) that no longer exists: nobody's, so this Canary's. */
  async function isOrphan(existing: KubeObject | null, canary: Canary, signal: AbortSignal): Promise<boolean> {
    const labels = existing?.metadata.labels ?? {};
    const [ns, name] = [labels[LABEL_CANARY_NAMESPACE], labels[LABEL_CANARY]];
    if (existing === null || labels[LABEL_MANAGED_BY] !== MANAGED_BY_VALUE || ns === undefined || name === undefined || createdFor(existing, canary)) return false;
    return (await kube.get({ apiVersion: API_VERSION, kind: KIND_CANARY, namespace: ns, name }, { signal })) === null;
  }

  async function write(canary: Canary, routes: Split, existing: KubeObject | null, signal: AbortSignal): Promise<boolean> {
    const { name } = refOf(canary);
    const owner = (await isOrphan(existing, canary, signal)) ? null : existing;
    const desired = { ...desiredRouteObject(TRAFFIC_ROUTE, canary, name, { ...buildTrafficRouteSpec(canary, routes) }, owner), mesh: kumaMesh(canary) };
    if (!(await writeRouteObject(kube, TRAFFIC_ROUTE, existing, desired, signal))) return false;
    deps.logger.info("TrafficRoute written", { namespace: canary.metadata.namespace, name: canary.metadata.name, trafficRoute: name, mesh: desired.mesh, primary: routes.primary, canary: routes.canary, created: existing === null });
    return true;
  }

  return {
    name: "kuma",
    supports: capabilitiesOf("kuma"),

    async reconcile(canary, signal, split): Promise<ReconcileResult> {
      const { existing, found, current } = await currentSplit(kube, TRAFFIC_ROUTE, refOf(canary), canary, readTrafficRoute, signal, split);
      return reconciled(await write(canary, current, existing, signal), split, found);
    },

    async setRoutes(canary, routes, signal): Promise<void> {
      const existing = await getRouteObject(kube, TRAFFIC_ROUTE, refOf(canary), signal);
      await write(canary, routes, existing, signal);
    },

    async getRoutes(canary, signal): Promise<Split> {
      return storedSplit(kube, TRAFFIC_ROUTE, refOf(canary), canary, readTrafficRoute, signal, "splits to neither");
    },

    async finalize(canary, signal): Promise<void> {
      const outcome = await releaseRouteObject(kube, TRAFFIC_ROUTE, canary, refOf(canary).name, signal);
      deps.logger.info("TrafficRoute finalized", { namespace: canary.metadata.namespace, name: canary.metadata.name, outcome });
    },
  };
}
