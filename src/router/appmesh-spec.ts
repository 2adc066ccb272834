/**
 * The App Mesh (appmesh.k8s.aws/v1beta2) specs aviary wants for a Canary, and the weights
 * read back from a VirtualRouter. Pure. Field shapes follow the v1beta2 CRDs of the
 * aws/eks-charts appmesh-controller chart; request matching lives in appmesh-match.ts.
 *
 * Two fields are never written: `meshRef`, which the App Mesh admission webhook fills in
 * from the Mesh whose namespaceSelector matches (clients may not set it), and `awsName`,
 * whose CRD default (`<name>_<namespace>`, and `<name>.<namespace>` for a VirtualService)
 * is the name aviary wants anyway and which App Mesh treats as immutable. `service.meshName`
 * therefore selects nothing in v1beta2 (Flagger's v1beta2 router ignores it as well): the
 * namespace's labels decide the mesh.
 */
import type { Canary, HTTPMatchRequest } from "../api/types.ts";
import { tryParseDuration } from "../api/duration.ts";
import { serviceNames } from "../ground/identity.ts";
import { grpcRouteMatch, httpRouteMatch, mergeHttpMatch } from "./appmesh-match.ts";
import type { GrpcRouteMatch, HttpRouteMatch } from "./appmesh-match.ts";
import { RouterSpecError } from "./types.ts";
import type { Split } from "../ground/split.ts";

export const APPMESH_GROUP = "appmesh.k8s.aws";

export const APPMESH_PROTOCOLS = ["http", "http2", "grpc", "tcp"] as const;
export type AppMeshProtocol = (typeof APPMESH_PROTOCOLS)[number];

export interface AppMeshDuration {
  unit: "s" | "ms";
  value: number;
}

export interface PortMapping {
  port: number;
  protocol: AppMeshProtocol;
}

export interface WeightedTarget {
  virtualNodeRef: { name: string };
  weight: number;
}

export interface RetryPolicy {
  maxRetries: number;
  perRetryTimeout: AppMeshDuration;
  httpRetryEvents?: string[];
  tcpRetryEvents?: string[];
  grpcRetryEvents?: string[];
}

interface RouteBody<M> {
  match: M;
  action: { weightedTargets: WeightedTarget[] };
  retryPolicy?: RetryPolicy;
  timeout?: { perRequest: AppMeshDuration };
}

export interface AppMeshRoute {
  name: string;
  priority?: number;
  httpRoute?: RouteBody<HttpRouteMatch>;
  http2Route?: RouteBody<HttpRouteMatch>;
  grpcRoute?: RouteBody<GrpcRouteMatch>;
  tcpRoute?: { action: { weightedTargets: WeightedTarget[] } };
}

export interface VirtualRouterSpec {
  listeners: { portMapping: PortMapping }[];
  routes: AppMeshRoute[];
}

export type VirtualServiceBackend =
  | { virtualService: { virtualServiceRef: { name: string } } }
  | { virtualService: { virtualServiceARN: string } };

export interface VirtualNodeSpec {
  podSelector: { matchLabels: Record<string, string> };
  listeners: { portMapping: PortMapping; timeout?: Partial<Record<"http" | "http2" | "grpc", { perRequest: AppMeshDuration }>> }[];
  serviceDiscovery: { dns: { hostname: string } };
  backends?: VirtualServiceBackend[];
}

export interface VirtualServiceSpec {
  provider: { virtualRouter: { virtualRouterRef: { name: string } } };
}

/** What each object kind owns in its spec (compared, restored and taken over). */
export const VIRTUAL_NODE_FIELDS = ["podSelector", "listeners", "serviceDiscovery", "backends"] as const;
export const VIRTUAL_ROUTER_FIELDS = ["listeners", "routes"] as const;
export const VIRTUAL_SERVICE_FIELDS = ["provider"] as const;

/** `service.appProtocol` values App Mesh can express (Kubernetes' h2c spelling included). */
const APP_PROTOCOLS: Readonly<Record<string, AppMeshProtocol>> = {
  http: "http", http2: "http2", "kubernetes.io/h2c": "http2", grpc: "grpc", tcp: "tcp",
};

