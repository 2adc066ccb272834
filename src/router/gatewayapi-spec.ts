/**
 * The HTTPRoute (gateway.networking.k8s.io/v1) spec aviary wants for a Canary, and the
 * weights read back from one. Pure.
 *
 * Every field the API server would default (parentRef group/kind, backendRef group/kind,
 * match path and header type) is written out, so that the stored object equals the
 * desired one field for field and "nothing changed" is a plain deep comparison.
 * Checked against the v1 schema of gateway-api v1.4.0 (standard channel).
 */
import type { Canary, HTTPMatchRequest, HeaderOperations, StringMatch } from "../api/types.ts";
import { tryParseDuration } from "../api/duration.ts";
import { serviceNames } from "../ground/identity.ts";
import { SET_COOKIE_HEADER, primarySessionCookie, sessionCookie } from "./session-affinity.ts";
import { RouterSpecError } from "./types.ts";
import type { Split } from "../ground/split.ts";

export const GATEWAY_GROUP = "gateway.networking.k8s.io";

export interface ParentReference {
  group: string;
  kind: string;
  namespace?: string;
  name: string;
  sectionName?: string;
  port?: number;
}

export interface ValueMatch {
  type: "Exact" | "RegularExpression";
  name: string;
  value: string;
}

export interface HTTPRouteMatch {
  path: { type: "Exact" | "PathPrefix" | "RegularExpression"; value: string };
  headers?: ValueMatch[];
  queryParams?: ValueMatch[];
  method?: string;
}

export interface BackendRef {
  group: string;
  kind: string;
  name: string;
  port: number;
  weight: number;
  /** Only for session affinity: the Set-Cookie on responses of this backend. */
  filters?: HTTPRouteFilter[];
}

export interface HeaderModifier {
  set?: { name: string; value: string }[];
  add?: { name: string; value: string }[];
  remove?: string[];
}

export type PathModifier = { type: "ReplaceFullPath"; replaceFullPath: string } | { type: "ReplacePrefixMatch"; replacePrefixMatch: string };

export type HTTPRouteFilter =
  | { type: "RequestHeaderModifier"; requestHeaderModifier: HeaderModifier }
  | { type: "ResponseHeaderModifier"; responseHeaderModifier: HeaderModifier }
  | { type: "URLRewrite"; urlRewrite: { hostname?: string; path?: PathModifier } }
  | { type: "RequestMirror"; requestMirror: { backendRef: MirrorBackend; percent?: number } };

/** A mirror target: the canary Service, or a `service.mirror` backend (another namespace or kind). */
export interface MirrorBackend {
  group: string;
  kind: string;
  name: string;
  namespace?: string;
  port?: number;
}

export interface HTTPRouteRule {
  matches: HTTPRouteMatch[];
  filters?: HTTPRouteFilter[];
  backendRefs: BackendRef[];
  timeouts?: { request?: string; backendRequest?: string };
}

export interface HTTPRouteSpec {
  parentRefs?: ParentReference[];
  hostnames?: string[];
  rules: HTTPRouteRule[];
}

const DEFAULT_PATH = { type: "PathPrefix", value: "/" } as const;
const HTTP_METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"];
/** HTTPMatchRequest fields an HTTPRoute match has no equivalent for. */
const UNSUPPORTED_MATCH_FIELDS = ["scheme", "authority", "withoutHeaders", "port", "sourceLabels", "sourceNamespace", "gateways", "ignoreUriCase"];

const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Istio-style StringMatch → Gateway API value match; prefix/suffix become anchored regular expressions. */
function valueMatch(name: string, m: StringMatch, field: string): ValueMatch {
  if (m.exact !== undefined) return { type: "Exact", name, value: m.exact };
  if (m.regex !== undefined) return { type: "RegularExpression", name, value: m.regex };
  if (m.prefix !== undefined) return { type: "RegularExpression", name, value: `^${escapeRegex(m.prefix)}.*` };
  if (m.suffix !== undefined) return { type: "RegularExpression", name, value: `.*${escapeRegex(m.suffix)}$` };
  throw new RouterSpecError(field, "sets none of exact, prefix, suffix, regex");
}

