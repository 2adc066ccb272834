/**
 * One analysis round with the judge: every metric as `runMetricChecks` measures it, and for
 * each metric with `compare` the per-arm counts of the window since its previous check,
 * added to its test (kept in `status.judge`) and judged. A metric with both a
 * thresholdRange and `compare` must pass both; its result carries both sentences.
 *
 * The window of a metric starts where its previous one ended (`windowEnd` in status), or
 * where the run's traffic began (the first check's time), and ends at this check's time in
 * whole seconds — or, for a backend that keeps counts per period (CloudWatch), at a period
 * boundary at least one period before it, so that a period is counted once, and only when
 * its data points are in; a check before that counts nothing and leaves the window open. A metric whose counts could not be read keeps its old entry, so its next
 * window covers the gap; the status is written with the round's other changes, so after a
 * restart the test continues without counting a request twice.
 */
import type { AnalysisResult, AnalysisVerdict, Canary, CanaryMetric, JudgeMetricStatus, JudgeStatus } from "../api/types.ts";
import { primaryDeploymentName } from "../ground/identity.ts";
import type { MetricCheckDeps } from "./evaluate.ts";
import { DEFAULT_METRIC_INTERVAL, DEFAULT_METRIC_TIMEOUT_MS, runMetricChecks } from "./evaluate.ts";
import { thresholdRangeOf, builtinContext, builtinRouterFor, isBuiltinMetric } from "./builtins.ts";
import type { Arm, CountQueries } from "./arm-queries.ts";
import { ARMS, builtinCountQueries } from "./arm-queries.ts";
import type { ArmHistogram, ArmWindow } from "./compare-verdict.ts";
import { histogramOf, judgeWindow } from "./compare-verdict.ts";
import { queryPrometheusVector } from "./prometheus-vector.ts";
import type { TemplateContext } from "./template.ts";
import { renderTemplate } from "./template.ts";
import type { ProviderInit, MetricProviderSpec, TimeWindow } from "./types.ts";
import { MetricConfigError, NoValuesError } from "./types.ts";

export interface AnalysisRound {
  /** One result per metric, in the Canary's order. */
  results: AnalysisResult[];
  /** The judge's tests after this round; undefined when no metric has `compare`. */
  judge?: JudgeStatus;
}

const hasBounds = (m: CanaryMetric): boolean => Object.keys(thresholdRangeOf(m)).length > 0;

/** Every metric of the Canary, compared ones judged; never throws. */
export async function runAnalysisMetrics(canary: Canary, deps: MetricCheckDeps, signal?: AbortSignal): Promise<AnalysisRound> {
  const metrics = canary.spec.analysis?.metrics ?? [];
  const compared = metrics.filter((m) => m.compare != null);
  if (compared.length === 0) return { results: await runMetricChecks(canary, deps, signal) };

  // A compare-only metric has no value to hold to a range: only the judge speaks for it.
  const valued = metrics.filter((m) => m.compare == null || hasBounds(m));
  const valueOnly: Canary = { ...canary, spec: { ...canary.spec, analysis: { ...canary.spec.analysis, metrics: valued } } };
  const now = deps.now ?? (() => new Date());
  const endMs = Math.floor(now().getTime() / 1000) * 1000;
  const status = canary.status ?? {};
  const previous = status.judge !== undefined && status.judge.revision === status.canaryRevision ? status.judge.metrics : {};
  const runStart = parseMs(status.lastCheckTime) ?? parseMs(status.analysisStartedAt) ?? endMs;

  const [valueResults, judged] = await Promise.all([
    runMetricChecks(valueOnly, deps, signal),
    Promise.all(
      compared.map(async (metric) => {
        const prev = previous[metric.name];
        const startMs = Math.floor((parseMs(prev?.windowEnd) ?? runStart) / 1000) * 1000;
        let counted: Counted = { window: null, endMs: startMs };
        if (endMs > startMs) {
          try {
            counted = await measureArms(canary, metric, { startMs, endMs }, deps, signal);
          } catch (err) {
            const detail = err instanceof Error ? err.message : String(err);
            const verdict: AnalysisVerdict = "error";
            const result: AnalysisResult = { name: metric.name, kind: "metric", verdict, message: `${metric.name}: per-arm counts: ${detail}`, time: now().toISOString() };
            // The test is kept as it was: the next window starts at its old end, so nothing is lost.
            return { metric, result, status: prev };
          }
        }
        const { window, query } = counted;
        const out = judgeWindow({ metric, previous: prev, window, windowEnd: new Date(counted.endMs).toISOString(), time: now(), query });
        return { metric, result: out.result, status: out.status ?? prev };
      }),
    ),
  ]);

  const byName = new Map(valueResults.map((r) => [r.name, r]));
  const judgedByName = new Map(judged.map((j) => [j.metric.name, j]));
  const entries: Record<string, JudgeMetricStatus> = {};
  for (const j of judged) if (j.status !== undefined) entries[j.metric.name] = j.status;
  const results = metrics.map((m) => combine(byName.get(m.name), judgedByName.get(m.name)?.result));
  return { results, judge: { ...(status.canaryRevision ? { revision: status.canaryRevision } : {}), metrics: entries } };
}

