/**
 * The steps of one canary run, from the new revision to Succeeded or Failed. Each step
 * reads the draft's status (plan's memory), decides, and closes with `finish`. A step that
 * needs an answer from a webhook or a metric returns `need` first; the caller runs those
 * checks and plans again with the answers, and the step is recomputed identically up to
 * the point where it asked.
 *
 * Timeline of a weighted canary (stepWeight 20, maxWeight 60): the new revision is seen,
 * the canary is scaled up; as soon as it is ready the analysis starts (pre-rollout hooks)
 * and 20% of the traffic moves; every interval after that one check runs at the current
 * weight and, if it passes, moves to 40, then 60, then promotes. Each weight is checked
 * once before the next, and no check ever measures a canary that has had no traffic yet
 * (a check at weight 0 would see no data and fail a healthy canary).
 */
import type { CanaryStatus } from "../../../api/types.ts";
import { ensureCanaryScaled } from "./replicas.ts";
import { checkDueAt, emit, finish, gateKinds, gateOpen, hasAnalysisChecks, hasWebhooks, need, parseTime, revisionOfRun, say, unanswered } from "./context.ts";
import { notReadyReason, READINESS_PREFIX } from "./readiness.ts";
import type { Ctx, Draft } from "./context.ts";
import type { CheckKind, CheckOutcome, EventReason, Plan } from "./types.ts";
import { promoteNow, rollback } from "./promotion.ts";
import { isLastStep, nextStepWeight } from "./weights.ts";
import { hasSchedule, usesMetricStates } from "./schedule.ts";
import { scheduledTick } from "./scheduled.ts";


/** Why a check or gate said no: the halt, else the messages of the results that did not pass. */
export function explain(o: CheckOutcome): string {
  if (o.halted !== undefined) return o.halted;
  // Metric verdicts already begin with the metric's name (`request-success-rate 93.1% < 99%`).
  const failing = o.results
    .filter((r) => r.verdict !== "pass" && r.verdict !== "skip")
    .map((r) => (r.message.startsWith(r.name) ? r.message : `${r.name}: ${r.message}`));
  return failing.length > 0 ? failing.join("; ") : "no reason given";
}

/** What the run is doing, for the Promoted condition while nothing else needs saying. */
function progressMessage(ctx: Ctx, s: CanaryStatus): string {
  const rev = revisionOfRun(ctx, s);
  const failed = `${s.failedChecks ?? 0}/${ctx.threshold} failed checks`;
  if ((s.iterations ?? 0) === 0) return `revision ${rev}: waiting for the first check`;
  if (ctx.strategy === "canary") {
    const weight = s.canaryWeight ?? 0;
    const how = weight === 0 && ctx.mirrorFirst ? "traffic mirrored to the canary" : `canary weight ${weight}%`;
    return `analysing revision ${rev}: ${how}, ${failed}`;
  }
  return `analysing revision ${rev} (${ctx.strategy}): iteration ${s.iterations ?? 0}/${ctx.iterations}, ${failed}`;
}

// ---------------------------------------------------------------------------------------
// Starting a run
// ---------------------------------------------------------------------------------------

/** Forget the previous run and adopt the observed revision as the one under analysis. */
function resetRun(ctx: Ctx, s: CanaryStatus): void {
  s.lastAppliedSpec = ctx.o.revision;
  s.canaryRevision = ctx.o.revision;
  s.trackedConfigs = { ...ctx.o.trackedConfigs };
  s.canaryWeight = 0;
  s.failedChecks = 0;
  s.iterations = 0;
  s.providerErrors = 0;
  delete s.lastCheckTime;
  delete s.analysisStartedAt;
  delete s.lastAnalysis;
  delete s.judge;
  delete s.stepIndex;
  delete s.stepStartedAt;
  delete s.metricStates;
}

/**
 * A new revision (or a retry): reset the run and pass the confirm-rollout gate, or wait in
 * phase Waiting while it is closed (no failed check is counted for a closed gate).
 * `gateOpened`: the user asked to promote, which opens the gate.
 */
