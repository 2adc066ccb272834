/**
 * The demo's timeline: one line each time the Canary changes, in the shape of
 * `aviary status -w` (src/cli/progress.ts) followed by what the last analysis measured,
 *
 *   [12:00:31] Progressing | canary 20% | primary 80% | checks 0/3 | success 99.8% p99 212ms
 *
 * and, indented under it, the Canary's events that explain a turn (a new revision, a failed
 * check, the rollback, the promotion). Pure: the runner hands in objects and clock times.
 */
import type { AnalysisResult, Canary } from "../src/api/types.ts";
import { CONTINUATION, progressLine, progressOf } from "../src/cli/progress.ts";

/** Short labels for the built-in metrics; other metrics keep their names. */
const LABELS: Readonly<Record<string, string>> = { "request-success-rate": "success", "request-duration": "p99" };
const UNITS: Readonly<Record<string, string>> = { "request-success-rate": "%", "request-duration": "ms" };

/** `success 99.8% p99 212ms`; a failed metric also shows its bound: `success 80.1% < 99%`. */
export function measurements(results: readonly AnalysisResult[]): string {
  return results
    .filter((r) => r.kind === "metric")
    .map((r) => {
      const label = LABELS[r.name] ?? r.name;
      const unit = UNITS[r.name] ?? "";
      if (r.value === undefined) return `${label} ${r.verdict === "nodata" ? "no data" : r.verdict}`;
      const shown = `${label} ${formatValue(r.name, r.value)}${unit}`;
      if (r.verdict !== "fail") return shown;
      if (r.min !== undefined && r.value < r.min) return `${shown} < ${r.min}${unit}`;
      if (r.max !== undefined && r.value > r.max) return `${shown} > ${r.max}${unit}`;
      return `${shown} (fail)`;
    })
    .join(" ");
}

/** Percentages to one decimal (100, not 100.0), milliseconds whole. */
export function formatValue(metric: string, value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (metric === "request-duration") return String(Math.round(value));
  const oneDecimal = Math.round(value * 10) / 10;
  return Number.isInteger(oneDecimal) ? String(oneDecimal) : oneDecimal.toFixed(1);
}

export function timelineLine(canary: Canary, time: Date): string {
  const line = progressLine(progressOf(canary), time, { bar: false });
  const measured = measurements(canary.status?.lastAnalysis ?? []);
  return measured === "" ? line : `${line} | ${measured}`;
}

export interface CanaryEvent {
  metadata: { name: string; uid?: string };
  reason?: string;
  message?: string;
  type?: string;
  count?: number;
}

/** The events worth a line of their own: the ones that say why the run turned. */
export const TIMELINE_REASONS: ReadonlySet<string> = new Set([
  "NewRevision", "CheckFailed", "CheckHalted", "NoData", "GateClosed", "GateOpened", "RolledBack", "ProgressDeadlineExceeded", "Promoted",
]);

export interface Timeline {
  /** Lines to print for this observation (none when nothing changed). */
  observe(canary: Canary, events: readonly CanaryEvent[], time: Date): string[];
}

export function createTimeline(): Timeline {
  let previous = "";
  const seen = new Set<string>();
  return {
    observe(canary, events, time) {
      const lines: string[] = [];
      const line = timelineLine(canary, time);
      const key = line.slice(line.indexOf("]") + 1);
      if (key !== previous) lines.push(line);
      previous = key;
      for (const e of events) {
        const id = `${e.metadata.uid ?? e.metadata.name}#${e.count ?? 1}`;
        if (seen.has(id)) continue;
        seen.add(id);
        if (e.reason !== undefined && TIMELINE_REASONS.has(e.reason)) lines.push(`${CONTINUATION}${e.reason}: ${e.message ?? ""}`);
      }
      return lines;
    },
  };
}

