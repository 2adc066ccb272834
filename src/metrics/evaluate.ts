/**
 * From measurements to verdicts, and the seam the canary engine calls.
 *
 * `evaluateMetric` is pure: one metric entry plus what its query produced (a value or an
 * error) gives an AnalysisResult whose message is the sentence events and alerts repeat
 * (`request-success-rate 93.1% < 99%`). Verdicts:
 *   pass    the value is within thresholdRange, or no data with onNoData=pass
 *   fail    the value is outside thresholdRange                 → a failed check
 *   nodata  no data with onNoData=fail (the default)            → a failed check, reason NoData
 *   skip    no data with onNoData=skip                          → not counted either way
 *   error   the provider or the metric's configuration failed   → the run halts, nothing counted
 *
 * `runMetricChecks` resolves each metric (built-in, inline query or MetricTemplate), renders
 * its query, runs all of them in parallel with a timeout each and never throws.
 */
import type { AnalysisResult, Canary, CanaryMetric, MetricTemplate } from "../api/types.ts";
import type { MetricProviderRegistry } from "./registry.ts";
import type { MetricProviderSpec } from "./types.ts";
import { MetricConfigError, MetricError, NoValuesError, ProviderError, providerSpecOf } from "./types.ts";
import { BUILTIN_UNITS, builtinContext, builtinQueryTemplate, builtinRouterFor, isBuiltinMetric, thresholdRangeOf } from "./builtins.ts";
import type { TemplateContext } from "./template.ts";
import { TemplateError, renderTemplate } from "./template.ts";
import { parseDurationMs } from "./duration.ts";

// ---------------------------------------------------------------------------------------
// Pure verdicts
// ---------------------------------------------------------------------------------------

export type MetricOutcome = { value: number } | { error: unknown };

export interface MetricMeasurement {
  metric: CanaryMetric;
  outcome: MetricOutcome;
  /** The rendered query with secrets elided. */
  query?: string | undefined;
  /** Printed after values and bounds: `%` and `ms` for the built-ins. */
  unit?: string | undefined;
  time: Date;
}

export function evaluateMetric(m: MetricMeasurement): AnalysisResult {
  const { min, max } = thresholdRangeOf(m.metric);
  const base: AnalysisResult = {
    name: m.metric.name,
    kind: "metric",
    verdict: "error",
    message: "",
    time: m.time.toISOString(),
  };
  if (m.query !== undefined) base.query = m.query;
  if (min !== undefined) base.min = min;
  if (max !== undefined) base.max = max;

  if ("error" in m.outcome) return { ...base, ...verdictForError(m.metric, m.outcome.error) };

  const value = m.outcome.value;
  const name = m.metric.name;
  const show = (n: number, other?: number) => formatNumber(n, other) + (m.unit ?? "");
  let verdict: "pass" | "fail" = "pass";
  let message: string;
  if (min !== undefined && value < min) {
    verdict = "fail";
    message = `${name} ${show(value, min)} < ${show(min)}`;
  } else if (max !== undefined && value > max) {
    verdict = "fail";
    message = `${name} ${show(value, max)} > ${show(max)}`;
  } else if (min !== undefined && max !== undefined) {
    message = `${name} ${show(value)} within [${show(min)}, ${show(max)}]`;
  } else if (min !== undefined) {
    message = `${name} ${show(value, min)} >= ${show(min)}`;
  } else if (max !== undefined) {
    message = `${name} ${show(value, max)} <= ${show(max)}`;
  } else {
    message = `${name} ${show(value)} (no thresholdRange: not compared)`;
  }
  return { ...base, value, verdict, message };
}

function verdictForError(metric: CanaryMetric, error: unknown): Pick<AnalysisResult, "verdict" | "message"> {
  const name = metric.name;
  const detail = error instanceof Error ? error.message : String(error);
  if (error instanceof NoValuesError) {
    const policy = metric.onNoData ?? "fail";
    switch (policy) {
      case "pass":
        return { verdict: "pass", message: `no data for ${name} (onNoData=pass): ${detail}` };
      case "skip":
        return { verdict: "skip", message: `no data for ${name} (onNoData=skip, not counted): ${detail}` };
      default:
        return { verdict: "nodata", message: `no data for ${name} (onNoData=fail): ${detail}` };
    }
  }
  if (error instanceof TemplateError) return { verdict: "error", message: `${name}: query template: ${detail}` };
  if (error instanceof MetricError && error.kind === "Config") return { verdict: "error", message: `${name}: ${detail}` };
  return { verdict: "error", message: `${name}: query failed: ${detail}` };
}

