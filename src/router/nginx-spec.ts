/**
 * The canary Ingress (networking.k8s.io/v1) the `nginx` router keeps beside the user's
 * Ingress, and the split read back from its annotations. Pure.
 *
 * ingress-nginx pairs an Ingress marked `<prefix>/canary: "true"` with the main Ingress of
 * the same host and path, and sends it the share of requests its annotations select: by
 * header (`canary-by-header` with `-value` or `-pattern`), then by cookie
 * (`canary-by-cookie`, value `always`), then by weight (`canary-weight`).
 */
import type { Canary, StringMatch } from "../api/types.ts";
import { serviceNames } from "../ground/identity.ts";
import { INGRESS_CLASS_ANNOTATION, backendsOf, ingressRefName as ingressName } from "./ingress-spec.ts";
import type { IngressSpec } from "./ingress-spec.ts";
import { RouterSpecError } from "./types.ts";
import type { Split } from "../ground/split.ts";

export const DEFAULT_NGINX_ANNOTATION_PREFIX = "nginx.ingress.kubernetes.io";

/** The name of the Ingress the Canary's traffic enters through (`spec.ingressRef`). */
export const ingressRefName = (canary: Canary): string => ingressName(canary, "nginx");

/**
 * The user's Ingress spec with every backend that points at the apex Service `<svc>`
 * pointing at `<svc>-canary` instead. An Ingress with no such backend cannot carry the
 * canary's traffic: a RouterSpecError naming `spec.ingressRef`.
 */
export function buildCanaryIngressSpec(canary: Canary, source: { metadata: { namespace?: string; name: string }; spec?: unknown }): IngressSpec {
  const names = serviceNames(canary);
  const spec = structuredClone((source.spec ?? {}) as IngressSpec);
  let found = false;
  for (const backend of backendsOf(spec)) {
    if (backend.service?.name === names.apex) {
      backend.service.name = names.canary;
      found = true;
    }
  }
  if (!found) {
    throw new RouterSpecError("spec.ingressRef", `Ingress ${source.metadata.namespace}/${source.metadata.name} has no backend for Service ${names.apex}; its rules must send traffic to ${names.apex}`);
  }
  return spec;
}

/** The annotations that decide how ingress-nginx routes to the canary: all of these are aviary's on the canary Ingress. */
export const isCanaryAnnotation = (key: string, prefix: string): boolean => key === `${prefix}/canary` || key.startsWith(`${prefix}/canary-`);

/** Annotations aviary manages on the canary Ingress: ingress-nginx's own and the ingress class. */
export const isManagedAnnotation = (key: string, prefix: string): boolean => key.startsWith(`${prefix}/`) || key === INGRESS_CLASS_ANNOTATION;

/**
 * The user's Ingress annotations the canary copy carries: ingress-nginx's settings (some,
 * like load-balance and upstream-hash-by, are read from the canary) and the legacy class.
 * Others are not copied: tracking annotations of GitOps tools would make them claim the copy.
 */
export function copiedAnnotations(source: Record<string, string> | undefined, prefix: string): Record<string, string> {
  return Object.fromEntries(Object.entries(source ?? {}).filter(([k]) => isManagedAnnotation(k, prefix) && !isCanaryAnnotation(k, prefix)));
}

export interface HeaderCondition {
  header?: string;
  headerValue?: string;
  headerPattern?: string;
  cookie?: string;
}

const CONDITION_FIELDS = ["uri", "scheme", "method", "authority", "queryParams", "withoutHeaders", "port", "sourceLabels", "sourceNamespace", "gateways", "ignoreUriCase"];

function exactOrRegex(m: StringMatch, field: string): { exact: string } | { regex: string } {
  if (m.exact !== undefined) return { exact: m.exact };
  if (m.regex !== undefined) return { regex: m.regex };
  throw new RouterSpecError(field, "nginx matches a header exactly (exact) or by a regular expression (regex)");
}

/**
 * `analysis.match` as ingress-nginx's A/B conditions: at most one header (exact value or
 * pattern) and one cookie, each in its own match entry (ingress-nginx ORs them). As in
 * Flagger, `headers.cookie.exact` names the cookie, which sends a request to the canary when
 * its value is `always`. Anything ingress-nginx cannot express is a RouterSpecError.
 */
