/**
 * One Argo metric provider → a MetricTemplate spec (provider and query) and the spellings
 * of "the measured value" its conditions may use. prometheus, cloudWatch, datadog,
 * newRelic and web have aviary counterparts; job and the rest are reported.
 */
import { tryParseDuration } from "../api/duration.ts";
import type { MetricProviderSpec } from "../metrics/types.ts";
import { defaultLookbackMs } from "../metrics/types.ts";
import type { Args, Substitution } from "./args.ts";
import { argsToValues, argsToVariables } from "./args.ts";
import type { ValueForm } from "./conditions.ts";
import type { Obj } from "./fields.ts";
import { child, isObj, list, num, obj, str } from "./fields.ts";
import type { ConvertedMetricTemplateSpec } from "./model.ts";
import type { Report } from "./report.ts";

export interface ProviderContext {
  report: Report;
  /** `AnalysisTemplate/success-rate`. */
  source: string;
  awsRegion?: string | undefined;
  /** The metric's interval in ms, from which aviary derives default look-back windows. */
  intervalMs?: number | undefined;
}

export interface ProviderConversion {
  spec: ConvertedMetricTemplateSpec;
  variables: Record<string, string>;
  valueForm: ValueForm;
}

const NOT_CONVERTED = "; the metric is not converted";

/** Argo's providers aviary has no counterpart for, and what to use instead. */
const UNSUPPORTED: Record<string, string> = {
  job: "aviary does not run Jobs as checks; run the Job from a webhook (pre-rollout before the first step, post-rollout after promotion, rollout at every check) that reports its result",
  kayenta: "aviary has no Kayenta provider",
  wavefront: "aviary has no Wavefront provider",
  graphite: "aviary has no Graphite provider",
  influxdb: "aviary has no InfluxDB provider",
  skywalking: "aviary has no SkyWalking provider",
  plugin: "aviary has no metric plugins",
};

export const KNOWN_PROVIDERS = ["prometheus", "cloudWatch", "datadog", "newRelic", "web", ...Object.keys(UNSUPPORTED)];

const isPlainValue: ValueForm = (a) => a === "result" || a === "result[0]";

/** Converts `provider` (at `at`); reports and returns undefined when it cannot be carried over. */
export function convertProvider(provider: Obj, at: string, args: Args, ctx: ProviderContext): ProviderConversion | undefined {
  const kinds = Object.keys(provider).filter((k) => provider[k] !== undefined && provider[k] !== null);
  if (kinds.length !== 1) {
    ctx.report.lossy(ctx.source, at, `must name exactly one provider, found ${kinds.length === 0 ? "none" : kinds.join(", ")}${NOT_CONVERTED}`);
    return undefined;
  }
  const kind = kinds[0]!;
  const body = obj(provider[kind]) ?? {};
  const field = child(at, kind);
  if (UNSUPPORTED[kind] !== undefined) {
    ctx.report.lossy(ctx.source, field, `${UNSUPPORTED[kind]}${NOT_CONVERTED}`);
    return undefined;
  }
  const fail = (sub: string, message: string): undefined => {
    ctx.report.lossy(ctx.source, sub, `${message}${NOT_CONVERTED}`);
    return undefined;
  };
  /** A field aviary does not template: `{{args.x}}` written in now. */
  const literal = (text: string, sub: string): string | undefined => checked(argsToValues(text, args), sub, fail);
  switch (kind) {
    case "prometheus":
      return prometheus(body, field, args, ctx, fail, literal);
    case "cloudWatch":
      return cloudWatch(body, field, args, ctx, fail);
    case "datadog":
      return datadog(body, field, args, fail, ctx.intervalMs);
    case "newRelic":
      return newRelic(body, field, args, ctx, fail);
    case "web":
      return web(body, field, args, ctx, fail, literal);
    default:
      return fail(field, `"${kind}" is not an Argo Rollouts metric provider aviary knows`);
  }
}

type Fail = (at: string, message: string) => undefined;
type Literal = (text: string, at: string) => string | undefined;

function checked(s: Substitution, at: string, fail: Fail): string | undefined {
  return s.ok ? s.text : fail(at, s.problems.join("; "));
}

