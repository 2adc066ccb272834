/**
 * The `gloo` router (Gloo Edge): two Upstreams (`gloo.solo.io/v1`) that aviary writes,
 * `<namespace>-<svc>-primaryupstream-<port>` and `<namespace>-<svc>-canaryupstream-<port>`,
 * each a Kubernetes upstream on the generated Service of its arm, and a RouteTable `<svc>`
 * (`gateway.solo.io/v1`) whose one route sends traffic to both with the split as weights.
 * Your VirtualService delegates to the RouteTable (`delegateAction.ref`), as with Flagger;
 * the route inherits the path it was delegated. aviary writes its own Upstreams, so Gloo's
 * upstream discovery may stay off.
 *
 * `spec.upstreamRef` names an Upstream of yours (in the Canary's namespace unless it says
 * otherwise) whose connection settings both generated Upstreams copy: TLS, circuit
 * breakers, connection and load-balancer settings, HTTP/2 and its window sizes, and the
 * HTTP proxy host name.
 *
 * Weights only: no header matching, mirroring or session affinity here.
 */
import { capabilitiesOf } from "../api/features.ts";
import type { Canary } from "../api/types.ts";
import { serviceNames } from "../ground/identity.ts";
import type { Split } from "../ground/split.ts";
import type { KubeClient, KubeObject, ObjectRef } from "../kube/types.ts";
import {
  currentSplit, desiredRouteObject, getRouteObject, percentWeight, reconciled, relativeSplit, releaseRouteObject, storedSplit, writeRouteObject,
} from "./route-objects.ts";
import type { RouteKind } from "./route-objects.ts";
import { RouterSpecError, RouteStateError } from "./types.ts";
import type { ReconcileResult, Router, RouterDeps } from "./types.ts";

export const GLOO_API_VERSION = "gloo.solo.io/v1";
export const GLOO_GATEWAY_API_VERSION = "gateway.solo.io/v1";

/** The Upstream settings copied from `spec.upstreamRef`: Flagger's list, in Gloo's field names. */
export const COPIED_UPSTREAM_FIELDS = [
  "sslConfig", "circuitBreakers", "connectionConfig", "loadBalancerConfig", "useHttp2",
  "initialStreamWindowSize", "initialConnectionWindowSize", "httpProxyHostname",
] as const;

const UPSTREAM: RouteKind = { apiVersion: GLOO_API_VERSION, kind: "Upstream", plural: "upstreams", specFields: ["kube", ...COPIED_UPSTREAM_FIELDS] };
// aviary owns the whole route list: another route beside its own would take traffic around the split.
const ROUTE_TABLE: RouteKind = { apiVersion: GLOO_GATEWAY_API_VERSION, kind: "RouteTable", plural: "routetables", specFields: ["routes"] };

export interface GlooUpstreamNames {
  primary: string;
  canary: string;
}

/** `<namespace>-<svc>-primaryupstream-<port>` and `…-canaryupstream-<port>`, Flagger's names. */
export function glooUpstreamNames(canary: Canary): GlooUpstreamNames {
  const ns = canary.metadata.namespace ?? "default";
  const { apex } = serviceNames(canary);
  const port = canary.spec.service.port;
  return { primary: `${ns}-${apex}-primaryupstream-${port}`, canary: `${ns}-${apex}-canaryupstream-${port}` };
}

/** The spec of the Upstream on one arm's Service, with the settings copied from `config` (the upstreamRef's spec). Pure. */
export function buildUpstreamSpec(canary: Canary, serviceName: string, config: Record<string, unknown> | undefined): Record<string, unknown> {
  const spec: Record<string, unknown> = {};
  for (const f of COPIED_UPSTREAM_FIELDS) if (config?.[f] !== undefined && config[f] !== null) spec[f] = config[f];
  spec.kube = { serviceName, serviceNamespace: canary.metadata.namespace ?? "default", servicePort: canary.spec.service.port };
  return spec;
}

interface WeightedDestination {
  destination: { upstream: { name: string; namespace: string } };
  weight: number;
}

export interface RouteTableSpec {
  routes: { inheritablePathMatchers: boolean; routeAction: { multi: { destinations: WeightedDestination[] } } }[];
}

/** The RouteTable spec for a split. Pure. */
export function buildRouteTableSpec(canary: Canary, split: Split): RouteTableSpec {
  if (split.mirror === true) throw new RouterSpecError("spec.analysis.mirror", "a Gloo RouteTable route cannot mirror traffic to a weighted destination");
  const names = glooUpstreamNames(canary);
  const namespace = canary.metadata.namespace ?? "default";
  const to = (name: string, weight: number): WeightedDestination => ({ destination: { upstream: { name, namespace } }, weight });
  return {
    routes: [{
      inheritablePathMatchers: true,
      routeAction: { multi: { destinations: [to(names.primary, percentWeight(split.primary, "primary")), to(names.canary, percentWeight(split.canary, "canary"))] } },
    }],
  };
}

