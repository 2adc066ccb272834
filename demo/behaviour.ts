/**
 * How the demo application behaves, chosen by its version alone, so a release is nothing
 * more than an image tag: `kubectl set image … storefront:3.0.0-bad` is all it takes to ship
 * a bad build. Pure and deterministic: the n-th request's answer is a function of n, so a
 * given version always produces the same error ratio and latency spread, and the analysis
 * the demo and the end-to-end tests see does not depend on luck.
 *
 * Versions (the pre-release part after `-` picks the fault):
 *   1.0.0, 2.0.0, …   healthy: every request 200, 20–120 ms
 *   x.y.z-slow        every request 200, 200–800 ms (a latency regression)
 *   x.y.z-errors      20% of requests 500, 20–120 ms (an error regression)
 *   x.y.z-bad         both: 20% 500 and 200–800 ms
 *   x.y.z-errors2     a subtle error regression: 2 more points of 500 (2%), 20–120 ms
 *
 * A shared incident (a failing dependency) hits every version alike: `duringIncident` adds
 * 5 points of 500 and doubles the latency. The app applies it while its incident file exists.
 */

export interface Behaviour {
  version: string;
  /** Fraction of requests answered with a 5xx, spread evenly over the request sequence. */
  errorRatio: number;
  /** Latency range of every request, in milliseconds. */
  latencyMs: { min: number; max: number };
}

export interface Response {
  status: number;
  delayMs: number;
}

const HEALTHY_LATENCY = { min: 20, max: 120 } as const;
const SLOW_LATENCY = { min: 200, max: 800 } as const;
const ERROR_RATIO = 0.2;
const SUBTLE_ERROR_POINTS = 0.02;
const INCIDENT_ERROR_POINTS = 0.05;

/** The behaviour of a version; any version without a known fault marker is healthy. */
export function behaviourFor(version: string): Behaviour {
  const faults = new Set((version.split("-").slice(1).join("-") || "").split(/[.-]/).filter(Boolean));
  const slow = faults.has("slow") || faults.has("bad");
  const errors = faults.has("errors") || faults.has("bad");
  const subtle = faults.has("errors2") ? SUBTLE_ERROR_POINTS : 0;
  return {
    version,
    errorRatio: (errors ? ERROR_RATIO : 0) + subtle,
    latencyMs: { ...(slow ? SLOW_LATENCY : HEALTHY_LATENCY) },
  };
}

/** The same version during a shared incident: 5 more points of 5xx, twice the latency. */
export function duringIncident(b: Behaviour): Behaviour {
  return {
    ...b,
    errorRatio: Math.min(1, b.errorRatio + INCIDENT_ERROR_POINTS),
    latencyMs: { min: b.latencyMs.min * 2, max: b.latencyMs.max * 2 },
  };
}

/** The version an image reference runs: its tag (`registry:5000/storefront:2.0.0` → `2.0.0`). */
export function versionOfImage(image: string): string {
  const withoutDigest = image.split("@")[0] ?? image;
  const lastSlash = withoutDigest.lastIndexOf("/");
  const colon = withoutDigest.lastIndexOf(":");
  return colon > lastSlash ? withoutDigest.slice(colon + 1) : "latest";
}

// The golden ratio's fractional part: successive multiples of it fill [0, 1) evenly, so
// every window of requests sees the whole latency range rather than a ramp.
const SPREAD = 0.6180339887498949;

/**
 * The answer to request number `n` (0-based). Errors fall where the running count of
 * `n * errorRatio` crosses an integer, which gives exactly the ratio over any long window
 * and never two errors in a row for ratios below one half.
 */
export function responseFor(b: Behaviour, n: number): Response {
  const isError = Math.floor((n + 1) * b.errorRatio) > Math.floor(n * b.errorRatio);
  const fraction = (n * SPREAD) % 1;
  const delayMs = Math.round(b.latencyMs.min + fraction * (b.latencyMs.max - b.latencyMs.min));
  return { status: isError ? 500 : 200, delayMs };
}
