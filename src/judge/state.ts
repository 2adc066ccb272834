/**
 * A metric's judge state: what a check needs from the previous ones, as plain JSON that
 * lives in the Canary's status, so a restarted controller resumes the test where it was.
 *
 * Size is bounded whatever the run's length: per compared quantity, four counters and
 * GRID_SIZE log-likelihoods between -1000 and 0 with six decimals (at most MAX_BOUNDARIES
 * quantities: under 10 kB of JSON for a latency test). `version` names the grid
 * and the model; a state of another version, or one built for another tolerance or other
 * boundaries, is not resumed — `resumable` says so and the caller starts afresh.
 */
import type { LatencyWindowCounts, WindowCounts } from "./types.ts";
import { GRID_SIZE } from "./grid.ts";
import { LOG_LIKELIHOOD_FLOOR } from "./logspace.ts";
import type { RatioTestState } from "./ratio-test.ts";
import { emptyRatioTest, observeRatioWindow } from "./ratio-test.ts";

export const JUDGE_STATE_VERSION = 2;
/** At most this many histogram boundaries per metric (Prometheus' default buckets are 11). */
export const MAX_BOUNDARIES = 16;

export type JudgeState = ErrorsJudgeState | LatencyJudgeState;

interface JudgeStateBase {
  version: typeof JUDGE_STATE_VERSION;
  /** The tolerance the grid is anchored at. */
  tolerance: number;
}

/** One test: bad = an error answer (5xx). */
export interface ErrorsJudgeState extends JudgeStateBase {
  kind: "errors";
  test: RatioTestState;
}

/** One test per histogram boundary: bad = slower than the boundary. */
export interface LatencyJudgeState extends JudgeStateBase {
  kind: "latency";
  /** Boundaries in milliseconds, increasing. */
  boundariesMs: number[];
  tests: RatioTestState[];
  /**
   * Each boundary's share of the metric's e-value (they sum to 1), fixed by the first window
   * that has requests (`boundaryWeights`); absent until then.
   */
  weights?: number[];
}

export function startErrorsTest(tolerance: number): ErrorsJudgeState {
  return { version: JUDGE_STATE_VERSION, kind: "errors", tolerance, test: emptyRatioTest() };
}

/** A fresh latency test over these boundaries (ms), or the problem with them. */
export function startLatencyTest(tolerance: number, boundariesMs: readonly number[]): Observed<LatencyJudgeState> {
  const problem = boundariesProblem(boundariesMs);
  if (problem !== undefined) return { ok: false, problem: `boundariesMs: ${problem}` };
  return {
    ok: true,
    state: {
      version: JUDGE_STATE_VERSION,
      kind: "latency",
      tolerance,
      boundariesMs: [...boundariesMs],
      tests: boundariesMs.map(() => emptyRatioTest()),
    },
  };
}

/** What is wrong with a list of histogram boundaries, if anything. */
export function boundariesProblem(boundaries: unknown): string | undefined {
  if (!Array.isArray(boundaries) || boundaries.length === 0 || boundaries.length > MAX_BOUNDARIES) return `must be a list of 1 to ${MAX_BOUNDARIES} numbers`;
  const increasing = boundaries.every((b, i) => typeof b === "number" && Number.isFinite(b) && b > 0 && (i === 0 || b > (boundaries[i - 1] as number)));
  return increasing ? undefined : "must be increasing positive numbers";
}

/** Whether `state` continues a test with this tolerance (and, for latency, these boundaries). */
export function resumable(state: JudgeState, tolerance: number, boundariesMs?: readonly number[]): boolean {
  if (state.version !== JUDGE_STATE_VERSION || state.tolerance !== tolerance) return false;
  if (state.kind === "errors") return boundariesMs === undefined;
  return boundariesMs !== undefined && boundariesMs.length === state.boundariesMs.length && boundariesMs.every((b, i) => b === state.boundariesMs[i]);
}

export type Observed<S> = { ok: true; state: S } | { ok: false; problem: string };

