/**
 * Building blocks for validation that must survive any input: every reader checks the
 * type before it looks inside, reports a problem with the field's path and rule, and
 * returns `undefined` instead of throwing, so one pass collects every problem.
 */
import { tryParseDuration } from "../duration.ts";

export type Severity = "error" | "warning";

export interface ValidationProblem {
  /** Dotted path with array indexes, e.g. `spec.analysis.metrics[0].thresholdRange.min`. */
  path: string;
  /** What the value must be, e.g. `must be between 1 and 100`. */
  rule: string;
  severity: Severity;
}

/** Collects problems in the order they were found. */
export class Problems {
  readonly list: ValidationProblem[] = [];
  error(path: string, rule: string): void {
    this.list.push({ path, rule, severity: "error" });
  }
  warn(path: string, rule: string): void {
    this.list.push({ path, rule, severity: "warning" });
  }
}

export type Json = Record<string, unknown>;

/** A JSON object (not null, not an array). */
export function isRecord(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function joinPath(base: string, key: string | number): string {
  if (typeof key === "number") return `${base}[${key}]`;
  return base === "" ? key : `${base}.${key}`;
}

export function oneOfRule(values: readonly string[]): string {
  return `must be one of: ${values.join(", ")}`;
}

export function rangeRule(min: number | undefined, max: number | undefined): string {
  if (min !== undefined && max !== undefined) return `must be between ${min} and ${max}`;
  if (min !== undefined) return `must be at least ${min}`;
  return `must be at most ${max}`;
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

export const isDnsSubdomain = (s: string): boolean => s.length <= 253 && DNS_SUBDOMAIN.test(s);
/** RFC 1035 label: what a Service name must be. */
export const isDnsLabel = (s: string, maxLength = 63): boolean => s.length <= maxLength && DNS_LABEL.test(s);

export function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return (u.protocol === "http:" || u.protocol === "https:") && u.hostname !== "";
  } catch {
    return false;
  }
}

interface Presence {
  required?: boolean;
}

/**
 * Typed reads of one object's fields. Each method reports what is wrong with the field
 * and returns the value only when it has the right type.
 */
export class Fields {
  readonly problems: Problems;
  readonly value: Json;
  readonly path: string;

  constructor(problems: Problems, value: Json, path: string) {
    this.problems = problems;
    this.value = value;
    this.path = path;
  }

  at(key: string | number): string {
    return joinPath(this.path, key);
  }

  has(key: string): boolean {
    return this.value[key] !== undefined && this.value[key] !== null;
  }

  /** Reads a field that must be present; null counts as absent. */
  private present(key: string, opts: Presence): unknown {
    const v = this.value[key];
    if (v === undefined || v === null) {
      if (opts.required) this.problems.error(this.at(key), "is required");
      return undefined;
    }
    return v;
  }

  string(key: string, opts: Presence & { nonEmpty?: boolean; oneOf?: readonly string[] } = {}): string | undefined {
    const v = this.present(key, opts);
    if (v === undefined) return undefined;
    if (typeof v !== "string") {
      this.problems.error(this.at(key), "must be a string");
      return undefined;
    }
    if ((opts.nonEmpty || opts.required) && v === "") {
      this.problems.error(this.at(key), "must not be empty");
      return undefined;
    }
    if (opts.oneOf !== undefined && !opts.oneOf.includes(v)) {
      this.problems.error(this.at(key), oneOfRule(opts.oneOf));
      return undefined;
    }
    return v;
  }

  integer(key: string, opts: Presence & { min?: number; max?: number } = {}): number | undefined {
    const v = this.present(key, opts);
    if (v === undefined) return undefined;
    if (typeof v !== "number" || !Number.isInteger(v)) {
      this.problems.error(this.at(key), "must be an integer");
      return undefined;
    }
    if ((opts.min !== undefined && v < opts.min) || (opts.max !== undefined && v > opts.max)) {
      this.problems.error(this.at(key), rangeRule(opts.min, opts.max));
      return undefined;
    }
    return v;
  }

