/**
 * The `appmesh` router (App Mesh, appmesh.k8s.aws/v1beta2). Per Canary it owns:
 * - VirtualNodes `<svc>-primary` and `<svc>-canary`, selecting the primary's and the
 *   canary's pods and discovered by the DNS names of the generated Services;
 * - the VirtualRouter `<svc>`, whose weighted targets carry the split (the source of truth
 *   for the weights), and the VirtualService `<svc>` (App Mesh name `<svc>.<namespace>`)
 *   provided by it;
 * - the VirtualRouter and VirtualService `<svc>-canary`, which send everything to the
 *   canary so that meshed clients (load testers, webhooks) can reach it by name.
 * The engine reconciles them before it creates the primary Deployment, so the App Mesh
 * sidecar injector finds the VirtualNode when the primary's pods start.
 */
import { capabilitiesOf } from "../api/features.ts";
import type { Canary } from "../api/types.ts";
import { PRIMARY_SUFFIX, selectorLabel, serviceNames } from "../ground/identity.ts";
import type { Deployment } from "../ground/workloads.ts";
import type { KubeObject, ObjectRef } from "../kube/types.ts";
import {
  APPMESH_GROUP, buildCanaryVirtualRouterSpec, buildVirtualNodeSpec, buildVirtualRouterSpec, buildVirtualServiceSpec, readRoutes,
  VIRTUAL_NODE_FIELDS, VIRTUAL_ROUTER_FIELDS, VIRTUAL_SERVICE_FIELDS,
} from "./appmesh-spec.ts";
import { currentSplit, reconciled, desiredRouteObject, getRouteObject, releaseRouteObject, storedSplit, writeRouteObject } from "./route-objects.ts";
import type { RouteKind } from "./route-objects.ts";
import { RouteStateError } from "./types.ts";
import type { ReconcileResult, Router, RouterDeps } from "./types.ts";
import type { Split } from "../ground/split.ts";

export const APPMESH_API_VERSION = `${APPMESH_GROUP}/v1beta2`;

export interface AppMeshRouterOptions {
  /** Default `appmesh.k8s.aws/v1beta2`. */
  apiVersion?: string;
  /** The cluster's DNS domain, for the VirtualNodes' service discovery; default `cluster.local`. */
  clusterDomain?: string;
}

/** One App Mesh object aviary wants, with its spec. */
interface Planned {
  kind: RouteKind;
  name: string;
  spec: Record<string, unknown>;
}

