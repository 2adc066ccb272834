/**
 * The `istio` router (networking.istio.io/v1): DestinationRules `<svc>-primary` and
 * `<svc>-canary`, and the VirtualService `<svc>` whose weighted HTTP route splits traffic
 * between them (istio-spec.ts builds the specs). aviary writes only the spec fields it
 * manages (VirtualService hosts/gateways/http, DestinationRule host/trafficPolicy) through
 * server-side apply, so what a user adds elsewhere (exportTo, tcp/tls routes, subsets,
 * labels, annotations) is kept.
 */
import { capabilitiesOf } from "../api/features.ts";
import type { Canary } from "../api/types.ts";
import { serviceNames } from "../ground/identity.ts";
import type { KubeObject, ObjectRef } from "../kube/types.ts";
import { ISTIO_GROUP, buildDestinationRuleSpec, buildVirtualServiceSpec, readVirtualServiceRoutes } from "./istio-spec.ts";
import { currentSplit, reconciled, desiredRouteObject, getRouteObject, releaseRouteObject, storedSplit, writeRouteObject } from "./route-objects.ts";
import type { RouteKind } from "./route-objects.ts";
import type { ReconcileResult, Router, RouterDeps } from "./types.ts";
import type { Split } from "../ground/split.ts";

export const ISTIO_API_VERSION = `${ISTIO_GROUP}/v1`;

export interface IstioRouterOptions {
  /** The apiVersion of VirtualService and DestinationRule; default `networking.istio.io/v1`. */
  apiVersion?: string;
}

export function createIstioRouter(deps: RouterDeps, opts: IstioRouterOptions = {}): Router {
  const apiVersion = opts.apiVersion ?? ISTIO_API_VERSION;
  const virtualService: RouteKind = { apiVersion, kind: "VirtualService", plural: "virtualservices", specFields: ["hosts", "gateways", "http"] };
  const destinationRule: RouteKind = { apiVersion, kind: "DestinationRule", plural: "destinationrules", specFields: ["host", "trafficPolicy"] };
  const { kube } = deps;

  const refOf = (k: RouteKind, canary: Canary, name: string): ObjectRef => ({
    apiVersion: k.apiVersion,
    kind: k.kind,
    namespace: canary.metadata.namespace!,
    name,
  });
  const vsRef = (canary: Canary) => refOf(virtualService, canary, serviceNames(canary).apex);
  const log = (message: string, canary: Canary, fields: Record<string, unknown>) =>
    deps.logger.info(message, { namespace: canary.metadata.namespace, name: canary.metadata.name, ...fields });

  async function writeDestinationRule(canary: Canary, host: string, signal: AbortSignal): Promise<boolean> {
    const ref = refOf(destinationRule, canary, host);
    const existing = await getRouteObject(kube, destinationRule, ref, signal);
    const desired = desiredRouteObject(destinationRule, canary, host, { ...buildDestinationRuleSpec(canary, host) }, existing);
    if (!(await writeRouteObject(kube, destinationRule, existing, desired, signal))) return false;
    log("DestinationRule written", canary, { destinationRule: host, created: existing === null });
    return true;
  }

  /** Applies the VirtualService for `routes` unless the stored one already says exactly that. */
  async function writeVirtualService(canary: Canary, routes: Split, existing: KubeObject | null, signal: AbortSignal): Promise<boolean> {
    const ref = vsRef(canary);
    const desired = desiredRouteObject(virtualService, canary, ref.name, { ...buildVirtualServiceSpec(canary, routes) }, existing);
    return writeDesiredVirtualService(canary, routes, existing, desired, signal);
  }

  async function writeDesiredVirtualService(canary: Canary, routes: Split, existing: KubeObject | null, desired: KubeObject, signal: AbortSignal): Promise<boolean> {
    const ref = vsRef(canary);
    if (!(await writeRouteObject(kube, virtualService, existing, desired, signal))) return false;
    log("VirtualService written", canary, {
      virtualService: ref.name, primary: routes.primary, canary: routes.canary, mirror: routes.mirror ?? false, created: existing === null,
    });
    return true;
  }

  return {
    name: "istio",
    supports: capabilitiesOf("istio"),

    async reconcile(canary, signal, split): Promise<ReconcileResult> {
      const names = serviceNames(canary);
      // The VirtualService is read first, so a missing Istio CRD is reported by the kind users know.
      const ref = vsRef(canary);
      const { existing, found, current } = await currentSplit(kube, virtualService, ref, canary, readVirtualServiceRoutes, signal, split);
      // Built before anything is written, so a Canary field Istio cannot take leaves no half-made routes.
      const desiredVs = desiredRouteObject(virtualService, canary, ref.name, { ...buildVirtualServiceSpec(canary, current) }, existing);
      const wrotePrimary = await writeDestinationRule(canary, names.primary, signal);
      const wroteCanary = await writeDestinationRule(canary, names.canary, signal);
      const wroteVs = await writeDesiredVirtualService(canary, current, existing, desiredVs, signal);
      return reconciled(wrotePrimary || wroteCanary || wroteVs, split, found);
    },

    async setRoutes(canary, routes, signal): Promise<void> {
      const existing = await getRouteObject(kube, virtualService, vsRef(canary), signal);
      await writeVirtualService(canary, routes, existing, signal);
    },

    async getRoutes(canary, signal): Promise<Split> {
      return storedSplit(kube, virtualService, vsRef(canary), canary, readVirtualServiceRoutes, signal);
    },

    async finalize(canary, signal): Promise<void> {
      const names = serviceNames(canary);
      const vs = await releaseRouteObject(kube, virtualService, canary, names.apex, signal);
      const primary = await releaseRouteObject(kube, destinationRule, canary, names.primary, signal);
      const canaryRule = await releaseRouteObject(kube, destinationRule, canary, names.canary, signal);
      log("Istio routes finalized", canary, { virtualService: vs, primaryDestinationRule: primary, canaryDestinationRule: canaryRule });
    },
  };
}
