/**
 * The router shape shared by ingress controllers that take a canary as a second Ingress
 * (nginx, skipper): a copy of the Ingress named by `spec.ingressRef`, called
 * `<ingress>-canary` and owned by the Canary, whose backends and annotations say where its
 * traffic goes. The user's Ingress is only read, never written. Each controller supplies
 * the copy's spec, its annotations for a split, how to read the split back, and which
 * annotations it manages (those must equal the desired ones exactly; others are left alone).
 */
import { capabilitiesOf } from "../api/features.ts";
import type { RouterProvider } from "../api/providers.ts";
import type { Canary } from "../api/types.ts";
import type { KubeObject, ObjectRef } from "../kube/types.ts";
import { INGRESS, canaryIngressName, ingressRefName } from "./ingress-spec.ts";
import type { IngressSpec } from "./ingress-spec.ts";
import { createdFor, desiredRouteObject, isUpToDate, reconciled, releaseRouteObject } from "./route-objects.ts";
import { ALL_TO_PRIMARY } from "../ground/split.ts";
import type { Split } from "../ground/split.ts";
import { RouteStateError, RouterSpecError } from "./types.ts";
import type { ReconcileResult, Router, RouterDeps } from "./types.ts";

export interface CanaryIngressFlavour {
  provider: RouterProvider;
  /** Annotations the controller reads that aviary manages on the copy. */
  isManagedAnnotation(key: string): boolean;
  /** The copy's spec, from the user's Ingress; a RouterSpecError when it cannot carry the canary. */
  buildSpec(canary: Canary, source: KubeObject): IngressSpec;
  /** The user's annotations the copy carries (the controller's settings, the class). */
  copiedAnnotations(source: KubeObject): Record<string, string>;
  /** The annotations that route a split to the copy; they win over copied ones. */
  routeAnnotations(canary: Canary, source: KubeObject, routes: Split): Record<string, string>;
  /** The split the copy's annotations carry; undefined when unreadable. */
  readRoutes(canary: Canary, annotations: Record<string, string>): Split | undefined;
  /** What getRoutes says is missing when readRoutes finds nothing (`no readable … annotation`). */
  unreadable: string;
}

