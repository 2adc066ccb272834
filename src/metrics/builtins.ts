/**
 * Built-in metrics: `request-success-rate` (percent of requests that were not 5xx) and
 * `request-duration` (p99 latency in milliseconds), one PromQL template per router,
 * measuring the canary workload `{{ target }}` only.
 *
 * Success rates are written as `100 * (1 - errors / all)` with `or vector(0)` around the
 * error rate: a healthy canary has no 5xx series at all, and a ratio of "non-5xx / all"
 * would come back empty (no data) when every request failed. With no traffic at all the
 * denominator is empty or zero and the result is no data, which onNoData decides on.
 *
 * Metric names and labels per router:
 * - istio: `istio_requests_total{reporter="destination", destination_workload_namespace,
 *   destination_workload, response_code}` and `istio_request_duration_milliseconds_bucket`.
 * - appmesh: the Envoy sidecar's `envoy_cluster_upstream_rq{envoy_response_code}` and
 *   `envoy_cluster_upstream_rq_time_bucket` (milliseconds), with the `kubernetes_namespace`
 *   and `kubernetes_pod_name` target labels of App Mesh's Prometheus scrape config.
 * - nginx: ingress-nginx's `nginx_ingress_controller_requests{namespace, ingress, canary,
 *   status}` and `nginx_ingress_controller_request_duration_seconds_bucket`; `canary!=""`
 *   selects the requests the canary upstream served.
 * - linkerd, smi: the Linkerd proxy's `response_total{namespace, deployment, direction,
 *   classification}` and `response_latency_ms_bucket`, inbound side.
 * - contour: Contour's Envoy, `envoy_cluster_upstream_rq{envoy_cluster_name, envoy_response_code}`
 *   and `envoy_cluster_upstream_rq_time_bucket` (milliseconds); Contour names the upstream
 *   cluster `<namespace>/<service>/<port>/<hash>`, exported with `_` for `/`.
 * - skipper: `skipper_response_duration_seconds_count{route, code}` and
 *   `skipper_serve_route_duration_seconds_bucket{route}` (seconds), with Skipper's route
 *   metrics on. Skipper names the canary Ingress's route for a backend
 *   `kube_<namespace>__<ingress>_canary__<host>__<path>__<service>` (`kubeew_` for east-west),
 *   every non-word character written `_`: the names are rendered that way (builtinContext).
 * - traefik: `traefik_service_requests_total{service, code}` and
 *   `traefik_service_request_duration_seconds_bucket`; the Kubernetes CRD provider names a
 *   Service `<namespace>-<service>-<port>@kubernetescrd`.
 * - gloo: Gloo's Envoy, `envoy_cluster_upstream_rq{envoy_cluster_name, envoy_response_code}` and
 *   `envoy_cluster_upstream_rq_time_bucket` (milliseconds); Gloo names an upstream's cluster
 *   `<upstream>_<upstream namespace>`, and aviary's canary Upstream is
 *   `<namespace>-<service>-canaryupstream-<port>`.
 * - kuma: the data planes' Envoy, the same series selected by the `service` label, which
 *   Kuma sets to the Kuma service `<service>-canary_<namespace>_svc_<port>`.
 * - apisix: APISIX's `apisix_http_status{route, code}` and `apisix_http_latency_bucket{type,
 *   route}` (milliseconds); the ingress controller names a route `<namespace>_<ApisixRoute>_<rule>`,
 *   and aviary's is `<route>-<service>-canary`. Both backends sit on that one route, so
 *   these measure the route as a whole, not the canary backend alone.
 * - kubernetes, gatewayapi: the application's own metrics. aviary's demo app exports
 *   exactly these, and any app that follows them works with the built-ins:
 *     http_requests_total{status="<HTTP status code>"}               counter
 *     http_request_duration_seconds_bucket{le="<seconds>"}            histogram, seconds
 *   scraped with the target labels `namespace` (the pod's namespace) and `pod` (the pod's
 *   name), as prometheus-operator's PodMonitor and ServiceMonitor set them. Pods of the
 *   canary Deployment are named `<target>-<replicaset hash>-<pod hash>`, which the
 *   `pod=~` matcher selects without also matching `<target>-primary-…`.
 */
