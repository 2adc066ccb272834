/**
 * aviary's step schedule and Argo Rollouts' per-metric limits, as pure functions of the
 * spec, the status and the time:
 *
 * - `analysis.steps`: each step's weight is held for its `pause`, counted from when the weight
 *   was set, while the checks run every interval. A step ends when its pause has passed and
 *   every metric bound to it by `steps` has taken its `count` measurements; the weight then
 *   moves to the next step (or, after the last, the run asks for promotion).
 * - which metrics are measured at a tick (`dueMetrics`): the ones that apply at the current
 *   step (`fromStep`, `steps`, or always), whose `initialDelay` has passed since they began to
 *   apply, whose `count` is not used up and whose own `interval` has passed since their last
 *   measurement.
 * - how a measurement counts (`tallyAnalysis`): a metric with `failureLimit` fails the run when
 *   its failed measurements exceed the limit, and one with `consecutiveErrorLimit` when its
 *   provider errors in a row do; a metric without them counts towards `analysis.threshold`
 *   (failures) or holds the run (errors), as every Flagger metric does.
 *
 * The tallies live in `status.metricStates`, the step in `status.stepIndex`/`stepStartedAt`,
 * so a restarted controller resumes where the run was.
 */
import { tryParseDuration } from "../../../api/duration.ts";
import type { AnalysisResult, CanaryAnalysis, CanaryMetric, CanaryStatus, CanaryStep, MetricState } from "../../../api/types.ts";

const durationMs = (text: string | undefined): number => {
  if (text === undefined) return 0;
  const d = tryParseDuration(text);
  return d.ok ? d.ms : 0;
};
const time = (iso: string | undefined): number | undefined => {
  if (iso === undefined) return undefined;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? undefined : t;
};

/** The Canary runs on an explicit schedule. */
export const hasSchedule = (a: CanaryAnalysis): boolean => (a.steps ?? []).length > 0;

/** A metric that uses any of the scheduling or limit fields. */
const isScheduledMetric = (m: CanaryMetric): boolean =>
  m.failureLimit !== undefined || m.consecutiveErrorLimit !== undefined || m.count !== undefined || m.initialDelay !== undefined || m.fromStep !== undefined || m.steps !== undefined;

/** Metrics are chosen and judged one by one (a schedule, or a metric with limits or a count). */
export const usesMetricStates = (a: CanaryAnalysis): boolean => hasSchedule(a) || (a.metrics ?? []).some(isScheduledMetric);

export function stepOf(a: CanaryAnalysis, index: number | undefined): CanaryStep | undefined {
  return index === undefined ? undefined : a.steps?.[index];
}

/** The metric applies at step `index` (without a schedule, index is undefined and every metric applies). */
export function appliesAt(m: CanaryMetric, index: number | undefined): boolean {
  if (index === undefined) return true;
  if (m.steps !== undefined) return m.steps.includes(index);
  if (m.fromStep !== undefined) return index >= m.fromStep;
  return true;
}

/**
 * The tallies of the metrics that apply now: kept from before, or fresh for a metric that
 * begins to apply (a metric bound by `steps` begins again at each of its steps). A metric's
 * `startedAt` is when its step (or fromStep) began: `status.stepStartedAt`.
 */
export function currentStates(a: CanaryAnalysis, s: CanaryStatus, nowIso: string): MetricState[] {
  const index = hasSchedule(a) ? s.stepIndex : undefined;
  const out: MetricState[] = [];
  for (const m of a.metrics ?? []) {
    const before = (s.metricStates ?? []).find((st) => st.name === m.name);
    const stepBound = m.steps !== undefined && index !== undefined;
    if (before !== undefined && (!stepBound || before.step === index)) {
      out.push(before);
      continue;
    }
    if (!appliesAt(m, index)) continue;
    const fresh: MetricState = { name: m.name, measurements: 0, failures: 0, consecutiveErrors: 0, startedAt: s.stepStartedAt ?? nowIso };
    if (index !== undefined) fresh.step = index;
    out.push(fresh);
  }
  return out;
}

