import assert from "node:assert/strict";
import { describe, it } from "mocha";
import type { AnalysisResult, CanaryStatus } from "../../../src/api/types.ts";
import { createProgressTracker, progressLine, progressOf, verdictSentence } from "../../../src/cli/progress.ts";
import { canary } from "./fixtures.ts";

const at = (s: number) => new Date(2026, 0, 2, 12, 0, s);
const promoted = (message: string) => [{ type: "Promoted", status: "Unknown" as const, message }];
const check = (verdict: AnalysisResult["verdict"], message: string, name = "request-success-rate"): AnalysisResult => ({
  name,
  kind: "metric",
  verdict,
  message,
  time: "2026-01-02T12:00:00Z",
});

describe("cli progress: the watch line", () => {
  it("prints phase, both weights and failed checks against the threshold", () => {
    const p = progressOf(canary({ phase: "Progressing", canaryWeight: 20, failedChecks: 0 }));
    assert.equal(progressLine(p, at(31), { bar: false }), "[12:00:31] Progressing | canary 20% | primary 80% | checks 0/5");
  });

  it("puts a weight bar between the weights on a terminal", () => {
    const p = progressOf(canary({ phase: "Progressing", canaryWeight: 40, failedChecks: 2 }));
    assert.equal(progressLine(p, at(31), { bar: true }), "[12:00:31] Progressing | canary 40% [████░░░░░░] primary 60% | checks 2/5");
  });

  it("counts iterations for blue/green and says when the run is paused", () => {
    const p = progressOf(canary({ phase: "Progressing", canaryWeight: 0, iterations: 3 }, { iterations: 10, annotations: { "aviary.dev/paused": "true" } }));
    assert.equal(progressLine(p, at(0), { bar: false }), "[12:00:00] Progressing | canary 0% | primary 100% | checks 0/5 | iteration 3/10 | paused");
  });

  it("uses the default threshold of 1 and says when there is no status yet", () => {
    const c = canary(undefined);
    delete (c.spec.analysis as Record<string, unknown>).threshold;
    assert.equal(progressLine(progressOf(c), at(0), { bar: false }), "[12:00:00] (no status) | canary 0% | primary 100% | checks 0/1");
  });

  it("does not treat 'paused' as anything but the string true", () => {
    assert.equal(progressOf(canary({}, { annotations: { "aviary.dev/paused": "false" } })).paused, false);
  });

  it("leads each verdict with its outcome and names the check once", () => {
    assert.equal(verdictSentence(check("fail", "request-success-rate 87.5% < 99%")), "fail   request-success-rate 87.5% < 99%");
    assert.equal(
      verdictSentence({ name: "load-test", kind: "webhook", verdict: "pass", message: "http://tester/ answered 200", time: "" }),
      "pass   webhook load-test: http://tester/ answered 200",
    );
    assert.equal(verdictSentence(check("nodata", "no data for request-success-rate (onNoData=fail): empty")), "nodata no data for request-success-rate (onNoData=fail): empty");
  });
});

