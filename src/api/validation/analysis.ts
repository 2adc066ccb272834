/**
 * `spec.analysis`: the strategy (weights, iterations, match), its checks (metrics,
 * webhooks) and alerts. Rules the schema cannot express live here: cross-field
 * consistency, what the chosen router can do, templates versus builtins.
 */
import { isSupportedBy, ROUTER_FEATURE_LABELS, routersSupporting } from "../features.ts";
import type { RouterFeature } from "../features.ts";
import { ALERT_SEVERITIES, BUILTIN_METRICS, ON_NO_DATA_POLICIES, WEBHOOK_TYPES } from "../types.ts";
import type { RouterProvider } from "../types.ts";
import { checkMatchList } from "./match.ts";
import { validateCompareSpec } from "../../judge/validate.ts";
import { checkMetricSchedule, checkSteps } from "./schedule.ts";
import type { Fields } from "./problems.ts";

export interface AnalysisContext {
  /** The resolved router; undefined when spec.provider is unknown (already reported). */
  router: RouterProvider | undefined;
  skipAnalysis: boolean;
}

/** Reports `field` when the router cannot do `feature`; true when it is supported or unknown. */
function requireFeature(a: Fields, field: string, feature: RouterFeature, router: RouterProvider | undefined, hint = ""): boolean {
  if (router === undefined || isSupportedBy(router, feature)) return true;
  const supporting = routersSupporting(feature).join(", ");
  a.problems.error(a.at(field), `is not supported by provider ${router}: ${ROUTER_FEATURE_LABELS[feature]} needs one of ${supporting}${hint}`);
  return false;
}

export function checkAnalysis(a: Fields, ctx: AnalysisContext): void {
  a.duration("interval", { positive: true });
  a.integer("threshold", { min: 1 });
  const maxWeight = a.integer("maxWeight", { min: 0, max: 100 });
  const stepWeight = a.integer("stepWeight", { min: 1, max: 100 });
  const stepWeights = checkStepWeights(a);
  const stepCount = checkSteps(a);
  a.integer("stepWeightPromotion", { min: 0, max: 100 });
  a.integer("iterations", { min: 1 });
  const mirror = a.boolean("mirror");
  a.integer("mirrorWeight", { min: 0, max: 100 });
  a.integer("primaryReadyThreshold", { min: 0, max: 100 });
  a.integer("canaryReadyThreshold", { min: 0, max: 100 });
  checkFirstDeploy(a, ctx);

  const hasMatch = Array.isArray(a.value.match) && a.value.match.length > 0;
  const usesIterations = a.has("iterations");
  const usesWeights = a.has("stepWeight") || a.has("stepWeights") || a.has("steps");

  // Weights: stepWeights wins over stepWeight and maxWeight (Flagger's precedence).
  if (stepWeights !== undefined && stepWeights.length > 0) {
    if (a.has("stepWeight")) a.problems.warn(a.at("stepWeight"), "is ignored when stepWeights is set");
    const last = stepWeights[stepWeights.length - 1];
    if (maxWeight !== undefined && maxWeight !== last) {
      a.problems.warn(a.at("maxWeight"), `is ignored when stepWeights is set; the last step (${last}) is the maximum weight`);
    }
  } else if (stepWeight !== undefined && maxWeight !== undefined && maxWeight < stepWeight) {
    a.problems.error(a.at("maxWeight"), `must be greater than or equal to stepWeight (${stepWeight})`);
  }

  // Strategy: iterations selects blue/green (or A/B with match); weights select a canary.
  if (usesIterations && usesWeights && !a.has("steps")) {
    const field = a.has("stepWeights") ? "stepWeights" : "stepWeight";
    a.problems.warn(a.at(field), "is ignored: iterations selects blue/green (or A/B testing with match), which does not shift traffic by weight");
  }
  if (hasMatch && !usesIterations) {
    a.problems.error(a.at("iterations"), "is required when match is set (A/B testing runs a number of iterations)");
  }
  if (!usesIterations && !usesWeights && !hasMatch && !ctx.skipAnalysis) {
    a.problems.error(a.path, "must set stepWeight, stepWeights or steps (canary) or iterations (blue/green, A/B testing)");
  }
  if (usesWeights && !usesIterations) {
    requireFeature(a, a.has("steps") ? "steps" : a.has("stepWeights") ? "stepWeights" : "stepWeight", "weights", ctx.router, "; use iterations for blue/green");
  }

  if (hasMatch) requireFeature(a, "match", "abMatch", ctx.router);
  checkMatchList(a, "match", { router: ctx.router, requireCondition: true });

  if (mirror === true) requireFeature(a, "mirror", "mirroring", ctx.router);
  if (a.has("mirrorWeight") && mirror !== true) a.problems.warn(a.at("mirrorWeight"), "is ignored unless mirror is true");

  const affinity = a.object("sessionAffinity");
  if (affinity !== undefined) {
    affinity.string("cookieName", { required: true });
    const name = affinity.value.cookieName;
    if (typeof name === "string" && name !== "" && !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)) {
      affinity.problems.error(affinity.at("cookieName"), "must be a valid cookie name (letters, digits and !#$%&'*+-.^_`|~)");
    }
    affinity.integer("maxAge", { min: 1 });
    const primaryName = affinity.string("primaryCookieName");
    if (primaryName !== undefined && primaryName !== "") {
      if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(primaryName)) {
        affinity.problems.error(affinity.at("primaryCookieName"), "must be a valid cookie name (letters, digits and !#$%&'*+-.^_`|~)");
      } else if (primaryName === name) {
        affinity.problems.error(affinity.at("primaryCookieName"), "must differ from cookieName: one cookie cannot pin users to both sides");
      }
    }
    for (const attribute of ["domain", "path"]) {
      const v = affinity.string(attribute);
      // The value goes into a Set-Cookie header as is.
      if (v !== undefined && !/^[\x21-\x3a\x3c-\x7e]*$/.test(v)) affinity.problems.error(affinity.at(attribute), "must be printable ASCII without spaces or ';'");
    }
    for (const flag of ["httpOnly", "secure", "partitioned"]) affinity.boolean(flag);
    affinity.string("sameSite", { oneOf: ["Strict", "Lax", "None"] });
    if (requireFeature(a, "sessionAffinity", "sessionAffinity", ctx.router) && usesIterations) {
      a.problems.warn(a.at("sessionAffinity"), "is only used by a progressive canary (stepWeight or stepWeights)");
    }
  }

  checkAlerts(a);
  checkMetrics(a, stepCount);
  checkWebhooks(a);
}

