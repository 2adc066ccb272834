/**
 * A work queue of `namespace/name` keys, shaped after client-go's rate-limited queue and
 * controller-runtime's worker loop:
 *
 * - a key waits in the queue at most once (adding it again while it waits is a no-op);
 * - two lanes: a key added with `{ urgent: true }` (a new revision, a user's request) is
 *   handed out before every routine key (timed re-checks, readiness, resyncs), so a change
 *   someone is waiting for never queues behind hundreds of re-checks; an urgent add of a
 *   key already waiting in the routine lane moves it over;
 * - a key is never handed to two workers at once: re-added while it is being processed, it
 *   is parked and queued again when `done(key)` is called, so the newest state is always
 *   reconciled once more after the run that was in flight;
 * - `addRateLimited(key)` delays the key by a per-key exponential backoff that `forget(key)`
 *   resets; `addAfter(key, ms)` keeps the earliest of several pending deadlines;
 * - `shutdown()` stops accepting keys and drains: queued keys are still processed and the
 *   promise resolves once every worker has returned.
 *
 * Timers come from an injected clock so tests can run hours of backoff in microseconds.
 */
import { isTerminal } from "../ground/errors.ts";

/**
 * Canaries reconciled at once. A reconcile spends nearly all its time waiting on the API
 * server, not on the CPU, so workers are cheap (a pending promise each): with 4, a thousand
 * Canaries initialized one small request after another behind four waits, and a new revision
 * queued behind them. 16 keeps the API server busy on 2 cores; what reaches it stays bounded
 * by --kube-api-qps, not by the worker count.
 */
export const DEFAULT_WORKERS = 16;

export interface QueueClock {
  now(): number;
  /** Calls `fn` after `ms`; the returned function cancels it. */
  setTimer(fn: () => void, ms: number): () => void;
}

export const systemQueueClock: QueueClock = {
  now: () => Date.now(),
  setTimer: (fn, ms) => {
    const timer = setTimeout(fn, ms);
    return () => clearTimeout(timer);
  },
};

export interface WorkQueueOptions {
  clock?: QueueClock;
  /** First retry delay of `addRateLimited`; doubles on every consecutive failure. */
  baseDelayMs?: number;
  /** Upper bound of the per-key backoff. */
  maxDelayMs?: number;
  /**
   * Tells failures that say the API server could not be reached or was failing (an outage,
   * not a problem of the key). Their backoff stops at `outageMaxDelayMs` (default 10 s): one
   * grown through a long outage would otherwise keep a run waiting long after it ended.
   */
  isOutage?: (err: unknown) => boolean;
  outageMaxDelayMs?: number;
}

/** What a handler may ask for after a successful run. */
export interface HandlerResult {
  /** Process the key again after this long (the next analysis tick, say). */
  requeueAfterMs?: number;
}

/**
 * Processes one key. A resolved promise means success (the key's backoff is forgotten); a
 * rejection requeues the key with backoff, unless the error is terminal (`retryable: false`,
 * see ground/errors.ts): retrying cannot fix it, so it is not retried in a hot loop; the
 * next event or resync brings the key back.
 * `signal` aborts when the queue shuts down without draining.
 */
export type KeyHandler = (key: string, signal: AbortSignal) => Promise<HandlerResult | void>;

export interface ShutdownOptions {
  /** true (default): process what is queued, then stop. false: drop it and abort in-flight handlers. */
  drain?: boolean;
}

/** How a key is added. */
export interface AddOptions {
  /** Someone is waiting for this one (a new revision, a request): it goes before routine keys. */
  urgent?: boolean;
}

export interface WorkQueue {
  add(key: string, opts?: AddOptions): void;
  addAfter(key: string, delayMs: number): void;
  addRateLimited(key: string): void;
  /** Clears the key's failure count, so its next `addRateLimited` starts at the base delay. */
  forget(key: string): void;
  /** How many consecutive `addRateLimited` calls the key has had since it was last forgotten. */
  numRequeues(key: string): number;
  /**
   * Waits for the next key and marks it in flight. Resolves `undefined` once the queue is
   * shut down and (when draining) empty. Every key returned must be passed to `done`.
   */
  get(): Promise<string | undefined>;
  done(key: string): void;
  /** Starts `concurrency` workers that call `handler` for each key; resolves when they all exit. */
  run(handler: KeyHandler, concurrency: number, onError?: (key: string, err: unknown) => void): Promise<void>;
  shutdown(opts?: ShutdownOptions): Promise<void>;
  isShuttingDown(): boolean;
  /** Keys ready to be processed (not delayed, not in flight): the queue-depth metric. */
  depth(): number;
  /** Of those, the keys in the urgent lane. */
  urgentDepth(): number;
  /** Keys currently being processed. */
  inFlight(): number;
  /** Keys waiting on a timer (addAfter / addRateLimited). */
  delayed(): number;
}

/** Per-key exponential backoff: base, 2·base, 4·base, … capped at max. `failures` counts from 1. */
export function backoffDelay(failures: number, baseDelayMs: number, maxDelayMs: number): number {
  if (failures <= 0) return 0;
  // 2^failures overflows to Infinity long after it passed the cap, so Math.min is safe.
  return Math.min(maxDelayMs, baseDelayMs * 2 ** (failures - 1));
}

