import assert from "node:assert/strict";
import { describe, it } from "mocha";
import { Report } from "../../../src/convert/report.ts";
import { buildSchedule, formatDuration } from "../../../src/convert/schedule.ts";
import type { Position, WalkContext } from "../../../src/convert/steps.ts";
import { pauseDurationMs, walkSteps } from "../../../src/convert/steps.ts";

const PATH = "spec.strategy.canary.steps";

function walk(steps: unknown[], opts: Partial<WalkContext> & { analysisMs?: number | undefined } = {}) {
  const report = new Report();
  const analyses: { path: string; position: Position }[] = [];
  const result = walkSteps(steps, PATH, {
    report,
    source: "Rollout/shop",
    maxTrafficWeight: opts.maxTrafficWeight ?? 100,
    canMirror: opts.canMirror ?? true,
    onAnalysis(_a, path, position) {
      analyses.push({ path, position });
      return { durationMs: "analysisMs" in opts ? opts.analysisMs : 120_000, metrics: 1 };
    },
  });
  const schedule = buildSchedule(result, [], result.gates.map((g) => g.stepIndex));
  return { result, schedule, report, analyses };
}

const lines = (r: Report) => r.entries.map((e) => `${e.severity} ${e.object} ${e.field}: ${e.message}`);

describe("convert: canary steps → step schedule", () => {
  it("makes each setWeight a step held for the pauses that follow it", () => {
    const { schedule, report } = walk([{ setWeight: 10 }, { pause: { duration: "30s" } }, { setWeight: 25 }, { pause: { duration: 60 } }, { pause: { duration: "1m" } }, { setWeight: 100 }]);
    assert.deepEqual(schedule.steps, [
      { weight: 10, pause: "30s" },
      { weight: 25, pause: "2m" },
      { weight: 100, pause: "0s" },
    ]);
    assert.deepEqual(report.entries, []);
  });

  it("reads Argo's pause durations: whole seconds, or s, m and h", () => {
    assert.equal(pauseDurationMs(10), 10_000);
    assert.equal(pauseDurationMs("10"), 10_000);
    assert.equal(pauseDurationMs("1h"), 3_600_000);
    assert.equal(pauseDurationMs("1.5"), undefined);
    assert.equal(pauseDurationMs("soon"), undefined);
    const { report } = walk([{ setWeight: 10 }, { pause: { duration: "soon" } }]);
    assert.deepEqual(lines(report), [`lossy Rollout/shop ${PATH}[1].pause.duration: "soon" is not a duration (seconds, or a number with s, m or h); dropped`]);
  });

  it("places an analysis at its step, after the time already spent at that weight", () => {
    const { result, schedule, analyses } = walk([{ setWeight: 20 }, { pause: { duration: "3m" } }, { analysis: {} }, { setWeight: 40 }]);
    assert.deepEqual(analyses, [{ path: `${PATH}[2].analysis`, position: { stepIndex: 1, offsetMs: 180_000 } }]);
    // The step ends with the analysis: held 3m, then until the analysis is done.
    assert.deepEqual(schedule.steps[0], { weight: 20, pause: "3m" });
    assert.equal(schedule.index(result.positions[2]!.stepIndex), 0);
  });

  it("counts an analysis into the hold when a pause follows it, and says so", () => {
    const { schedule, report } = walk([{ setWeight: 20 }, { analysis: {} }, { pause: { duration: "3m" } }, { setWeight: 40 }]);
    assert.deepEqual(schedule.steps[0], { weight: 20, pause: "5m" });
    assert.match(lines(report)[0]!, /^changed Rollout\/shop spec.strategy.canary.steps\[2\].pause: follows an analysis: aviary counts the pause from when the weight was set/);
  });

  it("reports an analysis that measures until stopped", () => {
    const { report } = walk([{ setWeight: 20 }, { analysis: {} }], { analysisMs: undefined });
    assert.match(lines(report)[0]!, /^lossy Rollout\/shop spec.strategy.canary.steps\[1\].analysis: has a metric with an interval and no count/);
  });

  it("keeps a weight-0 step only when something happens before the first setWeight", () => {
    assert.deepEqual(walk([{ setWeight: 50 }]).schedule.steps, [{ weight: 50, pause: "0s" }]);
    assert.deepEqual(walk([{ pause: { duration: "1m" } }, { setWeight: 50 }]).schedule.steps, [
      { weight: 0, pause: "1m" },
      { weight: 50, pause: "0s" },
    ]);
  });

  it("records a pause without a duration as a gate at its weight", () => {
    const { result } = walk([{ setWeight: 20 }, { pause: {} }, { setWeight: 40 }]);
    assert.deepEqual(result.gates, [{ stepIndex: 1, offsetMs: 0, weight: 20, path: `${PATH}[1].pause` }]);
  });

  it("scales setWeight by maxTrafficWeight and says when a weight is rounded", () => {
    const { schedule, report } = walk([{ setWeight: 250 }, { setWeight: 333 }], { maxTrafficWeight: 1000 });
    assert.deepEqual(schedule.steps.map((s) => s.weight), [25, 33]);
    assert.deepEqual(lines(report), [`changed Rollout/shop ${PATH}[1].setWeight: 333 of 1000 is 33.3%; aviary's weights are whole percent, so 33%`]);
  });

  it("reports each step it cannot carry, by its path", () => {
    const { report, schedule } = walk([
      { setWeight: 20 },
      { experiment: { templates: [] } },
      { setHeaderRoute: { name: "h", match: [{ headerName: "x", headerValue: { exact: "1" } }] } },
      { setCanaryScale: { replicas: 1 } },
      { plugin: { name: "slack" } },
      { setWeight: 20, pause: {} },
      { frobnicate: 1 },
      { setWeight: 140 },
    ]);
    assert.deepEqual(schedule.steps, [{ weight: 20, pause: "0s" }]);
    assert.deepEqual(lines(report), [
      `lossy Rollout/shop ${PATH}[1].experiment: no equivalent; dropped`,
      `lossy Rollout/shop ${PATH}[2].setHeaderRoute: aviary's header matches (analysis.match) turn a run into an A/B test in place of weighted steps; a header route beside the weights has no equivalent; dropped`,
      `changed Rollout/shop ${PATH}[3].setCanaryScale: aviary runs the canary at the Deployment's full replica count for the whole run; the canary's scale is not set per step`,
      `lossy Rollout/shop ${PATH}[4].plugin: step plugin slack has no equivalent; dropped`,
      `lossy Rollout/shop ${PATH}[5]: a step must have exactly one action, found setWeight, pause; dropped`,
      `lossy Rollout/shop ${PATH}[6].frobnicate: unknown step (the known ones are setWeight, pause, analysis, experiment, setCanaryScale, setHeaderRoute, setMirrorRoute, plugin); dropped`,
      `lossy Rollout/shop ${PATH}[7].setWeight: "140" is not a weight from 0 to 100; dropped`,
    ]);
  });

  it("maps a mirror of every request to analysis.mirror where the router can mirror", () => {
    const everything = { setMirrorRoute: { name: "m", percentage: 30, match: [{ path: { prefix: "/" } }] } };
    const mirrored = walk([{ setWeight: 10 }, everything]);
    assert.deepEqual(mirrored.result.mirror, { percentage: 30, path: `${PATH}[1].setMirrorRoute` });
    assert.match(lines(mirrored.report)[0]!, /^changed .*setMirrorRoute: aviary mirrors requests for the whole run/);
    const some = walk([{ setWeight: 10 }, { setMirrorRoute: { name: "m", match: [{ method: { exact: "GET" } }] } }]);
    assert.equal(some.result.mirror, undefined);
    assert.match(lines(some.report)[0]!, /^lossy .*setMirrorRoute.match: aviary mirrors every request of the route, not only matching ones/);
    const noMirror = walk([{ setWeight: 10 }, everything], { canMirror: false });
    assert.equal(noMirror.result.mirror, undefined);
    assert.match(lines(noMirror.report)[0]!, /^lossy .*setMirrorRoute: the traffic router in effect cannot mirror/);
  });

  it("spells durations the short way", () => {
    assert.equal(formatDuration(0), "0s");
    assert.equal(formatDuration(90_000), "1m30s");
    assert.equal(formatDuration(3_600_000), "1h");
    assert.equal(formatDuration(1_500), "1s500ms");
  });
});
