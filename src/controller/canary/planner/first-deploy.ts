/**
 * The first-deploy analysis (`spec.analysis.firstDeploy`, aviary-only): the first revision
 * of a target is analysed before any primary exists, instead of being promoted blindly.
 *
 * There is nothing to compare it with, so only the checks' fixed thresholds count, measured
 * on the target itself while it serves as the user deployed it. During the analysis the apex
 * Service and `<svc>-canary` select the target's pods (so users and a load tester reach it);
 * no primary, no primary Service, no route objects. Then:
 * - pass: phase Initializing with the revision recorded as applied; the ordinary
 *   initialization creates the primary from it and takes over from there;
 * - fail: phase Failed, Promoted=False and a FirstDeployFailed event with the reason. The
 *   target is left running as deployed (no scale-down: it is the only version there is).
 *   A new revision of the target (or aviary.dev/retry) starts the analysis again.
 *
 * Number of checks: `iterations` for blue/green and A/B specs, otherwise one per weight step
 * a canary run would take (stepWeight 20, maxWeight 60: three checks).
 */
import { ANNOTATION_ABORT, ANNOTATION_PAUSED, ANNOTATION_PROMOTE, ANNOTATION_RETRY } from "../../../api/types.ts";
import type { Canary, CanaryStatus } from "../../../api/types.ts";
import { checkDueAt, emit, finish, gateKinds, gateOpen, hasAnalysisChecks, hasWebhooks, need, parseTime, say, unanswered } from "./context.ts";
import type { Ctx, Draft } from "./context.ts";
import { notReadyReason, READINESS_PREFIX } from "./readiness.ts";
import { ensureCanaryScaled } from "./replicas.ts";
import { explain } from "./run.ts";
import type { CheckKind, CheckOutcome, Plan } from "./types.ts";
import { isLastStep, nextStepWeight } from "./weights.ts";

/** The spec asks for a first-deploy analysis (skipAnalysis wins: nothing is analysed). */
export function firstDeployWanted(canary: Canary): boolean {
  return canary.spec.analysis?.firstDeploy === true && canary.spec.skipAnalysis !== true;
}

/**
 * The Canary is in (or before) its first-deploy analysis: asked for, and no revision was
 * ever promoted. Route objects are not managed then (there is no primary to route to).
 */
export function inFirstDeploy(canary: Canary): boolean {
  return firstDeployWanted(canary) && canary.status?.lastPromotedSpec === undefined;
}

/**
 * How plan routes a Canary that has never promoted a revision and has no primary:
 * - `analyse`: the first-deploy analysis decides (this file);
 * - `initialize`: ordinary initialization, also from a phase left by a first-deploy run
 *   whose option was switched off since;
 * - `normal`: not a first deploy (or one that passed: initialization proceeds).
 */
export function firstDeployRoute(ctx: Ctx): "analyse" | "initialize" | "normal" {
  if (ctx.prev.lastPromotedSpec !== undefined || ctx.o.primary !== null) return "normal";
  const phase = ctx.prev.phase;
  const initializing = phase === undefined || phase === "Initializing";
  if (!firstDeployWanted(ctx.o.canary)) return initializing ? "normal" : "initialize";
  return passedFirstDeploy(ctx.prev, ctx.o.revision) && ctx.o.target !== null ? "normal" : "analyse";
}

/**
 * The status says a first-deploy analysis passed for `revision` and initialization is under
 * way (the only way to phase Initializing with a revision recorded as applied). Read from the
 * status, not the spec, so it holds even if the option is edited meanwhile.
 */
export function passedFirstDeploy(prev: CanaryStatus, revision: string): boolean {
  return prev.phase === "Initializing" && prev.lastAppliedSpec !== undefined && prev.lastAppliedSpec === revision && prev.lastPromotedSpec === undefined;
}

/** How many checks the first-deploy analysis runs. */
export function firstDeployChecks(ctx: Ctx): number {
  if (ctx.strategy !== "canary") return ctx.iterations;
  let steps = 0;
  for (let w = 0; !isLastStep(ctx.analysis, w) && steps < 100; w = nextStepWeight(ctx.analysis, w)) steps++;
  return Math.max(1, steps);
}

