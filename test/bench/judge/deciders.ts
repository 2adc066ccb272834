/**
 * The deciders the benchmark compares. Each sees one check's window of both arms and
 * answers: advance the weight, hold it, count a failed check, or roll back.
 *
 * - Fixed thresholds, as Flagger's built-ins: the canary's own success rate ≥ 99% and its
 *   p99 (histogram_quantile over the window's buckets) ≤ 500 ms; a check with no canary
 *   requests fails (no data). Failed checks accumulate over the run (a pass does not reset
 *   them) and the run rolls back when they reach the threshold; a failed check does not
 *   advance the weight.
 * - The judge: a 5xx test and a latency test (one per histogram boundary), tolerance,
 *   confidence and minRequests as given. A regression in either rolls back at once (the
 *   e-value already is the accumulated evidence); insufficient data holds the weight without
 *   counting a failure (the check neither passes nor fails); otherwise the weight advances.
 */
import type { CompareSpec, ErrorsJudgeState, LatencyJudgeState } from "../../../src/judge/index.ts";
import { judge, observeErrors, observeLatency, startErrorsTest, startLatencyTest } from "../../../src/judge/index.ts";
import type { ArmWindow } from "./traffic.ts";
import { BOUNDARIES_MS, histogramQuantile, slowerThan } from "./traffic.ts";

export type CheckOutcome = "advance" | "hold" | "fail" | "rollback";

/** One run's decision-maker; a fresh one per run. */
export interface RunDecider {
  check(canary: ArmWindow, primary: ArmWindow): CheckOutcome;
}

export interface DeciderKind {
  name: string;
  /** Slices (30 s) per analysis interval. */
  intervalSlices: number;
  start(): RunDecider;
}

export function fixedThresholds(intervalSlices: number, threshold: number): DeciderKind {
  return {
    name: `fixed ${intervalSlices * 30}s/threshold ${threshold}`,
    intervalSlices,
    start() {
      let failed = 0;
      return {
        check(canary) {
          const success = canary.requests === 0 ? NaN : 100 * (1 - canary.errors / canary.requests);
          const p99 = histogramQuantile(0.99, canary);
          const ok = success >= 99 && p99 <= 500; // NaN (no data) fails both
          if (ok) return "advance";
          failed++;
          return failed >= threshold ? "rollback" : "fail";
        },
      };
    },
  };
}

export function judgeDecider(spec: CompareSpec): DeciderKind {
  return {
    name: `judge (tolerance ${spec.tolerance}, ${spec.confidence * 100}%)`,
    intervalSlices: 1,
    start() {
      let errors: ErrorsJudgeState = startErrorsTest(spec.tolerance);
      const started = startLatencyTest(spec.tolerance, BOUNDARIES_MS);
      if (!started.ok) throw new Error(started.problem);
      let latency: LatencyJudgeState = started.state;
      return {
        check(canary, primary) {
          const e = observeErrors(errors, {
            canary: { requests: canary.requests, bad: canary.errors },
            primary: { requests: primary.requests, bad: primary.errors },
          });
          const l = observeLatency(latency, {
            canary: { requests: canary.requests, slowerThan: slowerThan(canary) },
            primary: { requests: primary.requests, slowerThan: slowerThan(primary) },
          });
          if (!e.ok || !l.ok) throw new Error(`simulated counts rejected: ${e.ok ? "" : e.problem} ${l.ok ? "" : l.problem}`);
          errors = e.state;
          latency = l.state;
          const outcomes = [judge(errors, spec).outcome, judge(latency, spec).outcome];
          if (outcomes.includes("regression")) return "rollback";
          if (outcomes.includes("insufficient-data")) return "hold";
          return "advance";
        },
      };
    },
  };
}