/** The names of the metrics to measure at this tick. */
export function dueMetrics(a: CanaryAnalysis, s: CanaryStatus, now: number, intervalMs: number): string[] {
  const index = hasSchedule(a) ? s.stepIndex : undefined;
  const states = currentStates(a, s, new Date(now).toISOString());
  return (a.metrics ?? [])
    .filter((m) => {
      if (!appliesAt(m, index)) return false;
      const st = states.find((x) => x.name === m.name);
      if (st === undefined) return false;
      if (m.count !== undefined && st.measurements >= m.count) return false;
      const started = time(st.startedAt) ?? now;
      if (now < started + durationMs(m.initialDelay)) return false;
      const last = time(st.lastMeasuredAt);
      const every = m.interval !== undefined ? durationMs(m.interval) : intervalMs;
      return last === undefined || now >= last + every;
    })
    .map((m) => m.name);
}

/** When the current step ends; undefined while a metric bound to it still owes measurements. */
export function stepEndsAt(a: CanaryAnalysis, s: CanaryStatus): number | undefined {
  const step = stepOf(a, s.stepIndex);
  const started = time(s.stepStartedAt);
  if (step === undefined || started === undefined) return undefined;
  const owing = (a.metrics ?? []).some((m) => {
    if (m.steps === undefined || !m.steps.includes(s.stepIndex!) || m.count === undefined) return false;
    const st = (s.metricStates ?? []).find((x) => x.name === m.name && x.step === s.stepIndex);
    return (st?.measurements ?? 0) < m.count;
  });
  return owing ? undefined : started + durationMs(step.pause);
}

/** What one analysis round means under per-metric rules. */
export interface Tally {
  /** Set when a metric went over its own limit: the run fails. */
  overLimit?: string;
  /** Failures that count towards analysis.threshold (metrics without failureLimit, webhooks). */
  thresholdFailures: AnalysisResult[];
  /** Errors that hold the run (metrics without consecutiveErrorLimit, webhooks that could not be asked). */
  halts: AnalysisResult[];
  /** The tallies after this round. */
  states: MetricState[];
}

/** Applies one round of results (only the due metrics were measured) to the tallies. */
export function tallyAnalysis(a: CanaryAnalysis, s: CanaryStatus, results: readonly AnalysisResult[], nowIso: string): Tally {
  const states = currentStates(a, s, nowIso).map((st) => ({ ...st }));
  const tally: Tally = { thresholdFailures: [], halts: [], states };
  for (const r of results) {
    const metric = r.kind === "metric" ? (a.metrics ?? []).find((m) => m.name === r.name) : undefined;
    const st = metric === undefined ? undefined : states.find((x) => x.name === metric.name);
    if (metric === undefined || st === undefined) {
      if (r.verdict === "error") tally.halts.push(r);
      else if (r.verdict === "fail" || r.verdict === "nodata") tally.thresholdFailures.push(r);
      continue;
    }
    st.lastMeasuredAt = nowIso;
    if (r.verdict === "error") {
      st.consecutiveErrors += 1;
      if (metric.consecutiveErrorLimit === undefined) tally.halts.push(r);
      else if (st.consecutiveErrors > metric.consecutiveErrorLimit) {
        tally.overLimit ??= `${metric.name}: ${st.consecutiveErrors} errors in a row exceed consecutiveErrorLimit ${metric.consecutiveErrorLimit} (${r.message})`;
      }
      continue;
    }
    // An error is not a measurement; anything else is, and breaks a run of errors.
    st.consecutiveErrors = 0;
    st.measurements += 1;
    if (r.verdict !== "fail" && r.verdict !== "nodata") continue;
    if (metric.failureLimit === undefined) {
      tally.thresholdFailures.push(r);
      continue;
    }
    st.failures += 1;
    if (st.failures > metric.failureLimit) {
      tally.overLimit ??= `${metric.name}: ${st.failures} failed measurements exceed failureLimit ${metric.failureLimit} (${r.message})`;
    }
  }
  return tally;
}