describe("cli progress: the tracker behind status -w", () => {
  const watch = (opts: { follow?: boolean; nextRun?: boolean } = {}) => createProgressTracker({ bar: false, follow: opts.follow ?? false, nextRun: opts.nextRun ?? false });

  it("prints one line per change of phase, weight or failed checks and nothing for other updates", () => {
    const t = watch();
    const seen: string[] = [];
    const steps: CanaryStatus[] = [
      { phase: "Progressing", canaryWeight: 10, failedChecks: 0 },
      { phase: "Progressing", canaryWeight: 10, failedChecks: 0, lastCheckTime: "2026-01-02T12:00:05Z" },
      { phase: "Progressing", canaryWeight: 20, failedChecks: 0 },
      { phase: "Progressing", canaryWeight: 20, failedChecks: 1 },
    ];
    steps.forEach((s, i) => {
      const step = t.observe(canary(s), at(i));
      assert.equal(step.exitCode, undefined);
      seen.push(...step.lines);
    });
    assert.deepEqual(seen, [
      "[12:00:00] Progressing | canary 10% | primary 90% | checks 0/5",
      "[12:00:02] Progressing | canary 20% | primary 80% | checks 0/5",
      "[12:00:03] Progressing | canary 20% | primary 80% | checks 1/5",
    ]);
  });

  it("prints the controller's message and the verdicts when they change, indented under the line", () => {
    const t = watch();
    const first = t.observe(canary({ phase: "Progressing", canaryWeight: 10, conditions: promoted("advancing to 10%"), lastAnalysis: [check("pass", "request-success-rate 99.9% >= 99%")] }), at(1));
    assert.deepEqual(first.lines, [
      "[12:00:01] Progressing | canary 10% | primary 90% | checks 0/5",
      "           advancing to 10%",
      "           pass   request-success-rate 99.9% >= 99%",
    ]);
    // Same sentences, a later check time: nothing new to say.
    const same = t.observe(canary({ phase: "Progressing", canaryWeight: 10, conditions: promoted("advancing to 10%"), lastAnalysis: [{ ...check("pass", "request-success-rate 99.9% >= 99%"), time: "2026-01-02T12:01:00Z" }] }), at(2));
    assert.deepEqual(same.lines, []);
    const worse = t.observe(canary({ phase: "Progressing", canaryWeight: 10, failedChecks: 1, conditions: promoted("advancing to 10%"), lastAnalysis: [check("fail", "request-success-rate 80% < 99%")] }), at(3));
    assert.deepEqual(worse.lines, ["[12:00:03] Progressing | canary 10% | primary 90% | checks 1/5", "           fail   request-success-rate 80% < 99%"]);
  });

  it("ends with 0 on Succeeded and 1 on Failed", () => {
    const ok = watch();
    ok.observe(canary({ phase: "Progressing", canaryWeight: 50 }), at(0));
    assert.equal(ok.observe(canary({ phase: "Succeeded", canaryWeight: 0 }), at(1)).exitCode, 0);
    const bad = watch();
    bad.observe(canary({ phase: "Progressing", canaryWeight: 10 }), at(0));
    const failed = bad.observe(canary({ phase: "Failed", canaryWeight: 0, failedChecks: 5 }), at(1));
    assert.equal(failed.exitCode, 1);
    assert.deepEqual(failed.lines, ["[12:00:01] Failed | canary 0% | primary 100% | checks 5/5"]);
  });

  it("ends at once when the run has already settled, and when a first revision is Initialized", () => {
    assert.equal(watch().observe(canary({ phase: "Failed" }), at(0)).exitCode, 1);
    const first = watch();
    assert.equal(first.observe(canary({ phase: "Initializing" }), at(0)).exitCode, undefined);
    assert.equal(first.observe(canary({ phase: "Initialized" }), at(1)).exitCode, 0);
  });

  it("keeps going after the run settles with --follow", () => {
    const t = watch({ follow: true });
    assert.equal(t.observe(canary({ phase: "Succeeded" }), at(0)).exitCode, undefined);
    assert.equal(t.observe(canary({ phase: "Progressing", canaryWeight: 10 }), at(1)).exitCode, undefined);
    assert.equal(t.observe(canary({ phase: "Failed" }), at(2)).exitCode, undefined);
  });

  it("with --next-run, ignores the outcome present at the start and ends on the next one", () => {
    const t = watch({ nextRun: true });
    const start = t.observe(canary({ phase: "Succeeded" }), at(0));
    assert.equal(start.exitCode, undefined);
    assert.equal(start.lines.length, 1);
    assert.equal(t.observe(canary({ phase: "Succeeded", lastTransitionTime: "x" }), at(1)).exitCode, undefined);
    assert.equal(t.observe(canary({ phase: "Progressing", canaryWeight: 10 }), at(2)).exitCode, undefined);
    assert.equal(t.observe(canary({ phase: "Failed" }), at(3)).exitCode, 1);
  });

  it("with --next-run, a run already under way is the one it waits for", () => {
    const t = watch({ nextRun: true });
    assert.equal(t.observe(canary({ phase: "WaitingPromotion", canaryWeight: 50 }), at(0)).exitCode, undefined);
    assert.equal(t.observe(canary({ phase: "Succeeded" }), at(1)).exitCode, 0);
  });
});