export function startRun(ctx: Ctx, d: Draft, why: { reason: EventReason; message: string }, gateOpened: boolean): Plan {
  const gate = gateOpened ? [] : gateKinds(ctx, "confirm-rollout");
  const missing = unanswered(ctx, gate);
  if (missing.length > 0) return need(missing);
  resetRun(ctx, d.status);
  emit(d, why.reason, "info", why.message, true);
  const answer = ctx.o.checks["confirm-rollout"];
  if (gate.length > 0 && answer !== undefined && !gateOpen(answer)) {
    d.status.phase = "Waiting";
    d.status.lastCheckTime = ctx.nowIso;
    say(ctx, d, `revision ${ctx.o.revision} waits for approval: confirm-rollout gate closed (${explain(answer)})`, {
      reason: "GateClosed",
      severity: "warn",
      alert: true,
    });
    d.requeueAfterMs = ctx.intervalMs;
    return finish(ctx, d);
  }
  return beginProgressing(ctx, d);
}

/** The gate is open: scale the canary up (or, with skipAnalysis, promote straight away). */
export function beginProgressing(ctx: Ctx, d: Draft): Plan {
  const s = d.status;
  s.phase = "Progressing";
  s.analysisStartedAt = ctx.nowIso;
  delete s.lastCheckTime;
  if (ctx.o.canary.spec.skipAnalysis === true) return promoteNow(ctx, d, "analysis is skipped (skipAnalysis)");
  ensureCanaryScaled(ctx, d);
  say(ctx, d, `${READINESS_PREFIX}canary ${ctx.targetName} to be ready for revision ${revisionOfRun(ctx, s)}`);
  d.requeueAfterMs = ctx.pollMs;
  return finish(ctx, d);
}

// ---------------------------------------------------------------------------------------
// Analysis
// ---------------------------------------------------------------------------------------

/** One reconcile of a run in Progressing or WaitingPromotion on an unchanged revision. */
export function runStep(ctx: Ctx, d: Draft): Plan {
  const s = d.status;
  const now = ctx.o.now;
  ensureCanaryScaled(ctx, d);
  const target = ctx.o.target;
  const canaryWait = notReadyReason(target, ctx.canaryReadyPercent, true);
  if (canaryWait !== null) {
    // No progress since the last check (or since the run began): the deadline runs.
    const since = parseTime(s.lastCheckTime) ?? parseTime(s.analysisStartedAt) ?? parseTime(s.lastTransitionTime) ?? now;
    if (target?.progressDeadlineExceeded === true || now - since >= ctx.deadlineMs) {
      const seconds = Math.round(ctx.deadlineMs / 1000);
      return rollback(ctx, d, `canary ${ctx.targetName} was not ready within ${seconds}s: ${canaryWait}`, true);
    }
    say(ctx, d, `${READINESS_PREFIX}canary ${ctx.targetName} to be ready: ${canaryWait}`);
    d.requeueAfterMs = Math.max(0, Math.min(ctx.pollMs, since + ctx.deadlineMs - now));
    return finish(ctx, d);
  }
  const primaryWait = notReadyReason(ctx.o.primary, ctx.primaryReadyPercent, false);
  if (primaryWait !== null) {
    say(ctx, d, `${READINESS_PREFIX}primary ${ctx.primaryName} to be ready: ${primaryWait}`);
    d.requeueAfterMs = ctx.pollMs;
    return finish(ctx, d);
  }
  const dueAt = checkDueAt(ctx);
  if (now < dueAt) {
    if (d.message.startsWith(READINESS_PREFIX)) d.message = progressMessage(ctx, s);
    d.requeueAfterMs = dueAt - now;
    return finish(ctx, d);
  }
  return (s.iterations ?? 0) === 0 ? startAnalysis(ctx, d) : analysisTick(ctx, d);
}

const rollbackKinds = (ctx: Ctx): CheckKind[] => (hasWebhooks(ctx, "rollback") ? ["rollback"] : []);

function rollbackRequested(ctx: Ctx): boolean {
  const answer = ctx.o.checks.rollback;
  return answer !== undefined && gateOpen(answer);
}

/**
 * Applies a check's outcome to the counters. Returns the plan when the run must stop here
 * (halted, failed, or rolled back), or null when the check passed.
 */