  number(key: string, opts: Presence = {}): number | undefined {
    const v = this.present(key, opts);
    if (v === undefined) return undefined;
    if (typeof v !== "number" || !Number.isFinite(v)) {
      this.problems.error(this.at(key), "must be a number");
      return undefined;
    }
    return v;
  }

  boolean(key: string, opts: Presence = {}): boolean | undefined {
    const v = this.present(key, opts);
    if (v === undefined) return undefined;
    if (typeof v !== "boolean") {
      this.problems.error(this.at(key), "must be true or false");
      return undefined;
    }
    return v;
  }

  object(key: string, opts: Presence = {}): Fields | undefined {
    const v = this.present(key, opts);
    if (v === undefined) return undefined;
    if (!isRecord(v)) {
      this.problems.error(this.at(key), "must be an object");
      return undefined;
    }
    return new Fields(this.problems, v, this.at(key));
  }

  array(key: string, opts: Presence = {}): unknown[] | undefined {
    const v = this.present(key, opts);
    if (v === undefined) return undefined;
    if (!Array.isArray(v)) {
      this.problems.error(this.at(key), "must be a list");
      return undefined;
    }
    return v;
  }

  /** A list of objects; each element that is not an object is reported and skipped. */
  objects(key: string, opts: Presence = {}): Fields[] | undefined {
    const list = this.array(key, opts);
    if (list === undefined) return undefined;
    const out: Fields[] = [];
    list.forEach((item, i) => {
      const path = joinPath(this.at(key), i);
      if (isRecord(item)) out.push(new Fields(this.problems, item, path));
      else this.problems.error(path, "must be an object");
    });
    return out;
  }

  stringArray(key: string, opts: Presence = {}): string[] | undefined {
    const list = this.array(key, opts);
    if (list === undefined) return undefined;
    let ok = true;
    list.forEach((item, i) => {
      if (typeof item !== "string") {
        this.problems.error(joinPath(this.at(key), i), "must be a string");
        ok = false;
      }
    });
    return ok ? (list as string[]) : undefined;
  }

  /** A map of string to string (labels, annotations, metadata, template variables). */
  stringMap(key: string, opts: Presence = {}): Record<string, string> | undefined {
    const map = this.object(key, opts);
    if (map === undefined) return undefined;
    let ok = true;
    for (const [k, v] of Object.entries(map.value)) {
      if (typeof v !== "string") {
        this.problems.error(map.at(k), "must be a string");
        ok = false;
      }
    }
    return ok ? (map.value as Record<string, string>) : undefined;
  }

  /** A Go-style duration; returns milliseconds. */
  duration(key: string, opts: Presence & { positive?: boolean } = {}): number | undefined {
    const v = this.present(key, opts);
    if (v === undefined) return undefined;
    const parsed = tryParseDuration(v);
    if (!parsed.ok) {
      this.problems.error(this.at(key), parsed.error);
      return undefined;
    }
    if (opts.positive && parsed.ms <= 0) {
      this.problems.error(this.at(key), "must be greater than zero");
      return undefined;
    }
    return parsed.ms;
  }

  /** An http(s) URL. */
  url(key: string, opts: Presence = {}): string | undefined {
    const v = this.string(key, { ...opts, nonEmpty: true });
    if (v === undefined) return undefined;
    if (!isHttpUrl(v)) {
      this.problems.error(this.at(key), "must be an http or https URL");
      return undefined;
    }
    return v;
  }
}

/** Checks `apiVersion` and `kind` when present (objects from list calls may omit them). */
export function checkTypeMeta(root: Fields, apiVersion: string, kind: string): void {
  const av = root.value.apiVersion;
  if (av !== undefined && av !== apiVersion) root.problems.error("apiVersion", `must be ${apiVersion}`);
  const k = root.value.kind;
  if (k !== undefined && k !== kind) root.problems.error("kind", `must be ${kind}`);
}
