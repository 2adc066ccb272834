/**
 * The limits every run is held to, and the schedule a plan becomes within them. A plan that
 * asks for more than a limit is refused, naming the limit and the flag that sets it; a plan
 * that leaves the rate open (no -q, as hey's default) is paced at the rate limit, because
 * "as fast as possible" is not something to aim at a quiet service.
 */
import { formatDuration } from "../api/duration.ts";
import type { LoadPlan } from "./plan.ts";
import { CommandRefusedError } from "./tokenize.ts";

export interface LoadLimits {
  /** The longest run (-z, or -n at the run's rate), and the longest per-request timeout. */
  maxDurationMs: number;
  /** Requests per second over all workers of one run. */
  maxRatePerSecond: number;
  /** Workers in one run. */
  maxConcurrency: number;
  /** Runs at once, background and blocking together. */
  maxRuns: number;
}

export const DEFAULT_LIMITS: Readonly<LoadLimits> = Object.freeze({
  maxDurationMs: 10 * 60_000,
  maxRatePerSecond: 1000,
  maxConcurrency: 100,
  maxRuns: 10,
});

/** How the workers of one run send: each starts a request every `intervalMs`, until its count or the end. */
export interface RunSchedule {
  concurrency: number;
  /** Between the starts of one worker's requests. */
  intervalMs: number;
  /** Requests per second over all workers, as run. */
  ratePerSecond: number;
  /** Requests each worker sends at most (index = worker). */
  requestsPerWorker: number[];
  /** How long the run takes on schedule (answers as fast as the rate). */
  durationMs: number;
  /** No request starts after this long: -z itself, or the duration bound for a -n run. */
  stopAfterMs: number;
  /** Per-request timeout, never 0 and never past the longest run. */
  timeoutMs: number;
}

function refuse(flag: string, message: string): never {
  throw new CommandRefusedError(flag, message);
}

/** The schedule for a plan within the limits; throws CommandRefusedError naming the bound. */
export function scheduleWithin(plan: LoadPlan, limits: LoadLimits): RunSchedule {
  const { tool, concurrency } = plan;
  if (concurrency > limits.maxConcurrency) {
    refuse("-c", `${tool}: -c ${concurrency} workers is above the bound of ${limits.maxConcurrency} concurrent requests per run (--max-concurrency)`);
  }
  const rate = plan.ratePerSecond ?? limits.maxRatePerSecond;
  if (rate > limits.maxRatePerSecond) {
    const asked = tool === "hey" ? `-q ${rate / concurrency} per worker × -c ${concurrency} = ${rate} requests/s` : `-q ${rate} requests/s`;
    refuse("-q", `${tool}: ${asked} is above the bound of ${limits.maxRatePerSecond} requests/s per run (--max-rate)`);
  }
  const intervalMs = (1000 * concurrency) / rate;
  let durationMs: number;
  let stopAfterMs: number;
  let requestsPerWorker: number[];
  if (plan.durationMs !== undefined) {
    if (plan.durationMs > limits.maxDurationMs) {
      refuse("-z", `${tool}: -z ${formatDuration(plan.durationMs)} is above the bound of ${formatDuration(limits.maxDurationMs)} per run (--max-duration)`);
    }
    durationMs = plan.durationMs;
    stopAfterMs = durationMs;
    requestsPerWorker = Array.from({ length: concurrency }, () => Number.POSITIVE_INFINITY);
  } else {
    const base = Math.floor(plan.requests / concurrency);
    const extra = plan.requests % concurrency;
    requestsPerWorker = Array.from({ length: concurrency }, (_, i) => base + (i < extra ? 1 : 0));
    // The last request of the busiest worker starts this long after the first.
    const needed = (Math.max(...requestsPerWorker) - 1) * intervalMs;
    if (needed > limits.maxDurationMs) {
      refuse("-n", `${tool}: -n ${plan.requests} at ${rate} requests/s takes ${formatDuration(needed)}, above the bound of ${formatDuration(limits.maxDurationMs)} per run (--max-duration)`);
    }
    durationMs = needed + intervalMs;
    // A slow target delays the count; the count, not the schedule's end, ends the run, within the bound.
    stopAfterMs = limits.maxDurationMs;
  }
  if (plan.timeoutMs > limits.maxDurationMs) {
    refuse("-t", `${tool}: a per-request timeout of ${formatDuration(plan.timeoutMs)} is above the bound of ${formatDuration(limits.maxDurationMs)} (--max-duration)`);
  }
  const timeoutMs = plan.timeoutMs === 0 ? limits.maxDurationMs : plan.timeoutMs;
  return { concurrency, intervalMs, ratePerSecond: rate, requestsPerWorker, durationMs, stopAfterMs, timeoutMs };
}
