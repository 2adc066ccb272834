/**
 * Checks a metric's `compare` object, for the API layer to call. Every problem names the
 * field (under the path it is given, e.g. `spec.analysis.metrics[0].compare`) and the
 * rule; nothing here throws, whatever the input.
 */
import type { CompareSpec } from "./types.ts";
import { DEFAULT_COMPARE } from "./types.ts";

/** Same shape as the API's validation problems, so they can be merged into one list. */
export interface CompareProblem {
  path: string;
  rule: string;
  severity: "error" | "warning";
}

export const MIN_CONFIDENCE = 0.5;
export const MAX_CONFIDENCE = 0.9999;
const KNOWN_FIELDS = ["tolerance", "confidence", "minRequests"];

/** The problems of `value` as a `compare` object at `path`; empty when it is valid. */
export function validateCompareSpec(value: unknown, path: string): CompareProblem[] {
  return parseCompareSpec(value, path).problems;
}

/** The spec with defaults filled in when there are no errors, and every problem found. */
export function parseCompareSpec(value: unknown, path: string): { spec?: CompareSpec; problems: CompareProblem[] } {
  const problems: CompareProblem[] = [];
  const error = (field: string, rule: string) => problems.push({ path: `${path}.${field}`, rule, severity: "error" });
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { problems: [{ path, rule: "must be an object", severity: "error" }] };
  }
  const obj = value as Record<string, unknown>;
  const spec: CompareSpec = { ...DEFAULT_COMPARE };

  const tolerance = obj.tolerance;
  if (tolerance !== undefined && tolerance !== null) {
    if (typeof tolerance !== "number" || !Number.isFinite(tolerance) || tolerance < 1) error("tolerance", "must be a number ≥ 1");
    else if (tolerance > 100) error("tolerance", "must be at most 100");
    else spec.tolerance = tolerance;
  }
  const confidence = obj.confidence;
  if (confidence !== undefined && confidence !== null) {
    if (typeof confidence !== "number" || !Number.isFinite(confidence) || confidence < MIN_CONFIDENCE || confidence > MAX_CONFIDENCE) {
      error("confidence", `must be a number between ${MIN_CONFIDENCE} and ${MAX_CONFIDENCE}`);
    } else spec.confidence = confidence;
  }
  const minRequests = obj.minRequests;
  if (minRequests !== undefined && minRequests !== null) {
    if (typeof minRequests !== "number" || !Number.isInteger(minRequests) || minRequests < 0) error("minRequests", "must be an integer ≥ 0");
    else spec.minRequests = minRequests;
  }
  for (const key of Object.keys(obj)) {
    if (!KNOWN_FIELDS.includes(key)) problems.push({ path: `${path}.${key}`, rule: `is not a field of compare (${KNOWN_FIELDS.join(", ")})`, severity: "warning" });
  }
  return problems.some((p) => p.severity === "error") ? { problems } : { spec, problems };
}