/** Adds one window of 5xx counts. Invalid counts leave the state as it was. */
export function observeErrors(state: ErrorsJudgeState, window: WindowCounts): Observed<ErrorsJudgeState> {
  const problem = armProblem("canary", window.canary?.requests, window.canary?.bad) ?? armProblem("primary", window.primary?.requests, window.primary?.bad);
  if (problem !== undefined) return { ok: false, problem };
  return { ok: true, state: { ...state, test: observeRatioWindow(state.test, state.tolerance, window) } };
}

/** Adds one window of latency counts: per arm, requests and the number slower than each boundary. */
export function observeLatency(state: LatencyJudgeState, window: LatencyWindowCounts): Observed<LatencyJudgeState> {
  for (const arm of ["canary", "primary"] as const) {
    const counts = window[arm];
    const slower = counts?.slowerThan;
    if (!Array.isArray(slower) || slower.length !== state.boundariesMs.length) {
      return { ok: false, problem: `${arm}.slowerThan: must have one count per boundary (${state.boundariesMs.length})` };
    }
    for (let i = 0; i < slower.length; i++) {
      const problem = armProblem(arm, counts.requests, slower[i], `slowerThan[${i}]`);
      if (problem !== undefined) return { ok: false, problem };
    }
  }
  const weights = state.weights ?? boundaryWeights(window);
  const tests = state.tests.map((test, i) =>
    observeRatioWindow(test, state.tolerance, {
      canary: { requests: window.canary.requests, bad: window.canary.slowerThan[i]! },
      primary: { requests: window.primary.requests, bad: window.primary.slowerThan[i]! },
    }),
  );
  return { ok: true, state: { ...state, tests, ...(weights === undefined ? {} : { weights }) } };
}

/**
 * How much each boundary counts in the latency e-value, from the first window with requests.
 *
 * A boundary that most requests are slower than cannot show much of a regression: when 90%
 * of the primary's requests are slower than 25 ms, the canary's rate there is at most 1/0.9
 * of it, within any tolerance above 1.1, and even at the median a slowdown moves the rate
 * ratio little while the tail's ratio grows. Yet with equal weights every such boundary takes
 * an equal share of the evidence. So only the tail boundaries, those that at most a quarter
 * of the window's requests (both arms together) are slower than, get weight: half spread
 * evenly over them (a tail nobody has reached yet still counts, so a canary that adds a slow
 * tail is caught), half in proportion to their slow requests (where most of the evidence
 * will come from). When there is no tail boundary, all share evenly. In the decision
 * benchmark this raises the 30%-slower canaries caught within 3 checks from 76.6% (equal
 * weights) to 83.8%, with no false rollback either way.
 *
 * The weights use only the window's pooled counts, never how they split between the arms,
 * and the test is conditional on those: given them, each boundary's likelihood ratio is
 * still a supermartingale that starts at 1, so their weighted mean is one too and the
 * metric keeps its level α however often it is looked at.
 */
export function boundaryWeights(window: LatencyWindowCounts): number[] | undefined {
  const requests = window.canary.requests + window.primary.requests;
  if (requests <= 0) return undefined;
  const slow = window.canary.slowerThan.map((c, i) => c + window.primary.slowerThan[i]!);
  const tail = slow.map((k) => k <= requests / 4);
  const count = tail.filter(Boolean).length;
  if (count === 0) return slow.map(() => 1 / slow.length);
  const slowTotal = slow.reduce((sum, k, i) => sum + (tail[i] ? k : 0), 0);
  return slow.map((k, i) => (tail[i] ? 0.5 / count + 0.5 * (slowTotal > 0 ? k / slowTotal : 1 / count) : 0));
}

function armProblem(arm: string, requests: unknown, bad: unknown, badName = "bad"): string | undefined {
  if (!isCount(requests)) return `${arm}.requests: must be a finite number ≥ 0`;
  if (!isCount(bad)) return `${arm}.${badName}: must be a finite number ≥ 0`;
  if (bad > requests + 0.5) return `${arm}.${badName}: must not exceed ${arm}.requests`;
  return undefined;
}

