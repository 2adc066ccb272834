/**
 * Time as a run sees it: when to start the next request. The real clock sleeps; the virtual
 * clock (tests, benchmarks) jumps straight to the time asked for, so a one-minute schedule
 * runs as fast as the target answers while every count stays what the schedule says.
 */
export interface Clock {
  /** Milliseconds on this clock's own scale. */
  now(): number;
  /** Resolves at `time` (at once when it has passed) or when `signal` aborts, whichever is first. */
  sleepUntil(time: number, signal: AbortSignal): Promise<void>;
}

export const realClock: Clock = {
  now: () => performance.now(),
  sleepUntil(time, signal) {
    const wait = time - performance.now();
    if (wait <= 0 || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, wait);
      signal.addEventListener("abort", done, { once: true });
    });
  },
};

/** A clock whose time moves only when someone sleeps past it. */
export function virtualClock(start = 0): Clock {
  let current = start;
  return {
    now: () => current,
    async sleepUntil(time) {
      if (time > current) current = time;
      // Yield, so workers sharing the clock interleave as they would in real time.
      await new Promise<void>((resolve) => setImmediate(resolve));
    },
  };
}