/**
 * A value for a message: integers as they are, others to three decimals; when that
 * rounding would print the value equal to the bound it is compared with, all digits.
 */
export function formatNumber(value: number, comparedWith?: number): string {
  const short = Number.isInteger(value) ? String(value) : String(Number(value.toFixed(3)));
  if (comparedWith !== undefined && value !== comparedWith && Number(short) === comparedWith) return String(value);
  return short;
}

/** Counts toward `analysis.threshold` (Flagger's failed checks). */
export function countsAsFailedCheck(result: AnalysisResult): boolean {
  return result.verdict === "fail" || result.verdict === "nodata";
}

export interface AnalysisSummary {
  /** error: halt without counting; fail: one failed check; pass: advance. */
  outcome: "pass" | "fail" | "error";
  /** For events and conditions. */
  reason: "MetricsPassed" | "MetricsFailed" | "NoData" | "MetricsProviderError";
  /** The verdict sentences that decided the outcome, joined with "; ". */
  message: string;
}

/** One outcome for a check round: any error halts; else any failed or no-data check fails it. */
export function summarizeAnalysis(results: readonly AnalysisResult[]): AnalysisSummary {
  const errors = results.filter((r) => r.verdict === "error");
  if (errors.length > 0) {
    return { outcome: "error", reason: "MetricsProviderError", message: errors.map((r) => r.message).join("; ") };
  }
  const failed = results.filter(countsAsFailedCheck);
  if (failed.length > 0) {
    const onlyNoData = failed.every((r) => r.verdict === "nodata");
    return { outcome: "fail", reason: onlyNoData ? "NoData" : "MetricsFailed", message: failed.map((r) => r.message).join("; ") };
  }
  return { outcome: "pass", reason: "MetricsPassed", message: results.map((r) => r.message).join("; ") };
}

/** The text with every secret value (4+ characters) replaced by `***`. */
export function elideSecrets(text: string, secret: Readonly<Record<string, string>>): string {
  const values = Object.values(secret)
    .filter((v) => v.length >= 4)
    .sort((a, b) => b.length - a.length);
  let out = text;
  for (const v of values) out = out.split(v).join("***");
  return out;
}

// ---------------------------------------------------------------------------------------
// The seam: run every metric of a Canary
// ---------------------------------------------------------------------------------------

export interface MetricCheckDeps {
  registry: MetricProviderRegistry;
  /** A MetricTemplate, or undefined when it does not exist. */
  getTemplate(namespace: string, name: string, signal: AbortSignal): Promise<MetricTemplate | undefined>;
  /** A Secret's data decoded to strings, or undefined when it does not exist. */
  getSecret(namespace: string, name: string, signal: AbortSignal): Promise<Record<string, string> | undefined>;
  /** Prometheus for built-in and inline metrics when the Canary sets no spec.metricsServer. */
  defaultMetricsServer?: string;
  now?: () => Date;
  /** Budget for one metric: template and secret reads plus the query (default 30s). */
  timeoutMs?: number;
}

/** Flagger's default for a metric without `interval`. */
export const DEFAULT_METRIC_INTERVAL = "1m";
export const DEFAULT_METRIC_TIMEOUT_MS = 30_000;

/** Runs every metric of `canary.spec.analysis.metrics`; one result per metric, in order; never throws. */
export async function runMetricChecks(
  canary: Canary,
  deps: MetricCheckDeps,
  signal?: AbortSignal,
): Promise<AnalysisResult[]> {
  const metrics = canary.spec.analysis?.metrics ?? [];
  const now = deps.now ?? (() => new Date());
  const timeoutMs = deps.timeoutMs ?? DEFAULT_METRIC_TIMEOUT_MS;
  return Promise.all(
    metrics.map(async (metric) => {
      const timeout = AbortSignal.timeout(timeoutMs);
      const metricSignal = signal ? AbortSignal.any([signal, timeout]) : timeout;
      const m = await measure(canary, metric, deps, metricSignal, timeout, timeoutMs);
      return evaluateMetric({ ...m, metric, time: now() });
    }),
  );
}

type Measured = Omit<MetricMeasurement, "metric" | "time">;

async function measure(
  canary: Canary,
  metric: CanaryMetric,
  deps: MetricCheckDeps,
  signal: AbortSignal,
  timeout: AbortSignal,
  timeoutMs: number,
): Promise<Measured> {
  let query: string | undefined;
  try {
    return await untilAborted(signal, timeout, timeoutMs, async () => {
      const plan = await resolveMetric(canary, metric, deps, signal);
      query = plan.displayQuery;
      const provider = deps.registry.create(plan.init);
      const value = await provider.runQuery(plan.query, { signal });
      return { outcome: { value }, query, unit: plan.unit };
    });
  } catch (error) {
    return { outcome: { error }, query };
  }
}

