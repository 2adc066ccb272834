import assert from "node:assert/strict";
import { albMetricData } from "../../../demo/mesh/cloudwatch.ts";
import type { TargetGroupTally } from "../../../demo/mesh/cloudwatch.ts";
import { createProxyMetrics } from "../../../demo/mesh/proxy-metrics.ts";
import type { Upstream } from "../../../demo/mesh/proxy-metrics.ts";

const canary: Upstream = { namespace: "demo", workload: "shop", pod: "shop-abc1234567-def12", ingress: "shop", nginxCanary: "demo-shop-canary-80", service: "shop-canary" };
const primary: Upstream = { namespace: "demo", workload: "shop-primary", pod: "shop-primary-abc1234567-def12", ingress: "shop", nginxCanary: "", service: "shop" };

describe("simulated mesh: proxy-shaped series", () => {
  it("records each answer as Istio, Envoy, ingress-nginx and Linkerd would, with the labels the built-ins select", async () => {
    const m = createProxyMetrics();
    m.record(canary, 503, 250);
    m.record(primary, 200, 40);
    const text = await m.registry.metrics();
    for (const line of [
      'istio_requests_total{reporter="destination",destination_workload_namespace="demo",destination_workload="shop",response_code="503"} 1',
      'envoy_cluster_upstream_rq{kubernetes_namespace="demo",kubernetes_pod_name="shop-abc1234567-def12",envoy_response_code="503"} 1',
      'nginx_ingress_controller_requests{namespace="demo",ingress="shop",canary="demo-shop-canary-80",service="shop-canary",status="503"} 1',
      'nginx_ingress_controller_requests{namespace="demo",ingress="shop",canary="",service="shop",status="200"} 1',
      'response_total{namespace="demo",deployment="shop",direction="inbound",classification="failure"} 1',
      'response_total{namespace="demo",deployment="shop-primary",direction="inbound",classification="success"} 1',
      'envoy_cluster_upstream_rq_time_bucket{le="300",kubernetes_namespace="demo",kubernetes_pod_name="shop-abc1234567-def12"} 1',
      'envoy_cluster_upstream_rq_time_bucket{le="200",kubernetes_namespace="demo",kubernetes_pod_name="shop-abc1234567-def12"} 0',
      'nginx_ingress_controller_request_duration_seconds_bucket{le="0.05",namespace="demo",ingress="shop",canary="",service="shop"} 1',
    ]) {
      assert.ok(text.split("\n").includes(line), `missing: ${line}`);
    }
  });

  it("exports a new upstream at zero before its first request", async () => {
    const m = createProxyMetrics();
    m.prime(canary);
    const text = await m.registry.metrics();
    assert.ok(text.includes('envoy_cluster_upstream_rq{kubernetes_namespace="demo",kubernetes_pod_name="shop-abc1234567-def12",envoy_response_code="200"} 0'));
    assert.ok(text.includes('istio_request_duration_milliseconds_count{reporter="destination",destination_workload_namespace="demo",destination_workload="shop"} 0'));
  });
});

describe("simulated mesh: load-balancer metrics for CloudWatch", () => {
  it("puts request count, 5xx count (zero included) and average response time per target group", () => {
    const at = new Date(0);
    const tallies = new Map<string, TargetGroupTally>([
      ["demo/shop", { requests: 10, errors5xx: 2, latencySumMs: 1500 }],
      ["demo/shop-primary", { requests: 40, errors5xx: 0, latencySumMs: 2000 }],
      ["demo/idle", { requests: 0, errors5xx: 0, latencySumMs: 0 }],
    ]);
    const data = albMetricData(tallies, at);
    const value = (group: string, metric: string) =>
      data.find((d) => d.MetricName === metric && d.Dimensions?.[0]?.Value === group)?.Value;
    assert.equal(value("demo/shop", "HTTPCode_Target_5XX_Count"), 2);
    assert.equal(value("demo/shop", "RequestCount"), 10);
    assert.equal(value("demo/shop", "TargetResponseTime"), 0.15);
    assert.equal(value("demo/shop-primary", "HTTPCode_Target_5XX_Count"), 0);
    assert.equal(data.filter((d) => d.Dimensions?.[0]?.Value === "demo/idle").length, 0, "no traffic, no data");
    assert.ok(data.every((d) => d.Timestamp === at && d.Dimensions?.[0]?.Name === "TargetGroup"));
  });
});