export function headerCondition(canary: Canary): HeaderCondition {
  const out: HeaderCondition = {};
  (canary.spec.analysis?.match ?? []).forEach((match, i) => {
    const field = `spec.analysis.match[${i}]`;
    for (const key of CONDITION_FIELDS) {
      if (match[key] !== undefined) throw new RouterSpecError(`${field}.${key}`, "has no ingress-nginx canary annotation; nginx A/B matches use headers or headers.cookie");
    }
    const headers = Object.entries(match.headers ?? {});
    if (headers.length > 1) throw new RouterSpecError(`${field}.headers`, "nginx cannot require several headers together; use one header per match entry");
    for (const [name, m] of headers) {
      const at = `${field}.headers.${name}`;
      const value = exactOrRegex(m, at);
      if (name.toLowerCase() === "cookie") {
        if (!("exact" in value)) throw new RouterSpecError(at, "for nginx, headers.cookie.exact names the cookie; a regex is not supported");
        if (out.cookie !== undefined) throw new RouterSpecError(at, `nginx matches one cookie; ${out.cookie} is already matched`);
        out.cookie = value.exact;
      } else {
        if (out.header !== undefined) throw new RouterSpecError(at, `nginx matches one header; ${out.header} is already matched`);
        out.header = name;
        if ("exact" in value) out.headerValue = value.exact;
        else out.headerPattern = value.regex;
      }
    }
  });
  return out;
}

/**
 * ingress-nginx's canary annotations for a split. A weighted canary carries its weight;
 * an A/B run carries weight 0 and, while the canary takes the matched traffic, the
 * header/cookie conditions (ingress-nginx has no partial split of matched requests).
 */
export function canaryAnnotations(canary: Canary, routes: Split, prefix: string): Record<string, string> {
  if (!Number.isInteger(routes.canary) || routes.canary < 0 || routes.canary > 100) {
    throw new RangeError(`canary weight must be an integer from 0 to 100, got ${routes.canary}`);
  }
  const a = (name: string) => `${prefix}/${name}`;
  const out: Record<string, string> = { [a("canary")]: "true" };
  if (!isAbTesting(canary)) {
    out[a("canary-weight")] = String(routes.canary);
    return out;
  }
  const cond = headerCondition(canary);
  out[a("canary-weight")] = "0";
  if (routes.canary === 0) return out;
  if (cond.header !== undefined) out[a("canary-by-header")] = cond.header;
  if (cond.headerValue !== undefined) out[a("canary-by-header-value")] = cond.headerValue;
  if (cond.headerPattern !== undefined) out[a("canary-by-header-pattern")] = cond.headerPattern;
  if (cond.cookie !== undefined) out[a("canary-by-cookie")] = cond.cookie;
  return out;
}

/**
 * The split a canary Ingress carries. For an A/B Canary: header or cookie conditions mean
 * the matched traffic all goes to the canary (0/100), none means 100/0. Otherwise the
 * weight, relative to `canary-weight-total` (default 100); conditions added by hand do not
 * turn a weighted canary into a full one. `undefined` when the Ingress is not marked as a
 * canary or its weight is unreadable.
 */
export function readIngressRoutes(annotations: Record<string, string> | undefined, prefix: string, abTesting: boolean): Split | undefined {
  const a = annotations ?? {};
  if (a[`${prefix}/canary`] !== "true") return undefined;
  if (abTesting) {
    const matched = a[`${prefix}/canary-by-header`] !== undefined || a[`${prefix}/canary-by-cookie`] !== undefined;
    return matched ? { primary: 0, canary: 100, mirror: false } : { primary: 100, canary: 0, mirror: false };
  }
  const weight = Number(a[`${prefix}/canary-weight`] ?? "0");
  const total = Number(a[`${prefix}/canary-weight-total`] ?? "100");
  if (!Number.isFinite(weight) || !Number.isFinite(total) || total <= 0 || weight < 0) return undefined;
  const canaryPercent = Math.min(100, Math.round((100 * weight) / total));
  return { primary: 100 - canaryPercent, canary: canaryPercent, mirror: false };
}

/** A/B testing: the Canary's analysis has match conditions. */
export const isAbTesting = (canary: Canary): boolean => (canary.spec.analysis?.match ?? []).length > 0;
