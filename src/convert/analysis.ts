/**
 * One Argo analysis (a Rollout's background `analysis` or an `analysis` step) → aviary
 * metrics: each AnalysisTemplate metric becomes a MetricTemplate (shared by every step that
 * uses it; the arguments become template variables) and a Canary metric carrying Argo's
 * interval, count, initialDelay, failureLimit and consecutiveErrorLimit with their Argo
 * meaning, and the conditions as a thresholdRange where that is the same verdict.
 */
import { tryParseDuration } from "../api/duration.ts";
import type { ArgNotes, ArgValue } from "./args.ts";
import { argsToValues, readArgs } from "./args.ts";
import { translateConditions } from "./conditions.ts";
import type { Obj } from "./fields.ts";
import { child, label, list, num, obj, str } from "./fields.ts";
import type { ScheduledMetric } from "./model.ts";
import { convertProvider } from "./providers.ts";
import type { Report } from "./report.ts";
import type { SourceObject, Sources } from "./source.ts";
import type { MetricTemplates } from "./templates.ts";

/** Argo's default: four consecutive errors are tolerated, the fifth fails the run. */
export const ARGO_CONSECUTIVE_ERROR_LIMIT = 4;

export interface AnalysisContext {
  sources: Sources;
  report: Report;
  rollout: SourceObject;
  templates: MetricTemplates;
  awsRegion?: string | undefined;
  /** Argo Service name → the aviary Service with the same pods. */
  serviceRenames: ReadonlyMap<string, string>;
}

/** A converted metric before it is placed in the schedule. */
export interface MetricDraft {
  metric: ScheduledMetric;
  /** Delay from the start of its analysis run, in ms. */
  initialDelayMs: number;
}

export interface ConvertedAnalysisRun {
  drafts: MetricDraft[];
  /**
   * How long Argo's run takes when every metric has a count (the longest metric's initial
   * delay plus its count-1 intervals), in ms; undefined when a metric measures until stopped.
   */
  durationMs: number | undefined;
}

const ms = (text: string | undefined): number | undefined => {
  if (text === undefined) return 0;
  const d = tryParseDuration(text);
  return d.ok ? d.ms : undefined;
};

/** Converts the analysis at `path` of the Rollout (`templates`, `args`, `dryRun`). */
export function convertAnalysisRun(ctx: AnalysisContext, analysis: Obj, path: string): ConvertedAnalysisRun {
  const rolloutLabel = label(ctx.rollout.ref);
  const namespace = ctx.rollout.ref.namespace;
  const refs = list(analysis.templates).map((t, i) => ({ ref: obj(t) ?? {}, at: child(child(path, "templates"), i) }));
  if (str(analysis.templateName) !== undefined) refs.push({ ref: { templateName: analysis.templateName }, at: path });
  if (refs.length === 0) ctx.report.lossy(rolloutLabel, path, "names no templates; nothing to convert");
  const dryRun = new Set(list(analysis.dryRun).map((d) => str(obj(d)?.metricName)).filter((n) => n !== undefined));
  const drafts: MetricDraft[] = [];
  let durationMs: number | undefined = 0;
  for (const { ref, at } of refs) {
    const name = str(ref.templateName);
    const kind = ref.clusterScope === true ? "ClusterAnalysisTemplate" : "AnalysisTemplate";
    if (name === undefined) {
      ctx.report.lossy(rolloutLabel, at, "has no templateName");
      continue;
    }
    const template = ctx.sources.find(kind, name, kind === "AnalysisTemplate" ? namespace : undefined);
    if (template === undefined) {
      ctx.report.lossy(rolloutLabel, at, `${kind} ${name} is not in the input, so its metrics are not converted; pass its manifest too`);
      continue;
    }
    const notes: ArgNotes = { resolved: [] };
    const args = new Map<string, ArgValue>();
    readArgs(obj(template.body.spec)?.args, "spec.args", ctx.rollout.body, args, notes);
    readArgs(analysis.args, child(path, "args"), ctx.rollout.body, args, notes);
    for (const r of notes.resolved) {
      ctx.report.changed(rolloutLabel, r.field, `args.${r.name} = ${r.fieldPath} is read from the Rollout now, not when each analysis starts`);
    }
    renameServices(args, ctx, rolloutLabel, child(path, "args"));
    const spec = obj(template.body.spec) ?? {};
    for (const d of list(spec.dryRun).map((x) => str(obj(x)?.metricName))) if (d !== undefined) dryRun.add(d);
    list(spec.metrics).forEach((raw, i) => {
      const m = obj(raw) ?? {};
      const duration = runDuration(m, args);
      durationMs = durationMs === undefined || duration === undefined ? undefined : Math.max(durationMs, duration);
      const draft = convertMetric(ctx, template, m, child("spec.metrics", i), args, dryRun.has("*") || dryRun.has(str(m.name) ?? ""));
      if (draft !== undefined) drafts.push(draft);
    });
  }
  return { drafts, durationMs };
}

/**
 * An argument naming the Rollout's canary or stable Service (`shop-preview`, or its DNS name)
 * would make the query measure a Service the Canary no longer uses: it is renamed to the
 * aviary Service with the same pods (`<svc>-canary`, `<svc>-primary`), and the report says so.
 */
function renameServices(args: Map<string, ArgValue>, ctx: AnalysisContext, source: string, at: string): void {
  for (const [name, arg] of args) {
    if (!("value" in arg)) continue;
    let value = arg.value;
    for (const [from, to] of ctx.serviceRenames) {
      value = value.replace(new RegExp(`(?<![A-Za-z0-9-])${from.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(?![A-Za-z0-9-])`, "g"), to);
    }
    if (value !== arg.value) {
      args.set(name, { value });
      ctx.report.changed(source, at, `args.${name}: "${arg.value}" → "${value}": the Service the Rollout measured has this name under aviary`);
    }
  }
}

