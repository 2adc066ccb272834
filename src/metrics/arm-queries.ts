/**
 * The per-arm count queries the judge reads for the built-in metrics: for one window (the
 * time since the previous check, ending at this check), how many requests each arm served
 * and how many of them were bad.
 *
 * Windows abut exactly: every query is `increase(...[<window>] @ <end>)`, with `<end>` this
 * check's time and `<window>` the time since the previous check's end (kept in status), so
 * no request is counted twice or missed between checks, whenever the check actually runs.
 *
 *   request-success-rate   requests  sum(increase(<counter>{<arm>}[w] @ t))
 *                          bad       sum(increase(<counter>{<arm>, <5xx>}[w] @ t))
 *   request-duration       one query: sum by (le) (increase(<bucket>{<arm>}[w] @ t)),
 *                          bad at boundary b = the +Inf count minus the count at le=b
 *
 * The arm's selector is the built-in's selector with the arm's workload: `{{ workload }}`
 * is the target for the canary and `<target>-primary` for the primary. ingress-nginx labels
 * the canary upstream's requests with `canary` and leaves it empty on the primary's; Contour's
 * Envoy, Traefik and Skipper name each arm's Service (`<svc>-canary`, `<svc>-primary`) in theirs,
 * Gloo's Envoy each arm's Upstream, Kuma's each arm's Kuma service. APISIX labels a request with
 * its route only, and both arms share aviary's canary route: it has no per-arm counts.
 */
import type { BuiltinQueryFamily } from "../api/providers.ts";
import type { BuiltinMetric } from "../api/types.ts";
import { skipperRoute } from "./builtins.ts";
import { MetricConfigError } from "./types.ts";

export type Arm = "canary" | "primary";
export const ARMS: readonly Arm[] = ["canary", "primary"];

export interface ErrorCountQueries {
  kind: "errors";
  /** Templates rendered per arm (`{{ workload }}`, `{{ window }}`, `{{ windowEnd }}`). */
  requests: string;
  bad: string;
}

export interface LatencyCountQueries {
  kind: "latency";
  /** Returns one series per `le` with that arm's cumulative count. */
  buckets: string;
  /** Milliseconds per unit of `le` (1000 for histograms in seconds). */
  msPerUnit: number;
}

export type CountQueries = ErrorCountQueries | LatencyCountQueries;

const POD = `{{ workload }}-[0-9a-zA-Z]+-[0-9a-zA-Z]+`;

interface Family {
  selector(arm: Arm): string;
  counter: string;
  errors: string;
  bucket: string;
  msPerUnit: number;
}

/** `null`: the family's series cannot tell the primary's requests from the canary's. */
const FAMILIES: Readonly<Record<BuiltinQueryFamily, Family | null>> = {
  istio: {
    selector: () => `reporter="destination", destination_workload_namespace="{{ namespace }}", destination_workload="{{ workload }}"`,
    counter: "istio_requests_total",
    errors: `response_code=~"5.."`,
    bucket: "istio_request_duration_milliseconds_bucket",
    msPerUnit: 1,
  },
  appmesh: {
    selector: () => `kubernetes_namespace="{{ namespace }}", kubernetes_pod_name=~"${POD}"`,
    counter: "envoy_cluster_upstream_rq",
    errors: `envoy_response_code=~"5.."`,
    bucket: "envoy_cluster_upstream_rq_time_bucket",
    msPerUnit: 1,
  },
  nginx: {
    selector: (arm) => `namespace="{{ namespace }}", ingress="{{ ingress }}", canary${arm === "canary" ? "!=" : "="}""`,
    counter: "nginx_ingress_controller_requests",
    errors: `status=~"5.."`,
    bucket: "nginx_ingress_controller_request_duration_seconds_bucket",
    msPerUnit: 1000,
  },
  linkerd: {
    selector: () => `namespace="{{ namespace }}", deployment="{{ workload }}", direction="inbound"`,
    counter: "response_total",
    errors: `classification="failure"`,
    bucket: "response_latency_ms_bucket",
    msPerUnit: 1,
  },
  contour: {
    selector: (arm) => `envoy_cluster_name=~"{{ namespace }}_{{ service }}-${arm}_[0-9a-zA-Z-]+"`,
    counter: "envoy_cluster_upstream_rq",
    errors: `envoy_response_code=~"5.."`,
    bucket: "envoy_cluster_upstream_rq_time_bucket",
    msPerUnit: 1,
  },
  traefik: {
    selector: (arm) => `service=~"{{ namespace }}-{{ service }}-${arm}-[0-9a-zA-Z-]+@kubernetescrd"`,
    counter: "traefik_service_requests_total",
    errors: `code=~"5.."`,
    bucket: "traefik_service_request_duration_seconds_bucket",
    msPerUnit: 1000,
  },
  skipper: {
    selector: skipperRoute,
    counter: "skipper_response_duration_seconds_count",
    errors: `code=~"5.."`,
    bucket: "skipper_serve_route_duration_seconds_bucket",
    msPerUnit: 1000,
  },
  gloo: {
    selector: (arm) => `envoy_cluster_name=~"{{ namespace }}-{{ service }}-${arm}upstream-[0-9]+_{{ namespace }}"`,
    counter: "envoy_cluster_upstream_rq",
    errors: `envoy_response_code=~"5.."`,
    bucket: "envoy_cluster_upstream_rq_time_bucket",
    msPerUnit: 1,
  },
  kuma: {
    selector: (arm) => `service=~"{{ service }}-${arm}_{{ namespace }}_svc_[0-9]+"`,
    counter: "envoy_cluster_upstream_rq",
    errors: `envoy_response_code=~"5.."`,
    bucket: "envoy_cluster_upstream_rq_time_bucket",
    msPerUnit: 1,
  },
  apisix: null,
  kubernetes: {
    selector: () => `namespace="{{ namespace }}", pod=~"${POD}"`,
    counter: "http_requests_total",
    errors: `status=~"5.."`,
    bucket: "http_request_duration_seconds_bucket",
    msPerUnit: 1000,
  },
};

const RANGE = `[{{ window }}] @ {{ windowEnd }}`;

/** The unrendered count queries of a built-in metric, for one arm. */
export function builtinCountQueries(family: BuiltinQueryFamily, metric: BuiltinMetric, arm: Arm): CountQueries {
  const f = FAMILIES[family];
  if (f === null) {
    throw new MetricConfigError(`the ${family} router's built-in metrics do not tell the primary's requests from the canary's; compare needs a MetricTemplate with spec.compare`);
  }
  const sel = f.selector(arm);
  if (metric === "request-success-rate") {
    return {
      kind: "errors",
      requests: `sum(increase(${f.counter}{${sel}}${RANGE}))`,
      bad: `sum(increase(${f.counter}{${sel}, ${f.errors}}${RANGE}))`,
    };
  }
  return { kind: "latency", buckets: `sum by (le) (increase(${f.bucket}{${sel}}${RANGE}))`, msPerUnit: f.msPerUnit };
}
