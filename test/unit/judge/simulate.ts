/**
 * Count sequences for the judge's statistical tests: in each window the canary gets a share
 * of the traffic, and each arm's bad events are Poisson with its own rate — the model the
 * test is exact for. Seeded, so a failure reproduces.
 */
import { poisson } from "../../bench/judge/random.ts";
import type { WindowCounts } from "../../../src/judge/types.ts";

export interface SequenceSpec {
  /** Requests per window over both arms. */
  requests: number;
  /** The primary's bad-event rate. */
  baseRate: number;
  /** The canary's rate over the primary's. */
  ratio: number;
}

/** One window: the canary share drawn from [0.05, 0.5], counts as the model says. */
export function sampleWindow(rand: () => number, spec: SequenceSpec): WindowCounts {
  const share = 0.05 + 0.45 * rand();
  const canaryRequests = Math.max(1, Math.round(spec.requests * share));
  const primaryRequests = Math.max(1, spec.requests - canaryRequests);
  return {
    canary: { requests: canaryRequests, bad: Math.min(canaryRequests, poisson(rand, canaryRequests * spec.baseRate * spec.ratio)) },
    primary: { requests: primaryRequests, bad: Math.min(primaryRequests, poisson(rand, primaryRequests * spec.baseRate)) },
  };
}
