/**
 * Client-side rate limiting of requests to the API server: a token bucket, as client-go's
 * `--kube-api-qps` / `--kube-api-burst`. Up to `burst` requests go out at once; beyond that
 * each waits its turn, one every 1/qps seconds, in the order they asked. A burst (a thousand
 * Canaries created at once, a restart that reconciles everything) is spread out instead of
 * arriving at the API server all together, and nothing is refused or retried: a request
 * only waits.
 *
 * Waiting is a reservation: each request takes the next free slot when it asks, so the
 * order is first come, first served and no timer ever has to wake everyone. A request
 * whose caller gives up while waiting gives its slot back.
 */

export interface RateLimitOptions {
  /** Sustained requests per second. */
  qps: number;
  /** Requests that may go out at once after a quiet spell. */
  burst: number;
  now?: () => number;
  /** Calls `fn` after `ms`; the returned function cancels it. */
  setTimer?: (fn: () => void, ms: number) => () => void;
}

export interface RateLimiter {
  /**
   * Resolves with the milliseconds waited once the request may be sent; rejects with the
   * signal's reason when the caller gives up first.
   */
  acquire(signal?: AbortSignal): Promise<number>;
}

const systemTimer = (fn: () => void, ms: number) => {
  const timer = setTimeout(fn, ms);
  return () => clearTimeout(timer);
};

export function validateRateLimit(qps: number, burst: number): void {
  if (!(Number.isFinite(qps) && qps > 0)) throw new RangeError(`kube API qps must be a positive number, got ${qps}`);
  if (!(Number.isInteger(burst) && burst >= 1)) throw new RangeError(`kube API burst must be a positive integer, got ${burst}`);
}

export function createRateLimiter(opts: RateLimitOptions): RateLimiter {
  validateRateLimit(opts.qps, opts.burst);
  const now = opts.now ?? Date.now;
  const setTimer = opts.setTimer ?? systemTimer;
  const perTokenMs = 1000 / opts.qps;
  // Tokens at `updated`; negative while requests wait (each waiting request holds one).
  let tokens = opts.burst;
  let updated = now();

  const refill = () => {
    const t = now();
    tokens = Math.min(opts.burst, tokens + ((t - updated) / perTokenMs));
    updated = t;
  };

  return {
    acquire(signal) {
      if (signal?.aborted) return Promise.reject(signal.reason);
      refill();
      tokens -= 1;
      if (tokens >= 0) return Promise.resolve(0);
      const waitMs = Math.ceil(-tokens * perTokenMs);
      return new Promise<number>((resolve, reject) => {
        const onAbort = () => {
          cancel();
          tokens += 1; // the slot goes back to whoever asks next
          reject(signal!.reason);
        };
        const cancel = setTimer(() => {
          signal?.removeEventListener("abort", onAbort);
          resolve(waitMs);
        }, waitMs);
        signal?.addEventListener("abort", onAbort, { once: true });
      });
    },
  };
}
