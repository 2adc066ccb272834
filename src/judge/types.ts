/**
 * The judge's vocabulary: what one analysis window contributes (per-arm counts), what the
 * user asks for (`compare`), and what comes back (a verdict with its evidence).
 *
 * "Bad" is whatever the metric counts against a version: a 5xx answer for the success
 * rate, a request slower than a histogram boundary for latency. The judge never sees
 * individual requests, only how many each arm served and how many of them were bad.
 */

/** Requests one arm served in a window, and how many of them were bad. */
export interface ArmCounts {
  requests: number;
  bad: number;
}

/** One analysis window (the time since the previous check), for both arms. */
export interface WindowCounts {
  canary: ArmCounts;
  primary: ArmCounts;
}

/** A latency window: per-arm request totals and, per histogram boundary, the slower ones. */
export interface LatencyWindowCounts {
  canary: { requests: number; slowerThan: readonly number[] };
  primary: { requests: number; slowerThan: readonly number[] };
}

/** `compare` on a metric: how much worse the canary may be, and how sure a verdict must be. */
export interface CompareSpec {
  /** Largest canary/primary ratio of bad-event rates that is not a regression (≥ 1). */
  tolerance: number;
  /** 1 − α: a version no worse than the tolerance is failed with probability at most α. */
  confidence: number;
  /** Requests each arm must have served in total before any verdict but "not enough data". */
  minRequests: number;
}

export const DEFAULT_COMPARE: Readonly<CompareSpec> = Object.freeze({ tolerance: 1.2, confidence: 0.99, minRequests: 100 });

/**
 * regression          the canary is worse than the tolerance allows, at the stated confidence
 * no-regression-yet   no such evidence so far, with enough data to have seen a large one
 * insufficient-data   too few requests or bad events to say anything: not a pass
 */
export type VerdictOutcome = "regression" | "no-regression-yet" | "insufficient-data";

/** A confidence interval for the ratio; `upper` is Infinity when no large ratio is ruled out. */
export interface RatioInterval {
  lower: number;
  upper: number;
}

/** The evidence for one compared quantity (5xx, or requests slower than one boundary). */
export interface RatioEvidence {
  /** `5xx`, or `slower than 250ms`. */
  label: string;
  canary: ArmCounts;
  primary: ArmCounts;
  /** The canary's bad-event rate over the primary's, over all windows so far (NaN without data). */
  ratio: number;
  interval: RatioInterval;
  /** This quantity's own e-value against "ratio ≤ tolerance". */
  eValue: number;
}

export interface Verdict {
  outcome: VerdictOutcome;
  /** The metric's e-value (for latency, the weighted mean over boundaries); regression when ≥ threshold. */
  eValue: number;
  /** 1/α. */
  threshold: number;
  tolerance: number;
  confidence: number;
  /** The quantity the sentence reports: the only one, or the boundary with the most evidence. */
  evidence: RatioEvidence;
  /** How many quantities were averaged (1 for 5xx, the number of boundaries for latency). */
  tests: number;
  /** Why the data is not enough, when the outcome is insufficient-data. */
  shortOf?: string;
  /** One sentence with the rates, the ratio and its interval, the e-value and the threshold. */
  message: string;
}
