/**
 * Which router providers honour which Canary fields. One table, read by validation (an
 * admission warning for each field set that the provider in effect ignores), by the
 * controller (an `Unsupported` status condition naming the same fields) and by the README's
 * compatibility section (kept equal to it by a unit test). A Flagger field aviary cannot
 * honour is accepted and reported, never rejected by the schema and never dropped silently.
 *
 * Fields whose absence changes what a release does (weights, A/B match, mirroring, session
 * affinity) are rules in features.ts instead: those are errors, since ignoring them would
 * run a different kind of release than the one asked for.
 */
import { ROUTER_PROVIDERS } from "./types.ts";
import type { RouterProvider } from "./types.ts";

export interface ProviderField {
  /** Dotted path; `[]` stands for every element of a list. */
  path: string;
  /** The providers that act on the field. Empty: accepted for compatibility, acted on by none. */
  honouredBy: readonly RouterProvider[];
  /** What the field does, for the README. */
  about: string;
}

const GATEWAYAPI: readonly RouterProvider[] = ["gatewayapi", "gatewayapi:v1", "gatewayapi:v1beta1"];
const CONTOUR: readonly RouterProvider[] = ["contour"];
const APPMESH: readonly RouterProvider[] = ["appmesh", "appmesh:v1beta2"];
const ISTIO: readonly RouterProvider[] = ["istio"];
const INGRESS: readonly RouterProvider[] = ["nginx", "skipper", "alb"];
const SESSION_COOKIE: readonly RouterProvider[] = [...ISTIO, ...GATEWAYAPI];
/** Fields about the generated Services or the webhooks: every router has both. */
const ALL: readonly RouterProvider[] = ROUTER_PROVIDERS;

export const PROVIDER_FIELDS: readonly ProviderField[] = [
  { path: "spec.ingressRef", honouredBy: INGRESS, about: "the Ingress the canary Ingress is cloned from (alb: the Ingress whose action aviary writes)" },
  { path: "spec.routeRef", honouredBy: ["apisix"], about: "the ApisixRoute the canary route is copied from" },
  { path: "spec.upstreamRef", honouredBy: ["gloo"], about: "the Gloo Upstream whose settings the generated Upstreams copy" },
  { path: "spec.service.timeout", honouredBy: [...ISTIO, ...APPMESH, ...GATEWAYAPI, ...CONTOUR], about: "request timeout of the route" },
  { path: "spec.service.backendTimeout", honouredBy: GATEWAYAPI, about: "timeout of each backend request (HTTPRoute timeouts.backendRequest)" },
  { path: "spec.service.retries", honouredBy: [...ISTIO, ...APPMESH, ...CONTOUR], about: "retry policy" },
  { path: "spec.service.rewrite", honouredBy: [...ISTIO, ...APPMESH, ...GATEWAYAPI], about: "URI and authority rewrite (App Mesh: only the no-op rewrite to the matched prefix)" },
  { path: "spec.service.headers", honouredBy: [...ISTIO, ...GATEWAYAPI], about: "request and response header operations" },
  { path: "spec.service.corsPolicy", honouredBy: ISTIO, about: "CORS policy" },
  { path: "spec.service.trafficPolicy", honouredBy: ISTIO, about: "DestinationRule traffic policy" },
  { path: "spec.service.gateways", honouredBy: ISTIO, about: "Istio gateways of the VirtualService" },
  { path: "spec.service.gatewayRefs", honouredBy: GATEWAYAPI, about: "parent Gateways of the HTTPRoute" },
  { path: "spec.service.hosts", honouredBy: [...ISTIO, ...GATEWAYAPI], about: "host names of the route" },
  { path: "spec.service.match", honouredBy: [...ISTIO, ...APPMESH, ...GATEWAYAPI, ...CONTOUR], about: "request match of the route (Contour: the first URI prefix)" },
  { path: "spec.service.mirror", honouredBy: GATEWAYAPI, about: "extra mirror backends (HTTPRoute RequestMirror filters)" },
  { path: "spec.service.meshName", honouredBy: APPMESH, about: "App Mesh mesh name" },
  { path: "spec.service.backends", honouredBy: APPMESH, about: "App Mesh virtual-node backends" },
  { path: "spec.service.delegation", honouredBy: ISTIO, about: "a delegate VirtualService: no hosts and no gateways of its own" },
  { path: "spec.service.headless", honouredBy: ALL, about: "the generated Services are created headless (clusterIP None)" },
  { path: "spec.service.trafficDistribution", honouredBy: ALL, about: "spec.trafficDistribution of the generated Services" },
  { path: "spec.service.unmanagedMetadata", honouredBy: ALL, about: "label and annotation keys aviary never writes on generated objects, left to other controllers" },
  { path: "spec.analysis.sessionAffinity.primaryCookieName", honouredBy: SESSION_COOKIE, about: "a cookie pinning users who landed on the primary to it during a run" },
  { path: "spec.analysis.sessionAffinity.domain", honouredBy: SESSION_COOKIE, about: "session cookie Domain" },
  { path: "spec.analysis.sessionAffinity.path", honouredBy: SESSION_COOKIE, about: "session cookie Path" },
  { path: "spec.analysis.sessionAffinity.httpOnly", honouredBy: SESSION_COOKIE, about: "session cookie HttpOnly" },
  { path: "spec.analysis.sessionAffinity.secure", honouredBy: SESSION_COOKIE, about: "session cookie Secure" },
  { path: "spec.analysis.sessionAffinity.sameSite", honouredBy: SESSION_COOKIE, about: "session cookie SameSite" },
  { path: "spec.analysis.sessionAffinity.partitioned", honouredBy: SESSION_COOKIE, about: "session cookie Partitioned" },
  { path: "spec.analysis.webhooks[].disableTLS", honouredBy: ALL, about: "the webhook is called without verifying its TLS certificate" },
];

