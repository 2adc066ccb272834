/**
 * The `smi` router (SMI TrafficSplit, split.smi-spec.io v1alpha2 by default, v1alpha3 on
 * request); `linkerd` is the same router under Linkerd's name. One TrafficSplit `<svc>`
 * per Canary: `spec.service` is the apex Service clients call, and its two backends, the
 * `<svc>-primary` and `<svc>-canary` Services, carry integer weights (the source of truth
 * for the split). TrafficSplit has no header matching of its own and no mirroring, so this
 * router does weights only.
 */
import { capabilitiesOf } from "../api/features.ts";
import type { Canary } from "../api/types.ts";
import { serviceNames } from "../ground/identity.ts";
import type { KubeObject, ObjectRef } from "../kube/types.ts";
import { currentSplit, reconciled, desiredRouteObject, getRouteObject, releaseRouteObject, storedSplit, writeRouteObject } from "./route-objects.ts";
import type { RouteKind } from "./route-objects.ts";
import { RouterSpecError } from "./types.ts";
import type { ReconcileResult, Router, RouterDeps } from "./types.ts";
import type { Split } from "../ground/split.ts";

export const SMI_GROUP = "split.smi-spec.io";
export const SMI_API_VERSION = `${SMI_GROUP}/v1alpha2`;
/** The versions whose TrafficSplit has integer backend weights (v1alpha1 used quantities). */
export const SMI_VERSIONS = ["v1alpha2", "v1alpha3"] as const;

export interface SmiRouterOptions {
  /** The provider name it is registered under: `smi` (default) or `linkerd`. */
  name?: "smi" | "linkerd";
  /** Default `split.smi-spec.io/v1alpha2` (what Linkerd's SMI extension serves); v1alpha3 is accepted too. */
  apiVersion?: string;
}

export interface TrafficSplitSpec {
  service: string;
  backends: { service: string; weight: number }[];
}

/** A split outside 0..100 is a bug in the caller, not a user error. */
const weight = (w: number, which: string): number => {
  if (!Number.isInteger(w) || w < 0 || w > 100) throw new RangeError(`${which} weight must be an integer from 0 to 100, got ${w}`);
  return w;
};

/** The TrafficSplit spec for a split. Pure. */
export function buildTrafficSplitSpec(canary: Canary, request: Split): TrafficSplitSpec {
  if (request.mirror === true) throw new RouterSpecError("spec.analysis.mirror", "an SMI TrafficSplit cannot mirror traffic");
  const names = serviceNames(canary);
  return {
    service: names.apex,
    backends: [
      { service: names.primary, weight: weight(request.primary, "primary") },
      { service: names.canary, weight: weight(request.canary, "canary") },
    ],
  };
}

/**
 * The split a TrafficSplit carries, as percentages of the primary's and canary's backend
 * weights (SMI weights are relative). `undefined` when neither Service is a backend.
 */
export function readTrafficSplit(spec: unknown, canary: Canary): Split | undefined {
  const names = serviceNames(canary);
  const backends = (spec as { backends?: { service?: string; weight?: number }[] } | undefined)?.backends ?? [];
  if (!backends.some((b) => b.service === names.primary || b.service === names.canary)) return undefined;
  const weightOf = (name: string) => backends.filter((b) => b.service === name).reduce((sum, b) => sum + (typeof b.weight === "number" ? b.weight : 0), 0);
  const [p, c] = [weightOf(names.primary), weightOf(names.canary)];
  const total = p + c;
  const primary = total === 0 ? 0 : Math.round((100 * p) / total);
  return { primary, canary: total === 0 ? 0 : 100 - primary, mirror: false };
}

export function createSmiRouter(deps: RouterDeps, opts: SmiRouterOptions = {}): Router {
  const apiVersion = opts.apiVersion ?? SMI_API_VERSION;
  const version = apiVersion.split("/")[1] ?? "";
  if (!(SMI_VERSIONS as readonly string[]).includes(version)) {
    throw new TypeError(`TrafficSplit ${apiVersion} is not supported: its weights are not integers; use ${SMI_VERSIONS.map((v) => `${SMI_GROUP}/${v}`).join(" or ")}`);
  }
  const name = opts.name ?? "smi";
  // aviary never sets `matches` but owns it (an unexpected one is removed, a taken-over one
  // restored on finalize): a split restricted to some routes would leave the rest of the
  // traffic on the primary without anyone noticing.
  const kind: RouteKind = { apiVersion, kind: "TrafficSplit", plural: "trafficsplits", specFields: ["service", "backends", "matches"] };
  const { kube } = deps;

  const refOf = (canary: Canary): ObjectRef => ({ apiVersion, kind: kind.kind, namespace: canary.metadata.namespace!, name: serviceNames(canary).apex });

  async function write(canary: Canary, routes: Split, existing: KubeObject | null, signal: AbortSignal): Promise<boolean> {
    const ref = refOf(canary);
    const desired = desiredRouteObject(kind, canary, ref.name, { ...buildTrafficSplitSpec(canary, routes) }, existing);
    if (!(await writeRouteObject(kube, kind, existing, desired, signal))) return false;
    deps.logger.info("TrafficSplit written", {
      namespace: ref.namespace, name: canary.metadata.name, split: ref.name, primary: routes.primary, canary: routes.canary, created: existing === null,
    });
    return true;
  }

  return {
    name,
    supports: capabilitiesOf(name),

    async reconcile(canary, signal, split): Promise<ReconcileResult> {
      const { existing, found, current } = await currentSplit(kube, kind, refOf(canary), canary, readTrafficSplit, signal, split);
      return reconciled(await write(canary, current, existing, signal), split, found);
    },

    async setRoutes(canary, routes, signal): Promise<void> {
      const existing = await getRouteObject(kube, kind, refOf(canary), signal);
      await write(canary, routes, existing, signal);
    },

    async getRoutes(canary, signal): Promise<Split> {
      return storedSplit(kube, kind, refOf(canary), canary, readTrafficSplit, signal, "splits to neither");
    },

    async finalize(canary, signal): Promise<void> {
      const outcome = await releaseRouteObject(kube, kind, canary, refOf(canary).name, signal);
      deps.logger.info("TrafficSplit finalized", { namespace: canary.metadata.namespace, name: canary.metadata.name, outcome });
    },
  };
}
