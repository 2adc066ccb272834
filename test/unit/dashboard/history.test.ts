import assert from "node:assert/strict";
import type { AnalysisResult, Canary, CanaryStatus } from "../../../src/api/types.ts";
import { createCanaryHistory } from "../../../src/dashboard/history.ts";
import { describeObject, summarize } from "../../../src/dashboard/model.ts";
import { parseConfig } from "../../../src/config.ts";

const T0 = Date.parse("2026-01-01T12:00:00Z");
const iso = (ms: number) => new Date(ms).toISOString();

function canary(status: CanaryStatus): Canary {
  return {
    apiVersion: "aviary.dev/v1beta1",
    kind: "Canary",
    metadata: { name: "web", namespace: "shop" },
    spec: { targetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "web" }, service: { port: 80 }, analysis: { threshold: 3 } },
    status,
  };
}

const result = (t: number, value: number, verdict: AnalysisResult["verdict"] = "pass"): AnalysisResult => ({
  name: "request-success-rate", kind: "metric", value, min: 99, verdict, message: `request-success-rate ${value}%`, time: iso(t),
});

describe("dashboard run history", () => {
  it("records the weights and measurements of a live run, and ends it with its outcome", () => {
    const h = createCanaryHistory({ since: T0 - 1000 });
    h.observe(canary({ phase: "Succeeded", canaryWeight: 0 }), T0);
    h.observe(canary({ phase: "Progressing", canaryWeight: 20, canaryRevision: "r2" }), T0 + 1000);
    h.observe(canary({ phase: "Progressing", canaryWeight: 20, canaryRevision: "r2", lastAnalysis: [result(T0 + 1900, 100)] }), T0 + 2000);
    h.observe(canary({ phase: "Progressing", canaryWeight: 40, canaryRevision: "r2", lastAnalysis: [result(T0 + 2900, 97, "fail")] }), T0 + 3000);
    h.observe(canary({ phase: "Failed", canaryWeight: 0, canaryRevision: "r2", lastAnalysis: [result(T0 + 2900, 97, "fail")], conditions: [{ type: "Promoted", status: "False", message: "rolled back revision r2" }] }), T0 + 4000);
    const runs = h.runs();
    assert.equal(runs.length, 1);
    const run = runs[0]!;
    assert.equal(run.revision, "r2");
    assert.equal(run.outcome, "Failed");
    assert.equal(run.verdict, "rolled back revision r2");
    assert.equal(run.endedAt, T0 + 4000);
    assert.deepEqual(run.weights.map((w) => [w.t - T0, w.canary, w.primary]), [[1000, 0, 100], [1000, 20, 80], [3000, 40, 60], [4000, 0, 100]]);
    assert.deepEqual(run.checks.map((c) => [c.name, c.points.map((p) => [p.value, p.verdict])]), [["request-success-rate", [[100, "pass"], [97, "fail"]]]]);
    assert.deepEqual(run.comparisons, []);
  });

  it("keeps the current run and the one before, and does not carry old measurements into a new run", () => {
    const h = createCanaryHistory({ since: T0 - 1000 });
    for (const [i, rev] of ["a", "b", "c"].entries()) {
      const start = T0 + i * 10_000;
      h.observe(canary({ phase: "Progressing", canaryWeight: 10, canaryRevision: rev, lastAnalysis: [result(start - 5000, 99.5)] }), start);
      h.observe(canary({ phase: "Succeeded", canaryWeight: 0, canaryRevision: rev }), start + 5000);
    }
    const runs = h.runs();
    assert.deepEqual(runs.map((r) => [r.revision, r.outcome]), [["b", "Succeeded"], ["c", "Succeeded"]]);
    assert.deepEqual(runs[1]!.checks, [], "the previous run's measurement is not this run's");
  });

  it("seeds a run from the Canary's events before the server started and joins it to what it sees live", () => {
    const since = T0 + 10_000;
    const h = createCanaryHistory({ since });
    const ev = (t: number, reason: string, message: string) => h.applyEvent({ time: iso(t), type: "Normal", reason, message, count: 1 });
    assert.equal(ev(T0, "NewRevision", "new revision r9 of web detected: starting a canary run"), true);
    ev(T0 + 2000, "WeightAdvanced", "canary weight 0% -> 20% for revision r9");
    ev(T0 + 5000, "WeightAdvanced", "canary weight 20% -> 40% for revision r9");
    assert.equal(ev(T0 + 5000, "WeightAdvanced", "canary weight 20% -> 40% for revision r9"), false, "the same event twice counts once");
    h.observe(canary({ phase: "Progressing", canaryWeight: 40, canaryRevision: "r9" }), since + 500);
    h.observe(canary({ phase: "Progressing", canaryWeight: 60, canaryRevision: "r9" }), since + 2000);
    const [run] = h.runs();
    assert.equal(run?.startedAt, T0);
    assert.deepEqual(run?.weights.map((w) => w.canary), [0, 20, 40, 60]);
    assert.equal(run?.endedAt, undefined);
  });

  it("seeds a finished run's outcome and sentence from a RolledBack event", () => {
    const h = createCanaryHistory({ since: T0 + 60_000 });
    h.applyEvent({ time: iso(T0), type: "Normal", reason: "NewRevision", message: "new revision r3 of web detected", count: 1 });
    h.applyEvent({ time: iso(T0 + 3000), type: "Normal", reason: "WeightAdvanced", message: "canary weight 0% -> 20% for revision r3", count: 1 });
    h.applyEvent({ time: iso(T0 + 9000), type: "Warning", reason: "RolledBack", message: "rolled back revision r3: 3 failed checks", count: 1 });
    const [run] = h.runs();
    assert.equal(run?.outcome, "Failed");
    assert.equal(run?.verdict, "rolled back revision r3: 3 failed checks");
    assert.deepEqual(run?.weights.map((w) => w.canary), [0, 20, 0]);
  });
});

