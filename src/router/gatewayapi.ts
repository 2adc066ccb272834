/**
 * The `gatewayapi` router: one HTTPRoute `<svc>` (gateway.networking.k8s.io/v1) whose
 * weighted backendRefs point at `<svc>-primary` and `<svc>-canary`. The same object serves
 * Amazon VPC Lattice through its Gateway API controller.
 */
import { capabilitiesOf } from "../api/features.ts";
import type { Canary } from "../api/types.ts";
import { serviceNames } from "../ground/identity.ts";
import type { KubeObject, ObjectRef } from "../kube/types.ts";
import { buildHTTPRouteSpec, readRoutes, GATEWAY_GROUP } from "./gatewayapi-spec.ts";
import { currentSplit, reconciled, desiredRouteObject, getRouteObject, releaseRouteObject, storedSplit, writeRouteObject } from "./route-objects.ts";
import type { RouteKind } from "./route-objects.ts";
import type { ReconcileResult, Router, RouterDeps } from "./types.ts";
import type { Split } from "../ground/split.ts";

export const GATEWAY_API_VERSION = `${GATEWAY_GROUP}/v1`;
/** `gatewayapi:v1beta1`: the same HTTPRoute at the version older controllers serve. */
export const GATEWAY_API_V1BETA1 = `${GATEWAY_GROUP}/v1beta1`;

export interface GatewayApiRouterOptions {
  /** The HTTPRoute apiVersion; default `gateway.networking.k8s.io/v1` (v1beta1 has the same schema). */
  apiVersion?: string;
}

export function createGatewayApiRouter(deps: RouterDeps, opts: GatewayApiRouterOptions = {}): Router {
  const kind: RouteKind = {
    apiVersion: opts.apiVersion ?? GATEWAY_API_VERSION,
    kind: "HTTPRoute",
    plural: "httproutes",
    specFields: ["parentRefs", "hostnames", "rules"],
  };
  const { kube } = deps;

  const refOf = (canary: Canary): ObjectRef => ({
    apiVersion: kind.apiVersion,
    kind: kind.kind,
    namespace: canary.metadata.namespace!,
    name: serviceNames(canary).apex,
  });

  /** Applies the route for `routes` unless the stored one already says exactly that. */
  async function write(canary: Canary, routes: Split, existing: KubeObject | null, signal: AbortSignal): Promise<boolean> {
    const ref = refOf(canary);
    const desired = desiredRouteObject(kind, canary, ref.name, { ...buildHTTPRouteSpec(canary, routes) }, existing);
    if (!(await writeRouteObject(kube, kind, existing, desired, signal))) return false;
    deps.logger.info("HTTPRoute written", {
      namespace: ref.namespace, name: canary.metadata.name, route: ref.name,
      primary: routes.primary, canary: routes.canary, mirror: routes.mirror ?? false, created: existing === null,
    });
    return true;
  }

  return {
    name: "gatewayapi",
    supports: capabilitiesOf("gatewayapi"),

    async reconcile(canary, signal, split): Promise<ReconcileResult> {
      const { existing, found, current } = await currentSplit(kube, kind, refOf(canary), canary, readRoutes, signal, split);
      return reconciled(await write(canary, current, existing, signal), split, found);
    },

    async setRoutes(canary, routes, signal): Promise<void> {
      const existing = await getRouteObject(kube, kind, refOf(canary), signal);
      await write(canary, routes, existing, signal);
    },

    async getRoutes(canary, signal): Promise<Split> {
      return storedSplit(kube, kind, refOf(canary), canary, readRoutes, signal);
    },

    async finalize(canary, signal): Promise<void> {
      const outcome = await releaseRouteObject(kube, kind, canary, refOf(canary).name, signal);
      deps.logger.info("HTTPRoute finalized", { namespace: canary.metadata.namespace, name: canary.metadata.name, outcome });
    },
  };
}
