/**
 * `plan(observed) -> need | act`: every decision of the canary engine, as a pure function.
 *
 * No I/O, no clock, no randomness: the reconciler gathers what it sees (the Canary and its
 * status, the target and primary Deployments, the router's weights, request annotations),
 * calls plan, runs any checks plan asks for and calls it again with the answers, then
 * executes the actions in order and writes the returned status. All state that matters
 * lives in the status, so a restarted controller continues exactly where it stopped.
 *
 * This file routes a reconcile by lifecycle (deletion, suspension, missing target,
 * initialization, idle, waiting, running, promoting; first-deploy.ts for the analysis of a
 * first revision). The planner's other files are one
 * concept each: context.ts (settings, the draft, closing a step), readiness.ts,
 * replicas.ts, strategy.ts, weights.ts (every weight decision), run.ts (the steps of a
 * run) and promotion.ts (promotion and rollback).
 *
 * Caller loop:
 *   let p = plan(o);
 *   while (p.kind === "need") { for (const k of p.checks) o.checks[k] = await run(k); p = plan(o); }
 * plan never asks again for a kind that is answered, so a reconcile calls it at most three times.
 */
import { ANNOTATION_ABORT, ANNOTATION_PAUSED, ANNOTATION_PROMOTE, ANNOTATION_RETRY } from "../../../api/types.ts";
import type { CanaryStatus } from "../../../api/types.ts";
import { buildContext, checkDueAt, emit, finish, gateKinds, gateOpen, need, newDraft, parseTime, say, unanswered } from "./context.ts";
import { belowSize, followDesiredReplicas, primaryReplicas, userReplicas } from "./replicas.ts";
import { isScaledDown, notReadyReason } from "./readiness.ts";
import type { Ctx, Draft } from "./context.ts";
import { finalisingStep, promoteNow, promotionStep, rollback } from "./promotion.ts";
import { beginProgressing, runStep, startRun } from "./run.ts";
import { holdForMissingConfigs, holdForMissingObjects, planMissingTarget, planNamespaceTeardown, restorePrimary, restorePrimaryFromSnapshot } from "./lifecycle.ts";
import { firstDeployRoute, passedFirstDeploy, planFirstDeploy } from "./first-deploy.ts";
import { planAdoption } from "./adoption.ts";
import type { Observed, Plan } from "./types.ts";

export { CHECK_KINDS, EVENT_REASONS } from "./types.ts";
export type {
  Action,
  CheckKind,
  CheckOutcome,
  EventReason,
  EventSeverity,
  Observed,
  Plan,
  Requests,
  WorkloadState,
} from "./types.ts";

export function plan(observed: Observed): Plan {
  const ctx = buildContext(observed);
  const d = newDraft(ctx);
  // Deletions are not revisions: a namespace, a target or a config going away starts no
  // run, rolls nothing back and alerts no one (lifecycle.ts).
  if (observed.namespaceTerminating === true) return planNamespaceTeardown(ctx, d);
  if (observed.deleting) return planDeletion(ctx, d);
  if (observed.canary.spec.suspend === true) return planSuspended(ctx, d);
  const phase = ctx.prev.phase;
  const firstDeploy = firstDeployRoute(ctx);
  if (firstDeploy === "analyse") return planFirstDeploy(ctx, d);
  // The option was switched off after a first-deploy run: plain initialization, nothing analysed.
  if (firstDeploy === "initialize") delete d.status.lastAppliedSpec;
  const initializing = phase === undefined || phase === "Initializing" || firstDeploy === "initialize";
  // A missing primary comes back from its snapshot before anything else is decided, with or
  // without the target (lifecycle.ts).
  if (!initializing) restorePrimaryFromSnapshot(ctx, d);
  if (observed.target === null || observed.target.deleting === true) return planMissingTarget(ctx, d, initializing);
  const held = holdForMissingConfigs(ctx, d, initializing);
  if (held !== null) return held;
  if (initializing) return planInitialization(ctx, d);
  const adopted = planAdoption(ctx, d);
  if (adopted !== null) return adopted;
  switch (phase) {
    case "Waiting":
      return planWaiting(ctx, d);
    case "Progressing":
    case "WaitingPromotion":
      return planRunning(ctx, d);
    case "Promoting":
    case "Finalising":
      refuseRequests(ctx, d, "a promotion is under way");
      return phase === "Promoting" ? promotionStep(ctx, d) : finalisingStep(ctx, d);
    default:
      return planIdle(ctx, d);
  }
}

