/**
 * Defaults for a Canary, applied in one place so the controller, the webhook and the CLI
 * agree on what an omitted field means. Values follow Flagger where Flagger has one.
 * Some of these the API server also fills from the CRD schema; applying them again here
 * keeps the engine correct for objects that never went through the API server (tests,
 * a CRD installed without defaults).
 */
import { effectiveProvider } from "./providers.ts";
import { DEFAULT_WEBHOOK_TYPE } from "./types.ts";
import type { Canary, CanaryAnalysis, CanaryMetric, CanaryService, CanarySpec, CanaryWebhook, RouterProvider } from "./types.ts";

export const DEFAULT_ANALYSIS_INTERVAL = "60s";
export const DEFAULT_THRESHOLD = 1;
export const DEFAULT_READY_THRESHOLD = 100;
export const DEFAULT_PROGRESS_DEADLINE_SECONDS = 600;
export const DEFAULT_PORT_NAME = "http";
export const DEFAULT_WEBHOOK_TIMEOUT = "10s";
/** Flagger's maximum canary weight when stepWeight is set without maxWeight. */
export const DEFAULT_MAX_WEIGHT = 100;
/** Flagger's session-affinity cookie lifetime: one day. */
export const DEFAULT_SESSION_AFFINITY_MAX_AGE = 86_400;
export const DEFAULT_TARGET_API_VERSION = "apps/v1";
export const DEFAULT_TARGET_KIND = "Deployment";

export interface DefaultsOptions {
  /** The operator-wide router used when `spec.provider` is empty (a flag in main.ts). */
  defaultProvider?: RouterProvider;
}

/** Returns a copy of the Canary with every default filled in; the input is never mutated. */
export function withDefaults(canary: Canary, opts: DefaultsOptions = {}): Canary {
  const copy = structuredClone(canary);
  copy.spec = specWithDefaults(copy.spec, opts);
  return copy;
}

function specWithDefaults(spec: CanarySpec, opts: DefaultsOptions): CanarySpec {
  const out: CanarySpec = {
    ...spec,
    provider: effectiveProvider({ spec }, opts.defaultProvider).name,
    targetRef: {
      apiVersion: DEFAULT_TARGET_API_VERSION,
      kind: DEFAULT_TARGET_KIND,
      ...spec.targetRef,
    },
    service: serviceWithDefaults(spec.service, spec.targetRef.name),
    progressDeadlineSeconds: spec.progressDeadlineSeconds ?? DEFAULT_PROGRESS_DEADLINE_SECONDS,
    skipAnalysis: spec.skipAnalysis ?? false,
    suspend: spec.suspend ?? false,
    revertOnDeletion: spec.revertOnDeletion ?? false,
  };
  if (spec.analysis !== undefined) out.analysis = analysisWithDefaults(spec.analysis);
  return out;
}

function serviceWithDefaults(service: CanaryService, targetName: string): CanaryService {
  return {
    ...service,
    name: service.name === undefined || service.name === "" ? targetName : service.name,
    portName: service.portName === undefined || service.portName === "" ? DEFAULT_PORT_NAME : service.portName,
    targetPort: service.targetPort ?? service.port,
    portDiscovery: service.portDiscovery ?? false,
  };
}

function analysisWithDefaults(analysis: CanaryAnalysis): CanaryAnalysis {
  const interval = analysis.interval === undefined || analysis.interval === "" ? DEFAULT_ANALYSIS_INTERVAL : analysis.interval;
  const out: CanaryAnalysis = {
    ...analysis,
    interval,
    threshold: analysis.threshold ?? DEFAULT_THRESHOLD,
    primaryReadyThreshold: analysis.primaryReadyThreshold ?? DEFAULT_READY_THRESHOLD,
    canaryReadyThreshold: analysis.canaryReadyThreshold ?? DEFAULT_READY_THRESHOLD,
  };
  const maxWeight = defaultMaxWeight(analysis);
  if (maxWeight !== undefined) out.maxWeight = maxWeight;
  if (analysis.sessionAffinity !== undefined) {
    out.sessionAffinity = { ...analysis.sessionAffinity, maxAge: analysis.sessionAffinity.maxAge || DEFAULT_SESSION_AFFINITY_MAX_AGE };
  }
  if (analysis.alerts !== undefined) out.alerts = analysis.alerts.map((a) => ({ ...a, severity: a.severity ?? "info" }));
  if (analysis.metrics !== undefined) out.metrics = analysis.metrics.map((m) => metricWithDefaults(m, interval));
  if (analysis.webhooks !== undefined) out.webhooks = analysis.webhooks.map(webhookWithDefaults);
  return out;
}

/**
 * Flagger's rule: with stepWeights the last step is the maximum (a maxWeight beside it is
 * ignored, and validation warns); with stepWeight alone the maximum defaults to 100.
 * Blue/green (neither) has no maximum weight.
 */
function defaultMaxWeight(analysis: CanaryAnalysis): number | undefined {
  const schedule = analysis.steps ?? [];
  if (schedule.length > 0) return schedule[schedule.length - 1]!.weight;
  const steps = analysis.stepWeights ?? [];
  if (steps.length > 0) return steps[steps.length - 1];
  if ((analysis.stepWeight ?? 0) > 0) return analysis.maxWeight ?? DEFAULT_MAX_WEIGHT;
  return analysis.maxWeight;
}

function metricWithDefaults(metric: CanaryMetric, analysisInterval: string): CanaryMetric {
  return {
    ...metric,
    interval: metric.interval === undefined || metric.interval === "" ? analysisInterval : metric.interval,
    onNoData: metric.onNoData ?? "fail",
  };
}

function webhookWithDefaults(hook: CanaryWebhook): CanaryWebhook {
  return {
    ...hook,
    type: hook.type === undefined || (hook.type as string) === "" ? DEFAULT_WEBHOOK_TYPE : hook.type,
    timeout: hook.timeout === undefined || hook.timeout === "" ? DEFAULT_WEBHOOK_TIMEOUT : hook.timeout,
    retries: hook.retries ?? 0,
    muteAlert: hook.muteAlert ?? false,
  };
}
