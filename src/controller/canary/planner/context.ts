/**
 * What every step of `plan` shares: the settings read once from the spec (the context),
 * the draft of the next status and actions, and the closing step that corrects the routes
 * and stamps conditions and times. Pure, like plan itself.
 */
import { parseDuration } from "../../../api/duration.ts";
import {
  DEFAULT_ANALYSIS_INTERVAL,
  DEFAULT_PROGRESS_DEADLINE_SECONDS,
  DEFAULT_READY_THRESHOLD,
  DEFAULT_THRESHOLD,
} from "../../../api/defaults.ts";
import { CONDITION_PROMOTED, DEFAULT_WEBHOOK_TYPE } from "../../../api/types.ts";
import type { CanaryAnalysis, CanaryCondition, CanaryPhase, CanaryStatus, ConditionStatus, WebhookType } from "../../../api/types.ts";
import { sameSplit } from "../../../ground/split.ts";
import type { Action, CheckKind, CheckOutcome, EventReason, EventSeverity, Observed, Plan } from "./types.ts";
import { iterationsOf, runShapeOf } from "./strategy.ts";
import { splitForStatus } from "./weights.ts";
import type { RunShape } from "./weights.ts";

/**
 * The longest pause between readiness checks. Readiness is awaited from the Deployment watch,
 * which wakes the Canary on every status change of its target or primary; this is only the
 * safety net behind it, so it can be long without slowing a run down.
 */
export const MAX_POLL_MS = 10_000;

export interface Ctx extends RunShape {
  o: Observed;
  /** The status plan continues from (never mutated). */
  prev: CanaryStatus;
  analysis: CanaryAnalysis;
  iterations: number;
  intervalMs: number;
  /** How often to look again while waiting for readiness. */
  pollMs: number;
  threshold: number;
  deadlineMs: number;
  /**
   * Consecutive halted checks before the run is rolled back: as many as fit in the progress
   * deadline (a run that cannot be measured for that long is not making progress).
   */
  haltLimit: number;
  canaryReadyPercent: number;
  primaryReadyPercent: number;
  nowIso: string;
  targetName: string;
  primaryName: string;
}

function durationMs(text: string | undefined, fallback: string): number {
  try {
    return parseDuration(text ?? fallback);
  } catch {
    // Validated upstream; an unparsable value that slipped through acts as the default.
    return parseDuration(fallback);
  }
}

export function buildContext(o: Observed): Ctx {
  const spec = o.canary.spec;
  const analysis = spec.analysis ?? {};
  const intervalMs = Math.max(1, durationMs(analysis.interval, DEFAULT_ANALYSIS_INTERVAL));
  const deadlineMs = (spec.progressDeadlineSeconds ?? DEFAULT_PROGRESS_DEADLINE_SECONDS) * 1000;
  const targetName = spec.targetRef.name;
  return {
    o,
    prev: o.canary.status ?? {},
    analysis,
    ...runShapeOf(o.canary),
    iterations: iterationsOf(spec.analysis),
    intervalMs,
    pollMs: Math.min(intervalMs, MAX_POLL_MS),
    threshold: Math.max(1, analysis.threshold ?? DEFAULT_THRESHOLD),
    deadlineMs,
    haltLimit: Math.max(1, Math.ceil(deadlineMs / intervalMs)),
    canaryReadyPercent: analysis.canaryReadyThreshold ?? DEFAULT_READY_THRESHOLD,
    primaryReadyPercent: analysis.primaryReadyThreshold ?? DEFAULT_READY_THRESHOLD,
    nowIso: new Date(o.now).toISOString(),
    targetName,
    primaryName: o.primary?.name ?? `${targetName}-primary`,
  };
}

// ---------------------------------------------------------------------------------------
// Draft: the next status and actions, built up by one step and closed by `finish`
// ---------------------------------------------------------------------------------------

export interface Draft {
  status: CanaryStatus;
  actions: Action[];
  /** The message of the Promoted condition: what the canary is doing or waiting for. */
  message: string;
  requeueAfterMs: number | null;
  /** Bring the router's weights in line with `status` (off while initializing, deleting, suspended). */
  manageRoutes: boolean;
}

export function promotedCondition(status: CanaryStatus): CanaryCondition | undefined {
  return status.conditions?.find((c) => c.type === CONDITION_PROMOTED);
}

export function newDraft(ctx: Ctx): Draft {
  return {
    status: structuredClone(ctx.prev),
    actions: [],
    message: promotedCondition(ctx.prev)?.message ?? "",
    requeueAfterMs: null,
    manageRoutes: true,
  };
}

export function emit(d: Draft, reason: EventReason, severity: EventSeverity, message: string, alert = false): void {
  d.actions.push({ type: "event", reason, message, severity, alert });
}

/**
 * Sets the condition message, and emits an event only when that message is new: a step
 * that holds (waiting for readiness, a closed gate) is planned on every reconcile, but the
 * user should hear about it once.
 */
