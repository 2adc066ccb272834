/**
 * The converted Canary's analysis schedule: the walked steps as `analysis.steps`, and each
 * metric bound to the steps it ran at (`steps`) or from (`fromStep`), with the time spent at
 * its step before it started folded into `initialDelay`. The leading weight-0 step (what came
 * before Argo's first setWeight) is kept only when something happens there. Pure.
 */
import { isDeepStrictEqual } from "node:util";
import type { MetricDraft } from "./analysis.ts";
import type { ScheduledMetric, ScheduleStep } from "./model.ts";
import type { Position, StepWalk } from "./steps.ts";

export type Binding = { kind: "at"; position: Position } | { kind: "from"; position: Position } | { kind: "always" };

export interface PlacedDraft {
  draft: MetricDraft;
  binding: Binding;
}

export interface Schedule {
  steps: ScheduleStep[];
  metrics: ScheduledMetric[];
  /** Maps a walked step index to its index in `steps`. */
  index(stepIndex: number): number;
}

/** `3m`, `30s`, `1m30s`, `1h`, `250ms`, `0s`: the shortest Go-style spelling of a whole-millisecond duration. */
export function formatDuration(ms: number): string {
  if (ms <= 0) return "0s";
  const parts: string[] = [];
  let rest = Math.round(ms);
  for (const [unit, size] of [["h", 3_600_000], ["m", 60_000], ["s", 1000], ["ms", 1]] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.join("");
}

export function buildSchedule(walk: StepWalk, placed: readonly PlacedDraft[], gateSteps: readonly number[]): Schedule {
  const usesLeading =
    walk.steps[0]!.pauseMs > 0 || gateSteps.includes(0) || placed.some((p) => p.binding.kind === "at" && p.binding.position.stepIndex === 0);
  const shift = usesLeading ? 0 : 1;
  const index = (i: number) => Math.max(0, i - shift);
  const steps = walk.steps.slice(shift).map((s) => ({ weight: s.weight, pause: formatDuration(s.pauseMs) }));

  const metrics: ScheduledMetric[] = [];
  for (const { draft, binding } of placed) {
    const offset = binding.kind === "always" ? 0 : binding.position.offsetMs;
    const delay = offset + draft.initialDelayMs;
    const m: ScheduledMetric = { ...structuredClone(draft.metric) };
    if (delay > 0) m.initialDelay = formatDuration(delay);
    if (binding.kind === "from") m.fromStep = index(binding.position.stepIndex);
    if (binding.kind === "at") m.steps = [index(binding.position.stepIndex)];
    const same = m.steps === undefined ? undefined : metrics.find((o) => o.steps !== undefined && isDeepStrictEqual({ ...o, steps: [] }, { ...m, steps: [] }));
    if (same !== undefined) same.steps = [...new Set([...same.steps!, ...m.steps!])].sort((a, b) => a - b);
    else metrics.push(m);
  }
  return { steps, metrics: uniqueNames(metrics).map(ordered), index };
}

/** Several metrics of one name (a template run at several steps with other arguments): `<name>-step-<i>`. */
function uniqueNames(metrics: ScheduledMetric[]): ScheduledMetric[] {
  const count = (name: string) => metrics.filter((m) => m.name === name).length;
  const renamed = metrics.map((m) => (count(m.name) > 1 && m.steps !== undefined ? { ...m, name: `${m.name}-step-${m.steps.join("-")}` } : m));
  const seen = new Map<string, number>();
  return renamed.map((m) => {
    const n = (seen.get(m.name) ?? 0) + 1;
    seen.set(m.name, n);
    return n === 1 ? m : { ...m, name: `${m.name}-${n}` };
  });
}

const FIELD_ORDER = [
  "name",
  "templateRef",
  "templateVariables",
  "interval",
  "initialDelay",
  "count",
  "thresholdRange",
  "onNoData",
  "failureLimit",
  "consecutiveErrorLimit",
  "fromStep",
  "steps",
] as const;

/** The fields in reading order, so the written YAML reads top to bottom. */
function ordered(m: ScheduledMetric): ScheduledMetric {
  const out: Record<string, unknown> = {};
  for (const k of FIELD_ORDER) if (m[k] !== undefined) out[k] = m[k];
  for (const [k, v] of Object.entries(m)) if (!(k in out) && v !== undefined) out[k] = v;
  return out as unknown as ScheduledMetric;
}
