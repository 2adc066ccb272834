import assert from "node:assert/strict";
import type { AnalysisResult, JudgeStatus } from "../../../../src/api/types.ts";
import type { CheckOutcome } from "../../../../src/controller/canary/planner/plan.ts";
import { checksOf, deploy, eventMessages, initialized, makeCanary, phase, run, step } from "./plan-world.ts";
import type { World } from "./plan-world.ts";

const canaryRun = () => makeCanary({ stepWeight: 20, maxWeight: 60, threshold: 2, metrics: [{ name: "request-success-rate", compare: {} }] });

/** What the check runner hands back for a compared metric: the previous test plus one window. */
function judgedCheck(verdict: AnalysisResult["verdict"], message: string, halted?: string) {
  return (w: World): CheckOutcome => {
    const previous = w.canary.status?.judge?.metrics["request-success-rate"];
    const windows = (previous?.windows ?? 0) + 1;
    const judge: JudgeStatus = {
      revision: w.canary.status?.canaryRevision ?? "",
      metrics: { "request-success-rate": { windowEnd: new Date(w.now).toISOString(), windows, state: { windows } } },
    };
    const results: AnalysisResult[] = [{ name: "request-success-rate", kind: "metric", verdict, message, time: new Date(w.now).toISOString() }];
    return halted === undefined ? { ok: verdict === "pass", results, judge } : { ok: false, halted, results, judge };
  };
}

const NO_REGRESSION = "request-success-rate: 5xx: canary 0.5% vs primary 0.5% (ratio 1, 99% CI 0.25–2.9) within tolerance 1.2 so far (e-value 0.07 < 100)";
const REGRESSION = "request-success-rate: 5xx: canary 2.6% vs primary 0.5% (ratio 5.2, 99% CI 2.4–11) > tolerance 1.2 (e-value 6.2e+14 ≥ 100)";

describe("plan: the judge's tests in status", () => {
  it("keeps the test of every check of the run in status and promotes on passing verdicts", () => {
    const w = initialized(canaryRun());
    w.answers.analysis = judgedCheck("pass", NO_REGRESSION);
    deploy(w, "rev2");
    run(w, (x) => phase(x) === "Promoting" || phase(x) === "Succeeded");
    const judge = w.canary.status!.judge!;
    assert.equal(judge.revision, "rev2");
    assert.equal(judge.metrics["request-success-rate"]!.windows, checksOf(w, "analysis").length);
    assert.equal(w.canary.status!.lastAnalysis![0]!.message, NO_REGRESSION);
  });

  it("keeps the counts of a halted check and of a failed one, and puts the sentence in the failure event", () => {
    const w = initialized(canaryRun());
    w.answers.analysis = judgedCheck("error", "request-success-rate: per-arm counts: prometheus down", "prometheus down");
    deploy(w, "rev2");
    run(w, (x) => (x.canary.status?.providerErrors ?? 0) === 1);
    assert.equal(w.canary.status!.judge!.metrics["request-success-rate"]!.windows, 1);
    w.answers.analysis = judgedCheck("fail", REGRESSION);
    run(w, (x) => (x.canary.status?.failedChecks ?? 0) === 1);
    assert.equal(w.canary.status!.judge!.metrics["request-success-rate"]!.windows, 2);
    assert.ok(eventMessages(w, "CheckFailed").some((m) => m.endsWith(REGRESSION)), eventMessages(w, "CheckFailed").join("\n"));
    run(w);
    assert.equal(phase(w), "Failed");
    assert.ok(eventMessages(w, "RolledBack")[0]!.includes("5xx: canary 2.6% vs primary 0.5%"));
  });

  it("starts afresh with each run: a new revision clears the previous test", () => {
    const w = initialized(canaryRun());
    w.answers.analysis = judgedCheck("pass", NO_REGRESSION);
    deploy(w, "rev2");
    run(w, (x) => (x.canary.status?.judge?.metrics["request-success-rate"]?.windows ?? 0) === 2);
    deploy(w, "rev3");
    step(w);
    assert.equal(w.canary.status!.judge, undefined);
    run(w);
    assert.equal(phase(w), "Succeeded");
    assert.equal(w.canary.status!.judge!.revision, "rev3");
  });
});
