/**
 * One analysis tick of a run whose metrics are chosen and judged one by one (schedule.ts):
 * measure the metrics that are due, apply their limits, then hold the step or move on.
 * Moving on (the weight gate, promotion) is the caller's, passed in as `next`.
 */
import type { CanaryStatus } from "../../../api/types.ts";
import { emit, finish, gateOpen, hasWebhooks, need, revisionOfRun, unanswered } from "./context.ts";
import type { Ctx, Draft } from "./context.ts";
import { rollback } from "./promotion.ts";
import { dueMetrics, hasSchedule, stepEndsAt, stepOf, tallyAnalysis } from "./schedule.ts";
import type { CheckKind, Plan } from "./types.ts";

export interface NextSteps {
  /** The checks passed and the step is over: what the strategy does next. */
  progress(ctx: Ctx, d: Draft): Plan;
}

const summary = (rs: { name: string; message: string }[]): string =>
  rs.map((r) => (r.message.startsWith(r.name) ? r.message : `${r.name}: ${r.message}`)).join("; ");

function holdMessage(ctx: Ctx, s: CanaryStatus, endsAt: number | undefined): string {
  const rev = revisionOfRun(ctx, s);
  const step = stepOf(ctx.analysis, s.stepIndex);
  const failed = `${s.failedChecks ?? 0}/${ctx.threshold} failed checks`;
  if (step === undefined) return `analysing revision ${rev}: canary weight ${s.canaryWeight ?? 0}%, ${failed}`;
  const until = endsAt === undefined ? "until its bound metrics have taken their count" : `until ${new Date(endsAt).toISOString()}`;
  return `analysing revision ${rev}: step ${(s.stepIndex ?? 0) + 1}/${ctx.analysis.steps!.length} at canary weight ${step.weight}%, held ${until}, ${failed}`;
}

export function scheduledTick(ctx: Ctx, d: Draft, rollbackKinds: CheckKind[], next: NextSteps): Plan {
  const s = d.status;
  const schedule = hasSchedule(ctx.analysis);
  // Without a schedule a weighted canary at 0% that is not mirrored has had no traffic; on a
  // schedule a step at weight 0 measures what its metrics are bound to measure.
  const measurable = schedule || ctx.strategy !== "canary" || (s.canaryWeight ?? 0) > 0 || ctx.mirrorFirst;
  const due = measurable ? dueMetrics(ctx.analysis, ctx.prev, ctx.o.now, ctx.intervalMs) : [];
  const asks = measurable && (due.length > 0 || hasWebhooks(ctx, "rollout"));
  const kinds: CheckKind[] = [...rollbackKinds, ...(asks ? (["analysis"] as const) : [])];
  const missing = unanswered(ctx, kinds);
  if (missing.length > 0) return need(missing, missing.includes("analysis") ? due : undefined);
  const rb = ctx.o.checks.rollback;
  if (rb !== undefined && gateOpen(rb)) return rollback(ctx, d, "a rollback webhook asked for a rollback", false);

  s.lastCheckTime = ctx.nowIso;
  const answer = asks ? ctx.o.checks.analysis : undefined;
  if (answer !== undefined) {
    s.lastAnalysis = answer.results;
    const tally = tallyAnalysis(ctx.analysis, ctx.prev, answer.results, ctx.nowIso);
    s.metricStates = tally.states;
    if (tally.overLimit !== undefined) return rollback(ctx, d, tally.overLimit, false);
    if (tally.thresholdFailures.length > 0) {
      const failed = (s.failedChecks ?? 0) + 1;
      s.failedChecks = failed;
      const why = summary(tally.thresholdFailures);
      const reason = tally.thresholdFailures.every((r) => r.verdict === "nodata") ? "NoData" : "CheckFailed";
      emit(d, reason, "warn", `analysis failed (${failed}/${ctx.threshold}): ${why}`, true);
      if (failed >= ctx.threshold) return rollback(ctx, d, `${failed} failed checks reached the threshold of ${ctx.threshold}: ${why}`, false);
      d.message = `analysis failed (${failed}/${ctx.threshold}): ${why}`;
      d.requeueAfterMs = ctx.intervalMs;
      return finish(ctx, d);
    }
    if (tally.halts.length > 0) {
      const halts = (s.providerErrors ?? 0) + 1;
      s.providerErrors = halts;
      const why = summary(tally.halts);
      if (halts >= ctx.haltLimit) return rollback(ctx, d, `the analysis could not be evaluated ${halts} times in a row: ${why}`, false);
      emit(d, "CheckHalted", "warn", `analysis halted, not counted as failed: ${why}`, halts === 1);
      d.message = `analysis halted (${halts}/${ctx.haltLimit} before rollback), not counted as failed: ${why}`;
      d.requeueAfterMs = ctx.intervalMs;
      return finish(ctx, d);
    }
    s.providerErrors = 0;
    const tolerated = answer.results.filter((r) => r.kind === "metric" && r.verdict !== "pass" && r.verdict !== "skip");
    if (tolerated.length > 0) emit(d, "CheckFailed", "warn", `tolerated within the metric's limits: ${summary(tolerated)}`);
  }
  if (!schedule || s.stepIndex === undefined) return next.progress(ctx, d);
  const endsAt = stepEndsAt(ctx.analysis, s);
  if (endsAt !== undefined && ctx.o.now >= endsAt) return next.progress(ctx, d);
  d.message = holdMessage(ctx, s, endsAt);
  d.requeueAfterMs = endsAt === undefined ? ctx.intervalMs : Math.max(1, Math.min(ctx.intervalMs, endsAt - ctx.o.now));
  return finish(ctx, d);
}
