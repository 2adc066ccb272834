/**
 * What `aviary status -w` prints: a Canary reduced to the numbers a person follows
 * (phase, weights, failed checks), one line each time they change, the analysis verdicts
 * when they change, and the decision to stop once the run has settled. Pure: the watch loop
 * hands in objects and clock times and writes out what comes back.
 */
import { ANNOTATION_PAUSED, CONDITION_PROMOTED } from "../api/types.ts";
import type { AnalysisResult, Canary, CanaryPhase } from "../api/types.ts";
import { DEFAULT_THRESHOLD } from "../api/defaults.ts";
import { exitCodeForPhase } from "./exit.ts";
import { formatClock, weightBar } from "./format.ts";
import { stepCell, stepProgress } from "./schedule.ts";
import type { StepProgress } from "./schedule.ts";

export interface Progress {
  phase: CanaryPhase | undefined;
  canaryWeight: number;
  failedChecks: number;
  /** spec.analysis.threshold: failed checks before rollback. */
  threshold: number;
  /** Blue/green and A/B runs count iterations instead of moving weight. */
  iterations?: { done: number; of: number };
  /** With a step schedule (analysis.steps): the step held, and its pause left at `now`. */
  step?: StepProgress;
  paused: boolean;
  /** The Promoted condition's message: what the controller is doing or waiting for. */
  message: string;
  /** One sentence per check of the last analysis. */
  verdicts: string[];
}

/** Phases a run passes through; seeing one means a run is under way. */
const ACTIVE_PHASES: ReadonlySet<CanaryPhase> = new Set(["Initializing", "Waiting", "Progressing", "WaitingPromotion", "Promoting", "Finalising"]);
/**
 * Phases a run ends in. Initialized counts: it is where the first revision of a new Canary
 * comes to rest (there is nothing to analyse it against), and a watch that waited on it
 * forever would hang every first deployment.
 */
const SETTLED_PHASES: ReadonlySet<CanaryPhase> = new Set(["Initialized", "Succeeded", "Failed"]);

export const isSettled = (phase: CanaryPhase | undefined): boolean => phase !== undefined && SETTLED_PHASES.has(phase);
export const isActive = (phase: CanaryPhase | undefined): boolean => phase !== undefined && ACTIVE_PHASES.has(phase);

/** The phase as shown; a Canary the controller has not touched yet has none. */
export const phaseLabel = (phase: CanaryPhase | undefined): string => phase ?? "(no status)";

export function progressOf(canary: Canary, now = new Date()): Progress {
  const status = canary.status ?? {};
  const analysis = canary.spec?.analysis ?? {};
  const weight = clampPercent(status.canaryWeight ?? 0);
  const progress: Progress = {
    phase: status.phase,
    canaryWeight: weight,
    failedChecks: status.failedChecks ?? 0,
    threshold: analysis.threshold ?? DEFAULT_THRESHOLD,
    paused: canary.metadata.annotations?.[ANNOTATION_PAUSED] === "true",
    message: status.conditions?.find((c) => c.type === CONDITION_PROMOTED)?.message ?? "",
    verdicts: (status.lastAnalysis ?? []).map(verdictSentence),
  };
  if (analysis.iterations !== undefined && analysis.iterations > 0) {
    progress.iterations = { done: status.iterations ?? 0, of: analysis.iterations };
  }
  const step = stepProgress(canary, now);
  if (step !== undefined) progress.step = step;
  return progress;
}

/** `pass   request-success-rate 99.5% >= 99%`: the verdict first, so a failure stands out. */
export function verdictSentence(result: AnalysisResult): string {
  const what = result.kind === "webhook" ? `webhook ${result.name}` : result.name;
  const text = result.message.includes(result.name) ? result.message : `${what}: ${result.message || "(no message)"}`;
  return `${result.verdict.padEnd(6)} ${text}`;
}

export interface LineOptions {
  /** A weight bar between the two weights (only on a terminal: it is noise in CI logs). */
  bar: boolean;
}

/** `[12:00:31] Progressing | canary 20% | primary 80% | checks 0/5` (`| step 2/5 40s left` on a schedule) */
export function progressLine(p: Progress, time: Date, opts: LineOptions): string {
  const canary = `canary ${p.canaryWeight}%`;
  const primary = `primary ${100 - p.canaryWeight}%`;
  const traffic = opts.bar ? `${canary} ${weightBar(p.canaryWeight)} ${primary}` : `${canary} | ${primary}`;
  const parts = [`[${formatClock(time)}] ${phaseLabel(p.phase)}`, traffic, `checks ${p.failedChecks}/${p.threshold}`];
  if (p.iterations) parts.push(`iteration ${p.iterations.done}/${p.iterations.of}`);
  if (p.step?.current) parts.push(`step ${stepCell(p.step)}`);
  if (p.paused) parts.push("paused");
  return parts.join(" | ");
}

/** Continuation lines line up under the phase, after `[hh:mm:ss] `. */
export const CONTINUATION = " ".repeat("[00:00:00] ".length);

export interface WatchOptions extends LineOptions {
  /** Keep watching after the run settles (until Ctrl-C or deletion). */
  follow: boolean;
  /**
   * Ignore the outcome the Canary shows when the watch starts and wait for the next run:
   * for a pipeline that changed the Deployment a moment ago, before the controller saw it.
   */
  nextRun: boolean;
}

export interface WatchStep {
  lines: string[];
  /** Set when the watch should end, with this exit code. */
  exitCode?: number;
}

export interface ProgressTracker {
  observe(canary: Canary, time: Date): WatchStep;
}

export function createProgressTracker(opts: WatchOptions): ProgressTracker {
  let previous: Progress | undefined;
  // With nextRun, an outcome counts only after a run has been seen under way.
  let armed = !opts.nextRun;
  return {
    observe(canary, time) {
      const next = progressOf(canary, time);
      const lines: string[] = [];
      if (previous === undefined || lineKey(previous) !== lineKey(next)) lines.push(progressLine(next, time, opts));
      if (next.message !== "" && next.message !== previous?.message) lines.push(CONTINUATION + next.message);
      if (next.verdicts.length > 0 && next.verdicts.join("\n") !== previous?.verdicts.join("\n")) {
        lines.push(...next.verdicts.map((v) => CONTINUATION + v));
      }
      previous = next;
      if (isActive(next.phase)) armed = true;
      if (armed && !opts.follow && isSettled(next.phase)) return { lines, exitCode: exitCodeForPhase(next.phase) };
      return { lines };
    },
  };
}

/** The fields of the main line: a new line is printed when any of them changes. */
function lineKey(p: Progress): string {
  // The step's number, not its pause left: that changes every second.
  return JSON.stringify([p.phase, p.canaryWeight, p.failedChecks, p.threshold, p.iterations?.done, p.iterations?.of, p.step?.current && p.step.number, p.paused]);
}

function clampPercent(n: number): number {
  if (!Number.isFinite(n)) return 0;
  return Math.min(100, Math.max(0, Math.round(n)));
}
