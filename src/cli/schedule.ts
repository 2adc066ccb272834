/**
 * What the CLI shows of a step schedule (`analysis.steps`): the schedule itself, the step a run
 * holds (`status.stepIndex`, counted from 1 for people), how much of its pause is left, which
 * bound metrics still owe measurements, and each metric's tally against its limits. Pure:
 * the Canary and the current time in, text out.
 */
import { tryParseDuration } from "../api/duration.ts";
import type { Canary, CanaryMetric, CanaryStep, MetricState } from "../api/types.ts";
import { formatAge } from "./format.ts";

/** Phases in which the step in the status is the one being held now. */
const HOLDING = new Set(["Progressing", "WaitingPromotion"]);

export interface StepProgress {
  /** 1-based, as shown. */
  number: number;
  of: number;
  weight: number;
  /** The run is at this step now (else the run ended there). */
  current: boolean;
  /** Pause left, in ms; undefined when the step has no pause or its start is unknown. */
  remainingMs?: number;
  /** Metrics bound to this step that have not taken their count yet: `name (taken/count)`. */
  owing: string[];
}

const durationMs = (text: string | undefined): number => {
  if (text === undefined) return 0;
  const d = tryParseDuration(text);
  return d.ok ? d.ms : 0;
};

const stepsOf = (c: Canary): CanaryStep[] => c.spec?.analysis?.steps ?? [];

/** `10% 30s → 25% 1m → 100%`: every step's weight and pause. */
export function scheduleText(c: Canary): string {
  return stepsOf(c)
    .map((s) => (s.pause !== undefined && durationMs(s.pause) > 0 ? `${s.weight}% ${s.pause}` : `${s.weight}%`))
    .join(" → ");
}

/** Where a run on a schedule is; undefined without a schedule or before the first step. */
export function stepProgress(c: Canary, now: Date): StepProgress | undefined {
  const steps = stepsOf(c);
  const status = c.status ?? {};
  const index = status.stepIndex;
  if (steps.length === 0 || index === undefined || index < 0 || index >= steps.length) return undefined;
  const step = steps[index]!;
  const current = HOLDING.has(status.phase ?? "");
  const p: StepProgress = { number: index + 1, of: steps.length, weight: step.weight, current, owing: [] };
  const started = status.stepStartedAt === undefined ? Number.NaN : Date.parse(status.stepStartedAt);
  const pauseMs = durationMs(step.pause);
  if (current && pauseMs > 0 && !Number.isNaN(started)) p.remainingMs = Math.max(0, started + pauseMs - now.getTime());
  if (current) {
    for (const m of c.spec?.analysis?.metrics ?? []) {
      if (m.count === undefined || m.steps === undefined || !m.steps.includes(index)) continue;
      const taken = (status.metricStates ?? []).find((st) => st.name === m.name && st.step === index)?.measurements ?? 0;
      if (taken < m.count) p.owing.push(`${m.name} (${taken}/${m.count})`);
    }
  }
  return p;
}

/** `2 of 5 (25%), pause 40s left` / `…, pause over, waiting for x (1/3)` / `3 of 5 (50%) when the run ended`. */
export function stepLabel(p: StepProgress): string {
  const head = `${p.number} of ${p.of} (${p.weight}%)`;
  if (!p.current) return `${head} when the run ended`;
  const parts = [head];
  if (p.remainingMs !== undefined) parts.push(p.remainingMs > 0 ? `pause ${formatAge(p.remainingMs)} left` : "pause over");
  if (p.owing.length > 0) parts.push(`waiting for ${p.owing.join(", ")}`);
  return parts.join(", ");
}

/** The short form for a table cell and the `status -w` line: `2/5`, `2/5 40s left`. */
export function stepCell(p: StepProgress): string {
  const head = `${p.number}/${p.of}`;
  return p.remainingMs !== undefined && p.remainingMs > 0 ? `${head} ${formatAge(p.remainingMs)} left` : head;
}

/**
 * One line per metric with a tally in this run: measurements, failures against failureLimit,
 * errors in a row against consecutiveErrorLimit.
 */
export function metricTallies(c: Canary): string[] {
  const metrics = c.spec?.analysis?.metrics ?? [];
  return (c.status?.metricStates ?? []).map((st) => tallyLine(st, metrics.find((m) => m.name === st.name)));
}

function tallyLine(st: MetricState, m: CanaryMetric | undefined): string {
  const measured = m?.count !== undefined ? `${st.measurements}/${m.count} measurements` : `${st.measurements} measurement${st.measurements === 1 ? "" : "s"}`;
  const failed = `${st.failures} failed${m?.failureLimit !== undefined ? ` (failureLimit ${m.failureLimit})` : ""}`;
  const errors = `${st.consecutiveErrors} error${st.consecutiveErrors === 1 ? "" : "s"} in a row${m?.consecutiveErrorLimit !== undefined ? ` (consecutiveErrorLimit ${m.consecutiveErrorLimit})` : ""}`;
  const where = st.step !== undefined ? ` at step ${st.step + 1}` : "";
  return `${st.name}${where}: ${measured}, ${failed}, ${errors}`;
}
