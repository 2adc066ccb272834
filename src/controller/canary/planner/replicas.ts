/**
 * How many replicas the primary and the canary get. The user's count is the truth: what
 * they put in the target's manifest (kept in aviary.dev/desired-replicas while aviary holds
 * the target at zero), unless an autoscaler owns the count. A DaemonSet has no count: it
 * runs a pod per eligible node, so it is only ever parked (no pods) or unparked; a
 * `scaleTarget` with any positive count unparks it.
 */
import type { Ctx, Draft } from "./context.ts";
import { isScaledDown } from "./readiness.ts";
import type { WorkloadState } from "./types.ts";

/** The target runs fewer pods than `want` asks for: fewer replicas, or parked. */
export function belowSize(w: WorkloadState, want: number): boolean {
  return w.sizing === "nodes" ? isScaledDown(w) : w.specReplicas < want;
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
  if (ctx.o.canary.spec.autoscalerRef !== undefined || primary === null || primary.sizing === "nodes" || desired < 1) return;
  if (primary.specReplicas !== desired) d.actions.push({ type: "scalePrimary", replicas: desired });
}

/** Replicas to give the primary; null when an autoscaler owns them. */
export function primaryReplicas(ctx: Ctx): number | null {
  return ctx.o.canary.spec.autoscalerRef !== undefined ? null : userReplicas(ctx);
}

/**
 * Keep the canary at the replicas the user asked for. With an autoscaler only scale it
 * up from zero: after that the autoscaler owns the count.
 */
export function ensureCanaryScaled(ctx: Ctx, d: Draft): void {
  const target = ctx.o.target;
  if (target === null) return;
  const want = canaryReplicas(ctx);
  const autoscaled = ctx.o.canary.spec.autoscalerRef !== undefined;
  if (target.sizing === "nodes" ? isScaledDown(target) : autoscaled ? target.specReplicas === 0 : target.specReplicas !== want) {
    d.actions.push({ type: "scaleTarget", replicas: want });
  }
}

/** The canary goes back to zero once a run ends (promoted or rolled back). */
export function scaleCanaryDown(ctx: Ctx, d: Draft): void {
  const t = ctx.o.target;
  if (t !== null && t.deleting !== true && !isScaledDown(t)) d.actions.push({ type: "scaleTarget", replicas: 0 });
}