function query(text: string | undefined, at: string, args: Args, fail: Fail): { text: string; variables: Record<string, string> } | undefined {
  if (text === undefined) return fail(at, "is missing");
  const s = argsToVariables(text, args);
  return s.ok ? { text: s.text, variables: s.variables } : fail(at, s.problems.join("; "));
}

function headersOf(raw: unknown, at: string, literal: Literal): Record<string, string> | undefined | false {
  const entries = list(raw);
  if (entries.length === 0) return undefined;
  const headers: Record<string, string> = {};
  for (const [i, h] of entries.entries()) {
    const key = str(obj(h)?.key);
    const value = literal(String(obj(h)?.value ?? ""), child(child(at, i), "value"));
    if (key === undefined || value === undefined) return false;
    headers[key] = value;
  }
  return headers;
}

function prometheus(body: Obj, at: string, args: Args, ctx: ProviderContext, fail: Fail, literal: Literal): ProviderConversion | undefined {
  const address = literal(str(body.address) ?? "", child(at, "address"));
  if (address === undefined) return undefined;
  if (address === "") return fail(child(at, "address"), "is empty; aviary's MetricTemplate needs the Prometheus address");
  if (obj(body.authentication) !== undefined && Object.keys(obj(body.authentication)!).length > 0) {
    return fail(child(at, "authentication"), "SigV4/OAuth signing is not supported by aviary's prometheus provider (it uses bearer or basic auth from spec.provider.secretRef)");
  }
  const q = query(str(body.query), child(at, "query"), args, fail);
  if (q === undefined) return undefined;
  const headers = headersOf(body.headers, child(at, "headers"), literal);
  if (headers === false) return undefined;
  const provider: MetricProviderSpec = { type: "prometheus", address };
  if (body.insecure === true) provider.insecureSkipVerify = true;
  if (headers !== undefined) provider.headers = headers;
  if (body.timeout !== undefined) ctx.report.changed(ctx.source, child(at, "timeout"), "aviary gives every metric query its own timeout of 15s in place of this one");
  return { spec: { provider, query: q.text }, variables: q.variables, valueForm: isPlainValue };
}

/** Argo's CloudWatch result is GetMetricData's list of results; aviary's value is the newest point of the one returned query. */
const isNewestCloudWatchValue: ValueForm = (a) => a === "result[0].Values[0]";

function cloudWatch(body: Obj, at: string, args: Args, ctx: ProviderContext, fail: Fail): ProviderConversion | undefined {
  const raw = body.metricDataQueries;
  const queriesAt = child(at, "metricDataQueries");
  let text: string;
  let returning: number;
  if (typeof raw === "string") {
    text = raw.trim();
    try {
      const parsed: unknown = JSON.parse(text.replace(/\{\{[^}]*\}\}/g, "x"));
      returning = list(parsed).filter((q) => isObj(q) && q.ReturnData !== false && q.returnData !== false).length;
    } catch {
      return fail(queriesAt, "is not a JSON list of MetricDataQueries");
    }
  } else if (Array.isArray(raw) && raw.length > 0) {
    text = JSON.stringify(raw, null, 2);
    returning = raw.filter((q) => isObj(q) && q.returnData !== false && q.ReturnData !== false).length;
  } else {
    return fail(queriesAt, "is missing");
  }
  if (returning !== 1) {
    return fail(queriesAt, `${returning} queries return data; aviary's value is one query's newest data point: set returnData: false on all but one`);
  }
  const q = query(text, queriesAt, args, fail);
  if (q === undefined) return undefined;
  // Argo looks back `interval` (default 5m) from now. aviary's own default look-back is the
  // longest of 5m, the metric's interval and two periods; the window is written only where
  // it differs, so the same data is read either way.
  const provider: MetricProviderSpec = { type: "cloudwatch" };
  const argoWindow = str(body.interval) ?? "5m";
  const argoMs = tryParseDuration(argoWindow);
  if (!argoMs.ok) return fail(child(at, "interval"), `"${argoWindow}" is not a duration`);
  const periods = typeof raw === "string" ? [] : list(raw).flatMap((q) => [num(obj(q)?.period), num(obj(obj(q)?.metricStat)?.period)]);
  const aviaryDefault = Math.max(defaultLookbackMs(ctx.intervalMs), 2 * 1000 * Math.max(0, ...periods.filter((p) => p !== undefined)));
  if (argoMs.ms !== aviaryDefault) provider.window = argoWindow;
  if (ctx.awsRegion !== undefined) provider.region = ctx.awsRegion;
  else ctx.report.action(ctx.source, "", "Argo took the AWS region of its CloudWatch metrics from its controller's environment: set spec.provider.region on the MetricTemplates (or pass --aws-region), or AWS_REGION in aviary's environment");
  return { spec: { provider, query: q.text }, variables: q.variables, valueForm: isNewestCloudWatchValue };
}