// ---------------------------------------------------------------------------------------
// Requests (annotations on the Canary). Each one is cleared once acted on or refused, so
// a stale request cannot fire later; `paused` is a state and stays until the user removes it.
// ---------------------------------------------------------------------------------------

type OneShotRequest = "promote" | "abort" | "retry";

const REQUEST_ANNOTATIONS: Record<OneShotRequest, string> = {
  promote: ANNOTATION_PROMOTE,
  abort: ANNOTATION_ABORT,
  retry: ANNOTATION_RETRY,
};

function consume(d: Draft, request: OneShotRequest): void {
  d.actions.push({ type: "clearRequest", annotation: REQUEST_ANNOTATIONS[request] });
}

function refuseRequests(ctx: Ctx, d: Draft, why: string, only: OneShotRequest[] = ["promote", "abort", "retry"]): void {
  for (const request of only) {
    if (ctx.o.requests[request] !== true) continue;
    consume(d, request);
    emit(d, "RequestIgnored", "info", `${REQUEST_ANNOTATIONS[request]} ignored: ${why}`);
  }
}

function holdPaused(ctx: Ctx, d: Draft, what: string): Plan {
  say(ctx, d, `${what}: paused by annotation ${ANNOTATION_PAUSED}`, { reason: "Paused", severity: "info" });
  d.requeueAfterMs = null;
  return finish(ctx, d);
}

// ---------------------------------------------------------------------------------------
// Lifecycle
// ---------------------------------------------------------------------------------------

/**
 * Deletion. With revertOnDeletion the target is scaled back up and waited for (at most the
 * progress deadline) before `finalize` points traffic at it, so no request is dropped.
 * Without it, finalize only releases aviary's finalizer if one is present.
 */
function planDeletion(ctx: Ctx, d: Draft): Plan {
  d.manageRoutes = false;
  const s = d.status;
  if (ctx.o.canary.spec.revertOnDeletion !== true) {
    d.actions.push({ type: "finalize", revert: false });
    return finish(ctx, d);
  }
  const target = ctx.o.target;
  if (target !== null) {
    const want = Math.max(1, userReplicas(ctx));
    const below = belowSize(target, want);
    if (below) d.actions.push({ type: "scaleTarget", replicas: want });
    const wait = below && target.sizing !== "nodes" ? `it has ${target.specReplicas} of ${want} replicas` : notReadyReason(target, 100, true);
    if (wait !== null) {
      const since = s.phase === "Terminating" ? (parseTime(ctx.prev.lastTransitionTime) ?? ctx.o.now) : ctx.o.now;
      if (ctx.o.now - since < ctx.deadlineMs) {
        s.phase = "Terminating";
        say(ctx, d, `reverting to ${target.name}: waiting for it to be ready: ${wait}`, { reason: "Terminating", severity: "info" });
        d.requeueAfterMs = ctx.pollMs;
        return finish(ctx, d);
      }
      emit(d, "Terminating", "warn", `${target.name} was not ready within the progress deadline (${wait}); reverting anyway`);
    }
  }
  d.actions.push({ type: "finalize", revert: true });
  // Finalizing again (a finalize that failed half-way) repeats the idempotent action, not the event.
  if (s.phase === "Terminated") return finish(ctx, d);
  s.phase = "Terminated";
  emit(d, "Terminated", "info", target !== null ? `traffic reverted to ${target.name}` : `target ${ctx.targetName} is gone; generated objects removed`);
  d.message = "the Canary is being deleted";
  return finish(ctx, d);
}

/** suspend: nothing moves; only observedGeneration follows the spec. */
function planSuspended(ctx: Ctx, d: Draft): Plan {
  d.manageRoutes = false;
  const message = "spec.suspend is true: no analysis, promotion or rollback until it is cleared";
  if (ctx.prev.observedGeneration !== ctx.o.canary.metadata.generation) emit(d, "Suspended", "info", message);
  if (d.message === "") d.message = message;
  return finish(ctx, d);
}

/**
 * Initialization: create the primary and wait for it; then scale the target to zero and
 * record the primary's revision as applied and promoted. The first revision is promoted
 * without analysis: there is nothing to compare it with.
 */
