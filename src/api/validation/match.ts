/**
 * HTTP match conditions (Istio's HTTPMatchRequest shape, which Flagger uses for every
 * router): `service.match` scopes the generated route, `analysis.match` selects A/B traffic.
 */
import type { RouterProvider } from "../types.ts";
import { isRecord } from "./problems.ts";
import type { Fields } from "./problems.ts";

const STRING_MATCH_KINDS = ["exact", "prefix", "suffix", "regex"] as const;
const STRING_MATCH_FIELDS = ["uri", "scheme", "method", "authority"] as const;
const STRING_MATCH_MAPS = ["headers", "queryParams", "withoutHeaders"] as const;

/** nginx's canary annotations can only express header (and cookie) matches, exact or regex. */
const NGINX_MATCH_KINDS: readonly string[] = ["exact", "regex"];

function checkRegex(f: Fields, key: string): void {
  const source = f.value[key];
  if (typeof source !== "string") return;
  try {
    new RegExp(source);
  } catch (err) {
    f.problems.error(f.at(key), `must be a valid regular expression (${(err as Error).message})`);
  }
}

/** One StringMatch: exactly one of exact, prefix, suffix, regex, each a string. */
function checkStringMatch(parent: Fields, key: string, router: RouterProvider | undefined): void {
  const m = parent.object(key);
  if (m === undefined) return;
  const set = STRING_MATCH_KINDS.filter((k) => m.has(k));
  if (set.length !== 1) {
    m.problems.error(m.path, `must set exactly one of ${STRING_MATCH_KINDS.join(", ")}`);
  }
  for (const k of set) m.string(k);
  if (set.includes("regex")) checkRegex(m, "regex");
  if (router === "nginx") {
    for (const k of set) {
      if (!NGINX_MATCH_KINDS.includes(k)) m.problems.error(m.at(k), "is not supported by provider nginx (use exact or regex)");
    }
  }
}

function checkStringMatchMap(entry: Fields, key: string, router: RouterProvider | undefined): void {
  const map = entry.object(key);
  if (map === undefined) return;
  for (const name of Object.keys(map.value)) {
    if (name === "") map.problems.error(map.path, "must not have an empty key");
    checkStringMatch(map, name, router);
  }
}

export interface MatchOptions {
  /** The router that must express these matches (nginx can express fewer). */
  router: RouterProvider | undefined;
  /** A/B matches: an empty entry would match every request and send all traffic to the canary. */
  requireCondition: boolean;
}

export function checkMatchList(parent: Fields, key: string, opts: MatchOptions): void {
  const entries = parent.objects(key);
  if (entries === undefined) return;
  for (const entry of entries) {
    const nginxOnlyHeaders = opts.router === "nginx" && opts.requireCondition;
    for (const field of STRING_MATCH_FIELDS) {
      if (nginxOnlyHeaders && entry.has(field)) {
        entry.problems.error(entry.at(field), "is not supported by provider nginx (A/B matches use headers or headers.cookie)");
        continue;
      }
      checkStringMatch(entry, field, undefined);
    }
    for (const field of STRING_MATCH_MAPS) {
      if (nginxOnlyHeaders && field !== "headers" && entry.has(field)) {
        entry.problems.error(entry.at(field), "is not supported by provider nginx (A/B matches use headers or headers.cookie)");
        continue;
      }
      checkStringMatchMap(entry, field, nginxOnlyHeaders ? "nginx" : undefined);
    }
    entry.string("name");
    entry.integer("port", { min: 1, max: 65535 });
    entry.stringMap("sourceLabels");
    entry.string("sourceNamespace");
    entry.stringArray("gateways");
    entry.boolean("ignoreUriCase");
    if (opts.requireCondition && !hasCondition(entry.value)) {
      entry.problems.error(entry.path, "must have at least one condition (an empty match sends every request to the canary)");
    }
  }
}

function hasCondition(entry: Record<string, unknown>): boolean {
  return [...STRING_MATCH_FIELDS, ...STRING_MATCH_MAPS, "port", "sourceLabels", "sourceNamespace", "gateways"].some((k) => {
    const v = entry[k];
    if (v === undefined || v === null) return false;
    if (isRecord(v)) return Object.keys(v).length > 0;
    if (Array.isArray(v)) return v.length > 0;
    return true;
  });
}
