/**
 * What the planner does when something a Canary depends on goes away or is missing: the
 * namespace being deleted, the target deleted, a required ConfigMap/Secret missing, a
 * generated object (the primary included) missing. The rule that ties them together: a
 * deletion is not a revision. It starts no run, rolls nothing back, sends no alert; it is told once, at info
 * level, and the Canary resumes from its status when the thing is back. Pure, like plan.
 */
import type { CanaryCondition } from "../../../api/types.ts";
import { emit, finish, revisionOfRun, say } from "./context.ts";
import type { Ctx, Draft } from "./context.ts";
import { finalisingStep, promotionStep } from "./promotion.ts";
import { primaryReplicas } from "./replicas.ts";
import type { Plan } from "./types.ts";
import { IDLE_WEIGHT } from "./weights.ts";

/** The condition that names the required configs the target references but that do not exist. */
export const CONDITION_CONFIGS = "ConfigsAvailable";

/**
 * The namespace is being deleted: its objects disappear in no particular order, so a missing
 * target or Secret says nothing about the application. Nothing is written but the removal of
 * aviary's finalizer (a revert would only recreate what the namespace controller is deleting).
 */
export function planNamespaceTeardown(ctx: Ctx, d: Draft): Plan {
  d.manageRoutes = false;
  d.status.phase = "Terminating";
  d.actions.push({ type: "finalize", revert: false });
  d.message = `namespace ${ctx.o.canary.metadata.namespace ?? ""} is being deleted: no run is started or rolled back`;
  d.requeueAfterMs = null;
  return finish(ctx, d);
}

/**
 * The target does not exist or is being deleted. Before initialization: wait. During a run:
 * the run is cancelled, not rolled back — nothing failed; the primary keeps serving the
 * promoted revision and all traffic goes to it. A target created again with a revision
 * other than the promoted one starts a run of its own. Promotions under way finish: the
 * primary already carries the revision.
 */
export function planMissingTarget(ctx: Ctx, d: Draft, initializing: boolean): Plan {
  const s = d.status;
  const how = ctx.o.target?.deleting === true ? "is being deleted" : "does not exist";
  const waiting = `waiting for target Deployment ${ctx.targetName}: it ${how}`;
  if (initializing) {
    s.phase = "Initializing";
    d.manageRoutes = false;
    say(ctx, d, waiting, { reason: "WaitingForTarget", severity: "info" });
    d.requeueAfterMs = ctx.intervalMs;
    return finish(ctx, d);
  }
  switch (s.phase) {
    case "Waiting":
    case "Progressing":
    case "WaitingPromotion":
      return cancelRunOfDeletedTarget(ctx, d, how, waiting);
    case "Promoting":
      return promotionStep(ctx, d);
    case "Finalising":
      return finalisingStep(ctx, d);
    default:
      say(ctx, d, waiting, { reason: "WaitingForTarget", severity: "info" });
      return finish(ctx, d);
  }
}

function cancelRunOfDeletedTarget(ctx: Ctx, d: Draft, how: string, waiting: string): Plan {
  const s = d.status;
  const cancelled = revisionOfRun(ctx, s);
  const promoted = s.lastPromotedSpec;
  s.phase = "Succeeded";
  s.canaryWeight = IDLE_WEIGHT;
  if (promoted !== undefined) s.lastAppliedSpec = promoted;
  delete s.lastCheckTime;
  delete s.analysisStartedAt;
  const message = `target Deployment ${ctx.targetName} ${how}: the run of revision ${cancelled} is cancelled; ${ctx.primaryName} keeps serving${promoted !== undefined ? ` revision ${promoted}` : ""} and receives all traffic`;
  emit(d, "TargetDeleted", "info", message);
  // The condition then says what the Canary waits for, as it will on every later reconcile.
  d.message = waiting;
  d.requeueAfterMs = null;
  return finish(ctx, d);
}

function withoutCondition(conditions: readonly CanaryCondition[] | undefined, type: string): CanaryCondition[] {
  return (conditions ?? []).filter((c) => c.type !== type);
}

/**
 * A required ConfigMap/Secret of the target is missing: its absence is not a new revision
 * (pods of that template could not start), so no run starts, a run in progress holds its
 * weight, and initialization does not create a primary pointing at nothing. The condition
 * ConfigsAvailable=False names them; it goes away when they exist again. A promotion or
 * finalisation under way is not held: the primary already has its `-primary` copies.
 */
