/**
 * The sentence every verdict carries, for status, events and alerts:
 *
 *   5xx: canary 2.6% vs primary 0.5% (ratio 5.2, 99% CI 2.3–11) > tolerance 1.2 (e-value 412 ≥ 100)
 *   5xx: canary 0.51% vs primary 0.49% (ratio 1, 99% CI 0.41–2.2) within tolerance 1.2 so far (e-value 0.31 < 100)
 *   5xx: not enough data (too few 5xx answers to rule out even a ratio of 38): canary 1 of 150 vs primary 6 of 1350
 *
 * Latency verdicts name the boundary with the most evidence and how many were weighed.
 */
import type { RatioEvidence, Verdict } from "./types.ts";
import { formatConfidence, formatEValue, formatPercent, formatRatio } from "./format.ts";

export function verdictSentence(v: Omit<Verdict, "message">): string {
  const e = v.evidence;
  const averaged = v.tests > 1 ? `, weighted mean over ${v.tests} boundaries` : "";
  const score = `(e-value ${formatEValue(v.eValue)}`;
  switch (v.outcome) {
    case "regression":
      return `${e.label}: ${rates(e)} ${estimate(e, v.confidence)} > tolerance ${formatRatio(v.tolerance)} ${score} ≥ ${formatEValue(v.threshold)}${averaged})`;
    case "no-regression-yet":
      return `${e.label}: ${rates(e)} ${estimate(e, v.confidence)} within tolerance ${formatRatio(v.tolerance)} so far ${score} < ${formatEValue(v.threshold)}${averaged})`;
    case "insufficient-data":
      return `${e.label}: not enough data (${v.shortOf ?? "too few events"}): canary ${e.canary.bad} of ${e.canary.requests} vs primary ${e.primary.bad} of ${e.primary.requests}`;
  }
}

function rates(e: RatioEvidence): string {
  const rate = (arm: RatioEvidence["canary"]) => (arm.requests === 0 ? NaN : arm.bad / arm.requests);
  return `canary ${formatPercent(rate(e.canary))} vs primary ${formatPercent(rate(e.primary))}`;
}

function estimate(e: RatioEvidence, confidence: number): string {
  return `(ratio ${formatRatio(e.ratio)}, ${formatConfidence(confidence)} CI ${formatRatio(e.interval.lower)}–${formatRatio(e.interval.upper)})`;
}
