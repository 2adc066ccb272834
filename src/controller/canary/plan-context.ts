/**
 * The pieces every step of `plan` shares: the settings read once from the spec, the draft
 * of the next status and actions, readiness rules, the routes a status implies, and the
 * closing step that stamps conditions and times. Pure, like plan itself.
 */
import { parseDuration } from "../../api/duration.ts";
import { resolveRouterProvider } from "../../api/features.ts";
import {
  DEFAULT_ANALYSIS_INTERVAL,
  DEFAULT_PROGRESS_DEADLINE_SECONDS,
  DEFAULT_READY_THRESHOLD,
  DEFAULT_THRESHOLD,
} from "../../api/defaults.ts";
import { CONDITION_PROMOTED, DEFAULT_WEBHOOK_TYPE } from "../../api/types.ts";
import type { CanaryAnalysis, CanaryCondition, CanaryPhase, CanaryStatus, ConditionStatus, RouterProvider, WebhookType } from "../../api/types.ts";
import type { Action, CheckKind, EventReason, EventSeverity, Observed, Plan, WorkloadState } from "./plan-types.ts";
import { FULL_WEIGHT, iterationsOf, mirrorsFirstStep, routerShiftsWeights, selectStrategy } from "./weights.ts";
import type { RunStrategy } from "./weights.ts";

/**
 * The longest pause between readiness checks. Readiness is awaited from the Deployment watch,
 * which wakes the Canary on every status change of its target or primary; this is only the
 * safety net behind it, so it can be long without slowing a run down.
 */
export const MAX_POLL_MS = 10_000;

