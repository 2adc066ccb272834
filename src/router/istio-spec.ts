/**
 * The Istio objects (networking.istio.io/v1) aviary wants for a Canary, and the split read
 * back from a VirtualService. Pure.
 *
 * - DestinationRules `<svc>-primary` and `<svc>-canary`: host = the generated Service,
 *   trafficPolicy from `service.trafficPolicy`.
 * - VirtualService `<svc>`: hosts = `service.hosts` plus `<svc>`; gateways (default `mesh`);
 *   neither with `service.delegation` (a delegate VirtualService);
 *   one weighted HTTP route with the service match, rewrite, retries, timeout, headers and
 *   CORS policy. A/B adds the analysis match to that route and a second route sending the
 *   rest to the primary. Mirroring sets `mirror`/`mirrorPercentage` on the weighted route.
 *   Session affinity puts a cookie route before it (see session-affinity.ts).
 *
 * The Istio v1 CRD has structural schemas without defaults: a field aviary does not know
 * would be pruned by the API server, and the stored object would never equal the desired
 * one. So Canary fields are checked against the CRD's field names, and unknown names are a
 * RouterSpecError naming the field instead of a write on every reconcile.
 */
import type { Canary, HTTPMatchRequest, HeaderOperations, StringMatch } from "../api/types.ts";
import { serviceNames } from "../ground/identity.ts";
import { SET_COOKIE_HEADER, primarySessionCookie, sessionCookie } from "./session-affinity.ts";
import { RouterSpecError } from "./types.ts";
import type { Split } from "../ground/split.ts";

export const ISTIO_GROUP = "networking.istio.io";

/** Route names, so the weighted route is found again whatever else the list holds. */
export const ROUTE_WEIGHTED = "aviary-weighted";
export const ROUTE_PRIMARY = "aviary-primary";
export const ROUTE_STICKY = "aviary-sticky";
export const ROUTE_STICKY_PRIMARY = "aviary-sticky-primary";

/** The gateway name Istio uses for sidecars; the default when `service.gateways` is empty. */
export const MESH_GATEWAY = "mesh";

export interface IstioStringMatch {
  exact?: string;
  prefix?: string;
  regex?: string;
}

export type IstioMatch = Record<string, unknown>;

export interface IstioDestination {
  host: string;
  port?: { number: number };
}

export interface IstioHeaders {
  request?: HeaderOperations;
  response?: HeaderOperations;
}

export interface IstioRouteDestination {
  destination: IstioDestination;
  weight: number;
  headers?: IstioHeaders;
}

export interface IstioHTTPRoute {
  name: string;
  match?: IstioMatch[];
  rewrite?: Record<string, unknown>;
  retries?: Record<string, unknown>;
  timeout?: string;
  headers?: IstioHeaders;
  corsPolicy?: Record<string, unknown>;
  route: IstioRouteDestination[];
  mirror?: IstioDestination;
  mirrorPercentage?: { value: number };
}

export interface VirtualServiceSpec {
  /** Absent on a delegate VirtualService (`service.delegation`). */
  hosts?: string[];
  gateways?: string[];
  http: IstioHTTPRoute[];
}

export interface DestinationRuleSpec {
  host: string;
  trafficPolicy?: Record<string, unknown>;
}

// Field names of the Istio v1 CRD (istio 1.2x), for the checks described above.
const MATCH_FIELDS = ["name", "uri", "scheme", "method", "authority", "headers", "port", "sourceLabels", "gateways", "queryParams", "ignoreUriCase", "withoutHeaders", "sourceNamespace", "statPrefix"];
const STRING_MATCH_FIELDS = ["uri", "scheme", "method", "authority"] as const;
const REWRITE_FIELDS = ["uri", "authority", "uriRegexRewrite"];
const RETRY_FIELDS = ["attempts", "perTryTimeout", "retryOn", "retryRemoteLocalities", "retryIgnorePreviousHosts", "backoff"];
const CORS_FIELDS = ["allowOrigin", "allowOrigins", "allowMethods", "allowHeaders", "exposeHeaders", "maxAge", "allowCredentials", "unmatchedPreflights"];
const TRAFFIC_POLICY_FIELDS = ["loadBalancer", "connectionPool", "outlierDetection", "tls", "portLevelSettings", "tunnel", "proxyProtocol", "retryBudget"];