/**
 * The listener protocol: `service.appProtocol` when set, else the port name's protocol
 * prefix (`grpc`, `http2`, `tcp`, as in `grpc-api`), else http. An appProtocol App Mesh
 * cannot express is an error rather than silently becoming http.
 */
export function appMeshProtocol(canary: Canary): AppMeshProtocol {
  const svc = canary.spec.service;
  if (svc.appProtocol) {
    const p = APP_PROTOCOLS[svc.appProtocol.toLowerCase()];
    if (p === undefined) throw new RouterSpecError("spec.service.appProtocol", `"${svc.appProtocol}" has no App Mesh listener protocol; use one of ${Object.keys(APP_PROTOCOLS).join(", ")}`);
    return p;
  }
  const prefix = (svc.portName ?? "").toLowerCase().split("-")[0];
  return prefix === "grpc" || prefix === "http2" || prefix === "tcp" ? prefix : "http";
}

/** A duration as App Mesh writes it: whole seconds in `s`, anything finer in `ms`. */
export function appMeshDuration(input: string, field: string): AppMeshDuration {
  const parsed = tryParseDuration(input);
  if (!parsed.ok) throw new RouterSpecError(field, parsed.error);
  if (!Number.isInteger(parsed.ms)) throw new RouterSpecError(field, `"${input}" is finer than the millisecond App Mesh durations count in`);
  return parsed.ms % 1000 === 0 ? { unit: "s", value: parsed.ms / 1000 } : { unit: "ms", value: parsed.ms };
}

/** Istio/Envoy `retryOn` conditions and App Mesh's own event names → App Mesh retry events. */
const RETRY_EVENTS: Readonly<Record<string, ["httpRetryEvents" | "tcpRetryEvents" | "grpcRetryEvents", string]>> = {
  "5xx": ["httpRetryEvents", "server-error"],
  "server-error": ["httpRetryEvents", "server-error"],
  "gateway-error": ["httpRetryEvents", "gateway-error"],
  "retriable-4xx": ["httpRetryEvents", "client-error"],
  "client-error": ["httpRetryEvents", "client-error"],
  "refused-stream": ["httpRetryEvents", "stream-error"],
  "stream-error": ["httpRetryEvents", "stream-error"],
  "connect-failure": ["tcpRetryEvents", "connection-error"],
  reset: ["tcpRetryEvents", "connection-error"],
  "connection-error": ["tcpRetryEvents", "connection-error"],
  cancelled: ["grpcRetryEvents", "cancelled"],
  "deadline-exceeded": ["grpcRetryEvents", "deadline-exceeded"],
  internal: ["grpcRetryEvents", "internal"],
  "resource-exhausted": ["grpcRetryEvents", "resource-exhausted"],
  unavailable: ["grpcRetryEvents", "unavailable"],
};

/** Without `retryOn`: retry server and gateway errors and failed connections (and unavailable gRPC calls). */
const DEFAULT_RETRY_ON = ["server-error", "gateway-error", "connection-error"];
const DEFAULT_GRPC_RETRY_ON = [...DEFAULT_RETRY_ON, "unavailable"];
/** App Mesh's request timeout when none is configured; the per-try timeout defaults to it too. */
const DEFAULT_PER_TRY_TIMEOUT = "15s";

/**
 * `service.retries` as an App Mesh retry policy: attempts → maxRetries, perTryTimeout →
 * perRetryTimeout (default: `service.timeout`, else App Mesh's 15s), retryOn → events.
 */
