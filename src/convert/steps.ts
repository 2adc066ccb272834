/**
 * Argo's canary `steps` → aviary's step schedule. Argo runs its steps in order; aviary holds
 * a weight for a time while checks run. So each `setWeight` starts an aviary step, and what
 * follows it until the next `setWeight` happens at that weight: a `pause` lengthens the hold,
 * an `analysis` binds its metrics to the step with an initial delay equal to the time spent
 * at that weight before it (so "pause 3m, then measure" stays in that order), and a pause
 * without a duration is a gate. Index 0 is a weight-0 step for anything before the first
 * `setWeight`; the caller drops it when nothing happens there. Pure, apart from the report.
 */
import { tryParseDuration } from "../api/duration.ts";
import type { Obj } from "./fields.ts";
import { child, list, num, obj, otherKeys, str } from "./fields.ts";
import type { Report } from "./report.ts";

export interface WalkedStep {
  weight: number;
  pauseMs: number;
  /** The Argo step that set the weight (for messages). */
  from: string;
}

/** Where an Argo step happens in the schedule: the aviary step and the time since its weight was set. */
export interface Position {
  stepIndex: number;
  offsetMs: number;
}

export interface Gate extends Position {
  weight: number;
  path: string;
}

export interface StepWalk {
  steps: WalkedStep[];
  /** One per Argo step, and one more for "after the last step". */
  positions: Position[];
  gates: Gate[];
  mirror?: { percentage: number; path: string };
}

export interface WalkContext {
  report: Report;
  /** `Rollout/shop`. */
  source: string;
  /** trafficRouting.maxTrafficWeight: what a setWeight is out of (default 100). */
  maxTrafficWeight: number;
  /**
   * Converts an analysis step at `position`; returns how many metrics it bound and how long
   * Argo's run takes (undefined: until stopped).
   */
  onAnalysis(analysis: Obj, path: string, position: Position): { durationMs: number | undefined; metrics: number };
  /** Whether the router in effect can mirror requests. */
  canMirror: boolean;
}

const STEP_KINDS = ["setWeight", "pause", "analysis", "experiment", "setCanaryScale", "setHeaderRoute", "setMirrorRoute", "plugin"];

/** Argo's pause duration: whole seconds as a number or digit string, else a duration with s, m or h. */
export function pauseDurationMs(raw: unknown): number | undefined {
  const n = num(raw);
  if (n !== undefined) return Number.isInteger(n) && n >= 0 ? n * 1000 : undefined;
  if (typeof raw !== "string") return undefined;
  const d = tryParseDuration(raw);
  return d.ok ? d.ms : undefined;
}