/** firstDeploy: a boolean, and only meaningful when there is an analysis with something to check. */
function checkFirstDeploy(a: Fields, ctx: AnalysisContext): void {
  if (a.boolean("firstDeploy") !== true) return;
  if (ctx.skipAnalysis) {
    a.problems.warn(a.at("firstDeploy"), "is ignored when skipAnalysis is true: the first revision is promoted without analysis");
    return;
  }
  const metrics = Array.isArray(a.value.metrics) ? a.value.metrics.length : 0;
  const rollout = Array.isArray(a.value.webhooks)
    ? a.value.webhooks.filter((w: unknown) => typeof w === "object" && w !== null && ((w as { type?: unknown }).type ?? "rollout") === "rollout").length
    : 0;
  if (metrics + rollout === 0) {
    a.problems.warn(a.at("firstDeploy"), "has nothing to check: add metrics or rollout webhooks, or the first revision passes on readiness alone");
  }
}

/** Each step 1..100 and strictly increasing. */
function checkStepWeights(a: Fields): number[] | undefined {
  const list = a.array("stepWeights");
  if (list === undefined) return undefined;
  const path = a.at("stepWeights");
  if (list.length === 0) {
    a.problems.error(path, "must not be empty");
    return undefined;
  }
  let ok = true;
  let previous: number | undefined;
  list.forEach((w, i) => {
    const at = `${path}[${i}]`;
    if (typeof w !== "number" || !Number.isInteger(w)) {
      a.problems.error(at, "must be an integer");
      ok = false;
      return;
    }
    if (w < 1 || w > 100) {
      a.problems.error(at, "must be between 1 and 100");
      ok = false;
    } else if (previous !== undefined && w <= previous) {
      a.problems.error(at, `must be greater than the previous step (${previous})`);
      ok = false;
    }
    previous = w;
  });
  return ok ? (list as number[]) : undefined;
}

