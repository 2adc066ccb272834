import assert from "node:assert/strict";
import {
  builtinContext,
  builtinQueryTemplate,
  builtinRouterFor,
  isBuiltinMetric,
  thresholdRangeOf,
} from "../../../src/metrics/builtins.ts";
import { renderTemplate } from "../../../src/metrics/template.ts";
import { MetricConfigError } from "../../../src/metrics/types.ts";

const ctx = { namespace: "test", target: "podinfo", service: "podinfo", ingress: "podinfo", interval: "1m" };

describe("metrics/builtins", () => {
  it("maps router providers to query families, ignoring version suffixes", () => {
    assert.equal(builtinRouterFor(undefined), "kubernetes");
    assert.equal(builtinRouterFor(""), "kubernetes");
    assert.equal(builtinRouterFor("gatewayapi:v1"), "kubernetes");
    assert.equal(builtinRouterFor("appmesh:v1beta2"), "appmesh");
    assert.equal(builtinRouterFor("smi"), "linkerd");
    assert.equal(builtinRouterFor("istio"), "istio");
    assert.equal(builtinRouterFor("nginx"), "nginx");
    assert.equal(builtinRouterFor("skipper"), "skipper");
    assert.equal(builtinRouterFor("alb"), "kubernetes", "ALB's own metrics are CloudWatch's: the built-ins read the app's");
  });

  it("renders skipper queries over the canary Ingress's route, names spelled as in Skipper's route ids", () => {
    const named = { ...ctx, namespace: "team-a", service: "my-app", ingress: "my.app", target: "my-app" };
    const route = 'route=~"kube(ew)?_team_a__my_app_canary__.*__my_app_canary(_[0-9]+)?"';
    const sr = renderTemplate(builtinQueryTemplate("request-success-rate", "skipper"), builtinContext("skipper", named));
    assert.equal(
      sr,
      `100 * (1 - ((sum(rate(skipper_response_duration_seconds_count{${route}, code=~"5.."}[1m])) or vector(0)) / sum(rate(skipper_response_duration_seconds_count{${route}}[1m]))))`,
    );
    const d = renderTemplate(builtinQueryTemplate("request-duration", "skipper"), builtinContext("skipper", named));
    assert.equal(d, `histogram_quantile(0.99, sum by (le) (rate(skipper_serve_route_duration_seconds_bucket{${route}}[1m]))) * 1000`);
    assert.deepEqual(builtinContext("nginx", named), named, "other families take the names as they are");
  });

  it("throws for an unknown router instead of falling back", () => {
    assert.throws(() => builtinQueryTemplate("request-success-rate", "ambassador"), MetricConfigError);
  });

  it("renders the kubernetes queries over the application's own metrics", () => {
    const sr = renderTemplate(builtinQueryTemplate("request-success-rate", "kubernetes"), ctx);
    assert.equal(
      sr,
      '100 * (1 - ((sum(rate(http_requests_total{namespace="test", pod=~"podinfo-[0-9a-zA-Z]+-[0-9a-zA-Z]+", status=~"5.."}[1m])) or vector(0))' +
        ' / sum(rate(http_requests_total{namespace="test", pod=~"podinfo-[0-9a-zA-Z]+-[0-9a-zA-Z]+"}[1m]))))',
    );
    const d = renderTemplate(builtinQueryTemplate("request-duration", "kubernetes"), ctx);
    assert.equal(
      d,
      'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{namespace="test", pod=~"podinfo-[0-9a-zA-Z]+-[0-9a-zA-Z]+"}[1m]))) * 1000',
    );
  });

  const expectations: Array<[string, string[], string[]]> = [
    ["istio", ["istio_requests_total", 'destination_workload="podinfo"', 'response_code=~"5.."'], ["istio_request_duration_milliseconds_bucket"]],
    ["appmesh", ["envoy_cluster_upstream_rq{", "kubernetes_pod_name=~", 'envoy_response_code=~"5.."'], ["envoy_cluster_upstream_rq_time_bucket"]],
    ["nginx", ["nginx_ingress_controller_requests", 'ingress="podinfo"', 'canary!=""'], ["nginx_ingress_controller_request_duration_seconds_bucket", "* 1000"]],
    ["linkerd", ["response_total", 'deployment="podinfo"', 'classification="failure"'], ["response_latency_ms_bucket", 'direction="inbound"']],
  ];
  for (const [router, srParts, durParts] of expectations) {
    it(`renders ${router} queries with its metric names and labels`, () => {
      const sr = renderTemplate(builtinQueryTemplate("request-success-rate", router), ctx);
      const d = renderTemplate(builtinQueryTemplate("request-duration", router), ctx);
      for (const part of srParts) assert.ok(sr.includes(part), `${router} success rate lacks ${part}: ${sr}`);
      for (const part of durParts) assert.ok(d.includes(part), `${router} duration lacks ${part}: ${d}`);
      assert.ok(sr.includes('namespace="test"') && d.includes('namespace="test"'), sr);
      assert.ok(!sr.includes("{{") && !d.includes("{{"));
      assert.match(d, /^histogram_quantile\(0\.99, /);
    });
  }

  it("does not multiply millisecond histograms", () => {
    for (const router of ["istio", "appmesh", "linkerd"]) {
      assert.ok(!builtinQueryTemplate("request-duration", router).includes("* 1000"), router);
    }
  });

  it("needs an ingress for nginx", () => {
    assert.throws(() => renderTemplate(builtinQueryTemplate("request-success-rate", "nginx"), { ...ctx, ingress: undefined }), /ingress/);
  });

  it("knows its built-in names", () => {
    assert.equal(isBuiltinMetric("request-success-rate"), true);
    assert.equal(isBuiltinMetric("request-duration"), true);
    assert.equal(isBuiltinMetric("error-rate"), false);
  });

  it("reads thresholdRange, and Flagger's legacy threshold per metric", () => {
    assert.deepEqual(thresholdRangeOf({ name: "x", thresholdRange: { min: 1, max: 2 } }), { min: 1, max: 2 });
    assert.deepEqual(thresholdRangeOf({ name: "x", thresholdRange: { max: 500 } }), { max: 500 });
    assert.deepEqual(thresholdRangeOf({ name: "request-success-rate", threshold: 99 }), { min: 99 });
    assert.deepEqual(thresholdRangeOf({ name: "request-duration", threshold: 500 }), { max: 500 });
    assert.deepEqual(thresholdRangeOf({ name: "x" }), {});
  });
});