function planInitialization(ctx: Ctx, d: Draft): Plan {
  refuseRequests(ctx, d, "the Canary is still initializing");
  const s = d.status;
  const primary = ctx.o.primary;
  const wait = notReadyReason(primary, ctx.primaryReadyPercent, false);
  if (primary === null || wait !== null) {
    d.manageRoutes = false;
    if (ctx.prev.phase === undefined) emit(d, "Initializing", "info", `creating ${ctx.primaryName} from ${ctx.targetName}`);
    s.phase = "Initializing";
    const apexOnTarget = passedFirstDeploy(ctx.prev, ctx.o.revision);
    d.actions.push({ type: "initialize", revision: ctx.o.revision, replicas: primaryReplicas(ctx), ...(apexOnTarget ? { apexOnTarget } : {}) });
    d.message = primary === null ? `creating ${ctx.primaryName}` : `waiting for ${ctx.primaryName} to be ready: ${wait}`;
    d.requeueAfterMs = ctx.pollMs;
    return finish(ctx, d);
  }
  // The primary may have been created from an older template than the target's current one;
  // record what the primary runs, so a newer target revision starts a run right away.
  const rev = primary.revision ?? ctx.o.revision;
  s.phase = "Initialized";
  s.lastAppliedSpec = rev;
  s.lastPromotedSpec = rev;
  s.canaryRevision = rev;
  s.trackedConfigs = rev === ctx.o.revision ? { ...ctx.o.trackedConfigs } : {};
  s.canaryWeight = 0;
  s.failedChecks = 0;
  s.iterations = 0;
  delete s.lastCheckTime;
  delete s.analysisStartedAt;
  const target = ctx.o.target;
  const analysed = passedFirstDeploy(ctx.prev, rev);
  // The apex Service stayed on the target while the primary started: it moves now, before the scale-down.
  if (analysed) d.actions.push({ type: "initialize", revision: rev, replicas: primaryReplicas(ctx) });
  if (target !== null && !isScaledDown(target)) d.actions.push({ type: "scaleTarget", replicas: 0 });
  const how = analysed ? "it passed its first-deploy analysis" : "the first revision is promoted without analysis, as there is nothing to compare it with";
  const message = `initialization done: ${ctx.primaryName} runs revision ${rev}; ${how}`;
  emit(d, "Initialized", "info", message, true);
  d.message = message;
  d.requeueAfterMs = rev !== ctx.o.revision ? 0 : null;
  return finish(ctx, d);
}

/**
 * Initialized, Succeeded or Failed: start a run for a new revision (or a retry of a failed
 * one), except when the target went back to the promoted revision (nothing to analyse).
 * Otherwise keep the idle shape: canary at zero, all traffic on the primary.
 */
function planIdle(ctx: Ctx, d: Draft): Plan {
  followDesiredReplicas(ctx, d);
  const s = d.status;
  rekey(ctx, s);
  restorePrimary(ctx, d);
  const rev = ctx.o.revision;
  const { requests } = ctx.o;
  const retry = requests.retry === true && s.phase === "Failed";
  refuseRequests(ctx, d, "no run is in progress", ["promote", "abort"]);
  if (requests.retry === true && !retry) refuseRequests(ctx, d, "only a Failed canary can be retried", ["retry"]);
  if (rev !== s.lastAppliedSpec || retry) {
    if (rev === s.lastPromotedSpec) {
      if (retry) refuseRequests(ctx, d, `the target is back on the promoted revision ${rev}: nothing to retry`, ["retry"]);
      s.lastAppliedSpec = rev;
      s.trackedConfigs = { ...ctx.o.trackedConfigs };
      say(ctx, d, `the target is back on the promoted revision ${rev}: nothing to analyse`, { reason: "RevisionReverted", severity: "info" });
    } else if (requests.paused === true) {
      return holdPaused(ctx, d, `revision ${rev} waits to be analysed`);
    } else if (retry) {
      consume(d, "retry");
      return startRun(ctx, d, { reason: "Retrying", message: `retrying revision ${rev} (${ANNOTATION_RETRY})` }, false);
    } else {
      return startRun(ctx, d, { reason: "NewRevision", message: `new revision ${rev} of ${ctx.targetName} detected: starting a canary run` }, false);
    }
  }
  const target = ctx.o.target;
  if (target !== null && !isScaledDown(target)) d.actions.push({ type: "scaleTarget", replicas: 0 });
  return finish(ctx, d);
}

/**
 * A hash key rotation (tracked-configs.ts): the same content under the new key. Every
 * revision the status recorded for it moves to the new one; no run, no event.
 */
function rekey(ctx: Ctx, s: CanaryStatus): void {
  const from = ctx.o.rekeyedFrom;
  if (from === undefined || from !== s.lastAppliedSpec) return;
  const rev = ctx.o.revision;
  s.lastAppliedSpec = rev;
  if (s.lastPromotedSpec === from) s.lastPromotedSpec = rev;
  if (s.canaryRevision === from) s.canaryRevision = rev;
  s.trackedConfigs = { ...ctx.o.trackedConfigs };
}

