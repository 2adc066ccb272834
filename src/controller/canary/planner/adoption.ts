/**
 * Taking over a Canary that Flagger reconciled until now (aviary serving flagger.app). Its
 * status records revisions as Flagger hashes, which aviary cannot recompute; what aviary can
 * see is whether the primary runs the target's pod template. When it does, nothing is new:
 * the status is rewritten in aviary's revisions and no run starts. When it does not, the
 * target changed since Flagger's last promotion and a run starts, as Flagger would have
 * started one. Either way the generated objects are taken over in place (the `adopt` action).
 */
import type { Ctx, Draft } from "./context.ts";
import { emit, finish } from "./context.ts";
import { startRun } from "./run.ts";
import type { Plan } from "./types.ts";

const IDLE = new Set(["Initialized", "Succeeded"]);

/**
 * null: plan goes on by phase (after the `adopt` action and the status rewrite, when there was
 * something to adopt); a still-initializing Canary needs none, as `initialize` creates only
 * what is missing and writes aviary's revisions. A plan: the Canary's route ends here.
 */
export function planAdoption(ctx: Ctx, d: Draft): Plan | null {
  if (ctx.o.foreignStatus !== true || ctx.o.primary === null) return null;
  const s = d.status;
  const phase = ctx.prev.phase;
  if (phase === undefined || phase === "Initializing") return null;
  const rev = ctx.o.revision;
  d.actions.push({ type: "adopt" });
  const same = ctx.o.primaryTemplateDrifted !== true;
  if (IDLE.has(phase) && same) {
    s.lastAppliedSpec = rev;
    s.lastPromotedSpec = rev;
    s.canaryRevision = rev;
    s.trackedConfigs = { ...ctx.o.trackedConfigs };
    emit(d, "Adopted", "info", `took over from Flagger: ${ctx.primaryName} runs revision ${rev} of ${ctx.targetName}; no run started`);
    return null;
  }
  if (phase === "Failed" && ctx.o.requests.retry !== true) {
    // Flagger failed the target's revision and kept the primary: the failure stands.
    s.lastAppliedSpec = rev;
    s.canaryRevision = rev;
    s.trackedConfigs = { ...ctx.o.trackedConfigs };
    const message = `took over from Flagger: revision ${rev} of ${ctx.targetName} had failed its analysis; ${ctx.primaryName} keeps serving (aviary retry runs it again)`;
    emit(d, "Adopted", "info", message);
    d.message = message;
    d.requeueAfterMs = null;
    return finish(ctx, d);
  }
  const why = IDLE.has(phase) ? `${ctx.targetName} differs from ${ctx.primaryName}` : `Flagger left it ${phase}`;
  emit(d, "Adopted", "info", `took over from Flagger: ${why}; revision ${rev} is analysed from weight 0`);
  // A promotion Flagger left half-done is not finished blind: the revision is analysed again.
  if (phase === "Promoting" || phase === "Finalising") {
    return startRun(ctx, d, { reason: "NewRevision", message: `revision ${rev} of ${ctx.targetName}: starting a canary run` }, false);
  }
  // Every other phase's route sees a revision it has not analysed, and starts (or restarts) a run.
  return null;
}
