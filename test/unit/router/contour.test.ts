import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import type { Canary } from "../../../src/api/types.ts";
import { validateCanary } from "../../../src/api/validate.ts";
import { builtinQueryTemplate } from "../../../src/metrics/builtins.ts";
import { buildHTTPProxySpec, readHTTPProxy } from "../../../src/router/contour.ts";
import { RouterSpecError } from "../../../src/router/types.ts";

const canary = (service: Partial<Canary["spec"]["service"]> = {}): Canary => ({
  apiVersion: "aviary.dev/v1beta1",
  kind: "Canary",
  metadata: { name: "podinfo", namespace: "test", uid: "u" },
  spec: { provider: "contour", targetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "podinfo" }, service: { port: 9898, ...service } },
});

describe("contour router spec", () => {
  it("puts the split on the route's two services, each pinned for Linkerd", () => {
    const spec = buildHTTPProxySpec(canary(), { primary: 70, canary: 30, mirror: false });
    assert.deepEqual(spec, {
      routes: [{
        conditions: [{ prefix: "/" }],
        services: [
          { name: "podinfo-primary", port: 9898, weight: 70, requestHeadersPolicy: { set: [{ name: "l5d-dst-override", value: "podinfo-primary.test.svc.cluster.local:9898" }] } },
          { name: "podinfo-canary", port: 9898, weight: 30, requestHeadersPolicy: { set: [{ name: "l5d-dst-override", value: "podinfo-canary.test.svc.cluster.local:9898" }] } },
        ],
      }],
    });
  });

  it("carries the Service's prefix, timeout and retries", () => {
    const spec = buildHTTPProxySpec(canary({ name: "web", match: [{ uri: { prefix: "/api" } }], timeout: "10s", retries: { attempts: 2 } }), { primary: 100, canary: 0, mirror: false });
    const route = spec.routes[0]!;
    assert.deepEqual(route.conditions, [{ prefix: "/api" }]);
    assert.deepEqual(route.services.map((s) => s.name), ["web-primary", "web-canary"]);
    assert.deepEqual(route.timeoutPolicy, { response: "10s", idle: "5m" });
    assert.deepEqual(route.retryPolicy, { count: 2 });
  });

  it("refuses to mirror and to write a weight outside 0..100", () => {
    assert.throws(() => buildHTTPProxySpec(canary(), { primary: 100, canary: 0, mirror: true }), RouterSpecError);
    assert.throws(() => buildHTTPProxySpec(canary(), { primary: 101, canary: -1, mirror: false }), RangeError);
  });

  it("reads relative weights back as percentages, and a route naming neither Service as nothing", () => {
    const spec = { routes: [{ services: [{ name: "podinfo-primary", weight: 3 }, { name: "podinfo-canary", weight: 1 }] }] };
    assert.deepEqual(readHTTPProxy(spec, canary()), { primary: 75, canary: 25, mirror: false });
    assert.equal(readHTTPProxy({ routes: [{ services: [{ name: "other", weight: 1 }] }] }, canary()), undefined);
  });

  it("measures the canary's Envoy upstream cluster with the built-in metrics", () => {
    assert.match(builtinQueryTemplate("request-success-rate", "contour"), /envoy_cluster_upstream_rq\{envoy_cluster_name=~"\{\{ namespace \}\}_\{\{ service \}\}-canary_\[0-9a-zA-Z-\]\+", envoy_response_code=~"5\.\."\}/);
    assert.match(builtinQueryTemplate("request-duration", "contour"), /^histogram_quantile\(0\.99, sum by \(le\) \(rate\(envoy_cluster_upstream_rq_time_bucket\{envoy_cluster_name=~/);
  });

  it("examples/contour: the Canary passes validation; A/B matching is refused for this provider", () => {
    const docs = parseAllDocuments(readFileSync("examples/contour/canary.yaml", "utf8")).map((d) => d.toJS() as Canary);
    const c = docs.find((d) => d.kind === "Canary")!;
    assert.deepEqual(validateCanary(c).filter((p) => p.severity === "error"), []);
    const ab = structuredClone(c);
    ab.spec.analysis = { ...ab.spec.analysis, iterations: 5, match: [{ headers: { "x-canary": { exact: "insider" } } }] };
    assert.ok(validateCanary(ab).some((p) => p.severity === "error" && p.path.startsWith("spec.analysis.match")));
  });
});