const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

function checkFields(value: Record<string, unknown>, known: readonly string[], field: string, what: string): void {
  for (const key of Object.keys(value)) {
    if (value[key] !== undefined && !known.includes(key)) throw new RouterSpecError(`${field}.${key}`, `is not a field of an Istio ${what}`);
  }
}

/** Istio StringMatch has exact, prefix and regex (RE2, whole value); a suffix becomes a regex. */
function stringMatch(m: StringMatch, field: string): IstioStringMatch {
  if (m.exact !== undefined) return { exact: m.exact };
  if (m.prefix !== undefined) return { prefix: m.prefix };
  if (m.regex !== undefined) return { regex: m.regex };
  if (m.suffix !== undefined) return { regex: `.*${escapeRegex(m.suffix)}` };
  throw new RouterSpecError(field, "sets none of exact, prefix, suffix, regex");
}

/** Header names in Istio matches must be lowercase; HTTP header names are case-insensitive anyway. */
function stringMatchMap(map: Record<string, StringMatch>, field: string, lowercase: boolean): Record<string, IstioStringMatch> {
  return Object.fromEntries(Object.entries(map).map(([k, m]) => [lowercase ? k.toLowerCase() : k, stringMatch(m, `${field}.${k}`)]));
}

/** One Flagger/Istio HTTPMatchRequest in the v1 CRD's shape. */
export function translateIstioMatch(match: HTTPMatchRequest, field: string): IstioMatch {
  checkFields(match, MATCH_FIELDS, field, "HTTPMatchRequest");
  const out: IstioMatch = { ...match };
  for (const key of STRING_MATCH_FIELDS) {
    const m = match[key];
    if (m !== undefined) out[key] = stringMatch(m, `${field}.${key}`);
  }
  if (match.headers !== undefined) out.headers = stringMatchMap(match.headers, `${field}.headers`, true);
  if (match.withoutHeaders !== undefined) out.withoutHeaders = stringMatchMap(match.withoutHeaders, `${field}.withoutHeaders`, true);
  if (match.queryParams !== undefined) out.queryParams = stringMatchMap(match.queryParams, `${field}.queryParams`, false);
  return out;
}

/**
 * A/B matches: every analysis match combined with every service match (both must hold);
 * where both constrain the same field, the analysis match wins, header by header.
 */
export function mergeMatches(ab: IstioMatch[], service: IstioMatch[]): IstioMatch[] {
  if (service.length === 0) return ab.map((m) => structuredClone(m));
  const mergeMap = (a: unknown, s: unknown) => (a === undefined && s === undefined ? undefined : { ...(s as object | undefined), ...(a as object | undefined) });
  return ab.flatMap((a) =>
    service.map((s) => {
      const out: IstioMatch = structuredClone({ ...s, ...a });
      for (const key of ["headers", "withoutHeaders", "queryParams", "sourceLabels"]) {
        const merged = mergeMap(a[key], s[key]);
        if (merged !== undefined) out[key] = structuredClone(merged);
      }
      return out;
    }),
  );
}

function nonEmptyHeaderOps(ops: HeaderOperations | undefined): HeaderOperations | undefined {
  if (ops === undefined) return undefined;
  const out: HeaderOperations = {};
  if (Object.keys(ops.set ?? {}).length > 0) out.set = { ...ops.set };
  if (Object.keys(ops.add ?? {}).length > 0) out.add = { ...ops.add };
  if ((ops.remove ?? []).length > 0) out.remove = [...(ops.remove ?? [])];
  return Object.keys(out).length > 0 ? out : undefined;
}

type CommonRouteFields = Pick<IstioHTTPRoute, "rewrite" | "retries" | "timeout" | "headers" | "corsPolicy">;