import { PROVIDER_TABLE } from "../api/providers.ts";
import type { BuiltinQueryFamily } from "../api/providers.ts";
import type { BuiltinMetric, CanaryMetric } from "../api/types.ts";
import { BUILTIN_METRICS } from "../api/types.ts";
import type { TemplateContext } from "./template.ts";
import { MetricConfigError } from "./types.ts";


/** Units the analysis prints after a built-in metric's value. */
export const BUILTIN_UNITS: Readonly<Record<BuiltinMetric, string>> = {
  "request-success-rate": "%",
  "request-duration": "ms",
};

const DEPLOYMENT_POD = `{{ target }}-[0-9a-zA-Z]+-[0-9a-zA-Z]+`;

/** `100 * (1 - (errors or 0) / all)`, the success-rate shape every router shares. */
function successRate(counter: string, selector: string, errorMatcher: string, interval = "{{ interval }}"): string {
  const errors = `sum(rate(${counter}{${selector}, ${errorMatcher}}[${interval}]))`;
  const all = `sum(rate(${counter}{${selector}}[${interval}]))`;
  return `100 * (1 - ((${errors} or vector(0)) / ${all}))`;
}

function p99(bucket: string, selector: string, toMs: boolean): string {
  const q = `histogram_quantile(0.99, sum by (le) (rate(${bucket}{${selector}}[{{ interval }}])))`;
  return toMs ? `${q} * 1000` : q;
}

const ISTIO = `reporter="destination", destination_workload_namespace="{{ namespace }}", destination_workload="{{ target }}"`;
const APPMESH = `kubernetes_namespace="{{ namespace }}", kubernetes_pod_name=~"${DEPLOYMENT_POD}"`;
const NGINX = `namespace="{{ namespace }}", ingress="{{ ingress }}", canary!=""`;
const LINKERD = `namespace="{{ namespace }}", deployment="{{ target }}", direction="inbound"`;
const CONTOUR = `envoy_cluster_name=~"{{ namespace }}_{{ service }}-canary_[0-9a-zA-Z-]+"`;
const TRAEFIK = `service=~"{{ namespace }}-{{ service }}-canary-[0-9a-zA-Z-]+@kubernetescrd"`;
/** The route of the canary Ingress's path for `<svc>-<arm>` (names already in Skipper's spelling). */
export const skipperRoute = (arm: "canary" | "primary"): string => `route=~"kube(ew)?_{{ namespace }}__{{ ingress }}_canary__.*__{{ service }}_${arm}(_[0-9]+)?"`;
const GLOO = `envoy_cluster_name=~"{{ namespace }}-{{ service }}-canaryupstream-[0-9]+_{{ namespace }}"`;
const KUMA = `service=~"{{ service }}-canary_{{ namespace }}_svc_[0-9]+"`;
const APISIX = `route=~"{{ namespace }}_.+-{{ service }}-canary_.+"`;
const APP = `namespace="{{ namespace }}", pod=~"${DEPLOYMENT_POD}"`;

