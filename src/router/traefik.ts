/**
 * The `traefik` router: one TraefikService `<svc>` (traefik.io/v1alpha1) of kind weighted
 * round robin over `<svc>-primary` and `<svc>-canary`; an IngressRoute of yours points at it
 * (`services: [{ name: <svc>, kind: TraefikService }]`). The canary Service is listed only
 * while it has weight, as Traefik expects of a weighted service.
 *
 * Weights only: no header matching, mirroring or session affinity here.
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

export const TRAEFIK_API_VERSION = "traefik.io/v1alpha1";

interface WeightedService {
  name: string;
  namespace: string;
  port: number;
  weight: number;
}

export interface TraefikServiceSpec {
  weighted: { services: WeightedService[] };
}

const integerWeight = (w: number, which: string): number => {
  if (!Number.isInteger(w) || w < 0 || w > 100) throw new RangeError(`${which} weight must be an integer from 0 to 100, got ${w}`);
  return w;
};

/** The TraefikService spec for a split. Pure. */
export function buildTraefikServiceSpec(canary: Canary, split: Split): TraefikServiceSpec {
  if (split.mirror === true) throw new RouterSpecError("spec.analysis.mirror", "a weighted TraefikService cannot mirror traffic");
  const names = serviceNames(canary);
  const namespace = canary.metadata.namespace ?? "default";
  const port = canary.spec.service.port;
  const services: WeightedService[] = [{ name: names.primary, namespace, port, weight: integerWeight(split.primary, "primary") }];
  const canaryWeight = integerWeight(split.canary, "canary");
  if (canaryWeight > 0) services.push({ name: names.canary, namespace, port, weight: canaryWeight });
  return { weighted: { services } };
}

/** The split the weighted services carry (relative weights, an absent canary is 0); undefined when neither Service is listed. */
export function readTraefikService(spec: unknown, canary: Canary): Split | undefined {
  const names = serviceNames(canary);
  const services = (spec as { weighted?: { services?: { name?: string; weight?: number }[] } } | undefined)?.weighted?.services ?? [];
  if (!services.some((s) => s.name === names.primary || s.name === names.canary)) return undefined;
  // Traefik counts a service without a weight as weight 1.
  const weightOf = (name: string) => services.filter((s) => s.name === name).reduce((sum, s) => sum + (typeof s.weight === "number" ? s.weight : 1), 0);
  const [p, c] = [weightOf(names.primary), weightOf(names.canary)];
  const total = p + c;
  const primary = total === 0 ? 0 : Math.round((100 * p) / total);
  return { primary, canary: total === 0 ? 0 : 100 - primary, mirror: false };
}

export function createTraefikRouter(deps: RouterDeps): Router {
  // aviary owns the other TraefikService kinds too: a `mirroring` or `failover` block beside
  // `weighted` would make the object invalid for Traefik or route around the split.
  const kind: RouteKind = { apiVersion: TRAEFIK_API_VERSION, kind: "TraefikService", plural: "traefikservices", specFields: ["weighted", "mirroring", "failover", "highestRandomWeight"] };
  const { kube } = deps;
  const refOf = (canary: Canary): ObjectRef => ({ apiVersion: kind.apiVersion, kind: kind.kind, namespace: canary.metadata.namespace!, name: serviceNames(canary).apex });

  async function write(canary: Canary, routes: Split, existing: KubeObject | null, signal: AbortSignal): Promise<boolean> {
    const ref = refOf(canary);
    const desired = desiredRouteObject(kind, canary, ref.name, { ...buildTraefikServiceSpec(canary, routes) }, existing);
    if (!(await writeRouteObject(kube, kind, existing, desired, signal))) return false;
    deps.logger.info("TraefikService written", { namespace: ref.namespace, name: canary.metadata.name, service: ref.name, primary: routes.primary, canary: routes.canary, created: existing === null });
    return true;
  }

  return {
    name: "traefik",
    supports: capabilitiesOf("traefik"),

    async reconcile(canary, signal, split): Promise<ReconcileResult> {
      const { existing, found, current } = await currentSplit(kube, kind, refOf(canary), canary, readTraefikService, signal, split);
      return reconciled(await write(canary, current, existing, signal), split, found);
    },

    async setRoutes(canary, routes, signal): Promise<void> {
      const existing = await getRouteObject(kube, kind, refOf(canary), signal);
      await write(canary, routes, existing, signal);
    },

    async getRoutes(canary, signal): Promise<Split> {
      return storedSplit(kube, kind, refOf(canary), canary, readTraefikService, signal, "weights neither");
    },

    async finalize(canary, signal): Promise<void> {
      const outcome = await releaseRouteObject(kube, kind, canary, refOf(canary).name, signal);
      deps.logger.info("TraefikService finalized", { namespace: canary.metadata.namespace, name: canary.metadata.name, outcome });
    },
  };
}