export function holdForMissingConfigs(ctx: Ctx, d: Draft, initializing: boolean): Plan | null {
  const missing = ctx.o.missingConfigs ?? [];
  const s = d.status;
  if (missing.length === 0 || s.phase === "Promoting" || s.phase === "Finalising") {
    if (s.conditions?.some((c) => c.type === CONDITION_CONFIGS)) s.conditions = withoutCondition(s.conditions, CONDITION_CONFIGS);
    return null;
  }
  const list = missing.join(", ");
  const message = `${list} referenced by Deployment ${ctx.targetName} ${missing.length === 1 ? "does" : "do"} not exist: no run starts until ${missing.length === 1 ? "it exists" : "they exist"} again`;
  const before = ctx.prev.conditions?.find((c) => c.type === CONDITION_CONFIGS);
  const condition: CanaryCondition = {
    type: CONDITION_CONFIGS,
    status: "False",
    reason: "ConfigMissing",
    message,
    lastUpdateTime: before?.message === message ? (before.lastUpdateTime ?? ctx.nowIso) : ctx.nowIso,
    lastTransitionTime: before?.status === "False" ? (before.lastTransitionTime ?? ctx.nowIso) : ctx.nowIso,
  };
  s.conditions = [...withoutCondition(s.conditions, CONDITION_CONFIGS), condition];
  if (initializing) {
    s.phase = "Initializing";
    d.manageRoutes = false;
  }
  say(ctx, d, message, { reason: "ConfigMissing", severity: "warn" });
  // The ConfigMap/Secret watch wakes the Canary when the config is created again.
  d.requeueAfterMs = null;
  return finish(ctx, d);
}

/**
 * A run routes to generated objects (the Services); the reconciler restores any that were
 * deleted before it plans, and reports those it could not. While one is missing the run
 * holds its weight: traffic is never shifted towards a Service that is not there.
 */
export function holdForMissingObjects(ctx: Ctx, d: Draft): Plan | null {
  const missing = ctx.o.missingObjects ?? [];
  if (missing.length === 0) return null;
  const s = d.status;
  say(ctx, d, `holding revision ${revisionOfRun(ctx, s)} at canary weight ${s.canaryWeight ?? 0}%: ${missing.join(", ")} missing`, {
    reason: "ObjectMissing",
    severity: "warn",
  });
  d.requeueAfterMs = ctx.pollMs;
  return finish(ctx, d);
}

const PROMOTING: ReadonlySet<string> = new Set(["Promoting", "Finalising"]);

/**
 * The primary is missing after initialization (deleted by hand, or by an admin while the
 * webhook was down), in any phase: it is re-created from its snapshot when the snapshot holds
 * the revision the primary must carry — the promoted one (status.lastPromotedSpec), or during
 * a promotion the one being promoted, which the promote action wrote. The snapshot holds the
 * primary whole, so this needs neither the target nor its configs: mid-run the target carries
 * another revision, and the primary must come back as it was. The run meanwhile waits for the
 * primary to be ready again (run.ts), so no weight moves towards a primary that is not there.
 * A snapshot of another revision (a promotion that was rolled back) is not used: the primary
 * then comes back from the target while it carries the promoted revision (restorePrimary), or
 * with the next promotion.
 */
export function restorePrimaryFromSnapshot(ctx: Ctx, d: Draft): void {
  const snapshot = ctx.o.primarySnapshot;
  const want = PROMOTING.has(ctx.prev.phase ?? "") ? revisionOfRun(ctx, ctx.prev) : ctx.prev.lastPromotedSpec;
  if (ctx.o.primary !== null || snapshot === undefined || snapshot === null || want === undefined || snapshot.revision !== want) return;
  const desired = ctx.o.target?.desiredReplicas ?? 0;
  const replicas = ctx.o.canary.spec.autoscalerRef !== undefined ? null : desired > 0 ? desired : (snapshot.replicas ?? 1);
  d.actions.push({ type: "restorePrimary", revision: want, replicas });
  const which = want === ctx.prev.lastPromotedSpec ? `the promoted revision ${want}` : `revision ${want}, which is being promoted`;
  emit(d, "ObjectRestored", "info", `${ctx.primaryName} was missing: re-created from its snapshot of ${which}`);
}

/**
 * An idle Canary whose primary was deleted or whose pod template was edited by hand: when
 * the target carries the promoted revision, the primary is built again from it (a missing
 * one through the idempotent `initialize` action, which creates only what is missing; an
 * edited one by copying the target in again, as a promotion does). Otherwise the primary
 * comes back with the next promotion.
 */
export function restorePrimary(ctx: Ctx, d: Draft): void {
  const rev = ctx.o.revision;
  if (rev !== ctx.prev.lastPromotedSpec || (ctx.o.missingConfigs ?? []).length > 0) return;
  if (ctx.o.primary === null) {
    if (d.actions.some((a) => a.type === "restorePrimary")) return; // already back from its snapshot
    d.actions.push({ type: "initialize", revision: rev, replicas: primaryReplicas(ctx) });
    emit(d, "ObjectRestored", "info", `${ctx.primaryName} was missing: re-created from ${ctx.targetName}, which carries the promoted revision ${rev}`);
  } else if (ctx.o.primaryTemplateDrifted === true) {
    d.actions.push({ type: "promote", revision: rev, replicas: primaryReplicas(ctx), configs: Object.keys(ctx.o.trackedConfigs).sort() });
    emit(d, "ObjectRestored", "info", `${ctx.primaryName} was edited by hand: its pod template is restored from ${ctx.targetName}, which carries the promoted revision ${rev}`);
  }
}
