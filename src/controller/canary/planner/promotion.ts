/**
 * The end of a run: promotion (primary updated, traffic routed back, canary scaled down)
 * and rollback. run.ts decides when a run gets here.
 */
import { checkDueAt, emit, finish, parseTime, revisionOfRun } from "./context.ts";
import { notReadyReason, READINESS_PREFIX } from "./readiness.ts";
import { primaryReplicas, scaleCanaryDown } from "./replicas.ts";
import type { Ctx, Draft } from "./context.ts";
import type { Plan } from "./types.ts";
import { FULL_WEIGHT, sameSplit } from "../../../ground/split.ts";
import { CUT_OVER_WEIGHT, IDLE_WEIGHT, nextPromotionWeight, splitForStatus } from "./weights.ts";

// ---------------------------------------------------------------------------------------
// Promotion
// ---------------------------------------------------------------------------------------

/**
 * Copy the canary into the primary. Blue/green and mirror runs on a weighted router first
 * cut all traffic over to the canary (the new version serves everyone while the primary
 * rolls out); A/B runs keep their matched route on the canary. A run that never started
 * (skipAnalysis, a promote request before the canary was ready) moves no traffic at all.
 */
export function promoteNow(ctx: Ctx, d: Draft, why: string): Plan {
  const s = d.status;
  const rev = revisionOfRun(ctx, s);
  const unfit = promotionUnfit(ctx, rev, s.trackedConfigs ?? {});
  if (unfit !== null) {
    d.message = `not promoting revision ${rev}: ${unfit}`;
    d.requeueAfterMs = ctx.pollMs;
    return finish(ctx, d);
  }
  if (ctx.shiftsWeights && ctx.strategy !== "canary" && (s.iterations ?? 0) > 0) s.canaryWeight = CUT_OVER_WEIGHT;
  s.phase = "Promoting";
  delete s.lastCheckTime;
  d.actions.push({ type: "promote", revision: rev, replicas: primaryReplicas(ctx), configs: Object.keys(s.trackedConfigs ?? {}).sort() });
  emit(d, "Promoting", "info", `copying revision ${rev} into ${ctx.primaryName}: ${why}`);
  d.message = `promoting revision ${rev}: ${why}`;
  d.requeueAfterMs = ctx.pollMs;
  return finish(ctx, d);
}

/**
 * The promotion invariant: a promotion never writes a primary whose tracked references are
 * not the `-primary` copies of the content the run analysed. So the target must carry the
 * run's revision, every config the run tracked must exist with the content hash recorded
 * when the run started (`analysed`, status.trackedConfigs), and no required config may be missing
 * (the primary would keep pointing at the original instead of a copy). Returns why not,
 * or null when the promotion may go ahead.
 */
export function promotionUnfit(ctx: Ctx, rev: string, analysed: Readonly<Record<string, string>>): string | null {
  const o = ctx.o;
  if (o.target === null || o.target.deleting === true) return `target Deployment ${ctx.targetName} is gone`;
  if (o.revision !== rev) return `the target carries revision ${o.revision}, not the analysed ${rev}`;
  const missing = o.missingConfigs ?? [];
  if (missing.length > 0) return `${missing.join(", ")} ${missing.length === 1 ? "does" : "do"} not exist`;
  const seen = o.trackedConfigs;
  const keys = [...new Set([...Object.keys(analysed), ...Object.keys(seen)])].sort();
  const moved = keys.filter((k) => analysed[k] !== seen[k]);
  if (moved.length > 0) return `${moved.join(", ")} ${moved.length === 1 ? "is" : "are"} not the content the run analysed`;
  return null;
}