const isCount = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v) && v >= 0;

/**
 * Reads a state back from JSON (the Canary's status). Anything that is not a state this
 * version wrote comes back as a problem naming the field, never as an exception.
 */
export function parseJudgeState(value: unknown): { ok: true; state: JudgeState } | { ok: false; problem: string } {
  const fail = (problem: string) => ({ ok: false as const, problem });
  if (!isObject(value)) return fail("must be an object");
  // Version 1 is the same state before latency weights; its latency tests weighed every
  // boundary evenly, and keep doing so (changing weights mid-test would void its level).
  if (value.version !== 1 && value.version !== JUDGE_STATE_VERSION) return fail(`version: must be 1 or ${JUDGE_STATE_VERSION}`);
  const tolerance = value.tolerance;
  if (typeof tolerance !== "number" || !Number.isFinite(tolerance) || tolerance < 1) return fail("tolerance: must be a number ≥ 1");
  if (value.kind === "errors") {
    const test = parseRatioTest(value.test, "test");
    return typeof test === "string" ? fail(test) : { ok: true, state: { version: JUDGE_STATE_VERSION, kind: "errors", tolerance, test } };
  }
  if (value.kind !== "latency") return fail("kind: must be one of: errors, latency");
  const boundaries = value.boundariesMs;
  const problem = boundariesProblem(boundaries);
  if (problem !== undefined || !Array.isArray(boundaries)) return fail(`boundariesMs: ${problem}`);
  if (!Array.isArray(value.tests) || value.tests.length !== boundaries.length) return fail("tests: must have one entry per boundary");
  const tests: RatioTestState[] = [];
  for (let i = 0; i < value.tests.length; i++) {
    const test = parseRatioTest(value.tests[i], `tests[${i}]`);
    if (typeof test === "string") return fail(test);
    tests.push(test);
  }
  const weights = value.version === 1 ? boundaries.map(() => 1 / boundaries.length) : value.weights;
  if (weights !== undefined) {
    const valid = Array.isArray(weights) && weights.length === boundaries.length && weights.every((w) => typeof w === "number" && w >= 0 && w <= 1);
    if (!valid || Math.abs((weights as number[]).reduce((a, b) => a + b, 0) - 1) > 1e-9) return fail("weights: must be one number between 0 and 1 per boundary, summing to 1");
  }
  return {
    ok: true,
    state: { version: JUDGE_STATE_VERSION, kind: "latency", tolerance, boundariesMs: boundaries as number[], tests, ...(weights === undefined ? {} : { weights: [...(weights as number[])] }) },
  };
}

function parseRatioTest(value: unknown, path: string): RatioTestState | string {
  if (!isObject(value)) return `${path}: must be an object`;
  const arms: Record<string, { requests: number; bad: number }> = {};
  for (const arm of ["canary", "primary"]) {
    const counts = value[arm];
    if (!isObject(counts)) return `${path}.${arm}: must be an object`;
    if (!isCount(counts.requests) || !Number.isInteger(counts.requests)) return `${path}.${arm}.requests: must be an integer ≥ 0`;
    if (!isCount(counts.bad) || !Number.isInteger(counts.bad) || counts.bad > counts.requests) {
      return `${path}.${arm}.bad: must be an integer between 0 and requests`;
    }
    arms[arm] = { requests: counts.requests, bad: counts.bad };
  }
  const ll = value.logLikelihood;
  if (!Array.isArray(ll) || ll.length !== GRID_SIZE) return `${path}.logLikelihood: must be a list of ${GRID_SIZE} numbers`;
  if (!ll.every((x) => typeof x === "number" && x >= LOG_LIKELIHOOD_FLOOR && x <= 0)) {
    return `${path}.logLikelihood: must hold numbers between ${LOG_LIKELIHOOD_FLOOR} and 0`;
  }
  return { canary: arms.canary!, primary: arms.primary!, logLikelihood: [...(ll as number[])] };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