export function createCanaryIngressRouter(deps: RouterDeps, flavour: CanaryIngressFlavour): Router {
  const { kube } = deps;
  const { provider } = flavour;

  const ingressRef = (canary: Canary, name: string): ObjectRef => ({ apiVersion: INGRESS.apiVersion, kind: INGRESS.kind, namespace: canary.metadata.namespace!, name });
  const canaryRef = (canary: Canary) => ingressRef(canary, canaryIngressName(ingressRefName(canary, provider)));

  const managed = (obj: KubeObject): Record<string, string> =>
    Object.fromEntries(Object.entries(obj.metadata.annotations ?? {}).filter(([k]) => flavour.isManagedAnnotation(k)));
  const sameManaged = (a: KubeObject, b: KubeObject): boolean => {
    const [x, y] = [managed(a), managed(b)];
    return Object.keys(x).length === Object.keys(y).length && Object.entries(y).every(([k, v]) => x[k] === v);
  };
  const upToDate = (existing: KubeObject, desired: KubeObject) => isUpToDate(INGRESS, existing, desired) && sameManaged(existing, desired);

  async function readSource(canary: Canary, signal: AbortSignal): Promise<KubeObject> {
    const ref = ingressRef(canary, ingressRefName(canary, provider));
    const source = await kube.get(ref, { signal });
    if (source === null) throw new RouteStateError(`Ingress ${ref.namespace}/${ref.name} named by spec.ingressRef does not exist`);
    return source;
  }

  async function readCanaryIngress(canary: Canary, signal: AbortSignal): Promise<KubeObject | null> {
    const ref = canaryRef(canary);
    const existing = await kube.get(ref, { signal });
    // aviary never takes over an Ingress it did not make: it would have nothing to give back on finalize.
    if (existing !== null && !createdFor(existing, canary)) {
      throw new RouterSpecError("spec.ingressRef", `Ingress ${ref.namespace}/${ref.name} exists and was not made by aviary for Canary ${canary.metadata.name}; delete or rename it`);
    }
    return existing;
  }

  function desiredIngress(canary: Canary, source: KubeObject, routes: Split, existing: KubeObject | null): KubeObject {
    const spec = flavour.buildSpec(canary, source);
    const obj = desiredRouteObject(INGRESS, canary, canaryRef(canary).name, { ...spec }, existing);
    obj.metadata.annotations = {
      ...flavour.copiedAnnotations(source),
      ...(obj.metadata.annotations ?? {}),
      ...flavour.routeAnnotations(canary, source, routes),
    };
    return obj;
  }

  /**
   * Server-side apply; when the result still differs (an annotation or spec field someone
   * else added inside what aviary manages), a replace guarded by the resourceVersion sets
   * those exactly and leaves every other annotation alone.
   */
  async function write(canary: Canary, routes: Split, existing: KubeObject | null, signal: AbortSignal): Promise<boolean> {
    const source = await readSource(canary, signal);
    const desired = desiredIngress(canary, source, routes, existing);
    if (existing !== null && upToDate(existing, desired)) return false;
    const applied = await kube.apply(desired, { signal, force: true });
    if (!upToDate(applied, desired)) {
      const { managedFields: _managedFields, ...metadata } = applied.metadata;
      const others = Object.entries(applied.metadata.annotations ?? {}).filter(([k]) => !flavour.isManagedAnnotation(k));
      const spec = { ...((applied.spec ?? {}) as Record<string, unknown>) };
      for (const f of INGRESS.specFields) delete spec[f];
      await kube.replace({
        ...applied,
        metadata: { ...metadata, labels: { ...(metadata.labels ?? {}), ...(desired.metadata.labels ?? {}) }, annotations: { ...Object.fromEntries(others), ...desired.metadata.annotations } },
        spec: { ...spec, ...(desired.spec as Record<string, unknown>) },
      }, { signal });
    }
    deps.logger.info("canary Ingress written", {
      namespace: canary.metadata.namespace, name: canary.metadata.name, ingress: desired.metadata.name,
      primary: routes.primary, canary: routes.canary, created: existing === null,
    });
    return true;
  }

  const readRoutes = (canary: Canary, obj: KubeObject) => flavour.readRoutes(canary, obj.metadata.annotations ?? {});

  return {
    name: provider,
    supports: capabilitiesOf(provider),

    async reconcile(canary, signal, split): Promise<ReconcileResult> {
      const existing = await readCanaryIngress(canary, signal);
      const found = (existing !== null ? readRoutes(canary, existing) : undefined) ?? null;
      const current = split ?? found ?? { ...ALL_TO_PRIMARY };
      return reconciled(await write(canary, current, existing, signal), split, found);
    },

    async setRoutes(canary, routes, signal): Promise<void> {
      await write(canary, routes, await readCanaryIngress(canary, signal), signal);
    },

    async getRoutes(canary, signal): Promise<Split> {
      const ref = canaryRef(canary);
      const existing = await readCanaryIngress(canary, signal);
      if (existing === null) throw new RouteStateError(`Ingress ${ref.namespace}/${ref.name} does not exist`);
      const routes = readRoutes(canary, existing);
      if (routes === undefined) throw new RouteStateError(`Ingress ${ref.namespace}/${ref.name} has ${flavour.unreadable}`);
      return routes;
    },

    async finalize(canary, signal): Promise<void> {
      const name = canary.spec.ingressRef?.name;
      if (name === undefined || name === "") return;
      const outcome = await releaseRouteObject(kube, INGRESS, canary, canaryIngressName(name), signal);
      deps.logger.info("canary Ingress finalized", { namespace: canary.metadata.namespace, name: canary.metadata.name, outcome });
    },
  };
}