export function createAppMeshRouter(deps: RouterDeps, opts: AppMeshRouterOptions = {}): Router {
  const apiVersion = opts.apiVersion ?? APPMESH_API_VERSION;
  const clusterDomain = opts.clusterDomain ?? "cluster.local";
  const node: RouteKind = { apiVersion, kind: "VirtualNode", plural: "virtualnodes", specFields: VIRTUAL_NODE_FIELDS };
  const virtualRouter: RouteKind = { apiVersion, kind: "VirtualRouter", plural: "virtualrouters", specFields: VIRTUAL_ROUTER_FIELDS };
  const virtualService: RouteKind = { apiVersion, kind: "VirtualService", plural: "virtualservices", specFields: VIRTUAL_SERVICE_FIELDS };
  const { kube } = deps;

  const refOf = (k: RouteKind, canary: Canary, name: string): ObjectRef => ({ apiVersion: k.apiVersion, kind: k.kind, namespace: canary.metadata.namespace!, name });
  const splitRouterRef = (canary: Canary) => refOf(virtualRouter, canary, serviceNames(canary).apex);

  /**
   * The pod labels of the primary and of the canary, as the generated Services select
   * them: the target's selector label, suffixed `-primary` for the primary.
   */
  async function podLabels(canary: Canary, signal: AbortSignal): Promise<{ primary: Record<string, string>; canary: Record<string, string> }> {
    const t = canary.spec.targetRef;
    const ref: ObjectRef = { apiVersion: t.apiVersion ?? "apps/v1", kind: t.kind ?? "Deployment", namespace: canary.metadata.namespace!, name: t.name };
    const target = await kube.get<Deployment>(ref, { signal });
    if (target === null) throw new RouteStateError(`${ref.kind} ${ref.namespace}/${ref.name} does not exist; the App Mesh VirtualNodes select its pods`);
    const { key, value } = selectorLabel(target);
    return { primary: { [key]: value + PRIMARY_SUFFIX }, canary: { [key]: value } };
  }

  /** Every object for a split, in creation order: nodes, then routers, then the services they provide. */
  function plan(canary: Canary, routes: Split, labels: { primary: Record<string, string>; canary: Record<string, string> }): Planned[] {
    const names = serviceNames(canary);
    return [
      { kind: node, name: names.primary, spec: { ...buildVirtualNodeSpec(canary, { podLabels: labels.primary, serviceName: names.primary, clusterDomain }) } },
      { kind: node, name: names.canary, spec: { ...buildVirtualNodeSpec(canary, { podLabels: labels.canary, serviceName: names.canary, clusterDomain }) } },
      { kind: virtualRouter, name: names.apex, spec: { ...buildVirtualRouterSpec(canary, routes) } },
      { kind: virtualRouter, name: names.canary, spec: { ...buildCanaryVirtualRouterSpec(canary) } },
      { kind: virtualService, name: names.apex, spec: { ...buildVirtualServiceSpec(names.apex) } },
      { kind: virtualService, name: names.canary, spec: { ...buildVirtualServiceSpec(names.canary) } },
    ];
  }

  /** Applies one object unless the stored one already says exactly that. */
  async function write(canary: Canary, p: Planned, existing: KubeObject | null, signal: AbortSignal): Promise<boolean> {
    // JSON has no `undefined`: drop such keys so the comparison with the stored object is exact.
    const spec = JSON.parse(JSON.stringify(p.spec)) as Record<string, unknown>;
    const desired = desiredRouteObject(p.kind, canary, p.name, spec, existing);
    if (!(await writeRouteObject(kube, p.kind, existing, desired, signal))) return false;
    deps.logger.info(`App Mesh ${p.kind.kind} written`, {
      namespace: canary.metadata.namespace, name: canary.metadata.name, object: p.name, created: existing === null,
    });
    return true;
  }

  return {
    name: "appmesh",
    supports: capabilitiesOf("appmesh"),

    async reconcile(canary, signal, split): Promise<ReconcileResult> {
      // The VirtualRouter first: it carries the split, and a cluster without App Mesh is
      // reported by the name of the object that matters (virtualrouters.appmesh.k8s.aws).
      const { existing: splitRouter, found, current } = await currentSplit(kube, virtualRouter, splitRouterRef(canary), canary, readRoutes, signal, split);
      // Every spec is built before anything is written: a spec error leaves the mesh untouched.
      const planned = plan(canary, current, await podLabels(canary, signal));
      let changed = false;
      for (const p of planned) {
        const isSplitRouter = p.kind === virtualRouter && p.name === serviceNames(canary).apex;
        const existing = isSplitRouter ? splitRouter : await getRouteObject(kube, p.kind, refOf(p.kind, canary, p.name), signal);
        if (await write(canary, p, existing, signal)) changed = true;
      }
      return reconciled(changed, split, found);
    },

    async setRoutes(canary, routes, signal): Promise<void> {
      const names = serviceNames(canary);
      const spec = { ...buildVirtualRouterSpec(canary, routes) };
      const existing = await getRouteObject(kube, virtualRouter, splitRouterRef(canary), signal);
      if (await write(canary, { kind: virtualRouter, name: names.apex, spec }, existing, signal)) {
        deps.logger.info("App Mesh split set", { namespace: canary.metadata.namespace, name: canary.metadata.name, primary: routes.primary, canary: routes.canary });
      }
    },

    async getRoutes(canary, signal): Promise<Split> {
      return storedSplit(kube, virtualRouter, splitRouterRef(canary), canary, readRoutes, signal, "routes to neither VirtualNode");
    },

    /** In reverse creation order, so no VirtualService is left pointing at a deleted router. */
    async finalize(canary, signal): Promise<void> {
      const names = serviceNames(canary);
      const order: [RouteKind, string][] = [
        [virtualService, names.apex], [virtualService, names.canary],
        [virtualRouter, names.apex], [virtualRouter, names.canary],
        [node, names.primary], [node, names.canary],
      ];
      for (const [k, name] of order) {
        const outcome = await releaseRouteObject(kube, k, canary, name, signal);
        deps.logger.info(`App Mesh ${k.kind} finalized`, { namespace: canary.metadata.namespace, name: canary.metadata.name, object: name, outcome });
      }
    },
  };
}