export function retryPolicy(canary: Canary, protocol: AppMeshProtocol): RetryPolicy | undefined {
  const { retries, timeout } = canary.spec.service;
  if (retries === undefined) return undefined;
  if (protocol === "tcp") throw new RouterSpecError("spec.service.retries", "App Mesh TCP routes have no retry policy");
  if (retries.attempts === undefined) throw new RouterSpecError("spec.service.retries.attempts", "is required: App Mesh retry policies need maxRetries");
  const perTry = retries.perTryTimeout ?? timeout ?? DEFAULT_PER_TRY_TIMEOUT;
  const field = retries.perTryTimeout !== undefined ? "spec.service.retries.perTryTimeout" : "spec.service.timeout";
  const policy: RetryPolicy = { maxRetries: retries.attempts, perRetryTimeout: appMeshDuration(perTry, field) };
  const conditions = retries.retryOn !== undefined
    ? retries.retryOn.split(",").map((s) => s.trim().toLowerCase()).filter((s) => s !== "")
    : protocol === "grpc" ? DEFAULT_GRPC_RETRY_ON : DEFAULT_RETRY_ON;
  for (const condition of conditions) {
    const event = Object.hasOwn(RETRY_EVENTS, condition) ? RETRY_EVENTS[condition] : undefined;
    if (event === undefined) {
      throw new RouterSpecError("spec.service.retries.retryOn", `"${condition}" has no App Mesh retry event; use ${Object.keys(RETRY_EVENTS).join(", ")}`);
    }
    const [list, name] = event;
    if (list === "grpcRetryEvents" && protocol !== "grpc") {
      throw new RouterSpecError("spec.service.retries.retryOn", `"${condition}" is a gRPC retry event; the listener protocol is ${protocol}`);
    }
    const events = (policy[list] ??= []);
    if (!events.includes(name)) events.push(name);
  }
  if (policy.httpRetryEvents === undefined && policy.tcpRetryEvents === undefined && policy.grpcRetryEvents === undefined) {
    throw new RouterSpecError("spec.service.retries.retryOn", "names no retry condition");
  }
  return policy;
}

function requestTimeout(canary: Canary, protocol: AppMeshProtocol): AppMeshDuration | undefined {
  const { timeout } = canary.spec.service;
  if (timeout === undefined || timeout === "") return undefined;
  if (protocol === "tcp") throw new RouterSpecError("spec.service.timeout", "App Mesh TCP routes have no request timeout");
  return appMeshDuration(timeout, "spec.service.timeout");
}

/**
 * App Mesh virtual routers cannot rewrite requests (only gateway routes can). Flagger's
 * walkthrough still sets `rewrite.uri: /` next to `match.uri.prefix: /`, which changes
 * nothing and is accepted; any rewrite that would change a request is an error.
 */
function checkRewrite(canary: Canary): void {
  const { rewrite, match } = canary.spec.service;
  if (rewrite === undefined) return;
  if (rewrite.authority !== undefined) throw new RouterSpecError("spec.service.rewrite.authority", "App Mesh virtual routes cannot rewrite the authority");
  if (rewrite.uri === undefined) return;
  const prefixes = (match ?? []).length > 0 ? (match ?? []).map((m) => m.uri?.prefix) : ["/"];
  if (!prefixes.every((p) => p === rewrite.uri)) {
    throw new RouterSpecError("spec.service.rewrite.uri", "App Mesh virtual routes cannot rewrite paths; only a rewrite to the matched prefix itself (a no-op) is accepted");
  }
}

/** A split outside 0..100 is a bug in the caller, not a user error. */
const weight = (w: number, which: string): number => {
  if (!Number.isInteger(w) || w < 0 || w > 100) throw new RangeError(`${which} weight must be an integer from 0 to 100, got ${w}`);
  return w;
};

const listenerOf = (canary: Canary): { portMapping: PortMapping } => ({ portMapping: { port: canary.spec.service.port, protocol: appMeshProtocol(canary) } });

/**
 * A route per match for the given targets. For tcp, a single match-less route; for the
 * others, each match becomes its own route (an App Mesh route holds one match), ordered by
 * priority when there are several, in the order the Canary lists them.
 */