const RANK: Record<AnalysisVerdict, number> = { skip: 0, pass: 1, nodata: 2, fail: 3, error: 4 };

/** A metric with a range and a judge: the worse verdict, both sentences, both sets of figures. */
function combine(value: AnalysisResult | undefined, judged: AnalysisResult | undefined): AnalysisResult {
  if (value === undefined) return judged!;
  if (judged === undefined) return value;
  const verdict = RANK[judged.verdict] > RANK[value.verdict] ? judged.verdict : value.verdict;
  const out: AnalysisResult = { ...value, verdict, message: `${value.message}; ${judged.message}` };
  if (judged.judge !== undefined) out.judge = judged.judge;
  return out;
}

function parseMs(iso: string | undefined): number | undefined {
  if (iso === undefined) return undefined;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? undefined : ms;
}

// ---------------------------------------------------------------------------------------
// Reading the counts
// ---------------------------------------------------------------------------------------

interface CountSource {
  init: ProviderInit;
  queries: (arm: Arm) => CountQueries;
  ctx: (arm: Arm, window: TimeWindow) => TemplateContext;
}

/** What one check counted: the window's per-arm counts (null when it was empty) and where it ended. */
export interface Counted {
  window: ArmWindow | null;
  /** The canary arm's rendered count query, for status. */
  query?: string;
  /** The end of the window counted: where the next one starts. */
  endMs: number;
}

/**
 * The per-arm counts of the window [startMs, endMs), shortened to whole periods of the
 * backend's data points when it keeps counts per period; throws a MetricError when they
 * cannot be read.
 */
export async function measureArms(
  canary: Canary,
  metric: CanaryMetric,
  span: { startMs: number; endMs: number },
  deps: MetricCheckDeps,
  signal?: AbortSignal,
): Promise<Counted> {
  const timeoutMs = deps.timeoutMs ?? DEFAULT_METRIC_TIMEOUT_MS;
  const timeout = AbortSignal.timeout(timeoutMs);
  const sig = signal ? AbortSignal.any([signal, timeout]) : timeout;
  const source = await countSource(canary, metric, deps, sig);
  const first = source.queries("canary");
  if (first.kind === "latency") {
    const render = (arm: Arm, q: string) => renderTemplate(q, source.ctx(arm, span));
    const [c, p] = await Promise.all(
      ARMS.map(async (arm): Promise<ArmHistogram> => {
        const q = source.queries(arm) as typeof first;
        return histogramOf(await queryPrometheusVector(source.init, render(arm, q.buckets), { timeoutMs, signal: sig }), q.msPerUnit);
      }),
    );
    return { window: { kind: "latency", canary: c!, primary: p! }, query: render("canary", first.buckets), endMs: span.endMs };
  }

  const provider = deps.registry.create(source.init);
  const pairs = (window: TimeWindow) =>
    ARMS.map((arm) => {
      const q = source.queries(arm) as typeof first;
      return { requests: renderTemplate(q.requests, source.ctx(arm, window)), bad: renderTemplate(q.bad, source.ctx(arm, window)) };
    });
  let window: TimeWindow = span;
  if (provider.sumInWindow !== undefined && provider.periodMs !== undefined) {
    const periodMs = Math.max(1000, ...pairs(span).flatMap((p) => [provider.periodMs!(p.requests), provider.periodMs!(p.bad)]));
    // A period's data points may arrive after it ends (a load balancer publishes each minute's
    // counts within the next): the window ends a whole period before the check, so that both
    // arms' points for it are in; a period counted half-published would skew the split.
    window = { startMs: Math.ceil(span.startMs / periodMs) * periodMs, endMs: Math.floor((span.endMs - periodMs) / periodMs) * periodMs };
    // Not a whole period since the last window: nothing to count yet, and the window stays open.
    if (window.endMs <= window.startMs) return { window: null, endMs: span.startMs };
  }
  const count = async (query: string): Promise<number> => {
    try {
      const value = provider.sumInWindow !== undefined ? await provider.sumInWindow(query, window, { signal: sig }) : await provider.runQuery(query, { signal: sig });
      return Math.max(0, Math.round(value));
    } catch (err) {
      // No series in the window: the arm served nothing that was counted.
      if (err instanceof NoValuesError) return 0;
      throw err;
    }
  };
  const rendered = pairs(window);
  const [c, p] = await Promise.all(
    rendered.map(async (q) => {
      const [requests, bad] = await Promise.all([count(q.requests), count(q.bad)]);
      return { requests, bad: Math.min(bad, requests) };
    }),
  );
  return { window: { kind: "errors", counts: { canary: c!, primary: p! } }, query: rendered[0]!.bad, endMs: window.endMs };
}

