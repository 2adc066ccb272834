/**
 * Flagger/Istio HTTPMatchRequests (`service.match`, `analysis.match`) as App Mesh
 * v1beta2 route matches. Pure. Anything App Mesh cannot express is an error naming the
 * field, never dropped: a dropped header match would send every user to the canary.
 */
import type { HTTPMatchRequest, StringMatch } from "../api/types.ts";
import { RouterSpecError } from "./types.ts";

export interface ValueMatch {
  exact?: string;
  prefix?: string;
  suffix?: string;
  regex?: string;
}

export interface HeaderMatch {
  name: string;
  match: ValueMatch;
  invert?: boolean;
}

export interface HttpRouteMatch {
  prefix?: string;
  path?: { exact: string } | { regex: string };
  headers?: HeaderMatch[];
  method?: string;
  scheme?: string;
  queryParameters?: { name: string; match: { exact: string } }[];
}

export interface GrpcRouteMatch {
  metadata?: HeaderMatch[];
}

const HTTP_METHODS = ["CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE"];
/** HTTPMatchRequest fields an App Mesh route match has no equivalent for. */
const UNSUPPORTED = ["authority", "port", "sourceLabels", "sourceNamespace", "gateways", "ignoreUriCase"];
/** The CRD's limits on header and metadata matches. */
const MAX_NAME = 50;
const MAX_VALUE = 255;
const MAX_ITEMS = 10;

const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

function checkValue(value: string, field: string): string {
  if (value.length < 1 || value.length > MAX_VALUE) throw new RouterSpecError(field, `App Mesh matches need 1 to ${MAX_VALUE} characters, got ${value.length}`);
  return value;
}

function valueMatch(m: StringMatch, field: string): ValueMatch {
  if (m.exact !== undefined) return { exact: checkValue(m.exact, `${field}.exact`) };
  if (m.prefix !== undefined) return { prefix: checkValue(m.prefix, `${field}.prefix`) };
  if (m.suffix !== undefined) return { suffix: checkValue(m.suffix, `${field}.suffix`) };
  if (m.regex !== undefined) return { regex: checkValue(m.regex, `${field}.regex`) };
  throw new RouterSpecError(field, "sets none of exact, prefix, suffix, regex");
}

/** `headers` and `withoutHeaders` (inverted) as header matches, sorted by name for a stable object. */
function headerMatches(m: HTTPMatchRequest, field: string): HeaderMatch[] | undefined {
  const out: HeaderMatch[] = [];
  const add = (entries: Record<string, StringMatch> | undefined, key: "headers" | "withoutHeaders") => {
    for (const [name, match] of Object.entries(entries ?? {})) {
      const at = `${field}.${key}.${name}`;
      if (name.length < 1 || name.length > MAX_NAME) throw new RouterSpecError(at, `App Mesh header names have 1 to ${MAX_NAME} characters`);
      const h: HeaderMatch = { name, match: valueMatch(match, at) };
      if (key === "withoutHeaders") h.invert = true;
      out.push(h);
    }
  };
  add(m.headers, "headers");
  add(m.withoutHeaders, "withoutHeaders");
  if (out.length > MAX_ITEMS) throw new RouterSpecError(`${field}.headers`, `App Mesh matches at most ${MAX_ITEMS} headers, got ${out.length}`);
  return out.length > 0 ? out.sort((a, b) => a.name.localeCompare(b.name) || Number(a.invert ?? false) - Number(b.invert ?? false)) : undefined;
}

function rejectUnsupported(m: HTTPMatchRequest, field: string, fields: readonly string[], what: string): void {
  for (const key of fields) {
    if (m[key] !== undefined) throw new RouterSpecError(`${field}.${key}`, `has no App Mesh ${what} equivalent`);
  }
}