const QUERIES: Readonly<Record<BuiltinQueryFamily, Readonly<Record<BuiltinMetric, string>>>> = {
  istio: {
    "request-success-rate": successRate("istio_requests_total", ISTIO, `response_code=~"5.."`),
    "request-duration": p99("istio_request_duration_milliseconds_bucket", ISTIO, false),
  },
  appmesh: {
    "request-success-rate": successRate("envoy_cluster_upstream_rq", APPMESH, `envoy_response_code=~"5.."`),
    "request-duration": p99("envoy_cluster_upstream_rq_time_bucket", APPMESH, false),
  },
  nginx: {
    "request-success-rate": successRate("nginx_ingress_controller_requests", NGINX, `status=~"5.."`),
    "request-duration": p99("nginx_ingress_controller_request_duration_seconds_bucket", NGINX, true),
  },
  linkerd: {
    "request-success-rate": successRate("response_total", LINKERD, `classification="failure"`),
    "request-duration": p99("response_latency_ms_bucket", LINKERD, false),
  },
  contour: {
    "request-success-rate": successRate("envoy_cluster_upstream_rq", CONTOUR, `envoy_response_code=~"5.."`),
    "request-duration": p99("envoy_cluster_upstream_rq_time_bucket", CONTOUR, false),
  },
  traefik: {
    "request-success-rate": successRate("traefik_service_requests_total", TRAEFIK, `code=~"5.."`),
    "request-duration": p99("traefik_service_request_duration_seconds_bucket", TRAEFIK, true),
  },
  skipper: {
    "request-success-rate": successRate("skipper_response_duration_seconds_count", skipperRoute("canary"), `code=~"5.."`),
    "request-duration": p99("skipper_serve_route_duration_seconds_bucket", skipperRoute("canary"), true),
  },
  gloo: {
    "request-success-rate": successRate("envoy_cluster_upstream_rq", GLOO, `envoy_response_code=~"5.."`),
    "request-duration": p99("envoy_cluster_upstream_rq_time_bucket", GLOO, false),
  },
  kuma: {
    "request-success-rate": successRate("envoy_cluster_upstream_rq", KUMA, `envoy_response_code=~"5.."`),
    "request-duration": p99("envoy_cluster_upstream_rq_time_bucket", KUMA, false),
  },
  apisix: {
    "request-success-rate": successRate("apisix_http_status", APISIX, `code=~"5.."`),
    "request-duration": p99("apisix_http_latency_bucket", `type="request", ${APISIX}`, false),
  },
  kubernetes: {
    "request-success-rate": successRate("http_requests_total", APP, `status=~"5.."`),
    "request-duration": p99("http_request_duration_seconds_bucket", APP, true),
  },
};

/**
 * The built-in query family for a Canary's router provider (`spec.provider`, empty meaning
 * kubernetes), from api/providers.ts's table. A version suffix the table does not list
 * (`istio:v2`) falls back to the unversioned name; unknown names throw.
 */
export function builtinRouterFor(provider: string | undefined): BuiltinQueryFamily {
  const name = (provider ?? "").trim() || "kubernetes";
  const entry = Object.hasOwn(PROVIDER_TABLE, name) ? name : name.split(":")[0]!;
  if (!Object.hasOwn(PROVIDER_TABLE, entry)) throw new MetricConfigError(`no built-in metrics for router provider "${provider}"`);
  return PROVIDER_TABLE[entry as keyof typeof PROVIDER_TABLE].builtins;
}

/** Skipper's route ids: every character outside [A-Za-z0-9_] becomes `_`. */
const skipperName = (s: string | undefined): string | undefined => s?.replace(/\W/g, "_");

/**
 * The context a built-in query of a family renders with. Skipper spells the names in its
 * route ids with `_` for every non-word character (`my-app` → `my_app`); the others take
 * the names as they are.
 */
export function builtinContext(family: BuiltinQueryFamily, ctx: TemplateContext): TemplateContext {
  if (family !== "skipper") return ctx;
  return { ...ctx, namespace: skipperName(ctx.namespace)!, service: skipperName(ctx.service)!, ingress: skipperName(ctx.ingress), target: skipperName(ctx.target)! };
}

export function isBuiltinMetric(name: string): name is BuiltinMetric {
  return (BUILTIN_METRICS as readonly string[]).includes(name);
}

/** The unrendered PromQL template of a built-in metric for a router provider. */
export function builtinQueryTemplate(metric: BuiltinMetric, provider: string | undefined): string {
  return QUERIES[builtinRouterFor(provider)][metric];
}

/**
 * The bounds a metric is held to: `thresholdRange`, else Flagger's legacy `threshold`
 * (a minimum for request-success-rate, a maximum for everything else).
 */
export function thresholdRangeOf(metric: CanaryMetric): { min?: number; max?: number } {
  if (metric.thresholdRange !== undefined) {
    const range: { min?: number; max?: number } = {};
    if (metric.thresholdRange.min != null) range.min = metric.thresholdRange.min;
    if (metric.thresholdRange.max != null) range.max = metric.thresholdRange.max;
    return range;
  }
  if (metric.threshold != null) {
    return metric.name === "request-success-rate" ? { min: metric.threshold } : { max: metric.threshold };
  }
  return {};
}
