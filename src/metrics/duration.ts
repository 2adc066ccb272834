/**
 * Go-style durations as Flagger manifests write them (`30s`, `1m`, `1m30s`, `500ms`, `1h`).
 * Metric intervals are also pasted into PromQL range selectors, which accept the same units.
 */
import { MetricConfigError } from "./types.ts";

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds of a duration string; throws naming the text when it is not one. */
export function parseDurationMs(text: string): number {
  const trimmed = text.trim();
  if (trimmed === "") throw new Error(`invalid duration "${text}": empty`);
  const part = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/y;
  let total = 0;
  let pos = 0;
  while (pos < trimmed.length) {
    part.lastIndex = pos;
    const m = part.exec(trimmed);
    if (m === null) throw new Error(`invalid duration "${text}": expected e.g. 30s, 1m, 1m30s`);
    total += Number(m[1]) * (UNIT_MS[m[2] ?? ""] ?? 0);
    pos = part.lastIndex;
  }
  return total;
}

/** `spec.provider.window` in ms; a MetricConfigError naming the field when it is not a duration. */
export function parseWindowMs(text: string, provider: string): number {
  try {
    return parseDurationMs(text);
  } catch (err) {
    throw new MetricConfigError(`${provider} spec.provider.window: ${(err as Error).message}`);
  }
}
