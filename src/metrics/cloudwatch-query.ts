/**
 * A CloudWatch query as MetricTemplates write it: a JSON array of GetMetricData
 * `MetricDataQueries` in the AWS API's shape. Flagger's docs write the keys in PascalCase
 * (`MetricStat`, `ReturnData`), many users write camelCase (`metricStat`, `returnData`);
 * both are accepted, any unknown key is an error naming its path, and numeric strings are
 * accepted where the API wants a number (a template may render `"Period": "300"`).
 */
import type { MetricDataQuery } from "@aws-sdk/client-cloudwatch";
import { MetricConfigError } from "./types.ts";

type Shape = { [canonical: string]: "string" | "number" | "boolean" | Shape | [Shape] };

const DIMENSION: Shape = { Name: "string", Value: "string" };
const METRIC: Shape = { Namespace: "string", MetricName: "string", Dimensions: [DIMENSION] };
const METRIC_STAT: Shape = { Metric: METRIC, Period: "number", Stat: "string", Unit: "string" };
const METRIC_DATA_QUERY: Shape = {
  Id: "string",
  MetricStat: METRIC_STAT,
  Expression: "string",
  Label: "string",
  ReturnData: "boolean",
  Period: "number",
  AccountId: "string",
};

/** Parses and normalises a rendered CloudWatch query; throws MetricConfigError naming the problem. */
export function parseCloudWatchQuery(text: string): MetricDataQuery[] {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new MetricConfigError(`cloudwatch query is not valid JSON: ${(err as Error).message}`);
  }
  const list = Array.isArray(raw) ? raw : [raw];
  if (list.length === 0) throw new MetricConfigError("cloudwatch query is an empty array of MetricDataQueries");
  const queries = list.map((q, i) => normalize(q, METRIC_DATA_QUERY, `[${i}]`) as unknown as MetricDataQuery);
  const ids = new Set<string>();
  queries.forEach((q, i) => {
    if (typeof q.Id !== "string" || q.Id === "") throw new MetricConfigError(`cloudwatch query [${i}]: Id is required`);
    if (ids.has(q.Id)) throw new MetricConfigError(`cloudwatch query [${i}]: Id "${q.Id}" is used twice`);
    ids.add(q.Id);
    if ((q.MetricStat === undefined) === (q.Expression === undefined)) {
      throw new MetricConfigError(`cloudwatch query [${i}] ("${q.Id}"): set exactly one of MetricStat and Expression`);
    }
    if (q.MetricStat !== undefined) {
      const ms = q.MetricStat;
      if (ms.Metric?.MetricName === undefined || ms.Metric.Namespace === undefined) {
        throw new MetricConfigError(`cloudwatch query [${i}] ("${q.Id}"): MetricStat.Metric needs Namespace and MetricName`);
      }
      if (ms.Period === undefined || ms.Stat === undefined) {
        throw new MetricConfigError(`cloudwatch query [${i}] ("${q.Id}"): MetricStat needs Period and Stat`);
      }
    }
  });
  return queries;
}

/**
 * The Id of the query whose value is the metric: the only query, else the one query with
 * `ReturnData: true` (the API returns every query whose ReturnData is not false, and a
 * metric has one value).
 */
export function returnedQueryId(queries: readonly MetricDataQuery[]): string {
  if (queries.length === 1) return queries[0]?.Id ?? "";
  const explicit = queries.filter((q) => q.ReturnData === true);
  if (explicit.length === 1) return explicit[0]?.Id ?? "";
  const returning = queries.filter((q) => q.ReturnData !== false);
  if (explicit.length === 0 && returning.length === 1) return returning[0]?.Id ?? "";
  if (returning.length === 0) {
    throw new MetricConfigError(`cloudwatch query: every query has "ReturnData": false; set it true on the one that is the metric`);
  }
  const ids = (explicit.length > 0 ? explicit : returning).map((q) => q.Id).join(", ");
  throw new MetricConfigError(
    `cloudwatch query returns data for several queries (${ids}); set "ReturnData": false on all but the one that is the metric`,
  );
}

/** The largest Period in seconds any query asks for (0 when none does). */
export function largestPeriodSeconds(queries: readonly MetricDataQuery[]): number {
  let max = 0;
  for (const q of queries) max = Math.max(max, q.Period ?? 0, q.MetricStat?.Period ?? 0);
  return max;
}

function normalize(value: unknown, shape: Shape, path: string): Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new MetricConfigError(`cloudwatch query ${path}: expected an object`);
  }
  const byLowerCase = new Map(Object.keys(shape).map((k) => [k.toLowerCase(), k]));
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    const canonical = byLowerCase.get(key.toLowerCase());
    const childPath = `${path}.${key}`;
    if (canonical === undefined) {
      throw new MetricConfigError(
        `cloudwatch query ${childPath}: unknown key; expected one of ${Object.keys(shape).join(", ")}`,
      );
    }
    if (canonical in out) throw new MetricConfigError(`cloudwatch query ${childPath}: ${canonical} is given twice`);
    out[canonical] = normalizeValue(child, shape[canonical] as Shape[string], childPath);
  }
  return out;
}

function normalizeValue(value: unknown, kind: Shape[string], path: string): unknown {
  if (Array.isArray(kind)) {
    if (!Array.isArray(value)) throw new MetricConfigError(`cloudwatch query ${path}: expected an array`);
    return value.map((item, i) => normalize(item, kind[0], `${path}[${i}]`));
  }
  if (typeof kind === "object") return normalize(value, kind, path);
  if (kind === "number") {
    const n = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
    if (typeof n !== "number" || !Number.isFinite(n)) throw new MetricConfigError(`cloudwatch query ${path}: expected a number`);
    return n;
  }
  if (kind === "boolean") {
    if (value === "true" || value === "false") return value === "true";
    if (typeof value !== "boolean") throw new MetricConfigError(`cloudwatch query ${path}: expected true or false`);
    return value;
  }
  if (typeof value !== "string") throw new MetricConfigError(`cloudwatch query ${path}: expected a string`);
  return value;
}
