import assert from "node:assert/strict";
import type { AnalysisVerdict, CanaryMetric, CanaryStep } from "../../../../src/api/types.ts";
import type { CheckOutcome } from "../../../../src/controller/canary/planner/plan.ts";
import { checksOf, deploy, eventMessages, initialized, INTERVAL, makeCanary, phase, routeActions, routeWeights, run, runUntilTime } from "./plan-world.ts";
import type { World } from "./plan-world.ts";

const metric = (name: string, extra: Partial<CanaryMetric> = {}): CanaryMetric => ({ name, templateRef: { name }, thresholdRange: { min: 99 }, ...extra });

/** An analysis answer with one result per metric asked for; `verdictOf` picks each verdict. */
const answer =
  (verdictOf: (name: string, w: World) => AnalysisVerdict) =>
  (w: World, metrics: string[] = []): CheckOutcome => {
    const results = metrics.map((name) => ({ name, kind: "metric" as const, verdict: verdictOf(name, w), message: `${name} ${verdictOf(name, w)}`, time: new Date(w.now).toISOString() }));
    const ok = results.every((r) => r.verdict === "pass");
    return results.some((r) => r.verdict === "error") ? { ok: false, halted: "provider error", results } : { ok, results };
  };

function scheduled(steps: CanaryStep[], metrics: CanaryMetric[], threshold = 1): World {
  const w = initialized(makeCanary({ steps, metrics, threshold }));
  deploy(w, "rev2");
  return w;
}

const S = (n: number) => `${n * INTERVAL / 1000}s`;

describe("plan: the step schedule", () => {
  it("holds each weight for its pause, checks every interval meanwhile, then promotes", () => {
    const w = scheduled([{ weight: 20, pause: S(3) }, { weight: 50, pause: S(1) }, { weight: 100, pause: "0s" }], [metric("rate")]);
    run(w);
    assert.equal(phase(w), "Succeeded");
    assert.deepEqual(routeWeights(w), [20, 50, 100, 0]);
    const at = (weight: number) => routeActions(w).find((r) => r.canary === weight)!.at;
    assert.ok(at(50) - at(20) >= 3 * INTERVAL, "20% is held for its 3-interval pause");
    assert.ok(at(100) - at(50) >= INTERVAL);
    assert.deepEqual(checksOf(w, "analysis").map((c) => c.weight), [20, 20, 20, 50, 100]);
  });

  it("measures a metric only at its steps or from its fromStep", () => {
    const w = scheduled([{ weight: 10, pause: "0s" }, { weight: 20, pause: "0s" }, { weight: 30, pause: "0s" }], [metric("at-1", { steps: [1] }), metric("from-2", { fromStep: 2 }), metric("always")]);
    run(w);
    assert.equal(phase(w), "Succeeded");
    assert.deepEqual(checksOf(w, "analysis").map((c) => [c.weight, c.metrics]), [[10, ["always"]], [20, ["at-1", "always"]], [30, ["from-2", "always"]]]);
  });

  it("ends a step only when its bound metrics have taken their count, after their initialDelay", () => {
    const w = scheduled([{ weight: 40, pause: "0s" }, { weight: 100, pause: "0s" }], [metric("counted", { steps: [0], count: 3, initialDelay: S(2) })]);
    w.answers.analysis = answer(() => "pass");
    run(w);
    assert.equal(phase(w), "Succeeded");
    const counted = checksOf(w, "analysis").filter((c) => c.metrics?.includes("counted"));
    assert.equal(counted.length, 3);
    const start = routeActions(w).find((r) => r.canary === 40)!.at;
    assert.ok(counted[0]!.at - start >= 2 * INTERVAL, "the first measurement waits out the initialDelay");
    assert.ok(routeActions(w).find((r) => r.canary === 100)!.at >= counted[2]!.at);
  });
});

describe("plan: per-metric limits", () => {
  const steps: CanaryStep[] = [{ weight: 50, pause: S(10) }, { weight: 100, pause: "0s" }];

  it("failureLimit 1: the first failed measurement is tolerated and kept in the status, the second fails the run", () => {
    const w = scheduled(steps, [metric("rate", { failureLimit: 1 })]);
    w.answers.analysis = answer(() => "fail");
    run(w, (x) => checksOf(x, "analysis").length === 1);
    assert.equal(phase(w), "Progressing");
    assert.deepEqual(w.canary.status!.metricStates!.map((m) => [m.name, m.failures, m.measurements]), [["rate", 1, 1]]);
    assert.equal(w.canary.status!.failedChecks ?? 0, 0, "a limited metric does not count towards threshold");
    run(w);
    assert.equal(phase(w), "Failed");
    assert.equal(checksOf(w, "analysis").length, 2);
    assert.match(eventMessages(w, "RolledBack").join("\n") + JSON.stringify(w.canary.status!.conditions), /2 failed measurements exceed failureLimit 1/);
  });

  it("consecutiveErrorLimit 4: four errors in a row are tolerated, the fifth fails; a measurement in between starts over", () => {
    const w = scheduled(steps, [metric("rate", { consecutiveErrorLimit: 4 })]);
    w.answers.analysis = answer(() => "error");
    run(w);
    assert.equal(phase(w), "Failed");
    assert.equal(checksOf(w, "analysis").length, 5);

    const v = scheduled([{ weight: 50, pause: S(12) }, { weight: 100, pause: "0s" }], [metric("rate", { consecutiveErrorLimit: 4 })]);
    // errors 1-4, a pass, errors 1-4 again, then passes
    v.answers.analysis = answer(() => ([4, 9, 10, 11, 12].includes(checksOf(v, "analysis").length) ? "pass" : "error"));
    run(v);
    assert.equal(phase(v), "Succeeded", "a measurement between errors starts the count over");
  });

  it("keeps analysis.threshold for metrics without limits, beside a limited one", () => {
    const w = scheduled(steps, [metric("limited", { failureLimit: 5 }), metric("plain")], 2);
    w.answers.analysis = answer((name) => (name === "plain" ? "fail" : "pass"));
    run(w, (x) => checksOf(x, "analysis").length === 1);
    assert.equal(w.canary.status!.failedChecks, 1);
    assert.equal(phase(w), "Progressing");
    run(w);
    assert.equal(phase(w), "Failed");
    assert.equal(checksOf(w, "analysis").length, 2);
  });

  it("resumes from the status: the step, its start and the tallies are all there is", () => {
    const w = scheduled(steps, [metric("rate", { failureLimit: 1 })]);
    w.answers.analysis = answer(() => "fail");
    run(w, (x) => checksOf(x, "analysis").length === 1);
    const s = w.canary.status!;
    assert.equal(s.stepIndex, 0);
    assert.ok(s.stepStartedAt !== undefined);
    // A new controller sees only the Canary: drop everything but what the status holds.
    w.checks = [];
    runUntilTime(w, w.now + INTERVAL);
    assert.equal(phase(w), "Failed");
  });
});