/** Argo's effective count: `count`, else 1 without an interval, else unbounded. */
function effectiveCount(m: Obj, args: ReadonlyMap<string, ArgValue>): number | undefined {
  const raw = typeof m.count === "string" ? argsText(m.count, args) : m.count;
  const count = num(raw);
  if (count !== undefined && count > 0) return count;
  return str(m.interval) === undefined ? 1 : undefined;
}

const argsText = (text: string, args: ReadonlyMap<string, ArgValue>): string => {
  const s = argsToValues(text, args);
  return s.ok ? s.text : text;
};

function runDuration(m: Obj, args: ReadonlyMap<string, ArgValue>): number | undefined {
  const count = effectiveCount(m, args);
  const interval = ms(str(m.interval)) ?? 0;
  const delay = ms(str(m.initialDelay)) ?? 0;
  return count === undefined ? undefined : delay + (count - 1) * interval;
}

function convertMetric(ctx: AnalysisContext, template: SourceObject, m: Obj, at: string, args: ReadonlyMap<string, ArgValue>, dryRun: boolean): MetricDraft | undefined {
  const source = label(template.ref);
  const name = str(m.name);
  if (name === undefined) {
    ctx.report.lossy(source, at, "has no name; the metric is not converted");
    return undefined;
  }
  const success = str(m.successCondition);
  const failure = str(m.failureCondition);
  const provider = obj(m.provider) ?? {};
  if (success === undefined && failure === undefined && provider.web !== undefined) {
    // A call made for what it does (start a test, notify), not for a value to judge.
    ctx.report.lossy(
      source,
      at,
      "makes a call with no success or failure condition; an aviary metric is measured at every check, so a call made for its effect belongs in a webhook (pre-rollout before the first step, post-rollout after promotion); the metric is not converted",
    );
    return undefined;
  }
  const converted = convertProvider(provider, child(at, "provider"), args, { report: ctx.report, source, awsRegion: ctx.awsRegion, intervalMs: ms(str(m.interval)) });
  if (converted === undefined) return undefined;

  const conditions = (text: string | undefined, field: string): string | undefined | false => {
    if (text === undefined) return undefined;
    const s = argsToValues(text, args);
    if (s.ok) return s.text;
    ctx.report.lossy(source, child(at, field), `${s.problems.join("; ")}; the metric is not converted`);
    return false;
  };
  const successText = conditions(success, "successCondition");
  const failureText = conditions(failure, "failureCondition");
  if (successText === false || failureText === false) return undefined;
  const translation = translateConditions(successText, failureText, converted.valueForm);
  if (!translation.ok) {
    ctx.report.lossy(source, child(at, success !== undefined ? "successCondition" : "failureCondition"), `${translation.reason}; the metric is not converted`);
    return undefined;
  }
  const conditionField = child(at, failure !== undefined && success === undefined ? "failureCondition" : "successCondition");
  for (const note of translation.notes) ctx.report.changed(source, conditionField, note);

  const templateName = ctx.templates.add(template, name, converted.spec, ctx.rollout.ref.namespace);
  const metric: ScheduledMetric = { name, templateRef: { name: templateName } };
  if (Object.keys(converted.variables).length > 0) metric.templateVariables = converted.variables;
  const interval = str(m.interval);
  if (interval !== undefined) {
    if (ms(interval) === undefined) {
      ctx.report.lossy(source, child(at, "interval"), `"${interval}" is not a duration; the metric is not converted`);
      return undefined;
    }
    metric.interval = interval;
  }
  if (dryRun) {
    ctx.report.changed(source, at, "runs in dry-run: converted without a thresholdRange, so it is measured and recorded but never fails the run");
  } else if (translation.range !== undefined) {
    metric.thresholdRange = translation.range;
  }
  if (translation.onNoData !== undefined) metric.onNoData = translation.onNoData;
  const limit = (field: string, fallback: number): number | undefined => {
    const raw = m[field];
    if (raw === undefined) return fallback;
    const n = num(typeof raw === "string" ? argsText(raw, args) : raw);
    if (n === undefined || !Number.isInteger(n) || n < 0) {
      ctx.report.lossy(source, child(at, field), `"${String(raw)}" is not a whole number of 0 or more; the metric is not converted`);
      return undefined;
    }
    return n;
  };
  const failureLimit = limit("failureLimit", 0);
  const consecutiveErrorLimit = limit("consecutiveErrorLimit", ARGO_CONSECUTIVE_ERROR_LIMIT);
  if (failureLimit === undefined || consecutiveErrorLimit === undefined) return undefined;
  metric.failureLimit = failureLimit;
  metric.consecutiveErrorLimit = consecutiveErrorLimit;
  if (m.count !== undefined || interval === undefined) {
    const count = effectiveCount(m, args);
    if (count === undefined) {
      ctx.report.lossy(source, child(at, "count"), `"${String(m.count)}" is not a whole number; the metric is not converted`);
      return undefined;
    }
    metric.count = count;
  }
  if (m.inconclusiveLimit !== undefined && m.inconclusiveLimit !== 0 && m.inconclusiveLimit !== "0") {
    ctx.report.changed(source, child(at, "inconclusiveLimit"), "has no effect after conversion: the converted range leaves no value inconclusive");
  }
  const initialDelayMs = ms(str(m.initialDelay));
  if (initialDelayMs === undefined) {
    ctx.report.lossy(source, child(at, "initialDelay"), `"${String(m.initialDelay)}" is not a duration; the metric is not converted`);
    return undefined;
  }
  return { metric, initialDelayMs };
}