/** The per-route settings from `service` that every route aviary writes carries. */
function commonRouteFields(canary: Canary): CommonRouteFields {
  const svc = canary.spec.service;
  const out: CommonRouteFields = {};
  if (svc.rewrite !== undefined) {
    checkFields(svc.rewrite, REWRITE_FIELDS, "spec.service.rewrite", "HTTPRewrite");
    out.rewrite = structuredClone(svc.rewrite);
  }
  if (svc.retries !== undefined) {
    checkFields(svc.retries, RETRY_FIELDS, "spec.service.retries", "HTTPRetry");
    out.retries = structuredClone(svc.retries);
  }
  if (svc.timeout) out.timeout = svc.timeout;
  const request = nonEmptyHeaderOps(svc.headers?.request);
  const response = nonEmptyHeaderOps(svc.headers?.response);
  if (request !== undefined || response !== undefined) out.headers = { ...(request && { request }), ...(response && { response }) };
  if (svc.corsPolicy !== undefined) {
    checkFields(svc.corsPolicy, CORS_FIELDS, "spec.service.corsPolicy", "CorsPolicy");
    out.corsPolicy = structuredClone(svc.corsPolicy);
  }
  return out;
}

/**
 * The destination for a generated Service. As in Flagger, the port is named only when
 * port discovery gives the Service several ports and the route serves an ingress gateway
 * (for mesh traffic the port the client called is kept).
 */
function destination(canary: Canary, host: string): IstioDestination {
  const svc = canary.spec.service;
  const gateways = svc.gateways ?? [];
  if (svc.portDiscovery === true && gateways.length > 0 && gateways[0] !== MESH_GATEWAY) return { host, port: { number: svc.port } };
  return { host };
}

const isPercent = (w: number): boolean => Number.isInteger(w) && w >= 0 && w <= 100;

/** A split outside 0..100 is a bug in the caller, not a user error. */
const weight = (w: number, which: string): number => {
  if (!isPercent(w)) throw new RangeError(`${which} weight must be an integer from 0 to 100, got ${w}`);
  return w;
};

export function virtualServiceHosts(canary: Canary): string[] {
  const apex = serviceNames(canary).apex;
  const hosts = [...(canary.spec.service.hosts ?? [])];
  return hosts.includes(apex) || hosts.includes("*") ? hosts : [...hosts, apex];
}

export function virtualServiceGateways(canary: Canary): string[] {
  const gateways = canary.spec.service.gateways ?? [];
  return gateways.length > 0 ? [...gateways] : [MESH_GATEWAY];
}

/** The full desired VirtualService spec for a split. */
export function buildVirtualServiceSpec(canary: Canary, request: Split): VirtualServiceSpec {
  const names = serviceNames(canary);
  const common = commonRouteFields(canary);
  const serviceMatch = (canary.spec.service.match ?? []).map((m, i) => translateIstioMatch(m, `spec.service.match[${i}]`));
  const dest = (host: string, w: number): IstioRouteDestination => ({ destination: destination(canary, host), weight: w });
  const route = (name: string, match: IstioMatch[], destinations: IstioRouteDestination[]): IstioHTTPRoute => ({
    name,
    ...(match.length > 0 && { match: structuredClone(match) }),
    ...structuredClone(common),
    route: destinations,
  });

  const canaryDest = dest(names.canary, weight(request.canary, "canary"));
  const weighted = route(ROUTE_WEIGHTED, serviceMatch, [dest(names.primary, weight(request.primary, "primary")), canaryDest]);
  if (request.mirror === true) {
    weighted.mirror = destination(canary, names.canary);
    const percent = canary.spec.analysis?.mirrorWeight;
    if (percent !== undefined && percent > 0) {
      if (!isPercent(percent)) throw new RouterSpecError("spec.analysis.mirrorWeight", `must be an integer from 0 to 100, got ${percent}`);
      weighted.mirrorPercentage = { value: percent };
    }
  }
  const http = [weighted];

  const abList = canary.spec.analysis?.match ?? [];
  if (abList.length > 0) {
    const ab = abList.map((m, i) => translateIstioMatch(m, `spec.analysis.match[${i}]`));
    weighted.match = mergeMatches(ab, serviceMatch);
    http.push(route(ROUTE_PRIMARY, serviceMatch, [dest(names.primary, 100)]));
  }

  // The primary's cookie route goes after the canary's: a user only ever gets one of the two.
  const primaryCookie = primarySessionCookie(canary);
  if (primaryCookie !== undefined) {
    const match = mergeMatches([{ headers: { cookie: { regex: primaryCookie.cookieHeaderRegex } } }], serviceMatch);
    const setCookie = (value: string) => ({ response: { add: { [SET_COOKIE_HEADER]: value } } });
    if (request.canary > 0) {
      weighted.route[0]!.headers = setCookie(primaryCookie.setCookie);
      http.unshift(route(ROUTE_STICKY_PRIMARY, match, [dest(names.primary, 100)]));
    } else {
      http.unshift(route(ROUTE_STICKY_PRIMARY, match, [{ ...dest(names.primary, 100), headers: setCookie(primaryCookie.expireCookie) }]));
    }
  }
  const cookie = sessionCookie(canary);
  if (cookie !== undefined) {
    const stickyMatch = mergeMatches([{ headers: { cookie: { regex: cookie.cookieHeaderRegex } } }], serviceMatch);
    if (request.canary > 0) {
      canaryDest.headers = { response: { add: { [SET_COOKIE_HEADER]: cookie.setCookie } } };
      http.unshift(route(ROUTE_STICKY, stickyMatch, [dest(names.canary, 100)]));
    } else {
      // The run is over (or not started): whoever still carries the cookie goes to the primary and loses it.
      const primaryDest = { ...dest(names.primary, 100), headers: { response: { add: { [SET_COOKIE_HEADER]: cookie.expireCookie } } } };
      http.unshift(route(ROUTE_STICKY, stickyMatch, [primaryDest]));
    }
  }

  // A delegate VirtualService (Flagger's `service.delegation`) has neither: the VirtualService
  // that delegates to it by name brings the hosts and gateways.
  const spec: VirtualServiceSpec = canary.spec.service.delegation === true ? { http } : { hosts: virtualServiceHosts(canary), gateways: virtualServiceGateways(canary), http };
  // JSON has no `undefined`: drop such keys so the comparison with the stored object is exact.
  return JSON.parse(JSON.stringify(spec)) as VirtualServiceSpec;
}

