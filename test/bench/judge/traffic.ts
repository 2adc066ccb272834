/**
 * Simulated traffic for the decision-quality benchmark, sampled as counts, never request by
 * request: per 30-second slice and per arm, the requests in each latency bucket, split into
 * 5xx and the rest, are independent Poisson counts (that is what Poisson arrivals thinned by
 * independent per-request outcomes give).
 *
 * Base traffic: about 50 requests/s, drifting ±30% over a run (a sine with a random phase
 * and a 10-minute period); 0.5% 5xx; log-normal latency with median 100 ms and σ 0.6
 * (p99 ≈ 400 ms). The arms split each slice's traffic by the canary weight.
 */
import { normalCdf, poisson } from "./random.ts";

export const SLICE_SECONDS = 30;
/** Histogram boundaries (ms) both the application and the judge use. */
export const BOUNDARIES_MS = [25, 50, 100, 250, 500, 1000, 2500] as const;
const LATENCY_SIGMA = 0.6;
const MEDIAN_MS = 100;
const DRIFT = 0.3;
const DRIFT_PERIOD_SLICES = 20;

/** How one arm behaves during one slice. */
export interface ArmBehaviour {
  errorRate: number;
  /** Multiplies every latency (1 = the base distribution). */
  latencyFactor: number;
}

export interface Scenario {
  key: string;
  title: string;
  requestsPerSecond: number;
  /** Whether a rollback is the right decision. */
  regression: boolean;
  arm(arm: "canary" | "primary", slice: number): ArmBehaviour;
}

const BASE: ArmBehaviour = { errorRate: 0.005, latencyFactor: 1 };
const INCIDENT: ArmBehaviour = { errorRate: 0.05, latencyFactor: 2 };

export const SCENARIOS: readonly Scenario[] = [
  { key: "a", title: "identical versions", requestsPerSecond: 50, regression: false, arm: () => BASE },
  {
    key: "b",
    title: "identical, shared incident (5% 5xx, 2x latency, 30-90 s)",
    requestsPerSecond: 50,
    regression: false,
    arm: (_arm, slice) => (slice === 1 || slice === 2 ? INCIDENT : BASE),
  },
  { key: "c", title: "canary +2 points of 5xx", requestsPerSecond: 50, regression: true, arm: (arm) => (arm === "canary" ? { ...BASE, errorRate: 0.025 } : BASE) },
  { key: "d", title: "canary latency +30%", requestsPerSecond: 50, regression: true, arm: (arm) => (arm === "canary" ? { ...BASE, latencyFactor: 1.3 } : BASE) },
  { key: "e", title: "identical at 1 req/s", requestsPerSecond: 1, regression: false, arm: () => BASE },
];

/**
 * What one arm served in a window: requests per histogram cell (cell i holds latencies up to
 * BOUNDARIES_MS[i], the last one everything slower) and the 5xx among them.
 */
export interface ArmWindow {
  cells: number[];
  requests: number;
  errors: number;
}

export function emptyArmWindow(): ArmWindow {
  return { cells: new Array<number>(BOUNDARIES_MS.length + 1).fill(0), requests: 0, errors: 0 };
}

/** Adds one slice's traffic for one arm to `into`. */
export function sampleSlice(rand: () => number, into: ArmWindow, expectedRequests: number, behaviour: ArmBehaviour): void {
  const logMedian = Math.log(MEDIAN_MS * behaviour.latencyFactor);
  let below = 0;
  for (let i = 0; i <= BOUNDARIES_MS.length; i++) {
    const upTo = i < BOUNDARIES_MS.length ? normalCdf((Math.log(BOUNDARIES_MS[i]!) - logMedian) / LATENCY_SIGMA) : 1;
    const share = Math.max(0, upTo - below);
    below = upTo;
    const good = poisson(rand, expectedRequests * share * (1 - behaviour.errorRate));
    const bad = poisson(rand, expectedRequests * share * behaviour.errorRate);
    into.cells[i]! += good + bad;
    into.requests += good + bad;
    into.errors += bad;
  }
}

/** The traffic multiplier of one slice of a run: 1 ± 30% along a sine with the run's phase. */
export function driftFactor(phase: number, slice: number): number {
  return 1 + DRIFT * Math.sin(phase + (2 * Math.PI * slice) / DRIFT_PERIOD_SLICES);
}

/** Requests slower than each boundary (what the judge reads from a cumulative histogram). */
export function slowerThan(window: ArmWindow): number[] {
  const out: number[] = [];
  let above = window.requests;
  for (let i = 0; i < BOUNDARIES_MS.length; i++) {
    above -= window.cells[i]!;
    out.push(above);
  }
  return out;
}

/**
 * The 0.99 quantile as Prometheus' histogram_quantile computes it from cumulative buckets:
 * linear interpolation inside the bucket that holds the rank, 0 as the first bucket's lower
 * end, and the highest finite boundary when the rank falls in +Inf. NaN with no requests.
 */
export function histogramQuantile(q: number, window: ArmWindow): number {
  if (window.requests === 0) return NaN;
  const rank = q * window.requests;
  let cumulative = 0;
  for (let i = 0; i < BOUNDARIES_MS.length; i++) {
    const inBucket = window.cells[i]!;
    if (cumulative + inBucket >= rank) {
      const lower = i === 0 ? 0 : BOUNDARIES_MS[i - 1]!;
      const upper = BOUNDARIES_MS[i]!;
      return inBucket === 0 ? upper : lower + ((upper - lower) * (rank - cumulative)) / inBucket;
    }
    cumulative += inBucket;
  }
  return BOUNDARIES_MS[BOUNDARIES_MS.length - 1]!;
}
