/**
 * The series a real data plane would export for the requests the simulated mesh sends, in
 * the shapes aviary's built-in queries read for each router (src/metrics/builtins.ts):
 *
 *   istio      istio_requests_total{reporter="destination", destination_workload_namespace,
 *              destination_workload, response_code}, istio_request_duration_milliseconds
 *   appmesh    envoy_cluster_upstream_rq{kubernetes_namespace, kubernetes_pod_name,
 *              envoy_response_code}, envoy_cluster_upstream_rq_time (ms)
 *   nginx      nginx_ingress_controller_requests{namespace, ingress, canary, service, status},
 *              nginx_ingress_controller_request_duration_seconds
 *   linkerd    response_total{namespace, deployment, direction="inbound", classification},
 *              response_latency_ms
 *
 * (kubernetes and gatewayapi read the application's own histogram, which the demo app
 * processes export themselves.) Measured at the client: status and latency as the mesh saw
 * them, the way a sidecar measures them.
 */
import { Counter, Histogram, Registry } from "prom-client";

const BUCKETS_MS = [5, 10, 25, 50, 75, 100, 150, 200, 300, 400, 500, 600, 750, 1000, 2500, 5000];

/** Who served a request, in the words of each proxy's labels. */
export interface Upstream {
  namespace: string;
  /** The Deployment (`storefront` or `storefront-primary`). */
  workload: string;
  /** The simulated pod name (targets.ts). */
  pod: string;
  /** The Canary's ingressRef name (nginx); the target name when there is none. */
  ingress: string;
  /** ingress-nginx's canary upstream (`<ns>-<svc>-canary-<port>`); "" for the primary. */
  nginxCanary: string;
  /** The Service ingress-nginx sent the request to: the apex (primary) or `<svc>-canary`. */
  service: string;
}

export interface ProxyMetrics {
  registry: Registry;
  record(upstream: Upstream, status: number, latencyMs: number): void;
  /**
   * Exports an upstream's series at zero before its first request, as a proxy does for an
   * endpoint it knows: a rate over the first seconds of traffic is then a number, not "no data".
   */
  prime(upstream: Upstream): void;
}

export function createProxyMetrics(): ProxyMetrics {
  const registry = new Registry();
  const registers = [registry];
  const istio = ["reporter", "destination_workload_namespace", "destination_workload"];
  const envoy = ["kubernetes_namespace", "kubernetes_pod_name"];
  const nginx = ["namespace", "ingress", "canary", "service"];
  const linkerd = ["namespace", "deployment", "direction"];
  const istioRequests = new Counter({ name: "istio_requests_total", help: "Istio requests (simulated mesh)", labelNames: [...istio, "response_code"], registers });
  const istioDuration = new Histogram({ name: "istio_request_duration_milliseconds", help: "Istio request duration (simulated mesh)", labelNames: istio, buckets: BUCKETS_MS, registers });
  const envoyRq = new Counter({ name: "envoy_cluster_upstream_rq", help: "Envoy upstream requests (simulated mesh)", labelNames: [...envoy, "envoy_response_code"], registers });
  const envoyRqTime = new Histogram({ name: "envoy_cluster_upstream_rq_time", help: "Envoy upstream request time (simulated mesh)", labelNames: envoy, buckets: BUCKETS_MS, registers });
  const nginxRequests = new Counter({ name: "nginx_ingress_controller_requests", help: "ingress-nginx requests (simulated mesh)", labelNames: [...nginx, "status"], registers });
  const nginxDuration = new Histogram({
    name: "nginx_ingress_controller_request_duration_seconds",
    help: "ingress-nginx request duration (simulated mesh)",
    labelNames: nginx,
    buckets: BUCKETS_MS.map((b) => b / 1000),
    registers,
  });
  const linkerdResponses = new Counter({ name: "response_total", help: "Linkerd proxy responses (simulated mesh)", labelNames: [...linkerd, "classification"], registers });
  const linkerdLatency = new Histogram({ name: "response_latency_ms", help: "Linkerd proxy latency (simulated mesh)", labelNames: linkerd, buckets: BUCKETS_MS, registers });

  const labelsOf = (u: Upstream) => ({
    istio: { reporter: "destination", destination_workload_namespace: u.namespace, destination_workload: u.workload },
    envoy: { kubernetes_namespace: u.namespace, kubernetes_pod_name: u.pod },
    nginx: { namespace: u.namespace, ingress: u.ingress, canary: u.nginxCanary, service: u.service },
    linkerd: { namespace: u.namespace, deployment: u.workload, direction: "inbound" },
  });
  return {
    registry,
    record(u, status, latencyMs) {
      const code = String(status);
      const l = labelsOf(u);
      istioRequests.inc({ ...l.istio, response_code: code });
      istioDuration.observe(l.istio, latencyMs);
      envoyRq.inc({ ...l.envoy, envoy_response_code: code });
      envoyRqTime.observe(l.envoy, latencyMs);
      nginxRequests.inc({ ...l.nginx, status: code });
      nginxDuration.observe(l.nginx, latencyMs / 1000);
      linkerdResponses.inc({ ...l.linkerd, classification: status >= 500 ? "failure" : "success" });
      linkerdLatency.observe(l.linkerd, latencyMs);
    },
    prime(u) {
      const l = labelsOf(u);
      istioRequests.inc({ ...l.istio, response_code: "200" }, 0);
      istioDuration.zero(l.istio);
      envoyRq.inc({ ...l.envoy, envoy_response_code: "200" }, 0);
      envoyRqTime.zero(l.envoy);
      nginxRequests.inc({ ...l.nginx, status: "200" }, 0);
      nginxDuration.zero(l.nginx);
      linkerdResponses.inc({ ...l.linkerd, classification: "success" }, 0);
      linkerdLatency.zero(l.linkerd);
    },
  };
}