function checkAlerts(a: Fields): void {
  for (const alert of a.objects("alerts") ?? []) {
    alert.string("name", { required: true });
    // An empty severity is Flagger's way of writing "info".
    if (alert.value.severity !== "") alert.string("severity", { oneOf: ALERT_SEVERITIES });
    const ref = alert.object("providerRef", { required: true });
    ref?.string("name", { required: true });
    ref?.string("namespace");
  }
}

/** Reports a name used twice in a list (metrics and webhooks are reported by name). */
function checkUniqueName(item: Fields, seen: Map<string, string>): void {
  const name = item.value.name;
  if (typeof name !== "string" || name === "") return;
  const first = seen.get(name);
  if (first !== undefined) item.problems.error(item.at("name"), `must be unique (also used by ${first})`);
  else seen.set(name, item.path);
}

function checkMetrics(a: Fields, stepCount: number | undefined): void {
  const seen = new Map<string, string>();
  const builtins: readonly string[] = BUILTIN_METRICS;
  for (const m of a.objects("metrics") ?? []) {
    const name = m.string("name", { required: true });
    checkUniqueName(m, seen);
    m.duration("interval", { positive: true });
    m.number("threshold");
    m.string("onNoData", { oneOf: ON_NO_DATA_POLICIES });
    m.stringMap("templateVariables");
    checkMetricSchedule(m, stepCount);
    const query = m.string("query", { nonEmpty: true });
    const ref = m.object("templateRef");
    ref?.string("name", { required: true });
    ref?.string("namespace");

    const range = m.object("thresholdRange");
    if (range !== undefined) {
      const min = range.number("min");
      const max = range.number("max");
      if (!range.has("min") && !range.has("max")) range.problems.error(range.path, "must set min or max");
      // min == max is a range of one value ("exactly 100% of synthetic checks succeeded").
      if (min !== undefined && max !== undefined && min > max) {
        range.problems.error(range.path, `min (${min}) must not be greater than max (${max})`);
      }
      if (m.has("threshold")) m.problems.warn(m.at("threshold"), "is ignored when thresholdRange is set");
    } else if (!m.has("threshold") && !m.has("compare")) {
      m.problems.warn(m.at("thresholdRange"), "is not set, so this metric is measured but can never fail the analysis");
    }
    if (m.has("compare")) checkCompare(m, name, ref !== undefined);

    if (ref === undefined && query === undefined && name !== undefined && !builtins.includes(name) && !m.has("query")) {
      m.problems.error(m.at("templateRef"), `is required unless the metric has a query or is built in (${BUILTIN_METRICS.join(", ")})`);
    }
    if (ref !== undefined && m.has("query")) m.problems.warn(m.at("query"), "is ignored when templateRef is set");
    if (ref === undefined && m.has("templateVariables")) m.problems.warn(m.at("templateVariables"), "is only used with templateRef");
  }
}

/**
 * `compare` (aviary-only): the judge's settings, checked by the judge itself. Only metrics
 * whose per-arm counts aviary can read may set it: the built-ins, or a MetricTemplate that
 * declares `spec.compare` (checked when the metric runs, as the template may come later).
 */
function checkCompare(m: Fields, name: string | undefined, hasTemplate: boolean): void {
  for (const p of validateCompareSpec(m.value.compare, m.at("compare"))) {
    if (p.severity === "error") m.problems.error(p.path, p.rule);
    else m.problems.warn(p.path, p.rule);
  }
  const builtin = name !== undefined && (BUILTIN_METRICS as readonly string[]).includes(name);
  if (!builtin && !hasTemplate) {
    m.problems.error(m.at("compare"), `needs a built-in metric (${BUILTIN_METRICS.join(", ")}) or a templateRef whose MetricTemplate sets spec.compare`);
  }
}

function checkWebhooks(a: Fields): void {
  const seen = new Map<string, string>();
  for (const w of a.objects("webhooks") ?? []) {
    w.string("name", { required: true });
    checkUniqueName(w, seen);
    // An empty type is Flagger's way of writing "rollout".
    if (w.value.type !== "") w.string("type", { oneOf: WEBHOOK_TYPES });
    w.url("url", { required: true });
    w.duration("timeout", { positive: true });
    w.stringMap("metadata");
    w.integer("retries", { min: 0 });
    w.boolean("muteAlert");
    w.boolean("disableTLS");
  }
}
