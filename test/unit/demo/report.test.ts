import assert from "node:assert/strict";
import { describeOutcome, whereToLook } from "../../../demo/runner/report.ts";
import type { ReleaseOutcome } from "../../../demo/runner/report.ts";
import type { MeshStats } from "../../../demo/mesh.ts";
import type { AnalysisResult, Canary, CanaryStatus } from "../../../src/api/types.ts";

const stats = (requests: number, errors: number): MeshStats => ({
  weights: { primary: 100, canary: 0, mirror: false }, skipped: 0,
  primary: { version: "2.0.0", requests: 0, errors: 0 }, canary: { version: "x", requests, errors },
});
const metric = (name: string, verdict: AnalysisResult["verdict"], message: string): AnalysisResult => ({ name, kind: "metric", verdict, message, time: "" });
const outcome = (expected: ReleaseOutcome["expected"], status: CanaryStatus): ReleaseOutcome => ({
  version: "3.0.0-bad", expected, seconds: 21, primaryImage: "r/shop:2.0.0", meshBefore: stats(100, 0), meshAfter: stats(444, 68),
  canary: {
    apiVersion: "aviary.dev/v1beta1", kind: "Canary", metadata: { name: "shop" },
    spec: { targetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "shop" }, service: { port: 80 }, analysis: { threshold: 3 } }, status,
  } as Canary,
});

describe("demo report", () => {
  it("says a rollback happened, after how many failed checks, and what was measured", () => {
    const lines = describeOutcome(outcome("Failed", { phase: "Failed", failedChecks: 3, lastAnalysis: [
      metric("request-success-rate", "fail", "request-success-rate 79.006% < 99%"), metric("request-duration", "pass", "request-duration 120ms <= 500ms"),
    ] }));
    assert.deepEqual(lines, [
      "✔ 3.0.0-bad rolled back in 21s after 3/3 failed checks: shop-primary still runs r/shop:2.0.0",
      "  measured: request-success-rate 79.006% < 99%",
      "  the canary served 344 requests through the simulated mesh, 68 of them 5xx",
    ]);
  });

  it("says a promotion happened and on which checks", () => {
    const lines = describeOutcome({ ...outcome("Succeeded", { phase: "Succeeded", lastAnalysis: [metric("request-success-rate", "pass", "request-success-rate 100% >= 99%")] }), version: "2.0.0", primaryImage: "r/shop:2.0.0" });
    assert.equal(lines[0], "✔ 2.0.0 promoted in 21s: shop-primary now runs r/shop:2.0.0 and takes all traffic");
    assert.equal(lines[1], "  last checks: request-success-rate 100% >= 99%");
  });

  it("flags an unexpected verdict with the reason", () => {
    const lines = describeOutcome(outcome("Failed", { phase: "Succeeded", lastAnalysis: [metric("request-duration", "pass", "request-duration 970ms <= 1000ms")] }));
    assert.equal(lines[0], "✘ 3.0.0-bad: expected Failed, but the Canary is Succeeded after 21s: request-duration 970ms <= 1000ms");
  });

  it("ends with where to look", () => {
    const text = whereToLook({ namespace: "aviary-demo", name: "shop", aviaryLog: "/c/aviary.log", meshLog: "/c/mesh.log", prometheus: "http://127.0.0.1:19090", kubeconfig: "/c/kubeconfig" }).join("\n");
    for (const expected of ["kubectl -n aviary-demo get canaries -w", "get events", "/c/aviary.log", "/c/mesh.log", "http://127.0.0.1:19090/graph", "export KUBECONFIG=/c/kubeconfig"]) {
      assert.ok(text.includes(expected), expected);
    }
  });
});