export function say(ctx: Ctx, d: Draft, message: string, event?: { reason: EventReason; severity: EventSeverity; alert?: boolean }): void {
  d.message = message;
  if (event !== undefined && promotedCondition(ctx.prev)?.message !== message) {
    emit(d, event.reason, event.severity, message, event.alert ?? false);
  }
}

export function need(checks: CheckKind[], metrics?: string[]): Plan {
  return metrics === undefined ? { kind: "need", checks } : { kind: "need", checks, metrics };
}

/** The kinds among `kinds` that have not been answered yet. */
export function unanswered(ctx: Ctx, kinds: CheckKind[]): CheckKind[] {
  return kinds.filter((k) => ctx.o.checks[k] === undefined);
}

// ---------------------------------------------------------------------------------------
// Spec questions
// ---------------------------------------------------------------------------------------

export function hasWebhooks(ctx: Ctx, type: WebhookType): boolean {
  return (ctx.analysis.webhooks ?? []).some((w) => (w.type ?? DEFAULT_WEBHOOK_TYPE) === type);
}

/** An `analysis` check has something to run: rollout webhooks or metrics. */
export function hasAnalysisChecks(ctx: Ctx): boolean {
  return hasWebhooks(ctx, "rollout") || (ctx.analysis.metrics ?? []).length > 0;
}

/** The gate for a check kind, when the spec has webhooks for it. */
export function gateKinds(ctx: Ctx, kind: "confirm-rollout" | "confirm-traffic-increase" | "confirm-promotion"): CheckKind[] {
  return hasWebhooks(ctx, kind) ? [kind] : [];
}

/** The revision of the current (or last) run. */
export const revisionOfRun = (ctx: Ctx, s: CanaryStatus): string => s.lastAppliedSpec ?? ctx.o.revision;

// ---------------------------------------------------------------------------------------
// Time
// ---------------------------------------------------------------------------------------

export function parseTime(iso: string | undefined): number | undefined {
  if (iso === undefined) return undefined;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? undefined : t;
}

/** When the next check is due: now when none has run in this run yet. */
export function checkDueAt(ctx: Ctx): number {
  const last = parseTime(ctx.prev.lastCheckTime);
  return last === undefined ? ctx.o.now : last + ctx.intervalMs;
}

// ---------------------------------------------------------------------------------------
// Closing a step
// ---------------------------------------------------------------------------------------

function conditionStatusOf(phase: CanaryPhase | undefined): ConditionStatus {
  switch (phase) {
    case "Initialized":
    case "Succeeded":
      return "True";
    case "Failed":
      return "False";
    default:
      return "Unknown";
  }
}

function nextConditions(ctx: Ctx, s: CanaryStatus, message: string): CanaryCondition[] {
  const others = (s.conditions ?? []).filter((c) => c.type !== CONDITION_PROMOTED);
  const before = promotedCondition(ctx.prev);
  const status = conditionStatusOf(s.phase);
  const reason = s.phase ?? "Initializing";
  const transitioned = before === undefined || before.status !== status;
  const updated = transitioned || before.reason !== reason || before.message !== message;
  const condition: CanaryCondition = {
    type: CONDITION_PROMOTED,
    status,
    reason,
    message,
    lastUpdateTime: updated ? ctx.nowIso : (before.lastUpdateTime ?? ctx.nowIso),
    lastTransitionTime: transitioned ? ctx.nowIso : (before.lastTransitionTime ?? ctx.nowIso),
  };
  return [condition, ...others];
}

/**
 * Finishes a step: routes corrected to what the status implies (first, so traffic moves
 * before anything is scaled down), observedGeneration, lastTransitionTime when the phase
 * or a counter moved, and the Promoted condition.
 */
export function finish(ctx: Ctx, d: Draft): Plan {
  const s = d.status;
  if (d.manageRoutes) {
    const want = splitForStatus(ctx, s);
    if (!sameSplit(ctx.o.routes, want)) d.actions.unshift({ type: "setRoutes", ...want });
  }
  const generation = ctx.o.canary.metadata.generation;
  if (generation !== undefined) s.observedGeneration = generation;
  const p = ctx.prev;
  const moved =
    s.phase !== p.phase ||
    (s.canaryWeight ?? 0) !== (p.canaryWeight ?? 0) ||
    (s.iterations ?? 0) !== (p.iterations ?? 0) ||
    (s.failedChecks ?? 0) !== (p.failedChecks ?? 0);
  if (moved || s.lastTransitionTime === undefined) s.lastTransitionTime = ctx.nowIso;
  s.conditions = nextConditions(ctx, s, d.message);
  return { kind: "act", actions: d.actions, status: s, requeueAfterMs: d.requeueAfterMs };
}

/** A gate (confirm-*, rollback) answered open: every hook said yes and none could not be asked. */
export const gateOpen = (o: CheckOutcome): boolean => o.ok && o.halted === undefined;