/** Promoting: wait for the primary to run the revision, then route traffic back to it. */
export function promotionStep(ctx: Ctx, d: Draft): Plan {
  const s = d.status;
  const now = ctx.o.now;
  const rev = revisionOfRun(ctx, s);
  const primary = ctx.o.primary;
  let wait = notReadyReason(primary, ctx.primaryReadyPercent, false);
  if (wait === null && primary?.revision !== undefined && primary.revision !== rev) wait = `it still runs revision ${primary.revision}`;
  if (wait !== null) {
    const since = parseTime(ctx.prev.lastTransitionTime) ?? now;
    if (primary?.progressDeadlineExceeded === true || now - since >= ctx.deadlineMs) {
      const seconds = Math.round(ctx.deadlineMs / 1000);
      return rollback(ctx, d, `primary ${ctx.primaryName} did not roll out revision ${rev} within ${seconds}s: ${wait}`, true);
    }
    d.message = `promoting revision ${rev}: ${READINESS_PREFIX}primary ${ctx.primaryName}: ${wait}`;
    d.requeueAfterMs = Math.max(0, Math.min(ctx.pollMs, since + ctx.deadlineMs - now));
    return finish(ctx, d);
  }
  const weight = s.canaryWeight ?? 0;
  const step = ctx.analysis.stepWeightPromotion ?? 0;
  if (!ctx.shiftsWeights || weight === 0 || step <= 0) return beginFinalising(ctx, d);
  const dueAt = checkDueAt(ctx);
  if (now < dueAt) {
    d.requeueAfterMs = dueAt - now;
    return finish(ctx, d);
  }
  const next = nextPromotionWeight(step, weight);
  s.canaryWeight = next;
  s.lastCheckTime = ctx.nowIso;
  emit(d, "WeightAdvanced", "info", `primary weight ${FULL_WEIGHT - weight}% -> ${FULL_WEIGHT - next}% while promoting revision ${rev}`);
  if (next === 0) return beginFinalising(ctx, d);
  d.message = `promoting revision ${rev}: primary weight ${FULL_WEIGHT - next}%`;
  d.requeueAfterMs = ctx.intervalMs;
  return finish(ctx, d);
}

function beginFinalising(ctx: Ctx, d: Draft): Plan {
  const s = d.status;
  s.phase = "Finalising";
  s.canaryWeight = IDLE_WEIGHT;
  delete s.lastCheckTime;
  d.message = `revision ${revisionOfRun(ctx, s)} is in the primary: routing all traffic to it before scaling the canary down`;
  d.requeueAfterMs = 0;
  return finish(ctx, d);
}

/**
 * Finalising: once the router reads back all traffic on the primary, scale the canary to
 * zero. Waiting for the read-back is what keeps the scale-down from dropping requests.
 */
export function finalisingStep(ctx: Ctx, d: Draft): Plan {
  const s = d.status;
  const rev = revisionOfRun(ctx, s);
  const unknownIsFine = !ctx.shiftsWeights && ctx.o.routes === null;
  if (!unknownIsFine && !sameSplit(ctx.o.routes, splitForStatus(ctx, s))) {
    d.message = `revision ${rev} is in the primary: ${READINESS_PREFIX}the router to send all traffic to it`;
    d.requeueAfterMs = ctx.pollMs;
    return finish(ctx, d);
  }
  scaleCanaryDown(ctx, d);
  s.phase = "Succeeded";
  s.lastPromotedSpec = rev;
  emit(d, "Promoted", "info", `revision ${rev} promoted: ${ctx.primaryName} runs it and receives all traffic`, true);
  d.actions.push({ type: "webhook", hook: "post-rollout", phase: "Succeeded", revision: rev });
  d.message = `revision ${rev} promoted`;
  // A revision that arrived during promotion starts its own run right away.
  d.requeueAfterMs = ctx.o.target !== null && ctx.o.revision !== rev ? 0 : null;
  return finish(ctx, d);
}

// ---------------------------------------------------------------------------------------
// Rollback
// ---------------------------------------------------------------------------------------

/**
 * All traffic back to the primary (the route correction `finish` puts first), the canary
 * to zero, phase Failed with the reason in the condition, an event and the post-rollout
 * hooks. The revision stays recorded as applied, so it is not tried again until it
 * changes or a retry is requested.
 */
export function rollback(ctx: Ctx, d: Draft, reason: string, deadline: boolean): Plan {
  const s = d.status;
  const rev = revisionOfRun(ctx, s);
  s.phase = "Failed";
  s.canaryWeight = IDLE_WEIGHT;
  scaleCanaryDown(ctx, d);
  if (deadline) emit(d, "ProgressDeadlineExceeded", "error", reason);
  emit(d, "RolledBack", "error", `rolled back revision ${rev}: ${reason}`, true);
  d.actions.push({ type: "webhook", hook: "post-rollout", phase: "Failed", revision: rev });
  d.message = `revision ${rev} rolled back: ${reason}`;
  d.requeueAfterMs = null;
  return finish(ctx, d);
}