function routesFor(canary: Canary, protocol: AppMeshProtocol, named: { name: string; matches: HTTPMatchRequest[]; fields: string[]; targets: WeightedTarget[] }[]): AppMeshRoute[] {
  const retry = retryPolicy(canary, protocol);
  const timeout = requestTimeout(canary, protocol);
  const routes: AppMeshRoute[] = [];
  for (const group of named) {
    if (protocol === "tcp") {
      if (group.matches.length > 0) throw new RouterSpecError(group.fields[0] ?? "spec.service.match", "App Mesh TCP routes cannot match requests");
      routes.push({ name: group.name, tcpRoute: { action: { weightedTargets: structuredClone(group.targets) } } });
      continue;
    }
    const matches = group.matches.length > 0 ? group.matches : [{}];
    matches.forEach((m, i) => {
      const body = <M,>(match: M): RouteBody<M> => {
        const b: RouteBody<M> = { match, action: { weightedTargets: structuredClone(group.targets) } };
        if (retry !== undefined) b.retryPolicy = structuredClone(retry);
        if (timeout !== undefined) b.timeout = { perRequest: { ...timeout } };
        return b;
      };
      const route: AppMeshRoute = { name: i === 0 ? group.name : `${group.name}-${i + 1}` };
      const field = group.fields[i] ?? "spec.service.match";
      if (protocol === "grpc") route.grpcRoute = body(grpcRouteMatch(m, field));
      else if (protocol === "http2") route.http2Route = body(httpRouteMatch(m, field));
      else route.httpRoute = body(httpRouteMatch(m, field));
      routes.push(route);
    });
  }
  if (routes.length > 1) routes.forEach((r, i) => { r.priority = i + 1; });
  return routes;
}

const target = (name: string, w: number): WeightedTarget => ({ virtualNodeRef: { name }, weight: w });

/**
 * The VirtualRouter `<svc>`. Without `analysis.match`: the service-match routes carry the
 * split. With it (A/B): first the A/B routes (each analysis match combined with each
 * service match) carry the split, then the service-match routes send the rest to the
 * primary.
 */
export function buildVirtualRouterSpec(canary: Canary, request: Split): VirtualRouterSpec {
  if (request.mirror === true) throw new RouterSpecError("spec.analysis.mirror", "App Mesh cannot mirror traffic");
  checkRewrite(canary);
  const names = serviceNames(canary);
  const protocol = appMeshProtocol(canary);
  const split = [target(names.primary, weight(request.primary, "primary")), target(names.canary, weight(request.canary, "canary"))];
  const serviceMatches = canary.spec.service.match ?? [];
  const serviceFields = serviceMatches.map((_, i) => `spec.service.match[${i}]`);
  const abMatches = canary.spec.analysis?.match ?? [];
  if (abMatches.length === 0) {
    return { listeners: [listenerOf(canary)], routes: routesFor(canary, protocol, [{ name: names.apex, matches: serviceMatches, fields: serviceFields, targets: split }]) };
  }
  if (protocol === "tcp") throw new RouterSpecError("spec.analysis.match", "App Mesh TCP routes cannot match requests");
  // Checked on their own first, so that a bad service match is reported under its own field.
  serviceMatches.forEach((m, i) => (protocol === "grpc" ? grpcRouteMatch : httpRouteMatch)(m, serviceFields[i]!));
  const combined = abMatches.flatMap((a, i) =>
    (serviceMatches.length > 0 ? serviceMatches : [undefined]).map((s) => ({ match: s === undefined ? a : mergeHttpMatch(s, a), field: `spec.analysis.match[${i}]` })));
  return {
    listeners: [listenerOf(canary)],
    routes: routesFor(canary, protocol, [
      { name: `${names.apex}-ab`, matches: combined.map((c) => c.match), fields: combined.map((c) => c.field), targets: split },
      { name: names.apex, matches: serviceMatches, fields: serviceFields, targets: [target(names.primary, 100), target(names.canary, 0)] },
    ]),
  };
}