function judge(ctx: Ctx, d: Draft, outcome: CheckOutcome, label: string): Plan | null {
  const s = d.status;
  s.lastCheckTime = ctx.nowIso;
  s.lastAnalysis = outcome.results;
  // The judge's counts are kept whatever the verdict, so the next window starts where this one ended.
  if (outcome.judge !== undefined) s.judge = outcome.judge;
  if (outcome.halted !== undefined) {
    const halts = (s.providerErrors ?? 0) + 1;
    s.providerErrors = halts;
    if (halts >= ctx.haltLimit) {
      return rollback(ctx, d, `the ${label} could not be evaluated ${halts} times in a row: ${outcome.halted}`, false);
    }
    // The event's text stays the same while the cause does, so repeats fold into one Event's
    // count; the running tally is in the condition.
    emit(d, "CheckHalted", "warn", `${label} halted, not counted as failed: ${outcome.halted}`, halts === 1);
    d.message = `${label} halted (${halts}/${ctx.haltLimit} before rollback), not counted as failed: ${outcome.halted}`;
    d.requeueAfterMs = ctx.intervalMs;
    return finish(ctx, d);
  }
  s.providerErrors = 0;
  if (outcome.ok) return null;
  const failed = (s.failedChecks ?? 0) + 1;
  s.failedChecks = failed;
  const why = explain(outcome);
  // No data is its own reason (onNoData=fail), so "the canary got no traffic" is told apart from a bad value.
  const reason = outcome.results.length > 0 && outcome.results.filter((r) => r.verdict !== "pass" && r.verdict !== "skip").every((r) => r.verdict === "nodata") ? "NoData" : "CheckFailed";
  emit(d, reason, "warn", `${label} failed (${failed}/${ctx.threshold}): ${why}`, true);
  if (failed >= ctx.threshold) return rollback(ctx, d, `${failed} failed checks reached the threshold of ${ctx.threshold}: ${why}`, false);
  d.message = `${label} failed (${failed}/${ctx.threshold}): ${why}`;
  d.requeueAfterMs = ctx.intervalMs;
  return finish(ctx, d);
}

/** The first check of a run: pre-rollout hooks, then the first step of the strategy. */
function startAnalysis(ctx: Ctx, d: Draft): Plan {
  const s = d.status;
  const kinds: CheckKind[] = [...rollbackKinds(ctx), ...(hasWebhooks(ctx, "pre-rollout") ? (["pre-rollout"] as const) : [])];
  const missing = unanswered(ctx, kinds);
  if (missing.length > 0) return need(missing);
  if (rollbackRequested(ctx)) return rollback(ctx, d, "a rollback webhook asked for a rollback", false);
  const pre = ctx.o.checks["pre-rollout"];
  if (pre !== undefined) {
    const stop = judge(ctx, d, pre, "pre-rollout check");
    if (stop !== null) return stop;
  }
  s.iterations = 1;
  s.lastCheckTime = ctx.nowIso;
  // Metrics with an initialDelay or a count measure from here when there is no schedule.
  if (usesMetricStates(ctx.analysis) && !hasSchedule(ctx.analysis)) s.stepStartedAt = ctx.nowIso;
  emit(d, "AnalysisStarted", "info", `starting the analysis of revision ${revisionOfRun(ctx, s)} (${ctx.strategy})`);
  if (ctx.strategy === "canary" && !ctx.mirrorFirst) return advanceWeight(ctx, d);
  d.message = progressMessage(ctx, s);
  d.requeueAfterMs = ctx.intervalMs;
  return finish(ctx, d);
}

/** A check on a started run: analysis at the current step, then advance or promote. */
function analysisTick(ctx: Ctx, d: Draft): Plan {
  if (usesMetricStates(ctx.analysis)) return scheduledTick(ctx, d, rollbackKinds(ctx), { progress });
  const s = d.status;
  const weight = s.canaryWeight ?? 0;
  // A weighted canary at 0% that is not mirrored has had no traffic: nothing to measure,
  // only the traffic-increase gate (which held it there) to ask again.
  const measurable = ctx.strategy !== "canary" || weight > 0 || ctx.mirrorFirst;
  const kinds: CheckKind[] = [...rollbackKinds(ctx), ...(measurable && hasAnalysisChecks(ctx) ? (["analysis"] as const) : [])];
  const missing = unanswered(ctx, kinds);
  if (missing.length > 0) return need(missing);
  if (rollbackRequested(ctx)) return rollback(ctx, d, "a rollback webhook asked for a rollback", false);
  const analysis = ctx.o.checks.analysis;
  if (analysis !== undefined && kinds.includes("analysis")) {
    const stop = judge(ctx, d, analysis, "analysis");
    if (stop !== null) return stop;
  } else {
    s.lastCheckTime = ctx.nowIso;
  }
  return progress(ctx, d);
}

