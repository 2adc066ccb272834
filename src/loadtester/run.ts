/**
 * Carries out a schedule: `concurrency` workers, each starting a request every `intervalMs`
 * (hey's per-worker ticker), until its share of requests is sent or the duration is over.
 * A worker held up by a slow answer sends once as soon as it can, then skips the other starts
 * it missed instead of bursting to catch up, so the target never sees more than the rate
 * asked for. Every outcome is recorded; nothing a target does (refuse, reset, hang, answer
 * 500) ends a run early.
 */
import type { RunSchedule } from "./bounds.ts";
import type { Clock } from "./clock.ts";
import type { Outcome } from "./stats.ts";

export interface SendResult {
  outcome: Outcome;
  /** HTTP status or gRPC status code, when an answer came. */
  code?: string;
}

/** Sends one request; never throws (a failure is an outcome). */
export type Send = (signal: AbortSignal, timedOut: () => boolean) => Promise<SendResult>;

export interface RunObserver {
  (result: SendResult, latencyMs: number): void;
}

export interface RunLoadOptions {
  schedule: RunSchedule;
  send: Send;
  clock: Clock;
  /** Aborting stops the run: no new request starts, requests in flight are cancelled. */
  signal: AbortSignal;
  observe: RunObserver;
}

export async function runLoad(opts: RunLoadOptions): Promise<void> {
  const { schedule, clock, signal } = opts;
  const start = clock.now();
  const end = start + schedule.stopAfterMs;
  const worker = async (share: number): Promise<void> => {
    let due = start;
    for (let sent = 0; sent < share && due < end && !signal.aborted; sent++) {
      await clock.sleepUntil(due, signal);
      if (signal.aborted) return;
      await sendOne(opts);
      due += schedule.intervalMs;
      const now = clock.now();
      // Like Go's ticker (one tick buffered): a late worker sends once at once, then keeps to the beat.
      if (now > due) due = start + Math.floor((now - start) / schedule.intervalMs) * schedule.intervalMs;
    }
  };
  await Promise.all(schedule.requestsPerWorker.map((share) => worker(share)));
}

async function sendOne(opts: RunLoadOptions): Promise<void> {
  const timeout = AbortSignal.timeout(opts.schedule.timeoutMs);
  const signal = AbortSignal.any([opts.signal, timeout]);
  const began = performance.now();
  let result: SendResult;
  try {
    result = await opts.send(signal, () => timeout.aborted);
  } catch {
    // A sender is written not to throw; should one, the run goes on and the request counts as failed.
    result = { outcome: timeout.aborted ? "timeout" : "other" };
  }
  // A request cut short by stopping the run says nothing about the target.
  if (!opts.signal.aborted) opts.observe(result, performance.now() - began);
}