const RUNNING: ReadonlySet<string> = new Set(["Progressing", "WaitingPromotion"]);

export function planFirstDeploy(ctx: Ctx, d: Draft): Plan {
  d.manageRoutes = false;
  const s = d.status;
  const rev = ctx.o.revision;
  const { requests } = ctx.o;
  const running = RUNNING.has(s.phase ?? "");
  if (ctx.o.target === null || ctx.o.target.deleting === true) return waitForTarget(ctx, d, running);
  const retry = requests.retry === true && s.phase === "Failed";
  if (requests.retry === true) consume(d, ANNOTATION_RETRY, retry ? undefined : "only a Failed canary can be retried");
  if (running && rev === s.lastAppliedSpec) {
    if (requests.abort === true) {
      consume(d, ANNOTATION_ABORT);
      return failFirstDeploy(ctx, d, `aborted on request (${ANNOTATION_ABORT})`);
    }
    if (requests.promote === true) {
      consume(d, ANNOTATION_PROMOTE);
      return passFirstDeploy(ctx, d, `promotion requested (${ANNOTATION_PROMOTE})`);
    }
    if (requests.paused === true) return hold(ctx, d, `the first-deploy analysis of revision ${rev} is held`);
    return firstDeployStep(ctx, d);
  }
  for (const [asked, annotation] of [[requests.abort, ANNOTATION_ABORT], [requests.promote, ANNOTATION_PROMOTE]] as const) {
    if (asked === true) consume(d, annotation, "no first-deploy analysis is in progress");
  }
  if (s.phase === "Failed" && rev === s.lastAppliedSpec && !retry) {
    d.requeueAfterMs = null;
    return finish(ctx, d);
  }
  if (requests.paused === true) return hold(ctx, d, `revision ${rev} waits for its first-deploy analysis`);
  return startFirstDeploy(ctx, d, retry);
}

/**
 * The target does not exist or is being deleted. A deletion is not a failure: a first-deploy
 * analysis under way is cancelled (no FirstDeployFailed, no alert, no post-rollout hook) and
 * starts again from the beginning when a target is back.
 */
function waitForTarget(ctx: Ctx, d: Draft, running: boolean): Plan {
  const s = d.status;
  const how = ctx.o.target?.deleting === true ? "is being deleted" : "does not exist";
  const waiting = `waiting for target Deployment ${ctx.targetName}: it ${how}`;
  if (running) {
    const cancelled = s.lastAppliedSpec ?? ctx.o.revision;
    s.phase = "Initializing";
    delete s.lastAppliedSpec;
    delete s.canaryRevision;
    delete s.lastCheckTime;
    delete s.analysisStartedAt;
    delete s.lastAnalysis;
    s.canaryWeight = 0;
    s.failedChecks = 0;
    s.iterations = 0;
    emit(d, "TargetDeleted", "info", `target Deployment ${ctx.targetName} ${how}: the first-deploy analysis of revision ${cancelled} is cancelled; it starts again when the target is back`);
    d.message = waiting;
    d.requeueAfterMs = null;
    return finish(ctx, d);
  }
  if (s.phase === undefined) s.phase = "Initializing";
  say(ctx, d, waiting, { reason: "WaitingForTarget", severity: "info" });
  d.requeueAfterMs = s.phase === "Initializing" ? ctx.intervalMs : null;
  return finish(ctx, d);
}

function consume(d: Draft, annotation: string, refused?: string): void {
  d.actions.push({ type: "clearRequest", annotation });
  if (refused !== undefined) emit(d, "RequestIgnored", "info", `${annotation} ignored: ${refused}`);
}

function hold(ctx: Ctx, d: Draft, what: string): Plan {
  say(ctx, d, `${what}: paused by annotation ${ANNOTATION_PAUSED}`, { reason: "Paused", severity: "info" });
  d.requeueAfterMs = null;
  return finish(ctx, d);
}