export interface IgnoredField {
  /** The concrete path, with list indexes (`spec.analysis.webhooks[1].disableTLS`). */
  path: string;
  provider: string;
  /** The providers that would honour it. */
  honouredBy: readonly RouterProvider[];
}

const isSet = (v: unknown): boolean =>
  v !== undefined && v !== null && v !== false && !(Array.isArray(v) && v.length === 0) &&
  !(typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 0);

/** The concrete paths under `root` that `pattern` names and that hold a value. */
function setPaths(root: unknown, pattern: string): string[] {
  let nodes: Array<[string, unknown]> = [["", root]];
  for (const part of pattern.split(".")) {
    const [key, ...lists] = part.split("[]");
    const next: Array<[string, unknown]> = [];
    for (const [path, value] of nodes) {
      if (typeof value !== "object" || value === null || Array.isArray(value)) continue;
      let children: Array<[string, unknown]> = [[path === "" ? key! : `${path}.${key}`, (value as Record<string, unknown>)[key!]]];
      for (let i = 0; i < lists.length; i++) {
        children = children.flatMap(([p, v]) => (Array.isArray(v) ? v.map((item, j): [string, unknown] => [`${p}[${j}]`, item]) : []));
      }
      next.push(...children);
    }
    nodes = next;
  }
  return nodes.filter(([, v]) => isSet(v)).map(([p]) => p);
}

/** Every field of the object that the provider in effect does not act on, in table order. */
export function ignoredFields(canary: unknown, provider: string): IgnoredField[] {
  const out: IgnoredField[] = [];
  for (const field of PROVIDER_FIELDS) {
    if ((field.honouredBy as readonly string[]).includes(provider)) continue;
    for (const path of setPaths(canary, field.path)) out.push({ path, provider, honouredBy: field.honouredBy });
  }
  return out;
}

/** `spec.service.delegation is not supported by provider gatewayapi; ignored` (without the path). */
export function ignoredRule(field: IgnoredField): string {
  const others = field.honouredBy.length === 0 ? "" : ` (honoured by ${field.honouredBy.join(", ")})`;
  return `is not supported by provider ${field.provider}; ignored${others}`;
}

/** One line per field, for a condition message. */
export function ignoredMessage(fields: readonly IgnoredField[]): string {
  return fields.map((f) => `${f.path} ${ignoredRule(f)}`).join("; ");
}

/** The README's compatibility table: one row per field, one column per provider family. */
export function providerFieldsMarkdown(): string {
  const families = [...new Set(ROUTER_PROVIDERS.map((p) => p.split(":")[0]!))];
  const header = `| Field | ${families.join(" | ")} | What it does |`;
  const rule = `|---|${families.map(() => ":-:").join("|")}|---|`;
  const rows = PROVIDER_FIELDS.map((f) => {
    const marks = families.map((fam) => ((f.honouredBy as readonly string[]).includes(fam) ? "yes" : "—"));
    return `| \`${f.path}\` | ${marks.join(" | ")} | ${f.about} |`;
  });
  return [header, rule, ...rows].join("\n");
}
