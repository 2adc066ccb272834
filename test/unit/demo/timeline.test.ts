import assert from "node:assert/strict";
import { createTimeline, formatValue, measurements, timelineLine } from "../../../demo/timeline.ts";
import type { CanaryEvent } from "../../../demo/timeline.ts";
import { heartbeat } from "../../../demo/runner/follow.ts";
import type { AnalysisResult, Canary, CanaryStatus } from "../../../src/api/types.ts";

const at = new Date(2026, 0, 1, 12, 0, 31);
const result = (name: string, value: number | undefined, verdict: AnalysisResult["verdict"], bounds: { min?: number; max?: number } = {}): AnalysisResult => ({
  name, kind: "metric", verdict, message: `${name} …`, time: at.toISOString(), ...(value === undefined ? {} : { value }), ...bounds,
});
const canary = (status: CanaryStatus): Canary => ({
  apiVersion: "aviary.dev/v1beta1", kind: "Canary", metadata: { name: "shop", namespace: "demo" },
  spec: { targetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "shop" }, service: { port: 80 }, analysis: { threshold: 3, stepWeight: 20, maxWeight: 60 } },
  status,
});
const event = (name: string, reason: string, message: string, count = 1): CanaryEvent => ({ metadata: { name, uid: name }, reason, message, count });

describe("demo timeline", () => {
  it("prints one line per step: phase, weights, checks, then what was measured", () => {
    const c = canary({ phase: "Progressing", canaryWeight: 20, failedChecks: 0, lastAnalysis: [
      result("request-success-rate", 99.8123, "pass", { min: 99 }), result("request-duration", 212.4, "pass", { max: 500 }),
    ] });
    assert.equal(timelineLine(c, at), "[12:00:31] Progressing | canary 20% | primary 80% | checks 0/3 | success 99.8% p99 212ms");
  });

  it("shows the bound a failed metric crossed", () => {
    assert.equal(measurements([result("request-success-rate", 80.263, "fail", { min: 99 }), result("request-duration", 969.8, "fail", { max: 500 })]),
      "success 80.3% < 99% p99 970ms > 500ms");
    assert.equal(measurements([result("request-success-rate", undefined, "nodata", { min: 99 }), result("error-budget", 3, "pass")]), "success no data error-budget 3");
    assert.equal(measurements([{ ...result("gate", undefined, "fail"), kind: "webhook" }]), "");
  });

  it("prints no measurements before the first check", () => {
    assert.equal(timelineLine(canary({ phase: "Initialized" }), at), "[12:00:31] Initialized | canary 0% | primary 100% | checks 0/3");
  });

  it("formats percentages to one decimal and milliseconds whole", () => {
    assert.equal(formatValue("request-success-rate", 100), "100");
    assert.equal(formatValue("request-success-rate", 99.96), "100");
    assert.equal(formatValue("request-success-rate", 79.006), "79");
    assert.equal(formatValue("request-success-rate", 80.263), "80.3");
    assert.equal(formatValue("request-duration", 147.5), "148");
  });

  it("prints a line only when something changed, and each telling event once", () => {
    const t = createTimeline();
    const progressing = canary({ phase: "Progressing", canaryWeight: 20 });
    const first = t.observe(progressing, [event("e1", "NewRevision", "new revision abc")], at);
    assert.deepEqual(first, ["[12:00:31] Progressing | canary 20% | primary 80% | checks 0/3", "           NewRevision: new revision abc"]);
    assert.deepEqual(t.observe(progressing, [event("e1", "NewRevision", "new revision abc"), event("e2", "WeightAdvanced", "20 -> 40")], new Date(at.getTime() + 1000)), [], "same line, uninteresting event");
    const failing = canary({ phase: "Progressing", canaryWeight: 20, failedChecks: 1 });
    const next = t.observe(failing, [event("e3", "CheckFailed", "analysis failed (1/3)")], new Date(at.getTime() + 5000));
    assert.deepEqual(next, ["[12:00:36] Progressing | canary 20% | primary 80% | checks 1/3", "           CheckFailed: analysis failed (1/3)"]);
    assert.deepEqual(t.observe(failing, [event("e3", "CheckFailed", "analysis failed (1/3)", 2)], at), ["           CheckFailed: analysis failed (1/3)"], "a repeated event counts again");
  });

  it("says what it is still waiting for", () => {
    assert.equal(heartbeat("Progressing", "waiting for canary shop to be ready", "the promotion", at),
      "[12:00:31] … still Progressing (waiting for the promotion): waiting for canary shop to be ready");
    assert.equal(heartbeat(undefined, "", "Initialized", at), "[12:00:31] … still (no status) (waiting for Initialized)");
  });
});
