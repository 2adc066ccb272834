import assert from "node:assert/strict";
import { describe, it } from "mocha";
import type { Canary, CanaryStatus } from "../../../src/api/types.ts";
import { createProgressTracker } from "../../../src/cli/progress.ts";
import { canaryTable, statusReport } from "../../../src/cli/report.ts";
import { scheduleText, stepLabel, stepProgress } from "../../../src/cli/schedule.ts";
import { canary } from "./fixtures.ts";

const now = new Date("2026-01-02T12:05:00Z");

/** The converted NGINX example's schedule, and one step-bound metric with a count. */
function scheduled(status: CanaryStatus | undefined): Canary {
  const c = canary(status);
  c.spec.analysis = {
    interval: "30s",
    steps: [
      { weight: 10, pause: "30s" },
      { weight: 25, pause: "1m" },
      { weight: 50, pause: "1m" },
      { weight: 75, pause: "30s" },
      { weight: 100, pause: "0s" },
    ],
    metrics: [
      { name: "success-rate", interval: "30s", thresholdRange: { min: 95 }, failureLimit: 1, consecutiveErrorLimit: 4, fromStep: 0 },
      { name: "synthetics-step-1", interval: "10s", thresholdRange: { min: 100, max: 100 }, count: 3, failureLimit: 1, steps: [1] },
    ],
  };
  return c;
}

const atStep1: CanaryStatus = {
  phase: "Progressing",
  canaryWeight: 25,
  stepIndex: 1,
  stepStartedAt: "2026-01-02T12:04:20Z",
  metricStates: [
    { name: "success-rate", measurements: 4, failures: 1, consecutiveErrors: 2, startedAt: "2026-01-02T12:03:00Z" },
    { name: "synthetics-step-1", measurements: 1, failures: 0, consecutiveErrors: 0, step: 1, startedAt: "2026-01-02T12:04:20Z" },
  ],
};

describe("cli: the step schedule", () => {
  it("writes the schedule as weights and pauses", () => {
    assert.equal(scheduleText(scheduled(undefined)), "10% 30s → 25% 1m → 50% 1m → 75% 30s → 100%");
    assert.equal(scheduleText(canary(undefined)), "");
  });

  it("counts steps from 1, with the pause left and the bound metrics still owed", () => {
    const p = stepProgress(scheduled(atStep1), now)!;
    assert.deepEqual(p, { number: 2, of: 5, weight: 25, current: true, remainingMs: 20_000, owing: ["synthetics-step-1 (1/3)"] });
    assert.equal(stepLabel(p), "2 of 5 (25%), pause 20s left, waiting for synthetics-step-1 (1/3)");
    const later = stepProgress(scheduled(atStep1), new Date("2026-01-02T12:06:00Z"))!;
    assert.equal(stepLabel(later), "2 of 5 (25%), pause over, waiting for synthetics-step-1 (1/3)");
  });

  it("says where a finished run ended, and nothing without a schedule or before the first step", () => {
    const failed = stepProgress(scheduled({ ...atStep1, phase: "Failed", stepIndex: 2 }), now)!;
    assert.equal(stepLabel(failed), "3 of 5 (50%) when the run ended");
    assert.equal(stepProgress(scheduled({ phase: "Progressing", canaryWeight: 0 }), now), undefined);
    assert.equal(stepProgress(canary({ phase: "Progressing", stepIndex: 1 }), now), undefined);
    assert.equal(stepProgress(scheduled({ phase: "Progressing", stepIndex: 7 }), now), undefined, "an index past the schedule (the spec changed) shows nothing");
  });

  it("aviary status shows the steps, the step held, and each metric against its limits", () => {
    const text = statusReport(scheduled(atStep1), now, { bar: false });
    assert.match(text, /^Steps: +10% 30s → 25% 1m → 50% 1m → 75% 30s → 100%$/m);
    assert.match(text, /^Step: +2 of 5 \(25%\), pause 20s left, waiting for synthetics-step-1 \(1\/3\)$/m);
    assert.match(text, /^Metric limits \(this run\):\n {2}success-rate: 4 measurements, 1 failed \(failureLimit 1\), 2 errors in a row \(consecutiveErrorLimit 4\)\n {2}synthetics-step-1 at step 2: 1\/3 measurements, 0 failed \(failureLimit 1\), 0 errors in a row$/m);
    const plain = statusReport(canary({ phase: "Progressing", canaryWeight: 20 }), now, { bar: false });
    assert.doesNotMatch(plain, /^Steps?:|Metric limits/m);
  });

  it("aviary get adds a STEP column only when a listed Canary has a schedule", () => {
    const other = canary({ phase: "Succeeded" });
    other.metadata.name = "api";
    const table = canaryTable([scheduled(atStep1), other], now, { namespaces: false, wide: true });
    const [header, api, podinfo] = table.trimEnd().split("\n").map((l) => l.split(/ {3,}/));
    assert.deepEqual(header, ["NAME", "STATUS", "WEIGHT", "STEP", "FAILEDCHECKS", "LASTTRANSITION", "TARGET", "INTERVAL", "MAXWEIGHT", "STEPWEIGHT", "PROVIDER"]);
    assert.deepEqual(podinfo, ["podinfo", "Progressing", "25", "2/5 20s left", "", "", "Deployment/podinfo", "30s", "", "10,25,50,75,100"].filter((x) => x !== ""));
    assert.equal(api![0], "api");
    assert.doesNotMatch(canaryTable([other], now, { namespaces: false, wide: false }), /STEP/);
  });

  it("status -w prints a line when the step changes, with the pause left then", () => {
    const tracker = createProgressTracker({ bar: false, follow: false, nextRun: false });
    const first = tracker.observe(scheduled(atStep1), now).lines[0];
    assert.match(first ?? "", /\| canary 25% \| primary 75% \| checks 0\/1 \| step 2\/5 20s left$/);
    // The same step a few seconds on: the pause left changed, the step did not; no new line.
    assert.deepEqual(tracker.observe(scheduled(atStep1), new Date("2026-01-02T12:05:05Z")).lines, []);
    const next = tracker.observe(scheduled({ ...atStep1, canaryWeight: 50, stepIndex: 2, stepStartedAt: "2026-01-02T12:05:10Z" }), new Date("2026-01-02T12:05:10Z"));
    assert.match(next.lines[0] ?? "", /\| canary 50% \| primary 50% \| checks 0\/1 \| step 3\/5 60s left$/);
  });
});