export function walkSteps(rawSteps: unknown, path: string, ctx: WalkContext): StepWalk {
  const steps: WalkedStep[] = [{ weight: 0, pauseMs: 0, from: "" }];
  const positions: Position[] = [];
  const gates: Gate[] = [];
  let mirror: StepWalk["mirror"];
  let offsetMs = 0;
  // A step that ends with an analysis is held until its measurements are done anyway, so its
  // pause is the time before that analysis; a pause after an analysis counts the analysis in.
  let lastAnalysisStart: number | undefined;
  let pauseAfterAnalysis: string | undefined;
  const current = () => steps.length - 1;
  const close = () => {
    steps[current()]!.pauseMs = lastAnalysisStart ?? offsetMs;
    if (lastAnalysisStart === undefined && pauseAfterAnalysis !== undefined) {
      ctx.report.changed(
        ctx.source,
        pauseAfterAnalysis,
        "follows an analysis: aviary counts the pause from when the weight was set, so it includes the analysis's expected length (initialDelay plus count-1 intervals)",
      );
    }
    lastAnalysisStart = undefined;
    pauseAfterAnalysis = undefined;
  };

  list(rawSteps).forEach((raw, i) => {
    const at = child(path, i);
    positions.push({ stepIndex: current(), offsetMs });
    const step = obj(raw) ?? {};
    const kinds = Object.keys(step).filter((k) => step[k] !== undefined && step[k] !== null);
    if (kinds.length !== 1) {
      ctx.report.lossy(ctx.source, at, `a step must have exactly one action, found ${kinds.length === 0 ? "none" : kinds.join(", ")}; dropped`);
      return;
    }
    const kind = kinds[0]!;
    const value = step[kind];
    const field = child(at, kind);
    switch (kind) {
      case "setWeight": {
        const w = num(value);
        if (w === undefined || w < 0 || w > ctx.maxTrafficWeight) {
          ctx.report.lossy(ctx.source, field, `"${String(value)}" is not a weight from 0 to ${ctx.maxTrafficWeight}; dropped`);
          return;
        }
        close();
        const percent = (w * 100) / ctx.maxTrafficWeight;
        const weight = Math.round(percent);
        if (weight !== percent) ctx.report.changed(ctx.source, field, `${w} of ${ctx.maxTrafficWeight} is ${percent}%; aviary's weights are whole percent, so ${weight}%`);
        steps.push({ weight, pauseMs: 0, from: field });
        offsetMs = 0;
        return;
      }
      case "pause": {
        const p = obj(value) ?? {};
        if (p.duration === undefined) {
          gates.push({ stepIndex: current(), offsetMs, weight: steps[current()]!.weight, path: field });
          return;
        }
        const d = pauseDurationMs(p.duration);
        if (d === undefined) {
          ctx.report.lossy(ctx.source, child(field, "duration"), `"${String(p.duration)}" is not a duration (seconds, or a number with s, m or h); dropped`);
          return;
        }
        if (lastAnalysisStart !== undefined) pauseAfterAnalysis = field;
        lastAnalysisStart = undefined;
        offsetMs += d;
        return;
      }
      case "analysis": {
        const { durationMs: duration, metrics } = ctx.onAnalysis(obj(value) ?? {}, field, { stepIndex: current(), offsetMs });
        // An analysis whose metrics were all dropped does not hold the step in aviary.
        if (metrics === 0) return;
        lastAnalysisStart = offsetMs;
        if (duration === undefined) {
          ctx.report.lossy(
            ctx.source,
            field,
            "has a metric with an interval and no count, so Argo's step waits until the analysis is stopped or fails; aviary measures it while this step lasts and then moves on",
          );
          return;
        }
        offsetMs += duration;
        return;
      }
      case "setMirrorRoute": {
        const m = obj(value) ?? {};
        const matches = list(m.match);
        if (matches.length === 0) return; // removes the mirror route; aviary's mirror ends with the run
        if (!ctx.canMirror) {
          ctx.report.lossy(ctx.source, field, "the traffic router in effect cannot mirror requests in aviary; dropped");
          return;
        }
        if (!matches.every(isEveryRequest)) {
          ctx.report.lossy(ctx.source, child(field, "match"), "aviary mirrors every request of the route, not only matching ones; dropped");
          return;
        }
        const percentage = num(m.percentage) ?? 100;
        mirror = { percentage, path: field };
        ctx.report.changed(ctx.source, field, "aviary mirrors requests for the whole run (analysis.mirror), not only from this step on");
        return;
      }
      case "setHeaderRoute":
        ctx.report.lossy(
          ctx.source,
          field,
          "aviary's header matches (analysis.match) turn a run into an A/B test in place of weighted steps; a header route beside the weights has no equivalent; dropped",
        );
        return;
      case "setCanaryScale":
        ctx.report.changed(ctx.source, field, "aviary runs the canary at the Deployment's full replica count for the whole run; the canary's scale is not set per step");
        return;
      case "experiment":
        ctx.report.lossy(ctx.source, field, "no equivalent; dropped");
        return;
      case "plugin":
        ctx.report.lossy(ctx.source, field, `step plugin ${str(obj(value)?.name) ?? ""} has no equivalent; dropped`.replace("  ", " "));
        return;
      default:
        ctx.report.lossy(ctx.source, field, `unknown step (the known ones are ${STEP_KINDS.join(", ")}); dropped`);
    }
  });
  close();
  positions.push({ stepIndex: current(), offsetMs });
  return mirror === undefined ? { steps, positions, gates } : { steps, positions, gates, mirror };
}

/** A mirror match that every request meets: no method or header condition, path prefix `/`. */
function isEveryRequest(raw: unknown): boolean {
  const m = obj(raw) ?? {};
  if (otherKeys(m, ["path"]).length > 0) return false;
  const p = obj(m.path);
  return p === undefined || (otherKeys(p, ["prefix"]).length === 0 && p.prefix === "/");
}