export function createWorkQueue(opts: WorkQueueOptions = {}): WorkQueue {
  const clock = opts.clock ?? systemQueueClock;
  const baseDelayMs = opts.baseDelayMs ?? 200;
  const maxDelayMs = opts.maxDelayMs ?? 5 * 60_000;
  const outageMaxDelayMs = Math.min(maxDelayMs, opts.outageMaxDelayMs ?? 10_000);

  // Keys ready to process, in order, per lane; `queued` mirrors both for O(1) membership.
  // Sets keep insertion order and delete in O(1), so a key moves lanes without a scan.
  const urgent = new Set<string>();
  const routine = new Set<string>();
  const queued = new Set<string>();
  const processing = new Set<string>();
  // Keys re-added while in flight: queued again on done(), `true` when the re-add was urgent.
  const parked = new Map<string, boolean>();
  const timers = new Map<string, { due: number; cancel: () => void }>();
  const failures = new Map<string, number>();
  const waiters: Array<(key: string | undefined) => void> = [];
  let shuttingDown = false;
  let dropQueued = false;
  const abortInFlight = new AbortController();
  const workers: Promise<void>[] = [];
  let resolveIdle: () => void = () => {};
  const idle = new Promise<void>((resolve) => (resolveIdle = resolve));

  const readyCount = () => urgent.size + routine.size;
  const clearReady = () => {
    urgent.clear();
    routine.clear();
    queued.clear();
  };
  /** The next key: urgent first, each lane in the order keys arrived. */
  const takeReady = (): string | undefined => {
    const lane = urgent.size > 0 ? urgent : routine;
    const key = lane.values().next().value;
    if (key === undefined) return undefined;
    lane.delete(key);
    queued.delete(key);
    return key;
  };

  const enqueue = (key: string, isUrgent: boolean) => {
    const waiter = waiters.shift();
    if (waiter) {
      processing.add(key);
      waiter(key);
      return;
    }
    queued.add(key);
    (isUrgent ? urgent : routine).add(key);
  };

  const add = (key: string, addOpts: AddOptions = {}) => {
    if (shuttingDown) return;
    const isUrgent = addOpts.urgent === true;
    if (queued.has(key)) {
      if (isUrgent && routine.delete(key)) urgent.add(key);
      return;
    }
    if (processing.has(key)) {
      parked.set(key, (parked.get(key) ?? false) || isUrgent);
      return;
    }
    enqueue(key, isUrgent);
  };

  const addAfter = (key: string, delayMs: number) => {
    if (shuttingDown) return;
    if (delayMs <= 0) {
      add(key);
      return;
    }
    const due = clock.now() + delayMs;
    const pending = timers.get(key);
    if (pending) {
      if (pending.due <= due) return;
      pending.cancel();
    }
    const cancel = clock.setTimer(() => {
      timers.delete(key);
      add(key);
    }, delayMs);
    timers.set(key, { due, cancel });
  };

  const finishIfIdle = () => {
    if (shuttingDown && processing.size === 0 && (readyCount() === 0 || dropQueued)) {
      for (const waiter of waiters.splice(0)) waiter(undefined);
      resolveIdle();
    }
  };

  const get = (): Promise<string | undefined> => {
    const key = takeReady();
    if (key !== undefined) {
      processing.add(key);
      return Promise.resolve(key);
    }
    if (shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => waiters.push(resolve));
  };

  const done = (key: string) => {
    if (!processing.delete(key)) return;
    // A key re-added while in flight runs again, even while draining: its newest state
    // arrived before shutdown and has not been handled yet.
    const wasParked = parked.get(key);
    if (wasParked !== undefined) {
      parked.delete(key);
      enqueue(key, wasParked);
    }
    finishIfIdle();
  };

  const addRateLimited = (key: string, ceilingMs = maxDelayMs) => {
    if (shuttingDown) return;
    const n = (failures.get(key) ?? 0) + 1;
    failures.set(key, n);
    addAfter(key, backoffDelay(n, baseDelayMs, ceilingMs));
  };

  const worker = async (handler: KeyHandler, onError?: (key: string, err: unknown) => void) => {
    for (;;) {
      const key = await get();
      if (key === undefined) return;
      try {
        const result = await handler(key, abortInFlight.signal);
        failures.delete(key);
        // This run saw the newest state and said when to look again: a timer an earlier run
        // asked for is obsolete (an idle Canary would otherwise be reconciled once more for nothing).
        timers.get(key)?.cancel();
        timers.delete(key);
        if (result?.requeueAfterMs !== undefined) addAfter(key, result.requeueAfterMs);
      } catch (err) {
        onError?.(key, err);
        if (isTerminal(err)) failures.delete(key);
        else addRateLimited(key, opts.isOutage?.(err) ? outageMaxDelayMs : maxDelayMs);
      } finally {
        done(key);
      }
    }
  };

  return {
    add,
    addAfter,
    addRateLimited,
    forget: (key) => void failures.delete(key),
    numRequeues: (key) => failures.get(key) ?? 0,
    get,
    done,
    run(handler, concurrency, onError) {
      if (!Number.isInteger(concurrency) || concurrency < 1) {
        throw new RangeError(`work queue concurrency must be a positive integer, got ${concurrency}`);
      }
      const started = Array.from({ length: concurrency }, () => worker(handler, onError));
      workers.push(...started);
      return Promise.all(started).then(() => undefined);
    },
    async shutdown(shutdownOpts = {}) {
      const drain = shutdownOpts.drain ?? true;
      if (!shuttingDown) {
        shuttingDown = true;
        for (const timer of timers.values()) timer.cancel();
        timers.clear();
        if (!drain) {
          dropQueued = true;
          parked.clear();
          clearReady();
          abortInFlight.abort(new Error("work queue shut down"));
        }
      }
      finishIfIdle();
      // Manual get()/done() users have no worker promise; the idle signal covers them.
      if (processing.size > 0 || (readyCount() > 0 && workers.length === 0)) await idle;
      await Promise.all(workers);
    },
    isShuttingDown: () => shuttingDown,
    depth: readyCount,
    urgentDepth: () => urgent.size,
    inFlight: () => processing.size,
    delayed: () => timers.size,
  };
}