/** The checks of this tick passed: the next weight, iteration or the promotion. */
function progress(ctx: Ctx, d: Draft): Plan {
  const s = d.status;
  const weight = s.canaryWeight ?? 0;
  if (ctx.strategy === "canary") {
    if (hasSchedule(ctx.analysis)) return (s.stepIndex ?? 0) >= ctx.analysis.steps!.length - 1 ? askPromotion(ctx, d) : advanceWeight(ctx, d);
    return isLastStep(ctx.analysis, weight) ? askPromotion(ctx, d) : advanceWeight(ctx, d);
  }
  const iteration = s.iterations ?? 1;
  if (iteration < ctx.iterations) {
    s.iterations = iteration + 1;
    emit(d, "IterationAdvanced", "info", `check ${iteration}/${ctx.iterations} passed for revision ${revisionOfRun(ctx, s)}`);
    d.message = progressMessage(ctx, s);
    d.requeueAfterMs = ctx.intervalMs;
    return finish(ctx, d);
  }
  return askPromotion(ctx, d);
}

/** Move the canary one step up, through the confirm-traffic-increase gate. */
function advanceWeight(ctx: Ctx, d: Draft): Plan {
  const s = d.status;
  const from = s.canaryWeight ?? 0;
  // On a schedule the next step is the next entry of steps (its weight may equal the first's 0).
  const nextIndex = (s.stepIndex ?? -1) + 1;
  const scheduled = hasSchedule(ctx.analysis) ? ctx.analysis.steps![nextIndex] : undefined;
  const to = scheduled?.weight ?? nextStepWeight(ctx.analysis, from);
  const gate = gateKinds(ctx, "confirm-traffic-increase");
  const missing = unanswered(ctx, gate);
  if (missing.length > 0) return need(missing);
  const answer = ctx.o.checks["confirm-traffic-increase"];
  if (gate.length > 0 && answer !== undefined && !gateOpen(answer)) {
    say(ctx, d, `confirm-traffic-increase gate closed: the canary stays at ${from}% (${explain(answer)})`, {
      reason: "GateClosed",
      severity: "warn",
    });
    d.requeueAfterMs = ctx.intervalMs;
    return finish(ctx, d);
  }
  s.canaryWeight = to;
  if (scheduled !== undefined) {
    s.stepIndex = nextIndex;
    s.stepStartedAt = ctx.nowIso;
  }
  const mirrored = from === 0 && ctx.mirrorFirst ? " (mirroring stopped)" : "";
  emit(d, "WeightAdvanced", "info", `canary weight ${from}% -> ${to}%${mirrored} for revision ${revisionOfRun(ctx, s)}`);
  d.message = progressMessage(ctx, s);
  d.requeueAfterMs = ctx.intervalMs;
  return finish(ctx, d);
}

/** The analysis is complete: pass the confirm-promotion gate, or wait in WaitingPromotion. */
function askPromotion(ctx: Ctx, d: Draft): Plan {
  const gate = gateKinds(ctx, "confirm-promotion");
  const missing = unanswered(ctx, gate);
  if (missing.length > 0) return need(missing);
  const answer = ctx.o.checks["confirm-promotion"];
  if (gate.length > 0 && answer !== undefined && !gateOpen(answer)) {
    d.status.phase = "WaitingPromotion";
    say(ctx, d, `revision ${revisionOfRun(ctx, d.status)} passed its analysis and waits for approval: confirm-promotion gate closed (${explain(answer)})`, {
      reason: "GateClosed",
      severity: "warn",
      alert: true,
    });
    d.requeueAfterMs = ctx.intervalMs;
    return finish(ctx, d);
  }
  return promoteNow(ctx, d, "the analysis passed");
}
