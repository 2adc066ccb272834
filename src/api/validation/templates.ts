/** Validation of MetricTemplate and AlertProvider objects. */
import { ALERT_PROVIDER_TYPES, API_VERSION, KIND_ALERT_PROVIDER, KIND_METRIC_TEMPLATE, METRIC_PROVIDER_TYPES } from "../types.ts";
import { parseQueryTemplate, templateReferences, TemplateSyntaxError, UNCLOSED_ACTION } from "../query-template.ts";
import type { TemplateNode } from "../query-template.ts";
import { checkTypeMeta, Fields, isRecord, Problems } from "./problems.ts";
import type { ValidationProblem } from "./problems.ts";

/** The names a MetricTemplate query may use, besides `variables.<name>` (as src/metrics/template.ts fills them). */
export const TEMPLATE_VARIABLES = ["name", "namespace", "target", "service", "ingress", "interval"] as const;
/** What a MetricTemplate's `compare` queries may also use: they are rendered once per arm. */
export const COMPARE_TEMPLATE_VARIABLES = ["arm", "workload", "primary", "window", "windowEnd"] as const;
/** Go's built-in template functions that a query may call. */
const TEMPLATE_BUILTINS = ["printf", "print", "urlquery", "index", "len"] as const;

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;
const VARIABLE_REF = /^variables\.[A-Za-z_][A-Za-z0-9_-]*$/;

/** Providers that cannot authenticate without a Secret. */
const NEEDS_SECRET: readonly string[] = ["datadog", "newrelic", "dynatrace", "splunk", "stackdriver"];
/** Providers whose API address has no sensible default. */
const NEEDS_ADDRESS: readonly string[] = ["prometheus", "web", "graphite", "influxdb", "dynatrace", "splunk"];

/** The apiVersion served (api/groups.ts); default aviary.dev/v1beta1. */
export interface TemplateValidationOptions {
  apiVersion?: string;
}

function root(obj: unknown, kind: string, problems: Problems, apiVersion: string): Fields | undefined {
  if (!isRecord(obj)) {
    problems.error("", `must be ${/^[AEIOU]/.test(kind) ? "an" : "a"} ${kind} object`);
    return undefined;
  }
  const r = new Fields(problems, obj, "");
  checkTypeMeta(r, apiVersion, kind);
  return r.object("spec", { required: true });
}

export function validateMetricTemplate(obj: unknown, opts: TemplateValidationOptions = {}): ValidationProblem[] {
  const problems = new Problems();
  const spec = root(obj, KIND_METRIC_TEMPLATE, problems, opts.apiVersion ?? API_VERSION);
  if (spec === undefined) return problems.list;

  const provider = spec.object("provider", { required: true });
  const type = provider?.string("type", { required: true, oneOf: METRIC_PROVIDER_TYPES });
  if (provider !== undefined) {
    provider.url("address", { required: type !== undefined && NEEDS_ADDRESS.includes(type) });
    const secret = provider.object("secretRef", { required: type !== undefined && NEEDS_SECRET.includes(type) });
    secret?.string("name", { required: true });
    provider.boolean("insecureSkipVerify");
    provider.string("region", { nonEmpty: true });
    if (type !== undefined && type !== "cloudwatch" && provider.has("region")) {
      problems.warn(provider.at("region"), "is only used by provider cloudwatch");
    }
    checkHeaders(provider);
    provider.string("method", { oneOf: ["GET", "POST"] });
    provider.string("body");
    provider.duration("window", { positive: true });
    for (const [field, only] of [["method", "web"], ["body", "web"], ["window", "cloudwatch"]] as const) {
      if (type !== undefined && type !== only && provider.has(field)) problems.warn(provider.at(field), `is only used by provider ${only}`);
    }
    if (type === "web" && provider.value.method === "GET" && provider.has("body")) problems.error(provider.at("body"), "needs method POST");
  }

  const query = spec.string("query", { required: true });
  if (query !== undefined) checkQueryTemplate(spec, "query", query, type);
  const compare = spec.object("compare");
  if (compare !== undefined) {
    for (const key of ["bad", "total"] as const) {
      const q = compare.string(key, { required: true, nonEmpty: true });
      if (q !== undefined) checkQueryTemplate(compare, key, q, type, COMPARE_TEMPLATE_VARIABLES);
    }
  }
  return problems.list;
}

/** Flagger's shape: each header name maps to a list of values. */
function checkHeaders(provider: Fields): void {
  const headers = provider.object("headers");
  if (headers === undefined) return;
  for (const name of Object.keys(headers.value)) {
    if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)) headers.problems.error(headers.at(name), "is not a valid HTTP header name");
    headers.stringArray(name, { required: true });
  }
}

function checkQueryTemplate(spec: Fields, field: string, query: string, type: string | undefined, extra: readonly string[] = []): void {
  const at = spec.at(field);
  let nodes: TemplateNode[];
  try {
    nodes = parseQueryTemplate(query);
  } catch (err) {
    if (!(err instanceof TemplateSyntaxError)) throw err;
    spec.problems.error(at, err.message === UNCLOSED_ACTION ? err.message : `is not a valid template: ${err.message} (at character ${err.offset})`);
    return;
  }
  for (const name of templateReferences(nodes)) {
    if (!isTemplateName(name) && !extra.includes(name)) {
      spec.problems.error(at, `uses {{ ${name} }}, which is not a template variable (use ${[...TEMPLATE_VARIABLES, ...extra].join(", ")} or variables.<name>)`);
    }
  }
  if (type === "cloudwatch") {
    // The placeholders become plain text; a number keeps the JSON valid wherever they sit.
    try {
      const parsed: unknown = JSON.parse(query.replace(PLACEHOLDER, "0"));
      if (!Array.isArray(parsed) || parsed.length === 0) throw new Error("not a list");
    } catch {
      spec.problems.error(at, "must be a JSON list of CloudWatch MetricDataQueries for provider cloudwatch");
    }
  }
}

/** A name a query may use: a canary fact, a built-in function, `variables` or `variables.<name>`. */
function isTemplateName(name: string): boolean {
  if (name === "variables" || VARIABLE_REF.test(name)) return true;
  return ([...TEMPLATE_VARIABLES, ...TEMPLATE_BUILTINS] as readonly string[]).includes(name);
}

export function validateAlertProvider(obj: unknown, opts: TemplateValidationOptions = {}): ValidationProblem[] {
  const problems = new Problems();
  const spec = root(obj, KIND_ALERT_PROVIDER, problems, opts.apiVersion ?? API_VERSION);
  if (spec === undefined) return problems.list;

  spec.string("type", { required: true, oneOf: ALERT_PROVIDER_TYPES });
  spec.url("address");
  spec.url("proxy");
  spec.string("channel");
  spec.string("username");
  const secret = spec.object("secretRef");
  secret?.string("name", { required: true });
  if (!spec.has("address") && !spec.has("secretRef")) {
    problems.error(spec.at("address"), "is required unless secretRef names a Secret with an address key");
  }
  return problems.list;
}
