/**
 * From one window's per-arm counts to the judge's verdict on a metric with `compare`, and
 * the state to keep for the next check. Pure: the counts come in, a status entry and an
 * AnalysisResult go out.
 *
 * How a judge outcome counts in the analysis:
 *   regression          fail  (a failed check; the sentence says by how much)
 *   no-regression-yet   pass
 *   insufficient-data   the metric's onNoData: fail (default) → nodata, a failed check;
 *                       pass → pass; skip → not counted either way. Never a silent pass.
 */
import type { AnalysisResult, AnalysisVerdict, CanaryMetric, JudgeEvidence, JudgeMetricStatus } from "../api/types.ts";
import type { CompareSpec, JudgeState, LatencyJudgeState, LatencyWindowCounts, Verdict, WindowCounts } from "../judge/index.ts";
import { MAX_BOUNDARIES, judge, observeErrors, observeLatency, parseCompareSpec, parseJudgeState, resumable, startErrorsTest, startLatencyTest } from "../judge/index.ts";
import type { Sample } from "./prometheus-vector.ts";

/** One arm's histogram for a window: cumulative counts by boundary in ms (+Inf is the total). */
export interface ArmHistogram {
  total: number;
  cumulative: ReadonlyMap<number, number>;
}

/** What one window measured for a metric. */
export type ArmWindow = { kind: "errors"; counts: WindowCounts } | { kind: "latency"; canary: ArmHistogram; primary: ArmHistogram };

/** The spec with defaults; validation has already refused bad values, which fall back to defaults here. */
export function compareSpecOf(metric: CanaryMetric): CompareSpec {
  return parseCompareSpec(metric.compare ?? {}, "compare").spec ?? parseCompareSpec({}, "compare").spec!;
}

/** Samples of `sum by (le) (increase(bucket[w] @ t))` as one arm's histogram; `le` in units of msPerUnit. */
export function histogramOf(samples: readonly Sample[], msPerUnit: number): ArmHistogram {
  const cumulative = new Map<number, number>();
  let total = 0;
  for (const s of samples) {
    const le = s.labels.le;
    if (le === undefined || !Number.isFinite(s.value)) continue;
    const count = Math.max(0, Math.round(s.value));
    if (le === "+Inf") total = count;
    else {
      const ms = Math.round(Number(le) * msPerUnit * 1e6) / 1e6;
      if (Number.isFinite(ms) && ms > 0) cumulative.set(ms, count);
    }
  }
  return { total, cumulative };
}

export interface JudgedMetric {
  result: AnalysisResult;
  /** The entry to keep in status.judge.metrics; undefined when nothing may be kept (a problem). */
  status?: JudgeMetricStatus;
}

export interface JudgeInput {
  metric: CanaryMetric;
  /** The entry of the previous check of this run, if any. */
  previous: JudgeMetricStatus | undefined;
  /** This window's counts; null when the window is empty (no time has passed since the last one). */
  window: ArmWindow | null;
  /** ISO 8601, whole seconds: this window's end. */
  windowEnd: string;
  time: Date;
  /** The canary arm's rendered count query, for status. */
  query?: string | undefined;
}

/** Adds the window to the metric's test and judges everything seen so far. */
export function judgeWindow(input: JudgeInput): JudgedMetric {
  const { metric, previous, window } = input;
  const spec = compareSpecOf(metric);
  const base: AnalysisResult = { name: metric.name, kind: "metric", verdict: "error", message: "", time: input.time.toISOString() };
  if (input.query !== undefined) base.query = input.query;
  const fail = (message: string): JudgedMetric => ({ result: { ...base, verdict: "error", message: `${metric.name}: ${message}` } });

  const saved = previous === undefined ? undefined : parseJudgeState(previous.state);
  let state: JudgeState | undefined = saved?.ok === true ? saved.state : undefined;
  const windows = previous?.windows ?? 0;

  if (window !== null && window.kind === "errors") {
    if (state === undefined || state.kind !== "errors" || !resumable(state, spec.tolerance)) state = startErrorsTest(spec.tolerance);
    const observed = observeErrors(state, window.counts);
    if (!observed.ok) return fail(`per-arm counts: ${observed.problem}`);
    state = observed.state;
  } else if (window !== null) {
    const latency = state?.kind === "latency" && resumable(state, spec.tolerance, state.boundariesMs) ? state : undefined;
    const boundaries = latency?.boundariesMs ?? chooseBoundaries(window.canary, window.primary);
    if (boundaries.length > 0) {
      const counts = slowerCounts(boundaries, window.canary, window.primary);
      if (typeof counts === "string") return fail(counts);
      let current: LatencyJudgeState;
      if (latency !== undefined) current = latency;
      else {
        const started = startLatencyTest(spec.tolerance, boundaries);
        if (!started.ok) return fail(`histogram: ${started.problem}`);
        current = started.state;
      }
      const observed = observeLatency(current, counts);
      if (!observed.ok) return fail(`per-arm counts: ${observed.problem}`);
      state = observed.state;
    }
  }

  const status: JudgeMetricStatus | undefined =
    state === undefined ? undefined : { windowEnd: input.windowEnd, windows: windows + (window === null ? 0 : 1), state: state as unknown as Record<string, unknown> };
  if (state === undefined) {
    // Nothing counted yet (no window, or no histogram bucket in either arm): not a pass either.
    const { verdict, note } = noDataVerdict(metric);
    const why = window === null ? "no window counted yet" : "no histogram buckets in either arm yet";
    return { result: { ...base, verdict, message: `${metric.name}: not enough data (${why})${note}` } };
  }
  const v = judge(state, spec);
  return { result: { ...base, ...verdictOf(metric, v), judge: evidenceOf(v) }, ...(status ? { status } : {}) };
}