/** Header names are case-insensitive; Flagger manifests spell the A/B cookie header `cookie`. */
const headerName = (name: string): string => (name.toLowerCase() === "cookie" ? "Cookie" : name);

function path(uri: StringMatch | undefined, field: string): HTTPRouteMatch["path"] {
  if (uri === undefined) return { ...DEFAULT_PATH };
  if (uri.prefix !== undefined) return { type: "PathPrefix", value: uri.prefix };
  if (uri.exact !== undefined) return { type: "Exact", value: uri.exact };
  if (uri.regex !== undefined) return { type: "RegularExpression", value: uri.regex };
  if (uri.suffix !== undefined) return { type: "RegularExpression", value: `.*${escapeRegex(uri.suffix)}$` };
  throw new RouterSpecError(`${field}.uri`, "sets none of exact, prefix, suffix, regex");
}

/** Translates one Flagger/Istio HTTPMatchRequest; fields with no HTTPRoute equivalent are an error, never dropped. */
export function translateMatch(match: HTTPMatchRequest, field: string): HTTPRouteMatch {
  for (const key of UNSUPPORTED_MATCH_FIELDS) {
    if (match[key] !== undefined) throw new RouterSpecError(`${field}.${key}`, "has no Gateway API HTTPRoute equivalent");
  }
  const out: HTTPRouteMatch = { path: path(match.uri, field) };
  const headers = Object.entries(match.headers ?? {}).map(([k, m]) => valueMatch(headerName(k), m, `${field}.headers.${k}`));
  if (headers.length > 0) out.headers = headers.sort((a, b) => a.name.localeCompare(b.name));
  const query = Object.entries(match.queryParams ?? {}).map(([k, m]) => valueMatch(k, m, `${field}.queryParams.${k}`));
  if (query.length > 0) out.queryParams = query.sort((a, b) => a.name.localeCompare(b.name));
  if (match.method !== undefined) {
    const method = match.method.exact?.toUpperCase();
    if (method === undefined || !HTTP_METHODS.includes(method)) {
      throw new RouterSpecError(`${field}.method`, `must be an exact match on one of ${HTTP_METHODS.join(", ")}`);
    }
    out.method = method;
  }
  return out;
}

const byName = (list: ValueMatch[] | undefined, extra: ValueMatch[] | undefined): ValueMatch[] | undefined => {
  if (list === undefined && extra === undefined) return undefined;
  const merged = new Map((list ?? []).map((m) => [m.name.toLowerCase(), m]));
  for (const m of extra ?? []) merged.set(m.name.toLowerCase(), m);
  return [...merged.values()].sort((a, b) => a.name.localeCompare(b.name));
};

/**
 * A/B matches: each analysis match combined with each service match (both must hold), the
 * analysis match winning where both constrain the same header, path or method.
 */
function abMatches(analysis: HTTPRouteMatch[], service: HTTPRouteMatch[], serviceHasMatch: boolean, analysisHasPath: boolean[]): HTTPRouteMatch[] {
  if (!serviceHasMatch) return analysis;
  return analysis.flatMap((a, i) =>
    service.map((s) => {
      const out: HTTPRouteMatch = { path: analysisHasPath[i] ? a.path : s.path };
      const headers = byName(s.headers, a.headers);
      if (headers !== undefined) out.headers = headers;
      const query = byName(s.queryParams, a.queryParams);
      if (query !== undefined) out.queryParams = query;
      const method = a.method ?? s.method;
      if (method !== undefined) out.method = method;
      return out;
    }),
  );
}

/**
 * `service.timeout` in the HTTPRoute duration syntax (`^([0-9]{1,5}(h|m|s|ms)){1,4}$`),
 * which has no fractions: whole seconds are written as h/m/s, anything else in ms.
 */