async function countSource(canary: Canary, metric: CanaryMetric, deps: MetricCheckDeps, signal: AbortSignal): Promise<CountSource> {
  const namespace = canary.metadata.namespace ?? "default";
  const target = canary.spec.targetRef.name;
  const primary = primaryDeploymentName(canary);
  const ctx = (arm: Arm, window: TimeWindow): TemplateContext => ({
    name: canary.metadata.name,
    namespace,
    target,
    service: canary.spec.service.name ?? target,
    ingress: canary.spec.ingressRef?.name,
    interval: metric.interval ?? DEFAULT_METRIC_INTERVAL,
    variables: metric.templateVariables,
    arm,
    workload: arm === "canary" ? target : primary,
    primary,
    window: `${Math.round((window.endMs - window.startMs) / 1000)}s`,
    windowEnd: String(Math.floor(window.endMs / 1000)),
  });

  if (metric.templateRef !== undefined) {
    const tplNamespace = metric.templateRef.namespace ?? namespace;
    const ref = `${tplNamespace}/${metric.templateRef.name}`;
    const template = await deps.getTemplate(tplNamespace, metric.templateRef.name, signal);
    if (template === undefined) throw new MetricConfigError(`MetricTemplate ${ref} not found`);
    const pair = template.spec.compare;
    if (pair === undefined) throw new MetricConfigError(`MetricTemplate ${ref} has no spec.compare (the bad and total queries per arm)`);
    const spec = template.spec.provider as MetricProviderSpec;
    let secret: Record<string, string> = {};
    if (spec.secretRef?.name) {
      const data = await deps.getSecret(tplNamespace, spec.secretRef.name, signal);
      if (data === undefined) throw new MetricConfigError(`Secret ${tplNamespace}/${spec.secretRef.name} of MetricTemplate ${ref} not found`);
      secret = data;
    }
    return { init: { spec, secret }, queries: () => ({ kind: "errors", requests: pair.total, bad: pair.bad }), ctx };
  }
  if (!isBuiltinMetric(metric.name)) {
    throw new MetricConfigError("compare needs a built-in metric or a MetricTemplate with spec.compare");
  }
  const address = canary.spec.metricsServer || deps.defaultMetricsServer;
  if (!address) throw new MetricConfigError("no Prometheus to ask: set spec.metricsServer or the controller's default metrics server");
  const family = builtinRouterFor(canary.spec.provider);
  const name = metric.name;
  return { init: { spec: { type: "prometheus", address }, secret: {} }, queries: (arm) => builtinCountQueries(family, name, arm), ctx: (arm, window) => builtinContext(family, ctx(arm, window)) };
}
