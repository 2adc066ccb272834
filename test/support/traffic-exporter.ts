/**
 * A simulated workload for the metric integration tests: it "serves" a steady number of
 * requests per tick for a canary and a primary, with a chosen error ratio and latency each,
 * and exports them with prom-client in every shape aviary's built-in queries read:
 *
 *   /metrics/app/<pod>  the application's own http_requests_total + http_request_duration_seconds
 *                       of one pod; `namespace`/`pod` come from the scrape config's target labels
 *   /metrics/mesh       Istio, Envoy (App Mesh), ingress-nginx and Linkerd series, labels included
 *
 * The primary always serves worse than any canary phase, so a query that mixed the two up
 * would be visible in the asserted values.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Counter, Histogram, Registry } from "prom-client";

export interface TrafficShape {
  requestsPerTick: number;
  /** Fraction of requests answered 5xx; requestsPerTick * errorRatio must be a whole number. */
  errorRatio: number;
  latencyMs: number;
}

export const NAMESPACE = "test";
export const TARGET = "podinfo";
export const INGRESS = "podinfo";
/** Pod names as a Deployment's ReplicaSet makes them: `<deployment>-<rs hash>-<pod hash>`. */
export const CANARY_POD = "podinfo-5f7b9c6d8-x2x4z";
export const PRIMARY_POD = "podinfo-primary-7c9d8b6f4-q8w7e";

const BUCKETS_MS = [50, 100, 200, 300, 500, 1000, 2000, 5000];

export interface TrafficExporter {
  url: string;
  /** Changes what the canary serves from the next tick on; `undefined` stops its traffic. */
  setCanary(shape: TrafficShape | undefined): void;
  close(): Promise<void>;
}

interface Role {
  pod: string;
  workload: string;
  nginxCanary: string;
  shape: TrafficShape | undefined;
}

export async function startTrafficExporter(canary: TrafficShape | undefined, tickMs = 200): Promise<TrafficExporter> {
  const apps = new Map([CANARY_POD, PRIMARY_POD].map((pod) => [pod, appMetrics()]));
  const mesh = meshMetrics();
  const roles: Role[] = [
    { pod: CANARY_POD, workload: TARGET, nginxCanary: `${NAMESPACE}-${TARGET}-canary-9898`, shape: canary },
    { pod: PRIMARY_POD, workload: `${TARGET}-primary`, nginxCanary: "", shape: { requestsPerTick: 10, errorRatio: 0.5, latencyMs: 2500 } },
  ];

  const tick = () => {
    for (const role of roles) {
      const shape = role.shape;
      if (shape === undefined) continue;
      const errors = Math.round(shape.requestsPerTick * shape.errorRatio);
      for (let i = 0; i < shape.requestsPerTick; i++) record(role, i < errors ? 503 : 200, shape.latencyMs);
    }
  };

  const record = (role: Role, code: number, latencyMs: number) => {
    const app = apps.get(role.pod);
    app?.requests.inc({ status: String(code) });
    app?.duration.observe(latencyMs / 1000);
    const istio = { reporter: "destination", destination_workload_namespace: NAMESPACE, destination_workload: role.workload };
    mesh.istioRequests.inc({ ...istio, response_code: String(code) });
    mesh.istioDuration.observe(istio, latencyMs);
    const envoy = { kubernetes_namespace: NAMESPACE, kubernetes_pod_name: role.pod };
    mesh.envoyRq.inc({ ...envoy, envoy_response_code: String(code) });
    mesh.envoyRqTime.observe(envoy, latencyMs);
    const nginx = { namespace: NAMESPACE, ingress: INGRESS, canary: role.nginxCanary };
    mesh.nginxRequests.inc({ ...nginx, status: String(code) });
    mesh.nginxDuration.observe(nginx, latencyMs / 1000);
    const linkerd = { namespace: NAMESPACE, deployment: role.workload, direction: "inbound" };
    mesh.linkerdResponses.inc({ ...linkerd, classification: code >= 500 ? "failure" : "success" });
    mesh.linkerdLatency.observe(linkerd, latencyMs);
  };

  const timer = setInterval(tick, tickMs);
  const server = http.createServer((req, res) => {
    const url = req.url ?? "";
    const registry = url === "/metrics/mesh" ? mesh.registry : apps.get(url.replace(/^\/metrics\/app\//, ""))?.registry;
    if (registry === undefined) {
      res.writeHead(404).end();
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { "content-type": registry.contentType }).end(text),
      (err: unknown) => res.writeHead(500).end(String(err)),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    setCanary: (shape) => {
      const role = roles[0];
      if (role) role.shape = shape;
    },
    close: async () => {
      clearInterval(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function appMetrics() {
  const registry = new Registry();
  return {
    registry,
    requests: new Counter({ name: "http_requests_total", help: "HTTP requests by status code", labelNames: ["status"], registers: [registry] }),
    duration: new Histogram({
      name: "http_request_duration_seconds",
      help: "HTTP request latency",
      buckets: BUCKETS_MS.map((b) => b / 1000),
      registers: [registry],
    }),
  };
}

function meshMetrics() {
  const registry = new Registry();
  const registers = [registry];
  const istioLabels = ["reporter", "destination_workload_namespace", "destination_workload"];
  const envoyLabels = ["kubernetes_namespace", "kubernetes_pod_name"];
  const nginxLabels = ["namespace", "ingress", "canary"];
  const linkerdLabels = ["namespace", "deployment", "direction"];
  return {
    registry,
    istioRequests: new Counter({ name: "istio_requests_total", help: "istio", labelNames: [...istioLabels, "response_code"], registers }),
    istioDuration: new Histogram({ name: "istio_request_duration_milliseconds", help: "istio", labelNames: istioLabels, buckets: BUCKETS_MS, registers }),
    envoyRq: new Counter({ name: "envoy_cluster_upstream_rq", help: "envoy", labelNames: [...envoyLabels, "envoy_response_code"], registers }),
    envoyRqTime: new Histogram({ name: "envoy_cluster_upstream_rq_time", help: "envoy", labelNames: envoyLabels, buckets: BUCKETS_MS, registers }),
    nginxRequests: new Counter({ name: "nginx_ingress_controller_requests", help: "nginx", labelNames: [...nginxLabels, "status"], registers }),
    nginxDuration: new Histogram({
      name: "nginx_ingress_controller_request_duration_seconds",
      help: "nginx",
      labelNames: nginxLabels,
      buckets: BUCKETS_MS.map((b) => b / 1000),
      registers,
    }),
    linkerdResponses: new Counter({ name: "response_total", help: "linkerd", labelNames: [...linkerdLabels, "classification"], registers }),
    linkerdLatency: new Histogram({ name: "response_latency_ms", help: "linkerd", labelNames: linkerdLabels, buckets: BUCKETS_MS, registers }),
  };
}