export function gatewayDuration(input: string, field: string): string {
  const parsed = tryParseDuration(input);
  if (!parsed.ok) throw new RouterSpecError(field, parsed.error);
  const ms = Math.round(parsed.ms);
  if (ms % 1000 !== 0) {
    if (ms > 99_999) throw new RouterSpecError(field, `"${input}" needs whole seconds above 99999ms in a Gateway API duration`);
    return `${ms}ms`;
  }
  const total = ms / 1000;
  const [h, m, s] = [Math.floor(total / 3600), Math.floor((total % 3600) / 60), total % 60];
  if (h > 99_999) throw new RouterSpecError(field, `"${input}" is too long for a Gateway API duration`);
  const out = `${h > 0 ? `${h}h` : ""}${m > 0 ? `${m}m` : ""}${s > 0 ? `${s}s` : ""}`;
  return out === "" ? "0s" : out;
}

function headerModifier(ops: HeaderOperations | undefined): HeaderModifier | undefined {
  if (ops === undefined) return undefined;
  const pairs = (r: Record<string, string> | undefined) =>
    Object.entries(r ?? {}).sort(([a], [b]) => a.localeCompare(b)).map(([name, value]) => ({ name, value }));
  const out: HeaderModifier = {};
  if (pairs(ops.set).length > 0) out.set = pairs(ops.set);
  if (pairs(ops.add).length > 0) out.add = pairs(ops.add);
  if ((ops.remove ?? []).length > 0) out.remove = [...(ops.remove ?? [])];
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * `service.rewrite` as a URLRewrite filter: `authority` → hostname, `uri` → the path, replacing
 * the whole path unless `type` is ReplacePrefixMatch (Flagger's reading of the same fields).
 */
function rewriteFilter(canary: Canary): HTTPRouteFilter | undefined {
  const rewrite = canary.spec.service.rewrite;
  if (rewrite === undefined) return undefined;
  const urlRewrite: Extract<HTTPRouteFilter, { type: "URLRewrite" }>["urlRewrite"] = {};
  if (typeof rewrite.authority === "string" && rewrite.authority !== "") urlRewrite.hostname = rewrite.authority;
  if (typeof rewrite.uri === "string" && rewrite.uri !== "") {
    urlRewrite.path = rewrite.type === "ReplacePrefixMatch"
      ? { type: "ReplacePrefixMatch", replacePrefixMatch: rewrite.uri }
      : { type: "ReplaceFullPath", replaceFullPath: rewrite.uri };
  }
  return Object.keys(urlRewrite).length > 0 ? { type: "URLRewrite", urlRewrite } : undefined;
}

/** `service.mirror`: each backend gets a copy of every request. */
function serviceMirrorFilters(canary: Canary): HTTPRouteFilter[] {
  return (canary.spec.service.mirror ?? []).map((m, i) => {
    const ref = m.backendRef;
    if (ref.port === undefined && (ref.kind ?? "Service") === "Service") throw new RouterSpecError(`spec.service.mirror[${i}].backendRef.port`, "is required for a Service backend");
    const backendRef: MirrorBackend = { group: ref.group ?? "", kind: ref.kind ?? "Service", name: ref.name };
    if (ref.port !== undefined) backendRef.port = ref.port;
    if (ref.namespace) backendRef.namespace = ref.namespace;
    return { type: "RequestMirror", requestMirror: { backendRef } };
  });
}

/** `service.headers`, `service.rewrite` and `service.mirror` as filters, applied to every rule. */
function headerFilters(canary: Canary): HTTPRouteFilter[] {
  const filters: HTTPRouteFilter[] = [];
  const rewrite = rewriteFilter(canary);
  if (rewrite !== undefined) filters.push(rewrite);
  filters.push(...serviceMirrorFilters(canary));
  const req = headerModifier(canary.spec.service.headers?.request);
  if (req !== undefined) filters.push({ type: "RequestHeaderModifier", requestHeaderModifier: req });
  const res = headerModifier(canary.spec.service.headers?.response);
  if (res !== undefined) filters.push({ type: "ResponseHeaderModifier", responseHeaderModifier: res });
  return filters;
}

const isPercent = (w: number): boolean => Number.isInteger(w) && w >= 0 && w <= 100;

/** A split outside 0..100 is a bug in the caller, not a user error. */
const weight = (w: number, which: string): number => {
  if (!isPercent(w)) throw new RangeError(`${which} weight must be an integer from 0 to 100, got ${w}`);
  return w;
};

/**
 * The full desired spec for a split. Without `analysis.match`: one rule with the service
 * matches and both weighted backends. With it (A/B): first a rule with the A/B matches and
 * the weighted backends (the split applies to matching requests), then the service-match
 * rule that sends everything else to the primary.
 */
export function buildHTTPRouteSpec(canary: Canary, request: Split): HTTPRouteSpec {
  const svc = canary.spec.service;
  const names = serviceNames(canary);
  const backend = (name: string, weight: number): BackendRef => ({ group: "", kind: "Service", name, port: svc.port, weight });
  const serviceMatchList = svc.match ?? [];
  const serviceMatches = serviceMatchList.length > 0 ? serviceMatchList.map((m, i) => translateMatch(m, `spec.service.match[${i}]`)) : [{ path: { ...DEFAULT_PATH } }];
  const timeouts = svc.timeout || svc.backendTimeout ? {
    ...(svc.timeout ? { request: gatewayDuration(svc.timeout, "spec.service.timeout") } : {}),
    ...(svc.backendTimeout ? { backendRequest: gatewayDuration(svc.backendTimeout, "spec.service.backendTimeout") } : {}),
  } : undefined;
  const common = headerFilters(canary);

  const weighted: HTTPRouteRule = {
    matches: serviceMatches,
    backendRefs: [backend(names.primary, weight(request.primary, "primary")), backend(names.canary, weight(request.canary, "canary"))],
  };
  const filters = [...common];
  if (request.mirror === true) {
    const mirror: Extract<HTTPRouteFilter, { type: "RequestMirror" }>["requestMirror"] = {
      backendRef: { group: "", kind: "Service", name: names.canary, port: svc.port },
    };
    const percent = canary.spec.analysis?.mirrorWeight;
    if (percent !== undefined && percent > 0) {
      if (!isPercent(percent)) throw new RouterSpecError("spec.analysis.mirrorWeight", `must be an integer from 0 to 100, got ${percent}`);
      mirror.percent = percent;
    }
    filters.push({ type: "RequestMirror", requestMirror: mirror });
  }
  if (filters.length > 0) weighted.filters = filters;
  if (timeouts) weighted.timeouts = { ...timeouts };

  const rules = [weighted];
  /** A rule with the service's filters and timeout (not the mirror, which only the weighted rule carries). */
  const plainRule = (matches: HTTPRouteMatch[], backendRefs: BackendRef[]): HTTPRouteRule => {
    const rule: HTTPRouteRule = { matches, backendRefs };
    if (common.length > 0) rule.filters = structuredClone(common);
    if (timeouts) rule.timeouts = { ...timeouts };
    return rule;
  };
  const abList = canary.spec.analysis?.match ?? [];
  if (abList.length > 0) {
    const ab = abList.map((m, i) => translateMatch(m, `spec.analysis.match[${i}]`));
    weighted.matches = abMatches(ab, serviceMatches, serviceMatchList.length > 0, abList.map((m) => m.uri !== undefined));
    rules.push(plainRule(serviceMatches, [backend(names.primary, 100)]));
  }

  // Session affinity: the canary's responses set a cookie, and a rule before the weighted one
  // sends requests carrying it to the canary. At 0% whoever still has it goes to the primary and loses it.
  const setCookie = (value: string): HTTPRouteFilter[] => [
    { type: "ResponseHeaderModifier", responseHeaderModifier: { add: [{ name: SET_COOKIE_HEADER, value }] } },
  ];
  const stickyMatchesFor = (regex: string) =>
    abMatches([{ path: { ...DEFAULT_PATH }, headers: [{ type: "RegularExpression", name: "Cookie", value: regex }] }], serviceMatches, serviceMatchList.length > 0, [false]);
  // primaryCookieName: the primary's side of the weighted rule sets its own cookie, and its carriers stay on the primary.
  const primaryCookie = primarySessionCookie(canary);
  if (primaryCookie !== undefined) {
    const stickyMatches = stickyMatchesFor(primaryCookie.cookieHeaderRegex);
    if (request.canary > 0) {
      weighted.backendRefs[0]!.filters = setCookie(primaryCookie.setCookie);
      rules.unshift(plainRule(stickyMatches, [backend(names.primary, 100)]));
    } else {
      rules.unshift(plainRule(stickyMatches, [{ ...backend(names.primary, 100), filters: setCookie(primaryCookie.expireCookie) }]));
    }
  }
  const cookie = sessionCookie(canary);
  if (cookie !== undefined) {
    const stickyMatches = stickyMatchesFor(cookie.cookieHeaderRegex);
    if (request.canary > 0) {
      weighted.backendRefs[1]!.filters = setCookie(cookie.setCookie);
      rules.unshift(plainRule(stickyMatches, [backend(names.canary, 100)]));
    } else {
      rules.unshift(plainRule(stickyMatches, [{ ...backend(names.primary, 100), filters: setCookie(cookie.expireCookie) }]));
    }
  }

  const spec: HTTPRouteSpec = { rules };
  if ((svc.gatewayRefs ?? []).length > 0) {
    spec.parentRefs = (svc.gatewayRefs ?? []).map((g) => ({ group: GATEWAY_GROUP, kind: "Gateway", ...g }));
  }
  if ((svc.hosts ?? []).length > 0) spec.hostnames = [...(svc.hosts ?? [])];
  // JSON has no `undefined`: drop such keys so the comparison with the stored object is exact.
  return JSON.parse(JSON.stringify(spec)) as HTTPRouteSpec;
}

interface StoredBackendRef { name?: string; weight?: number; kind?: string; group?: string }
interface StoredRule { backendRefs?: StoredBackendRef[]; filters?: { type?: string; requestMirror?: { backendRef?: StoredBackendRef } }[] }

/**
 * The split an HTTPRoute actually carries: the first rule that routes to both the primary
 * and the canary Service (a session-affinity rule routes to one only), else the first that
 * routes to either, weights turned into percentages (Gateway API weights are relative).
 * `undefined` when no rule routes to either.
 */
export function readRoutes(spec: unknown, canary: Canary): Split | undefined {
  const names = serviceNames(canary);
  const isService = (ref: StoredBackendRef) => (ref.group ?? "") === "" && (ref.kind ?? "Service") === "Service";
  const rules = ((spec as { rules?: StoredRule[] } | undefined)?.rules ?? []);
  const routesTo = (r: StoredRule, name: string) => (r.backendRefs ?? []).some((b) => isService(b) && b.name === name);
  const rule =
    rules.find((r) => routesTo(r, names.primary) && routesTo(r, names.canary)) ??
    rules.find((r) => routesTo(r, names.primary) || routesTo(r, names.canary));
  if (rule === undefined) return undefined;
  const weightOf = (name: string) =>
    (rule.backendRefs ?? []).filter((b) => isService(b) && b.name === name).reduce((sum, b) => sum + (b.weight ?? 1), 0);
  const [p, c] = [weightOf(names.primary), weightOf(names.canary)];
  const total = p + c;
  const primary = total === 0 ? 0 : Math.round((100 * p) / total);
  const mirror = (rule.filters ?? []).some((f) => f.type === "RequestMirror" && f.requestMirror?.backendRef?.name === names.canary);
  return { primary, canary: total === 0 ? 0 : 100 - primary, mirror };
}