/**
 * The target went back to the promoted revision during a run: nothing is left to analyse.
 * Traffic returns to the primary (which runs exactly that revision), the canary is scaled
 * down, and the canary counts as promoted again.
 */
function cancelRun(ctx: Ctx, d: Draft): Plan {
  const s = d.status;
  const rev = ctx.o.revision;
  const cancelled = s.lastAppliedSpec;
  s.lastAppliedSpec = rev;
  s.trackedConfigs = { ...ctx.o.trackedConfigs };
  s.phase = "Succeeded";
  s.canaryWeight = 0;
  if (ctx.o.target !== null && !isScaledDown(ctx.o.target)) d.actions.push({ type: "scaleTarget", replicas: 0 });
  const message = `the target went back to the promoted revision ${rev}: the run of ${cancelled ?? "the new revision"} is cancelled`;
  emit(d, "RevisionReverted", "info", message, true);
  d.message = message;
  return finish(ctx, d);
}

/** Mid-run requests: an abort rolls back now; a retry means nothing until the run has failed. */
function abortOrRefuseRetry(ctx: Ctx, d: Draft): Plan | null {
  if (ctx.o.requests.abort === true) {
    consume(d, "abort");
    return rollback(ctx, d, `aborted on request (${ANNOTATION_ABORT})`, false);
  }
  refuseRequests(ctx, d, "only a Failed canary can be retried", ["retry"]);
  return null;
}

/** Waiting: the confirm-rollout gate was closed; ask again every interval. */
function planWaiting(ctx: Ctx, d: Draft): Plan {
  followDesiredReplicas(ctx, d);
  const s = d.status;
  const rev = ctx.o.revision;
  const { requests } = ctx.o;
  const aborted = abortOrRefuseRetry(ctx, d);
  if (aborted !== null) return aborted;
  if (rev !== s.lastAppliedSpec) {
    if (rev === s.lastPromotedSpec) return cancelRun(ctx, d);
    if (requests.promote === true) consume(d, "promote");
    const message = `new revision ${rev} of ${ctx.targetName} replaces ${s.lastAppliedSpec ?? "the waiting one"}`;
    return startRun(ctx, d, { reason: "NewRevision", message }, requests.promote === true);
  }
  if (requests.promote === true) {
    consume(d, "promote");
    emit(d, "GateOpened", "info", `confirm-rollout gate opened on request (${ANNOTATION_PROMOTE})`);
    return beginProgressing(ctx, d);
  }
  if (requests.paused === true) return holdPaused(ctx, d, `revision ${rev} waits for approval`);
  const dueAt = checkDueAt(ctx);
  if (ctx.o.now < dueAt) {
    d.requeueAfterMs = dueAt - ctx.o.now;
    return finish(ctx, d);
  }
  const gate = gateKinds(ctx, "confirm-rollout");
  const missing = unanswered(ctx, gate);
  if (missing.length > 0) return need(missing);
  const answer = ctx.o.checks["confirm-rollout"];
  if (gate.length === 0 || (answer !== undefined && gateOpen(answer))) {
    emit(d, "GateOpened", "info", `confirm-rollout gate opened for revision ${rev}`);
    return beginProgressing(ctx, d);
  }
  s.lastCheckTime = ctx.nowIso;
  d.requeueAfterMs = ctx.intervalMs;
  return finish(ctx, d);
}

/** Progressing or WaitingPromotion. */
function planRunning(ctx: Ctx, d: Draft): Plan {
  followDesiredReplicas(ctx, d);
  const s = d.status;
  const rev = ctx.o.revision;
  const { requests } = ctx.o;
  const aborted = abortOrRefuseRetry(ctx, d);
  if (aborted !== null) return aborted;
  if (rev !== s.lastAppliedSpec) {
    if (rev === s.lastPromotedSpec) return cancelRun(ctx, d);
    const message = `new revision ${rev} of ${ctx.targetName} during the run of ${s.lastAppliedSpec ?? "another revision"}: restarting from weight 0`;
    return startRun(ctx, d, { reason: "NewRevision", message }, false);
  }
  if (requests.promote === true) {
    consume(d, "promote");
    return promoteNow(ctx, d, `promotion requested (${ANNOTATION_PROMOTE})`);
  }
  if (ctx.o.canary.spec.skipAnalysis === true) return promoteNow(ctx, d, "analysis is skipped (skipAnalysis)");
  if (requests.paused === true) return holdPaused(ctx, d, `the run of revision ${rev} is held`);
  return holdForMissingObjects(ctx, d) ?? runStep(ctx, d);
}