export interface Ctx {
  o: Observed;
  /** The status plan continues from (never mutated). */
  prev: CanaryStatus;
  analysis: CanaryAnalysis;
  provider: RouterProvider;
  strategy: RunStrategy;
  /** The router moves traffic by weight (every provider but `kubernetes`). */
  shiftsWeights: boolean;
  /** Canary runs with `mirror`: one mirrored step at weight 0 before any traffic shifts. */
  mirrorFirst: boolean;
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
  // Validation rejects unknown providers; should one get here, treat it as the router that
  // moves no traffic at all, the only choice that cannot send users to an unchecked canary.
  const provider = resolveRouterProvider(spec.provider) ?? "kubernetes";
  const intervalMs = Math.max(1, durationMs(analysis.interval, DEFAULT_ANALYSIS_INTERVAL));
  const deadlineMs = (spec.progressDeadlineSeconds ?? DEFAULT_PROGRESS_DEADLINE_SECONDS) * 1000;
  const targetName = spec.targetRef.name;
  return {
    o,
    prev: o.canary.status ?? {},
    analysis,
    provider,
    strategy: selectStrategy(spec.analysis),
    shiftsWeights: routerShiftsWeights(provider),
    mirrorFirst: mirrorsFirstStep(spec.analysis, provider),
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

export function need(checks: CheckKind[]): Plan {
  return { kind: "need", checks };
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

/**
 * The replicas the user asked for. A target scaled to zero by aviary reads 0 unless the
 * desired-replicas annotation is set; then the primary (which got the user's count at
 * initialization or promotion) is the better answer.
 */
export function userReplicas(ctx: Ctx): number {
  const desired = ctx.o.target?.desiredReplicas ?? 0;
  if (desired > 0) return desired;
  return ctx.o.primary?.specReplicas ?? 0;
}

/** Replicas for a canary under analysis: what the user asked for, and never zero. */
export function canaryReplicas(ctx: Ctx): number {
  return Math.max(1, userReplicas(ctx));
}

/**
 * The primary follows the replicas the user asks for (a re-applied manifest with a new
 * count lands in aviary.dev/desired-replicas while the target is guarded). Not with an
 * autoscaler, and not from a count of zero, which only means "scaled down by aviary".
 */
export function followDesiredReplicas(ctx: Ctx, d: Draft): void {
  const desired = ctx.o.target?.desiredReplicas ?? 0;
  const primary = ctx.o.primary;
  if (ctx.o.canary.spec.autoscalerRef !== undefined || primary === null || desired < 1) return;
  if (primary.specReplicas !== desired) d.actions.push({ type: "scalePrimary", replicas: desired });
}

/** Replicas to give the primary; null when an autoscaler owns them. */
export function primaryReplicas(ctx: Ctx): number | null {
  return ctx.o.canary.spec.autoscalerRef !== undefined ? null : userReplicas(ctx);
}

/** The revision of the current (or last) run. */
export const revisionOfRun = (ctx: Ctx, s: CanaryStatus): string => s.lastAppliedSpec ?? ctx.o.revision;

/** Condition messages for "waiting for readiness" start with this, so a later step knows to replace them. */
export const READINESS_PREFIX = "waiting for ";

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
// Readiness (Flagger's rules, with the ready threshold rounded up)
// ---------------------------------------------------------------------------------------

/**
 * Why a Deployment is not ready, or null when it is: the rollout has been observed, every
 * replica runs the current template, no old replicas remain, and at least `percent`% of the
 * desired replicas are available (rounded up: 50% of 3 is 2). `requireReplicas`: a
 * Deployment scaled to zero is not ready (a canary with no pods cannot be analysed).
 */
export function notReadyReason(w: WorkloadState | null, percent: number, requireReplicas: boolean): string | null {
  if (w === null) return "the Deployment does not exist";
  if (w.observedGeneration < w.generation) return `generation ${w.generation} is not observed yet`;
  if (requireReplicas && w.specReplicas < 1) return "it is scaled to zero";
  if (w.updatedReplicas < w.specReplicas) return `${w.updatedReplicas} of ${w.specReplicas} replicas are updated`;
  if (w.replicas > w.updatedReplicas) return `${w.replicas - w.updatedReplicas} old replicas are pending termination`;
  const needed = Math.ceil((w.specReplicas * percent) / 100);
  if (w.availableReplicas < needed) {
    return `${w.availableReplicas} of ${w.specReplicas} replicas are available (${needed} needed at ${percent}%)`;
  }
  return null;
}

// ---------------------------------------------------------------------------------------
// Routes
// ---------------------------------------------------------------------------------------

export interface Routes {
  primary: number;
  canary: number;
  mirror: boolean;
}

const ALL_TO_PRIMARY: Routes = { primary: FULL_WEIGHT, canary: 0, mirror: false };

const split = (canary: number): Routes => ({ primary: FULL_WEIGHT - canary, canary, mirror: false });

/**
 * The routes a status implies. The status is plan's memory of what it decided; the router's
 * objects are checked against it on every reconcile and corrected, so a hand edit or a
 * crash between setting routes and writing status cannot leave traffic where no run
 * expects it. Runs that have not started (iterations 0) send everything to the primary.
 */
export function routesFor(ctx: Ctx, s: CanaryStatus): Routes {
  const weight = s.canaryWeight ?? 0;
  const started = (s.iterations ?? 0) > 0;
  if (!ctx.shiftsWeights) return ALL_TO_PRIMARY;
  switch (s.phase) {
    case "Progressing":
    case "WaitingPromotion":
      if (!started) return ALL_TO_PRIMARY;
      switch (ctx.strategy) {
        case "canary":
          return weight === 0 && ctx.mirrorFirst ? { ...ALL_TO_PRIMARY, mirror: true } : split(weight);
        case "mirror":
          return { ...ALL_TO_PRIMARY, mirror: true };
        case "ab":
          // The weights of the matched route: matching requests all go to the canary.
          return split(FULL_WEIGHT);
        case "blue-green":
          return ALL_TO_PRIMARY;
      }
      return ALL_TO_PRIMARY;
    case "Promoting":
      return split(weight);
    default:
      return ALL_TO_PRIMARY;
  }
}

export function sameRoutes(observed: Observed["routes"], want: Routes): boolean {
  return observed !== null && observed.primary === want.primary && observed.canary === want.canary && (observed.mirror ?? false) === want.mirror;
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
    const want = routesFor(ctx, s);
    if (!sameRoutes(ctx.o.routes, want)) d.actions.unshift({ type: "setRoutes", ...want });
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
