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

export const JUDGE_STATE_VERSION = 1;
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
  const tests = state.tests.map((test, i) =>
    observeRatioWindow(test, state.tolerance, {
      canary: { requests: window.canary.requests, bad: window.canary.slowerThan[i]! },
      primary: { requests: window.primary.requests, bad: window.primary.slowerThan[i]! },
    }),
  );
  return { ok: true, state: { ...state, tests } };
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
  if (value.version !== JUDGE_STATE_VERSION) return fail(`version: must be ${JUDGE_STATE_VERSION}`);
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
  return { ok: true, state: { version: JUDGE_STATE_VERSION, kind: "latency", tolerance, boundariesMs: boundaries as number[], tests } };
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