/** An HTTP/HTTP2 route match; no `uri` matches every path (prefix `/`). */
export function httpRouteMatch(m: HTTPMatchRequest, field: string): HttpRouteMatch {
  rejectUnsupported(m, field, UNSUPPORTED, "route match");
  const out: HttpRouteMatch = {};
  const uri = m.uri;
  if (uri === undefined) out.prefix = "/";
  else if (uri.prefix !== undefined) out.prefix = checkValue(uri.prefix, `${field}.uri.prefix`);
  else if (uri.exact !== undefined) out.path = { exact: checkValue(uri.exact, `${field}.uri.exact`) };
  else if (uri.regex !== undefined) out.path = { regex: checkValue(uri.regex, `${field}.uri.regex`) };
  else if (uri.suffix !== undefined) out.path = { regex: checkValue(`.*${escapeRegex(uri.suffix)}$`, `${field}.uri.suffix`) };
  else throw new RouterSpecError(`${field}.uri`, "sets none of exact, prefix, suffix, regex");
  const headers = headerMatches(m, field);
  if (headers !== undefined) out.headers = headers;
  if (m.method !== undefined) {
    const method = m.method.exact?.toUpperCase();
    if (method === undefined || !HTTP_METHODS.includes(method)) throw new RouterSpecError(`${field}.method`, `must be an exact match on one of ${HTTP_METHODS.join(", ")}`);
    out.method = method;
  }
  if (m.scheme !== undefined) {
    const scheme = m.scheme.exact?.toLowerCase();
    if (scheme !== "http" && scheme !== "https") throw new RouterSpecError(`${field}.scheme`, "must be an exact match on http or https");
    out.scheme = scheme;
  }
  const query = Object.entries(m.queryParams ?? {}).map(([name, q]) => {
    if (q.exact === undefined || q.prefix !== undefined || q.suffix !== undefined || q.regex !== undefined) {
      throw new RouterSpecError(`${field}.queryParams.${name}`, "App Mesh matches query parameters exactly only");
    }
    return { name, match: { exact: q.exact } };
  });
  if (query.length > MAX_ITEMS) throw new RouterSpecError(`${field}.queryParams`, `App Mesh matches at most ${MAX_ITEMS} query parameters`);
  if (query.length > 0) out.queryParameters = query.sort((a, b) => a.name.localeCompare(b.name));
  return out;
}

/**
 * A gRPC route match: headers become metadata matches. A gRPC request's path is its
 * service and method, so only the match-everything `uri.prefix: /` carries over.
 */
export function grpcRouteMatch(m: HTTPMatchRequest, field: string): GrpcRouteMatch {
  rejectUnsupported(m, field, [...UNSUPPORTED, "method", "scheme", "queryParams"], "gRPC route match");
  if (m.uri !== undefined && m.uri.prefix !== "/") throw new RouterSpecError(`${field}.uri`, "App Mesh gRPC routes match on metadata, not paths; only prefix \"/\" is accepted");
  const metadata = headerMatches(m, field);
  return metadata !== undefined ? { metadata } : {};
}

/** Header-like maps merged case-insensitively, `extra` winning. */
function mergeMaps(base: Record<string, StringMatch> | undefined, extra: Record<string, StringMatch> | undefined): Record<string, StringMatch> | undefined {
  if (base === undefined && extra === undefined) return undefined;
  const overridden = new Set(Object.keys(extra ?? {}).map((k) => k.toLowerCase()));
  return { ...Object.fromEntries(Object.entries(base ?? {}).filter(([k]) => !overridden.has(k.toLowerCase()))), ...(extra ?? {}) };
}

/** An A/B match combined with a service match: both must hold; where both constrain the same thing, the A/B match wins. */
export function mergeHttpMatch(service: HTTPMatchRequest, ab: HTTPMatchRequest): HTTPMatchRequest {
  const out: HTTPMatchRequest = { ...service, ...ab };
  for (const key of ["headers", "withoutHeaders", "queryParams"] as const) {
    const merged = mergeMaps(service[key], ab[key]);
    if (merged !== undefined) out[key] = merged;
  }
  return out;
}