export function buildDestinationRuleSpec(canary: Canary, host: string): DestinationRuleSpec {
  const spec: DestinationRuleSpec = { host };
  const policy = canary.spec.service.trafficPolicy;
  if (policy !== undefined && Object.keys(policy).length > 0) {
    checkFields(policy, TRAFFIC_POLICY_FIELDS, "spec.service.trafficPolicy", "TrafficPolicy");
    spec.trafficPolicy = structuredClone(policy);
  }
  return JSON.parse(JSON.stringify(spec)) as DestinationRuleSpec;
}

interface StoredDestination { destination?: { host?: string }; weight?: number }
interface StoredRoute { name?: string; route?: StoredDestination[]; mirror?: { host?: string } }

/**
 * The split a VirtualService carries: the route aviary named as weighted, else (a route
 * written by someone else) the first one with both destinations, else the first with
 * either. A lone destination without a weight takes all the route's traffic, as in Istio.
 * `undefined` when no HTTP route sends traffic to the primary or canary Service.
 */
export function readVirtualServiceRoutes(spec: unknown, canary: Canary): Split | undefined {
  const names = serviceNames(canary);
  const http = (spec as { http?: StoredRoute[] } | undefined)?.http ?? [];
  const hosts = (r: StoredRoute) => (r.route ?? []).map((d) => d.destination?.host);
  const route =
    http.find((r) => r.name === ROUTE_WEIGHTED && hosts(r).includes(names.primary) && hosts(r).includes(names.canary)) ??
    http.find((r) => hosts(r).includes(names.primary) && hosts(r).includes(names.canary)) ??
    http.find((r) => hosts(r).includes(names.primary) || hosts(r).includes(names.canary));
  if (route === undefined) return undefined;
  const destinations = route.route ?? [];
  const weightOf = (d: StoredDestination) => d.weight ?? (destinations.length === 1 ? 100 : 0);
  const sum = (host: string) => destinations.filter((d) => d.destination?.host === host).reduce((acc, d) => acc + weightOf(d), 0);
  const [p, c] = [sum(names.primary), sum(names.canary)];
  const total = p + c;
  const primary = total === 0 ? 0 : Math.round((100 * p) / total);
  return { primary, canary: total === 0 ? 0 : 100 - primary, mirror: route.mirror?.host === names.canary };
}
