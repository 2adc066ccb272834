/**
 * The `nginx` router (ingress-nginx canary annotations): a copy of the Ingress named by
 * `spec.ingressRef`, called `<ingress>-canary`, whose backends point at `<svc>-canary` and
 * whose annotations say how much traffic it gets (nginx-spec.ts builds it). The user's
 * Ingress is only read, never written: it keeps sending its traffic to the apex Service
 * `<svc>`, which selects the primary.
 */
import { capabilitiesOf } from "../api/features.ts";
import type { Canary } from "../api/types.ts";
import type { KubeObject, ObjectRef } from "../kube/types.ts";
import {
  DEFAULT_NGINX_ANNOTATION_PREFIX,
  buildCanaryIngressSpec,
  canaryAnnotations,
  canaryIngressName,
  copiedAnnotations,
  ingressRefName,
  isAbTesting,
  isManagedAnnotation,
  readIngressRoutes,
} from "./nginx-spec.ts";
import { createdFor, desiredRouteObject, isUpToDate, reconciled, releaseRouteObject } from "./route-objects.ts";
import { ALL_TO_PRIMARY } from "../ground/split.ts";
import type { RouteKind } from "./route-objects.ts";
import { RouteStateError, RouterSpecError } from "./types.ts";
import type { ReconcileResult, Router, RouterDeps } from "./types.ts";
import type { Split } from "../ground/split.ts";

export interface NginxRouterOptions {
  /** ingress-nginx's annotation prefix (its `--annotations-prefix`); default `nginx.ingress.kubernetes.io`. */
  annotationPrefix?: string;
}

const INGRESS: RouteKind = {
  apiVersion: "networking.k8s.io/v1",
  kind: "Ingress",
  plural: "ingresses",
  specFields: ["ingressClassName", "defaultBackend", "tls", "rules"],
};

export function createNginxRouter(deps: RouterDeps, opts: NginxRouterOptions = {}): Router {
  const prefix = opts.annotationPrefix ?? DEFAULT_NGINX_ANNOTATION_PREFIX;
  const { kube } = deps;

  const ingressRef = (canary: Canary, name: string): ObjectRef => ({ apiVersion: INGRESS.apiVersion, kind: INGRESS.kind, namespace: canary.metadata.namespace!, name });
  const canaryRef = (canary: Canary) => ingressRef(canary, canaryIngressName(ingressRefName(canary)));

  /** The managed annotations (ingress-nginx's and the class) of an object, which must equal the desired ones exactly. */
  const managed = (obj: KubeObject): Record<string, string> =>
    Object.fromEntries(Object.entries(obj.metadata.annotations ?? {}).filter(([k]) => isManagedAnnotation(k, prefix)));
  const sameManaged = (a: KubeObject, b: KubeObject): boolean => {
    const [x, y] = [managed(a), managed(b)];
    return Object.keys(x).length === Object.keys(y).length && Object.entries(y).every(([k, v]) => x[k] === v);
  };
  const upToDate = (existing: KubeObject, desired: KubeObject) => isUpToDate(INGRESS, existing, desired) && sameManaged(existing, desired);

  async function readSource(canary: Canary, signal: AbortSignal): Promise<KubeObject> {
    const ref = ingressRef(canary, ingressRefName(canary));
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
    const spec = buildCanaryIngressSpec(canary, source);
    const obj = desiredRouteObject(INGRESS, canary, canaryRef(canary).name, { ...spec }, existing);
    obj.metadata.annotations = {
      ...copiedAnnotations(source.metadata.annotations, prefix),
      ...(obj.metadata.annotations ?? {}),
      ...canaryAnnotations(canary, routes, prefix),
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
      const others = Object.entries(applied.metadata.annotations ?? {}).filter(([k]) => !isManagedAnnotation(k, prefix));
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

  return {
    name: "nginx",
    supports: capabilitiesOf("nginx"),

    async reconcile(canary, signal, split): Promise<ReconcileResult> {
      const existing = await readCanaryIngress(canary, signal);
      const found = (existing !== null ? readIngressRoutes(existing.metadata.annotations, prefix, isAbTesting(canary)) : undefined) ?? null;
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
      const routes = readIngressRoutes(existing.metadata.annotations, prefix, isAbTesting(canary));
      if (routes === undefined) throw new RouteStateError(`Ingress ${ref.namespace}/${ref.name} has no readable ${prefix}/canary and canary-weight annotations`);
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
