/**
 * Go-style durations as Flagger manifests write them: `500ms`, `30s`, `1m`, `1h30m`, `1.5m`.
 * A sequence of decimal numbers, each with a unit (ns, us, µs, ms, s, m, h); a bare `0` is
 * allowed, as in Go. Negative durations are rejected: no aviary field means "in the past".
 */

/** Nanoseconds per unit; arithmetic is exact in BigInt, as Go's is in int64. */
const UNIT_NS: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  "µs": 1_000n,
  "μs": 1_000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};
/** Go's limit: a duration is an int64 of nanoseconds (about 292 years). */
const MAX_NS = 2n ** 63n - 1n;

const COMPONENT = /(\d*)(?:\.(\d*))?(ns|us|µs|μs|ms|s|m|h)/y;

export type DurationResult = { ok: true; ms: number } | { ok: false; error: string };

/** A duration that does not parse; terminal (re-reading the same spec cannot fix it). */
export class InvalidDurationError extends Error {
  readonly input: unknown;
  readonly retryable = false;
  constructor(input: unknown, reason: string) {
    super(reason);
    this.name = "InvalidDurationError";
    this.input = input;
  }
}

/** Parses without throwing; `error` says what is wrong in words a user can act on. */
export function tryParseDuration(input: unknown): DurationResult {
  if (typeof input !== "string") {
    return { ok: false, error: `must be a duration string such as "30s" or "1m", got ${typeof input}` };
  }
  const text = input.trim();
  if (text === "") return { ok: false, error: 'must be a duration such as "30s" or "1m", got an empty string' };
  if (text === "0") return { ok: true, ms: 0 };
  if (text.startsWith("-")) return { ok: false, error: `must not be negative, got "${input}"` };
  const body = text.startsWith("+") ? text.slice(1) : text;
  let ns = 0n;
  COMPONENT.lastIndex = 0;
  while (COMPONENT.lastIndex < body.length) {
    const start = COMPONENT.lastIndex;
    const m = COMPONENT.exec(body);
    const whole = m?.[1] ?? "";
    const fraction = m?.[2] ?? "";
    if (m === null || (whole === "" && fraction === "")) {
      const rest = body.slice(start);
      const hint = /^\d+(\.\d*)?$/.test(rest) ? " (a unit is required: ms, s, m or h)" : "";
      return { ok: false, error: `must be a duration such as "30s", "1m" or "1h30m", got "${input}"${hint}` };
    }
    const unit = UNIT_NS[m[3]!]!;
    ns += BigInt(whole === "" ? "0" : whole) * unit;
    if (fraction !== "") ns += (BigInt(fraction) * unit) / 10n ** BigInt(fraction.length);
    if (ns > MAX_NS) return { ok: false, error: `is too large, got "${input}"` };
  }
  const ms = Number(ns) / 1e6;
  return { ok: true, ms };
}

/** Parses a duration to milliseconds; throws InvalidDurationError on anything else. */
export function parseDuration(input: unknown): number {
  const r = tryParseDuration(input);
  if (!r.ok) throw new InvalidDurationError(input, `invalid duration: ${r.error}`);
  return r.ms;
}

/**
 * Formats milliseconds the way people write them (`1h30m`, `45s`, `1m30.5s`, `250ms`), at
 * millisecond precision. `parseDuration(formatDuration(x)) === x` for whole milliseconds.
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`cannot format duration ${ms}`);
  let rest = Math.round(ms);
  if (rest === 0) return "0s";
  if (rest < 1000) return `${rest}ms`;
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  let out = "";
  if (hours > 0) out += `${hours}h`;
  if (minutes > 0) out += `${minutes}m`;
  if (rest > 0) {
    const seconds = Math.floor(rest / 1000);
    const millis = rest % 1000;
    out += millis === 0 ? `${seconds}s` : `${seconds}.${String(millis).padStart(3, "0").replace(/0+$/, "")}s`;
  }
  return out;
}
