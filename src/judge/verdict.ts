/**
 * From a metric's judge state to its verdict.
 *
 * The metric's e-value is its one test's (5xx), or for latency the mean of its boundaries'
 * tests weighted as `boundaryWeights` (state.ts) fixed them: the weights depend on no split
 * between the arms, so the metric as a whole still fails a version within tolerance with
 * probability at most α.
 *
 * Order of the rules:
 *   1. either arm has served fewer than minRequests in total      → insufficient-data
 *   2. e-value ≥ 1/α                                               → regression
 *   3. no test can bound the ratio from above (every upper end ∞)  → insufficient-data
 *   4. otherwise                                                   → no-regression-yet
 *
 * Rule 3 is what "too few bad events" means: until the data rules out at least a ratio of
 * 32 times the tolerance (the grid's top), the test could not have noticed even a gross
 * regression, so its silence is no pass. For latency one boundary with enough slow requests
 * is enough.
 *
 * The interval reported for latency is the boundary with the most evidence; each
 * boundary's interval is computed at level α/m for m boundaries, so they hold together
 * and picking one after looking keeps its stated confidence.
 */
import type { CompareSpec, RatioEvidence, Verdict, VerdictOutcome } from "./types.ts";
import type { RatioTestState } from "./ratio-test.ts";
import { logRegressionEValue } from "./ratio-test.ts";
import { ratioInterval } from "./confidence.ts";
import { logSumExp } from "./logspace.ts";
import type { JudgeState } from "./state.ts";
import { verdictSentence } from "./sentence.ts";
import { formatMs, formatRatio } from "./format.ts";

interface LabelledTest {
  label: string;
  test: RatioTestState;
  /** Share of the metric's e-value. */
  weight: number;
}

/**
 * The verdict on everything observed so far. The grid, and so the tolerance judged against,
 * is the state's (see `resumable`); confidence and minRequests come from `spec`.
 */
export function judge(state: JudgeState, spec: CompareSpec): Verdict {
  const tests: LabelledTest[] =
    state.kind === "errors"
      ? [{ label: "5xx", test: state.test, weight: 1 }]
      : state.tests.map((test, i) => ({ label: `slower than ${formatMs(state.boundariesMs[i]!)}`, test, weight: state.weights?.[i] ?? 1 / state.tests.length }));
  return judgeTests(tests, state.tolerance, spec);
}

function judgeTests(tests: readonly LabelledTest[], tolerance: number, spec: CompareSpec): Verdict {
  // 1 − 0.99 is 0.010000000000000009 in binary; the threshold should read 100.
  const alpha = Math.round((1 - spec.confidence) * 1e12) / 1e12;
  const threshold = 1 / alpha;
  const logEValues = tests.map((t) => logRegressionEValue(t.test));
  const logMean = logSumExp(logEValues.map((e, i) => e + Math.log(tests[i]!.weight)));
  const evidence = tests.map((t, i): RatioEvidence => ({
    label: t.label,
    canary: { ...t.test.canary },
    primary: { ...t.test.primary },
    ratio: rateRatio(t.test),
    interval: ratioInterval(t.test, tolerance, alpha / tests.length),
    eValue: finiteExp(logEValues[i]!),
  }));
  const strongest = evidence.reduce((best, e) => (e.eValue > best.eValue ? e : best), evidence[0]!);
  const first = tests[0]!.test;

  let outcome: VerdictOutcome;
  let shortOf: string | undefined;
  const fewest = Math.min(first.canary.requests, first.primary.requests);
  if (fewest < spec.minRequests) {
    outcome = "insufficient-data";
    const arm = first.canary.requests <= first.primary.requests ? "canary" : "primary";
    shortOf = `the ${arm} has served ${fewest} of the ${spec.minRequests} requests needed`;
  } else if (logMean >= Math.log(threshold)) {
    outcome = "regression";
  } else if (evidence.every((e) => e.interval.upper === Infinity)) {
    outcome = "insufficient-data";
    const what = tests.length === 1 ? "5xx answers" : "slow requests";
    shortOf = `too few ${what} to rule out even a ratio of ${formatRatio(32 * tolerance)}`;
  } else {
    outcome = "no-regression-yet";
  }
  // Without a verdict there is no "most evidence": show the count that is short instead.
  const shown = outcome === "insufficient-data" ? mostTailEvents(evidence) : strongest;
  const verdict: Omit<Verdict, "message"> = {
    outcome,
    eValue: finiteExp(logMean),
    threshold,
    tolerance,
    confidence: spec.confidence,
    evidence: shown,
    tests: tests.length,
    ...(shortOf === undefined ? {} : { shortOf }),
  };
  return { ...verdict, message: verdictSentence(verdict) };
}

/** e^x, capped at 1e300 so that a verdict stays valid JSON however strong the evidence. */
function finiteExp(x: number): number {
  return Math.min(Math.exp(x), 1e300);
}

/**
 * The quantity with the most bad events among those that are a minority of requests (for
 * latency, boundaries above the median: "slower than 25ms" holding nearly every request
 * tells nothing); the first one when there is none.
 */
function mostTailEvents(evidence: readonly RatioEvidence[]): RatioEvidence {
  const bad = (e: RatioEvidence) => e.canary.bad + e.primary.bad;
  const tail = evidence.filter((e) => bad(e) <= (e.canary.requests + e.primary.requests) / 2);
  return tail.reduce((best, e) => (bad(e) > bad(best) ? e : best), tail[0] ?? evidence[0]!);
}

/** The canary's rate over the primary's; NaN when neither had a bad event or an arm has no requests. */
export function rateRatio(test: RatioTestState): number {
  const { canary, primary } = test;
  if (canary.requests === 0 || primary.requests === 0) return NaN;
  const rc = canary.bad / canary.requests;
  const rp = primary.bad / primary.requests;
  if (rp === 0) return rc === 0 ? NaN : Infinity;
  return rc / rp;
}