/** The VirtualRouter `<svc>-canary`: everything to the canary, so meshed load testers can reach it. */
export function buildCanaryVirtualRouterSpec(canary: Canary): VirtualRouterSpec {
  const names = serviceNames(canary);
  const protocol = appMeshProtocol(canary);
  const matches = canary.spec.service.match ?? [];
  return {
    listeners: [listenerOf(canary)],
    routes: routesFor(canary, protocol, [{ name: names.canary, matches, fields: matches.map((_, i) => `spec.service.match[${i}]`), targets: [target(names.canary, 100)] }]),
  };
}

/** `service.backends`: an ARN (`arn:aws…`) as virtualServiceARN, any other entry as a VirtualService in the Canary's namespace. */
export function virtualServiceBackends(canary: Canary): VirtualServiceBackend[] {
  return (canary.spec.service.backends ?? []).map((b, i) => {
    const name = b.trim();
    if (name === "") throw new RouterSpecError(`spec.service.backends[${i}]`, "is empty");
    return name.startsWith("arn:aws") ? { virtualService: { virtualServiceARN: name } } : { virtualService: { virtualServiceRef: { name } } };
  });
}

export interface VirtualNodeInput {
  /** The pod labels this node's pods carry (the generated Service's selector). */
  podLabels: Record<string, string>;
  /** The Service whose DNS name the node is discovered by. */
  serviceName: string;
  clusterDomain: string;
}

/** A VirtualNode for the primary's or the canary's pods, discovered by its generated Service's DNS name. */
export function buildVirtualNodeSpec(canary: Canary, input: VirtualNodeInput): VirtualNodeSpec {
  const protocol = appMeshProtocol(canary);
  const listener: VirtualNodeSpec["listeners"][number] = { portMapping: { port: canary.spec.service.port, protocol } };
  // App Mesh: a route timeout above the 15s default needs the listener timeout raised too.
  const timeout = requestTimeout(canary, protocol);
  if (timeout !== undefined && protocol !== "tcp") listener.timeout = { [protocol]: { perRequest: timeout } };
  const spec: VirtualNodeSpec = {
    podSelector: { matchLabels: { ...input.podLabels } },
    listeners: [listener],
    serviceDiscovery: { dns: { hostname: `${input.serviceName}.${canary.metadata.namespace}.svc.${input.clusterDomain}` } },
  };
  const backends = virtualServiceBackends(canary);
  if (backends.length > 0) spec.backends = backends;
  return spec;
}

export const buildVirtualServiceSpec = (routerName: string): VirtualServiceSpec => ({ provider: { virtualRouter: { virtualRouterRef: { name: routerName } } } });

interface StoredTarget { virtualNodeRef?: { name?: string }; weight?: number }
interface StoredRoute { [kind: string]: { action?: { weightedTargets?: StoredTarget[] } } | string | number | undefined }

/**
 * The split a VirtualRouter carries: the first route (in list order) whose weighted targets
 * name the primary or canary VirtualNode, as percentages. `undefined` when none does.
 */
export function readRoutes(spec: unknown, canary: Canary): Split | undefined {
  const names = serviceNames(canary);
  const routes = (spec as { routes?: StoredRoute[] } | undefined)?.routes ?? [];
  const targetsOf = (r: StoredRoute): StoredTarget[] => {
    for (const kind of ["httpRoute", "http2Route", "grpcRoute", "tcpRoute"]) {
      const body = r[kind];
      if (typeof body === "object" && body !== null) return body.action?.weightedTargets ?? [];
    }
    return [];
  };
  const ours = (t: StoredTarget) => t.virtualNodeRef?.name === names.primary || t.virtualNodeRef?.name === names.canary;
  const route = routes.find((r) => targetsOf(r).some(ours));
  if (route === undefined) return undefined;
  const weightOf = (name: string) => targetsOf(route).filter((t) => t.virtualNodeRef?.name === name).reduce((sum, t) => sum + (t.weight ?? 0), 0);
  const [p, c] = [weightOf(names.primary), weightOf(names.canary)];
  const total = p + c;
  const primary = total === 0 ? 0 : Math.round((100 * p) / total);
  return { primary, canary: total === 0 ? 0 : 100 - primary, mirror: false };
}