function resetFirstRun(ctx: Ctx, s: CanaryStatus): void {
  s.phase = "Progressing";
  s.lastAppliedSpec = ctx.o.revision;
  s.canaryRevision = ctx.o.revision;
  s.trackedConfigs = { ...ctx.o.trackedConfigs };
  s.canaryWeight = 0;
  s.failedChecks = 0;
  s.iterations = 0;
  s.providerErrors = 0;
  s.analysisStartedAt = ctx.nowIso;
  delete s.lastCheckTime;
  delete s.lastAnalysis;
}

function startFirstDeploy(ctx: Ctx, d: Draft, retry: boolean): Plan {
  const rev = ctx.o.revision;
  resetFirstRun(ctx, d.status);
  d.actions.push({ type: "exposeTarget" });
  ensureCanaryScaled(ctx, d);
  const why = retry ? `retrying the first-deploy analysis of revision ${rev} (${ANNOTATION_RETRY})` : `analysing the first revision ${rev} of ${ctx.targetName} before creating ${ctx.primaryName} (firstDeploy)`;
  emit(d, "FirstDeployStarted", "info", why, true);
  d.message = `${READINESS_PREFIX}${ctx.targetName} to be ready for its first-deploy analysis`;
  d.requeueAfterMs = ctx.pollMs;
  return finish(ctx, d);
}

function progressMessage(ctx: Ctx, s: CanaryStatus): string {
  return `first-deploy analysis of revision ${s.lastAppliedSpec ?? ctx.o.revision}: check ${s.iterations ?? 0}/${firstDeployChecks(ctx)}, ${s.failedChecks ?? 0}/${ctx.threshold} failed checks`;
}

function firstDeployStep(ctx: Ctx, d: Draft): Plan {
  const s = d.status;
  const now = ctx.o.now;
  ensureCanaryScaled(ctx, d);
  const wait = notReadyReason(ctx.o.target, ctx.canaryReadyPercent, true);
  if (wait !== null) {
    const since = parseTime(s.lastCheckTime) ?? parseTime(s.analysisStartedAt) ?? now;
    if (ctx.o.target?.progressDeadlineExceeded === true || now - since >= ctx.deadlineMs) {
      return failFirstDeploy(ctx, d, `${ctx.targetName} was not ready within ${Math.round(ctx.deadlineMs / 1000)}s: ${wait}`);
    }
    say(ctx, d, `${READINESS_PREFIX}${ctx.targetName} to be ready: ${wait}`);
    d.requeueAfterMs = Math.max(0, Math.min(ctx.pollMs, since + ctx.deadlineMs - now));
    return finish(ctx, d);
  }
  const dueAt = checkDueAt(ctx);
  if (now < dueAt) {
    if (d.message.startsWith(READINESS_PREFIX)) d.message = progressMessage(ctx, s);
    d.requeueAfterMs = dueAt - now;
    return finish(ctx, d);
  }
  const first = (s.iterations ?? 0) === 0;
  const checkKind: CheckKind[] = first ? (hasWebhooks(ctx, "pre-rollout") ? ["pre-rollout"] : []) : hasAnalysisChecks(ctx) ? ["analysis"] : [];
  const kinds: CheckKind[] = [...(hasWebhooks(ctx, "rollback") ? (["rollback"] as const) : []), ...checkKind];
  const missing = unanswered(ctx, kinds);
  if (missing.length > 0) return need(missing);
  const rollback = ctx.o.checks.rollback;
  if (rollback !== undefined && gateOpen(rollback)) return failFirstDeploy(ctx, d, "a rollback webhook asked for a rollback");
  const outcome = checkKind.length > 0 ? ctx.o.checks[checkKind[0]!] : undefined;
  if (outcome !== undefined) {
    const stop = judge(ctx, d, outcome, first ? "pre-rollout check" : "first-deploy analysis");
    if (stop !== null) return stop;
  }
  s.lastCheckTime = ctx.nowIso;
  const done = s.iterations ?? 0;
  if (!first && done >= firstDeployChecks(ctx)) return askPromotion(ctx, d);
  s.iterations = done + 1;
  d.message = progressMessage(ctx, s);
  d.requeueAfterMs = ctx.intervalMs;
  return finish(ctx, d);
}

