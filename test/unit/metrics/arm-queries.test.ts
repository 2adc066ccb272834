import assert from "node:assert/strict";
import { builtinCountQueries } from "../../../src/metrics/arm-queries.ts";
import type { ArmHistogram } from "../../../src/metrics/compare-verdict.ts";
import { chooseBoundaries, histogramOf, slowerCounts } from "../../../src/metrics/compare-verdict.ts";
import { renderTemplate } from "../../../src/metrics/template.ts";

const ctx = (arm: "canary" | "primary") => ({
  namespace: "shop",
  target: "podinfo",
  service: "podinfo",
  ingress: "podinfo",
  interval: "1m",
  arm,
  workload: arm === "canary" ? "podinfo" : "podinfo-primary",
  primary: "podinfo-primary",
  window: "37s",
  windowEnd: "1767225600",
});

describe("metrics/arm-queries: the built-ins' per-arm counts", () => {
  it("selects each arm by its own workload, over the window ending at the check, for every router family", () => {
    const render = (family: Parameters<typeof builtinCountQueries>[0], arm: "canary" | "primary") => {
      const q = builtinCountQueries(family, "request-success-rate", arm);
      assert.equal(q.kind, "errors");
      return q.kind === "errors" ? [renderTemplate(q.requests, ctx(arm)), renderTemplate(q.bad, ctx(arm))] : [];
    };
    assert.deepEqual(render("istio", "primary"), [
      'sum(increase(istio_requests_total{reporter="destination", destination_workload_namespace="shop", destination_workload="podinfo-primary"}[37s] @ 1767225600))',
      'sum(increase(istio_requests_total{reporter="destination", destination_workload_namespace="shop", destination_workload="podinfo-primary", response_code=~"5.."}[37s] @ 1767225600))',
    ]);
    assert.match(render("appmesh", "canary")[0]!, /kubernetes_pod_name=~"podinfo-\[0-9a-zA-Z\]\+-\[0-9a-zA-Z\]\+"/);
    assert.match(render("nginx", "canary")[1]!, /ingress="podinfo", canary!="", status=~"5.."\}\[37s\] @ 1767225600/);
    assert.match(render("nginx", "primary")[0]!, /ingress="podinfo", canary=""\}/);
    assert.match(render("skipper", "primary")[1]!, /skipper_response_duration_seconds_count\{route=~"kube\(ew\)\?_shop__podinfo_canary__\.\*__podinfo_primary\(_\[0-9\]\+\)\?", code=~"5.."\}/);
    assert.match(render("skipper", "canary")[0]!, /__podinfo_canary\(_\[0-9\]\+\)\?"\}\[37s\]/);
    assert.match(render("linkerd", "primary")[1]!, /deployment="podinfo-primary", direction="inbound", classification="failure"/);
    assert.match(render("kubernetes", "primary")[0]!, /^sum\(increase\(http_requests_total\{namespace="shop", pod=~"podinfo-primary-\[0-9a-zA-Z\]\+-\[0-9a-zA-Z\]\+"\}\[37s\] @ 1767225600\)\)$/);
  });

  it("reads latency with one per-le query per arm, in the histogram's unit", () => {
    const q = builtinCountQueries("nginx", "request-duration", "canary");
    assert.equal(q.kind, "latency");
    if (q.kind !== "latency") return;
    assert.equal(q.msPerUnit, 1000);
    assert.equal(renderTemplate(q.buckets, ctx("canary")), 'sum by (le) (increase(nginx_ingress_controller_request_duration_seconds_bucket{namespace="shop", ingress="podinfo", canary!=""}[37s] @ 1767225600))');
    const istio = builtinCountQueries("istio", "request-duration", "primary");
    assert.equal(istio.kind === "latency" && istio.msPerUnit, 1);
  });
});

describe("metrics/compare-verdict: histograms", () => {
  const h = (total: number, cumulative: Record<number, number>): ArmHistogram => ({ total, cumulative: new Map(Object.entries(cumulative).map(([k, v]) => [Number(k), v])) });

  it("turns per-le samples into counts slower than each boundary", () => {
    const canary = histogramOf(
      [
        { labels: { le: "0.1" }, value: 59.6 },
        { labels: { le: "0.25" }, value: 90 },
        { labels: { le: "+Inf" }, value: 100.2 },
        { labels: { le: "0.5" }, value: NaN },
      ],
      1000,
    );
    assert.equal(canary.total, 100);
    assert.deepEqual([...canary.cumulative], [[100, 60], [250, 90]]);
    assert.deepEqual(slowerCounts([100, 250], canary, h(0, {})), { canary: { requests: 100, slowerThan: [40, 10] }, primary: { requests: 0, slowerThan: [0, 0] } });
  });

  it("keeps the 16 largest boundaries, and names a boundary an arm with requests lacks", () => {
    const many = h(10, Object.fromEntries(Array.from({ length: 20 }, (_, i) => [(i + 1) * 10, 5])));
    assert.deepEqual(chooseBoundaries(many, h(0, {})), Array.from({ length: 16 }, (_, i) => (i + 5) * 10));
    assert.equal(slowerCounts([100, 250], h(10, { 100: 5 }), h(0, {})), "the canary's histogram has no bucket le=250ms, which this run's test was started with");
  });
});