interface MetricPlan {
  init: { spec: MetricProviderSpec; secret: Record<string, string>; intervalMs: number };
  query: string;
  displayQuery: string;
  unit?: string | undefined;
}

async function resolveMetric(
  canary: Canary,
  metric: CanaryMetric,
  deps: MetricCheckDeps,
  signal: AbortSignal,
): Promise<MetricPlan> {
  const namespace = canary.metadata.namespace ?? "default";
  const interval = metric.interval ?? DEFAULT_METRIC_INTERVAL;
  let intervalMs: number;
  try {
    intervalMs = parseDurationMs(interval);
  } catch (err) {
    throw new MetricConfigError(`interval: ${(err as Error).message}`);
  }
  const ctx: TemplateContext = {
    name: canary.metadata.name,
    namespace,
    target: canary.spec.targetRef.name,
    service: canary.spec.service.name ?? canary.spec.targetRef.name,
    ingress: canary.spec.ingressRef?.name,
    interval,
    variables: metric.templateVariables,
  };

  if (metric.templateRef !== undefined) {
    const tplNamespace = metric.templateRef.namespace ?? namespace;
    const ref = `${tplNamespace}/${metric.templateRef.name}`;
    const template = await deps.getTemplate(tplNamespace, metric.templateRef.name, signal);
    if (template === undefined) throw new MetricConfigError(`MetricTemplate ${ref} not found`);
    const spec = providerSpecOf(template.spec.provider);
    let secret: Record<string, string> = {};
    if (spec.secretRef?.name) {
      const data = await deps.getSecret(tplNamespace, spec.secretRef.name, signal);
      if (data === undefined) throw new MetricConfigError(`Secret ${tplNamespace}/${spec.secretRef.name} of MetricTemplate ${ref} not found`);
      secret = data;
    }
    const query = renderTemplate(template.spec.query, ctx);
    return {
      init: { spec: renderRequestFields(spec, ctx), secret, intervalMs },
      query,
      displayQuery: elideSecrets(query, secret),
    };
  }

  const address = canary.spec.metricsServer || deps.defaultMetricsServer;
  const prometheus = (query: string, unit?: string): MetricPlan => {
    if (!address) throw new MetricConfigError("no Prometheus to ask: set spec.metricsServer or the controller's default metrics server");
    return { init: { spec: { type: "prometheus", address }, secret: {}, intervalMs }, query, displayQuery: query, unit };
  };
  if (metric.query !== undefined && metric.query.trim() !== "") return prometheus(renderTemplate(metric.query, ctx));
  if (isBuiltinMetric(metric.name)) {
    const family = builtinRouterFor(canary.spec.provider);
    return prometheus(renderTemplate(builtinQueryTemplate(metric.name, canary.spec.provider), builtinContext(family, ctx)), BUILTIN_UNITS[metric.name]);
  }
  throw new MetricConfigError(
    `metric "${metric.name}" is not a built-in (request-success-rate, request-duration) and has neither templateRef nor query`,
  );
}

/** For `web`, the URL, body and header values may use the query's placeholders too. */
function renderRequestFields(spec: MetricProviderSpec, ctx: TemplateContext): MetricProviderSpec {
  if (spec.type !== "web") return spec;
  const out: MetricProviderSpec = { ...spec };
  if (spec.address !== undefined) out.address = renderTemplate(spec.address, ctx);
  if (spec.body !== undefined) out.body = renderTemplate(spec.body, ctx);
  if (spec.headers !== undefined) {
    out.headers = Object.fromEntries(Object.entries(spec.headers).map(([k, v]) => [k, renderTemplate(v, ctx)]));
  }
  return out;
}

/** Runs `work`, but settles as soon as `signal` aborts even if `work` ignores it. */
async function untilAborted<T>(signal: AbortSignal, timeout: AbortSignal, timeoutMs: number, work: () => Promise<T>): Promise<T> {
  if (signal.aborted) throw abortError(timeout, timeoutMs);
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(abortError(timeout, timeoutMs));
    signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    return await Promise.race([work(), aborted]);
  } finally {
    if (onAbort) signal.removeEventListener("abort", onAbort);
  }
}

function abortError(timeout: AbortSignal, timeoutMs: number): ProviderError {
  return timeout.aborted
    ? new ProviderError(`metric check timed out after ${timeoutMs}ms`, { code: "Timeout", retryable: true })
    : new ProviderError("metric check aborted", { code: "Aborted", retryable: true });
}
