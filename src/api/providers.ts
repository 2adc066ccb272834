/**
 * The provider table: every router provider name a Canary's `spec.provider` accepts, the
 * router implementation that serves it, what that router can do with traffic, and the
 * family of built-in metric queries that fits its telemetry. Validation (api/), the router
 * registry (router/registry.ts and each router's `supports`) and the built-in metrics
 * (metrics/builtins.ts) all read this table, so adding a provider is one entry here plus
 * its router.
 */
import type { RouterFeature } from "./features.ts";

/** The router implementations (router/<name>.ts). */
export type RouterImplementation =
  | "kubernetes" | "gatewayapi" | "gatewayapi-v1beta1" | "appmesh" | "istio" | "nginx" | "smi" | "linkerd" | "contour" | "traefik"
  | "skipper" | "alb" | "gloo" | "kuma" | "apisix";

/** The built-in metric query families (metrics/builtins.ts), one per kind of telemetry. */
export type BuiltinQueryFamily = "istio" | "appmesh" | "nginx" | "linkerd" | "kubernetes" | "contour" | "traefik" | "skipper" | "gloo" | "kuma" | "apisix";

export interface ProviderEntry {
  router: RouterImplementation;
  features: readonly RouterFeature[];
  builtins: BuiltinQueryFamily;
}

const GATEWAY: ProviderEntry = { router: "gatewayapi", features: ["weights", "abMatch", "mirroring", "sessionAffinity"], builtins: "kubernetes" };
const APPMESH: ProviderEntry = { router: "appmesh", features: ["weights", "abMatch"], builtins: "appmesh" };

/** By provider name. A versioned name (`appmesh:v1beta2`) pins the API version of the same router. */
export const PROVIDER_TABLE = {
  // Blue/green only: Services are switched, no traffic split. The app exports its own metrics.
  kubernetes: { router: "kubernetes", features: [], builtins: "kubernetes" },
  gatewayapi: GATEWAY,
  "gatewayapi:v1": GATEWAY,
  // The same router writing HTTPRoute gateway.networking.k8s.io/v1beta1, for controllers
  // that do not serve v1 yet.
  "gatewayapi:v1beta1": { ...GATEWAY, router: "gatewayapi-v1beta1" },
  appmesh: APPMESH,
  "appmesh:v1beta2": APPMESH,
  istio: { router: "istio", features: ["weights", "abMatch", "mirroring", "sessionAffinity"], builtins: "istio" },
  nginx: { router: "nginx", features: ["weights", "abMatch"], builtins: "nginx" },
  // TrafficSplit carries weights only; the mesh behind SMI is Linkerd's telemetry.
  smi: { router: "smi", features: ["weights"], builtins: "linkerd" },
  linkerd: { router: "linkerd", features: ["weights"], builtins: "linkerd" },
  // HTTPProxy service weights; Contour's Envoy reports per upstream cluster.
  contour: { router: "contour", features: ["weights"], builtins: "contour" },
  // A weighted TraefikService; Traefik's own service metrics.
  traefik: { router: "traefik", features: ["weights"], builtins: "traefik" },
  // A canary Ingress with Skipper's backend weights; Skipper's per-route metrics.
  skipper: { router: "skipper", features: ["weights"], builtins: "skipper" },
  // The AWS Load Balancer Controller's weighted forward action on the user's Ingress. ALB
  // metrics live in CloudWatch (a MetricTemplate); the built-ins read the app's own.
  alb: { router: "alb", features: ["weights"], builtins: "kubernetes" },
  // A RouteTable over two Upstreams aviary writes; Gloo's Envoy reports per upstream.
  gloo: { router: "gloo", features: ["weights"], builtins: "gloo" },
  // A TrafficRoute splitting the apex Kuma service; Kuma's Envoy reports per service.
  kuma: { router: "kuma", features: ["weights"], builtins: "kuma" },
  // A copy of your ApisixRoute with weighted backends; APISIX reports per route.
  apisix: { router: "apisix", features: ["weights"], builtins: "apisix" },
} as const satisfies Record<string, ProviderEntry>;

export type RouterProvider = keyof typeof PROVIDER_TABLE;

/** Every accepted provider name, in the table's order. */
export const ROUTER_PROVIDERS: readonly RouterProvider[] = Object.freeze(Object.keys(PROVIDER_TABLE) as RouterProvider[]);

/** Flagger's default when `spec.provider` is empty; aviary keeps it for compatibility. */
export const DEFAULT_ROUTER_PROVIDER: RouterProvider = "kubernetes";

export function providerEntry(provider: RouterProvider): ProviderEntry {
  return PROVIDER_TABLE[provider];
}

/** Where the effective provider came from, for status and messages. */
export type ProviderSource = "spec" | "mesh-provider" | "default";

export interface EffectiveProvider {
  /** The provider name, or the unknown name as written (validation reports it). */
  name: string;
  /** The name is one aviary serves. */
  known: boolean;
  source: ProviderSource;
}

const isUnset = (v: unknown): boolean => v === undefined || v === null || v === "";

/**
 * The router provider a Canary runs with. `spec.provider` wins; a Canary without one
 * uses the controller-wide default (`--mesh-provider`, Flagger's `-mesh-provider`), and
 * only without that the built-in default `kubernetes`. Validation, defaults, routing and
 * built-in metrics all ask this one function, so they cannot disagree about which router
 * a Canary gets. Never falls back from an unknown `spec.provider`: that stays unknown, so it can be reported.
 */
export function effectiveProvider(canary: { spec?: { provider?: unknown } } | undefined, meshProvider?: RouterProvider): EffectiveProvider {
  const raw = canary?.spec?.provider;
  if (isUnset(raw)) {
    const name = meshProvider ?? DEFAULT_ROUTER_PROVIDER;
    return { name, known: true, source: meshProvider === undefined ? "default" : "mesh-provider" };
  }
  const name = typeof raw === "string" ? raw : String(raw);
  return { name, known: Object.hasOwn(PROVIDER_TABLE, name), source: "spec" };
}