function verdictOf(metric: CanaryMetric, v: Verdict): { verdict: AnalysisVerdict; message: string } {
  const message = `${metric.name}: ${v.message}`;
  switch (v.outcome) {
    case "regression":
      return { verdict: "fail", message };
    case "no-regression-yet":
      return { verdict: "pass", message };
    case "insufficient-data": {
      const { verdict, note } = noDataVerdict(metric);
      return { verdict, message: message + note };
    }
  }
}

function noDataVerdict(metric: CanaryMetric): { verdict: AnalysisVerdict; note: string } {
  const policy = metric.onNoData ?? "fail";
  if (policy === "pass") return { verdict: "pass", note: " (onNoData=pass)" };
  if (policy === "skip") return { verdict: "skip", note: " (onNoData=skip, not counted)" };
  return { verdict: "nodata", note: " (onNoData=fail)" };
}

/** The verdict as status shows it: finite numbers only (JSON has no Infinity or NaN). */
export function evidenceOf(v: Verdict): JudgeEvidence {
  const e = v.evidence;
  const out: JudgeEvidence = {
    outcome: v.outcome,
    label: e.label,
    canaryRequests: e.canary.requests,
    canaryBad: e.canary.bad,
    primaryRequests: e.primary.requests,
    primaryBad: e.primary.bad,
    confidence: v.confidence,
    tolerance: v.tolerance,
    eValue: v.eValue,
    threshold: v.threshold,
    sentence: v.message,
  };
  const put = (key: "canaryRate" | "primaryRate" | "ratio" | "ciLower" | "ciUpper", x: number) => {
    if (Number.isFinite(x)) out[key] = x;
  };
  if (e.canary.requests > 0) put("canaryRate", e.canary.bad / e.canary.requests);
  if (e.primary.requests > 0) put("primaryRate", e.primary.bad / e.primary.requests);
  put("ratio", e.ratio);
  put("ciLower", e.interval.lower);
  put("ciUpper", e.interval.upper);
  return out;
}

/** Every finite boundary either arm has, increasing; the largest MAX_BOUNDARIES when there are more (the tail is what matters). */
export function chooseBoundaries(a: ArmHistogram, b: ArmHistogram): number[] {
  const all = [...new Set([...a.cumulative.keys(), ...b.cumulative.keys()])].sort((x, y) => x - y);
  return all.slice(Math.max(0, all.length - MAX_BOUNDARIES));
}

/** Per arm, the requests slower than each boundary; a problem when an arm with requests lacks one. */
export function slowerCounts(boundaries: readonly number[], canary: ArmHistogram, primary: ArmHistogram): LatencyWindowCounts | string {
  const arm = (name: string, h: ArmHistogram): { requests: number; slowerThan: number[] } | string => {
    const slowerThan: number[] = [];
    for (const b of boundaries) {
      const atOrBelow = h.cumulative.get(b);
      if (atOrBelow === undefined) {
        if (h.total === 0) slowerThan.push(0);
        else return `the ${name}'s histogram has no bucket le=${b}ms, which this run's test was started with`;
      } else slowerThan.push(Math.min(h.total, Math.max(0, h.total - atOrBelow)));
    }
    return { requests: h.total, slowerThan };
  };
  const c = arm("canary", canary);
  if (typeof c === "string") return c;
  const p = arm("primary", primary);
  if (typeof p === "string") return p;
  return { canary: c, primary: p };
}