/** A check's outcome: the plan when the run stops or waits here, null when it passed. */
function judge(ctx: Ctx, d: Draft, outcome: CheckOutcome, label: string): Plan | null {
  const s = d.status;
  s.lastCheckTime = ctx.nowIso;
  s.lastAnalysis = outcome.results;
  if (outcome.halted !== undefined) {
    const halts = (s.providerErrors ?? 0) + 1;
    s.providerErrors = halts;
    if (halts >= ctx.haltLimit) return failFirstDeploy(ctx, d, `the ${label} could not be evaluated ${halts} times in a row: ${outcome.halted}`);
    emit(d, "CheckHalted", "warn", `${label} halted, not counted as failed: ${outcome.halted}`, halts === 1);
    d.message = `${label} halted (${halts}/${ctx.haltLimit}), not counted as failed: ${outcome.halted}`;
    d.requeueAfterMs = ctx.intervalMs;
    return finish(ctx, d);
  }
  s.providerErrors = 0;
  if (outcome.ok) return null;
  const failed = (s.failedChecks ?? 0) + 1;
  s.failedChecks = failed;
  const why = explain(outcome);
  emit(d, "CheckFailed", "warn", `${label} failed (${failed}/${ctx.threshold}): ${why}`, true);
  if (failed >= ctx.threshold) return failFirstDeploy(ctx, d, `${failed} failed checks reached the threshold of ${ctx.threshold}: ${why}`);
  d.message = `${label} failed (${failed}/${ctx.threshold}): ${why}`;
  d.requeueAfterMs = ctx.intervalMs;
  return finish(ctx, d);
}

function askPromotion(ctx: Ctx, d: Draft): Plan {
  const gate = gateKinds(ctx, "confirm-promotion");
  const missing = unanswered(ctx, gate);
  if (missing.length > 0) return need(missing);
  const answer = ctx.o.checks["confirm-promotion"];
  if (gate.length > 0 && answer !== undefined && !gateOpen(answer)) {
    d.status.phase = "WaitingPromotion";
    say(ctx, d, `revision ${ctx.o.revision} passed its first-deploy analysis and waits for approval: confirm-promotion gate closed (${explain(answer)})`, {
      reason: "GateClosed",
      severity: "warn",
      alert: true,
    });
    d.requeueAfterMs = ctx.intervalMs;
    return finish(ctx, d);
  }
  return passFirstDeploy(ctx, d, "the first-deploy analysis passed");
}

/** Hand over to the ordinary initialization, which creates the primary from this revision. */
function passFirstDeploy(ctx: Ctx, d: Draft, why: string): Plan {
  const s = d.status;
  const rev = ctx.o.revision;
  s.phase = "Initializing";
  s.lastAppliedSpec = rev;
  delete s.lastCheckTime;
  const message = `revision ${rev}: ${why}; creating ${ctx.primaryName} from it`;
  emit(d, "FirstDeployPassed", "info", message, true);
  d.message = message;
  d.requeueAfterMs = 0;
  return finish(ctx, d);
}

/** The target stays as deployed; no primary is created until a revision passes. */
function failFirstDeploy(ctx: Ctx, d: Draft, reason: string): Plan {
  const s = d.status;
  const rev = s.lastAppliedSpec ?? ctx.o.revision;
  s.phase = "Failed";
  delete s.lastCheckTime;
  const message = `first revision ${rev} failed its first-deploy analysis: ${reason}; no primary was created and ${ctx.targetName} is left as deployed until a new revision passes`;
  emit(d, "FirstDeployFailed", "error", message, true);
  d.actions.push({ type: "webhook", hook: "post-rollout", phase: "Failed", revision: rev });
  d.message = message;
  d.requeueAfterMs = null;
  return finish(ctx, d);
}
