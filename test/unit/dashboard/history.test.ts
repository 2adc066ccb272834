import assert from "node:assert/strict";
import type { AnalysisResult, Canary, CanaryStatus, JudgeEvidence } from "../../../src/api/types.ts";
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

describe("dashboard run history: the judge's comparisons", () => {
  const judgedCanary = (status: CanaryStatus): Canary => {
    const c = canary(status);
    c.spec.analysis = {
      threshold: 2,
      metrics: [
        { name: "request-success-rate", compare: { tolerance: 1.2 } },
        { name: "request-duration", thresholdRange: { max: 500 }, compare: {} },
      ],
    };
    return c;
  };
  const evidence = (canaryBad: number, primaryBad: number, outcome: JudgeEvidence["outcome"], eValue: number): JudgeEvidence => ({
    outcome, label: "5xx", canaryRequests: 1000, canaryBad, primaryRequests: 9000, primaryBad,
    canaryRate: canaryBad / 1000, primaryRate: primaryBad / 9000, ratio: (canaryBad / 1000) / (primaryBad / 9000), ciLower: 0.5, ciUpper: 9,
    confidence: 0.99, tolerance: 1.2, eValue, threshold: 100, sentence: `5xx: canary ${canaryBad / 10}% vs primary … (e-value ${eValue})`,
  });
  const compared = (t: number, verdict: AnalysisResult["verdict"], judge?: JudgeEvidence): AnalysisResult => ({
    name: "request-success-rate", kind: "metric", verdict, time: iso(t),
    message: judge ? `request-success-rate: ${judge.sentence}` : "request-success-rate: not enough data (no window counted yet) (onNoData=fail)",
    ...(judge ? { judge } : {}),
  });
  const duration = (t: number, judge: JudgeEvidence): AnalysisResult => ({
    name: "request-duration", kind: "metric", value: 120, max: 500, verdict: "pass", time: iso(t),
    message: `request-duration 120ms <= 500ms; request-duration: ${judge.sentence}`, judge,
  });
  const judgeStatus = (windows: number) => ({ revision: "r2", metrics: { "request-success-rate": { windowEnd: iso(T0), windows, state: {} } } });

  it("records the judge's evidence per check, with the sentence alone, and charts a compare-only metric only there", () => {
    const h = createCanaryHistory({ since: T0 - 1000 });
    h.observe(judgedCanary({ phase: "Succeeded" }), T0);
    h.observe(judgedCanary({ phase: "Progressing", canaryWeight: 10, canaryRevision: "r2", lastAnalysis: [compared(T0 + 1500, "nodata")] }), T0 + 1600);
    const first = evidence(20, 45, "no-regression-yet", 3.1);
    h.observe(judgedCanary({ phase: "Progressing", canaryWeight: 20, canaryRevision: "r2", judge: judgeStatus(1), lastAnalysis: [compared(T0 + 2500, "pass", first), duration(T0 + 2500, first)] }), T0 + 2600);
    // The same version seen again (a resync) adds nothing.
    assert.equal(h.observe(judgedCanary({ phase: "Progressing", canaryWeight: 20, canaryRevision: "r2", judge: judgeStatus(1), lastAnalysis: [compared(T0 + 2500, "pass", first), duration(T0 + 2500, first)] }), T0 + 2700), false);
    const second = evidence(60, 45, "regression", 412);
    h.observe(judgedCanary({ phase: "Failed", canaryRevision: "r2", judge: judgeStatus(2), lastAnalysis: [compared(T0 + 3500, "fail", second)] }), T0 + 3600);

    const [run] = h.runs();
    assert.deepEqual(run!.checks.map((c) => c.name), ["request-duration"], "the compare-only metric has no value to chart against a range");
    const byName = new Map(run!.comparisons.map((c) => [c.name, c]));
    assert.deepEqual([...byName.keys()].sort(), ["request-duration", "request-success-rate"]);
    const sr = byName.get("request-success-rate")!;
    assert.deepEqual(sr.points.map((p) => [p.t - T0, p.verdict, p.evidence?.outcome, p.evidence?.eValue, p.windows]), [
      [1500, "nodata", undefined, undefined, undefined],
      [2500, "pass", "no-regression-yet", 3.1, 1],
      [3500, "fail", "regression", 412, 2],
    ]);
    assert.match(sr.points[0]!.message, /not enough data \(no window counted yet\)/, "before any window the result's own message");
    assert.equal(sr.points[2]!.message, second.sentence, "the judge's sentence, without the metric's name");
    assert.deepEqual([sr.points[2]!.evidence?.canaryRate, sr.points[2]!.evidence?.primaryRate, sr.points[2]!.evidence?.threshold], [0.06, 0.005, 100]);
    assert.equal(byName.get("request-duration")!.points[0]!.message, first.sentence, "a metric with a range too: the judge's half of the message");
  });

  it("starts the next run's comparisons empty", () => {
    const h = createCanaryHistory({ since: T0 - 1000 });
    h.observe(judgedCanary({ phase: "Progressing", canaryWeight: 10, canaryRevision: "r2", lastAnalysis: [compared(T0 + 500, "pass", evidence(1, 9, "no-regression-yet", 0.4))] }), T0 + 600);
    h.observe(judgedCanary({ phase: "Succeeded", canaryRevision: "r2" }), T0 + 1000);
    h.observe(judgedCanary({ phase: "Progressing", canaryWeight: 10, canaryRevision: "r3", lastAnalysis: [compared(T0 + 500, "pass", evidence(1, 9, "no-regression-yet", 0.4))] }), T0 + 2000);
    const runs = h.runs();
    assert.deepEqual(runs.map((r) => [r.revision, r.comparisons.map((c) => c.points.length)]), [["r2", [1]], ["r3", []]]);
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