describe("dashboard model", () => {
  it("summarizes a Canary with the revision and who changed the target", () => {
    const c = canary({ phase: "Progressing", canaryWeight: 30, failedChecks: 1, canaryRevision: "abc", lastPromotedSpec: "old" });
    c.metadata.annotations = { "aviary.dev/paused": "true", "aviary.dev/abort": "2026-01-01T00:00:00Z" };
    const target = { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web", namespace: "shop", annotations: { "aviary.dev/changed-by": "alice", "aviary.dev/revision": "abc" } } };
    const s = summarize(c, target);
    assert.equal(s.key, "shop/web");
    assert.deepEqual([s.canaryWeight, s.primaryWeight, s.failedChecks, s.threshold], [30, 70, 1, 3]);
    assert.deepEqual([s.revision, s.promotedRevision, s.changedBy, s.targetRevision, s.paused], ["abc", "old", "alice", "abc", true]);
    assert.equal(s.pending.length, 1);
  });

  it("tells ready from not ready for Deployments and route objects", () => {
    const dep = (ready: number, replicas: number) => ({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web-primary", generation: 2 }, spec: { replicas }, status: { readyReplicas: ready, observedGeneration: 2 } });
    assert.deepEqual(describeObject(dep(1, 2)), { kind: "Deployment", name: "web-primary", ready: false, detail: "1/2 ready" });
    assert.equal(describeObject(dep(2, 2)).ready, true);
    assert.equal(describeObject(dep(0, 0)).detail, "scaled to 0");
    const route = (status: string) => ({ apiVersion: "gateway.networking.k8s.io/v1", kind: "HTTPRoute", metadata: { name: "web" }, status: { parents: [{ conditions: [{ type: "Accepted", status }] }] } });
    assert.equal(describeObject(route("True")).ready, true);
    assert.equal(describeObject(route("False")).ready, false);
    assert.equal(describeObject({ apiVersion: "gateway.networking.k8s.io/v1", kind: "HTTPRoute", metadata: { name: "web" } }).ready, null);
  });
});

describe("operator dashboard flags", () => {
  it("is off by default, read-only unless actions are asked for, and rejects a bad port by name", () => {
    const base = parseConfig([], {}, "host", 1);
    assert.ok(base !== "help");
    assert.equal(base.dashboardPort, undefined);
    const on = parseConfig(["--dashboard-port", "8090", "--dashboard-actions"], {}, "host", 1);
    assert.ok(on !== "help");
    assert.deepEqual([on.dashboardPort, on.dashboardHost, on.dashboardActions], [8090, "127.0.0.1", true]);
    assert.throws(() => parseConfig(["--dashboard-port", "http"], {}, "host", 1), /--dashboard-port: must be a port number/);
  });
});