/** The split the first route's destinations carry (relative weights, absent is 0); undefined when it names neither Upstream. */
export function readRouteTable(spec: unknown, canary: Canary): Split | undefined {
  const names = glooUpstreamNames(canary);
  type Stored = { routes?: { routeAction?: { multi?: { destinations?: { destination?: { upstream?: { name?: string } }; weight?: number }[] } } }[] };
  const destinations = (spec as Stored | undefined)?.routes?.[0]?.routeAction?.multi?.destinations ?? [];
  const nameOf = (d: (typeof destinations)[number]) => d.destination?.upstream?.name;
  if (!destinations.some((d) => nameOf(d) === names.primary || nameOf(d) === names.canary)) return undefined;
  const weightOf = (name: string) => destinations.filter((d) => nameOf(d) === name).reduce((sum, d) => sum + (typeof d.weight === "number" ? d.weight : 0), 0);
  return relativeSplit(weightOf(names.primary), weightOf(names.canary));
}

/** The spec of the Upstream `spec.upstreamRef` names, or undefined without one; RouteStateError when it does not exist. */
async function configUpstream(kube: KubeClient, canary: Canary, signal: AbortSignal): Promise<Record<string, unknown> | undefined> {
  const ref = canary.spec.upstreamRef;
  if (ref === undefined || ref.name === "") return undefined;
  const where: ObjectRef = { apiVersion: GLOO_API_VERSION, kind: "Upstream", namespace: ref.namespace || canary.metadata.namespace!, name: ref.name };
  const found = await getRouteObject(kube, UPSTREAM, where, signal);
  if (found === null) throw new RouteStateError(`Upstream ${where.namespace}/${where.name} named by spec.upstreamRef does not exist`);
  return (found.spec ?? {}) as Record<string, unknown>;
}

export function createGlooRouter(deps: RouterDeps): Router {
  const { kube } = deps;
  const ref = (k: RouteKind, canary: Canary, name: string): ObjectRef => ({ apiVersion: k.apiVersion, kind: k.kind, namespace: canary.metadata.namespace!, name });
  const tableRef = (canary: Canary) => ref(ROUTE_TABLE, canary, serviceNames(canary).apex);

  /** Both Upstreams; true when either was written. */
  async function writeUpstreams(canary: Canary, signal: AbortSignal): Promise<boolean> {
    const config = await configUpstream(kube, canary, signal);
    const upstreams = glooUpstreamNames(canary);
    const services = serviceNames(canary);
    let changed = false;
    for (const [name, service] of [[upstreams.primary, services.primary], [upstreams.canary, services.canary]] as const) {
      const existing = await getRouteObject(kube, UPSTREAM, ref(UPSTREAM, canary, name), signal);
      const desired = desiredRouteObject(UPSTREAM, canary, name, buildUpstreamSpec(canary, service, config), existing);
      if (await writeRouteObject(kube, UPSTREAM, existing, desired, signal)) {
        changed = true;
        deps.logger.info("Upstream written", { namespace: canary.metadata.namespace, name: canary.metadata.name, upstream: name, created: existing === null });
      }
    }
    return changed;
  }

  async function writeTable(canary: Canary, routes: Split, existing: KubeObject | null, signal: AbortSignal): Promise<boolean> {
    const { name } = tableRef(canary);
    const desired = desiredRouteObject(ROUTE_TABLE, canary, name, { ...buildRouteTableSpec(canary, routes) }, existing);
    if (!(await writeRouteObject(kube, ROUTE_TABLE, existing, desired, signal))) return false;
    deps.logger.info("RouteTable written", { namespace: canary.metadata.namespace, name: canary.metadata.name, routeTable: name, primary: routes.primary, canary: routes.canary, created: existing === null });
    return true;
  }

  return {
    name: "gloo",
    supports: capabilitiesOf("gloo"),

    async reconcile(canary, signal, split): Promise<ReconcileResult> {
      const upstreamsChanged = await writeUpstreams(canary, signal);
      const { existing, found, current } = await currentSplit(kube, ROUTE_TABLE, tableRef(canary), canary, readRouteTable, signal, split);
      const tableChanged = await writeTable(canary, current, existing, signal);
      return reconciled(upstreamsChanged || tableChanged, split, found);
    },

    async setRoutes(canary, routes, signal): Promise<void> {
      const existing = await getRouteObject(kube, ROUTE_TABLE, tableRef(canary), signal);
      await writeTable(canary, routes, existing, signal);
    },

    async getRoutes(canary, signal): Promise<Split> {
      return storedSplit(kube, ROUTE_TABLE, tableRef(canary), canary, readRouteTable, signal, "routes to neither");
    },

    async finalize(canary, signal): Promise<void> {
      const upstreams = glooUpstreamNames(canary);
      const table = await releaseRouteObject(kube, ROUTE_TABLE, canary, tableRef(canary).name, signal);
      const primary = await releaseRouteObject(kube, UPSTREAM, canary, upstreams.primary, signal);
      const canaryUpstream = await releaseRouteObject(kube, UPSTREAM, canary, upstreams.canary, signal);
      deps.logger.info("RouteTable and Upstreams finalized", { namespace: canary.metadata.namespace, name: canary.metadata.name, routeTable: table, primary, canary: canaryUpstream });
    },
  };
}