function datadog(body: Obj, at: string, args: Args, fail: Fail, intervalMs: number | undefined): ProviderConversion | undefined {
  if (body.queries !== undefined || body.formula !== undefined) {
    return fail(child(at, body.queries !== undefined ? "queries" : "formula"), "Datadog v2 formulas over several queries are not supported; aviary's datadog provider runs one metrics query");
  }
  const q = query(str(body.query), child(at, "query"), args, fail);
  if (q === undefined) return undefined;
  const provider: MetricProviderSpec = { type: "datadog", secretRef: { name: "datadog" } };
  const argoWindow = str(body.interval) ?? "5m";
  const argoMs = tryParseDuration(argoWindow);
  if (!argoMs.ok) return fail(child(at, "interval"), `"${argoWindow}" is not a duration`);
  if (argoMs.ms !== defaultLookbackMs(intervalMs)) provider.window = argoWindow;
  return { spec: { provider, query: q.text }, variables: q.variables, valueForm: (a) => a === "result" };
}

function newRelic(body: Obj, at: string, args: Args, ctx: ProviderContext, fail: Fail): ProviderConversion | undefined {
  const q = query(str(body.query), child(at, "query"), args, fail);
  if (q === undefined) return undefined;
  const secret = str(body.profile) ?? "newrelic";
  ctx.report.action(ctx.source, at, `create Secret ${secret} with newrelic_account_id and newrelic_query_key in the Canary's namespace (Argo read its profile from the controller's namespace)`);
  ctx.report.changed(ctx.source, child(at, "query"), "aviary reads the single numeric field of the single result row: the NRQL must select only the field the condition compares");
  const provider: MetricProviderSpec = { type: "newrelic", secretRef: { name: secret } };
  return { spec: { provider, query: q.text }, variables: q.variables, valueForm: (a) => /^result\.[^.[\]]+$/.test(a) };
}

function web(body: Obj, at: string, args: Args, ctx: ProviderContext, fail: Fail, literal: Literal): ProviderConversion | undefined {
  const url = literal(str(body.url) ?? "", child(at, "url"));
  if (url === undefined) return undefined;
  if (url === "") return fail(child(at, "url"), "is missing");
  const method = (str(body.method) ?? "GET").toUpperCase();
  if (method !== "GET" && method !== "POST") return fail(child(at, "method"), `${method} is not supported; aviary's web provider sends GET or POST`);
  const jsonPath = str(body.jsonPath);
  if (jsonPath === undefined) return fail(child(at, "jsonPath"), "is missing; aviary's web provider needs a JSONPath that selects one number");
  const q = query(jsonPath.replace(/^\{(.*)\}$/s, "$1"), child(at, "jsonPath"), args, fail);
  if (q === undefined) return undefined;
  const headers = headersOf(body.headers, child(at, "headers"), literal);
  if (headers === false) return undefined;
  const provider: MetricProviderSpec = { type: "web", address: url };
  if (method === "POST") provider.method = "POST";
  if (headers !== undefined) provider.headers = headers;
  const bodyText = str(body.body) ?? (body.jsonBody !== undefined ? JSON.stringify(body.jsonBody) : undefined);
  if (bodyText !== undefined) {
    const b = literal(bodyText, child(at, body.body !== undefined ? "body" : "jsonBody"));
    if (b === undefined) return undefined;
    provider.body = b;
  }
  if (body.insecure === true) provider.insecureSkipVerify = true;
  if (body.timeoutSeconds !== undefined) ctx.report.changed(ctx.source, child(at, "timeoutSeconds"), "aviary gives every metric query its own timeout of 15s in place of this one");
  return { spec: { provider, query: q.text }, variables: q.variables, valueForm: (a) => a === "result" || a === "asFloat(result)" };
}
