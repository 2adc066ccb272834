/**
 * One Argo Rollout → a Deployment, a Canary (and the user's Ingress, pointed at the apex
 * Service, when the nginx router needs it). Everything about the Rollout that does not map
 * one to one is reported with its field path.
 */
import { ANNOTATION_PAUSED, API_VERSION, KIND_CANARY } from "../api/types.ts";
import type { CanaryWebhook } from "../api/types.ts";
import { tryParseDuration } from "../api/duration.ts";
import type { AnalysisContext } from "./analysis.ts";
import { convertAnalysisRun } from "./analysis.ts";
import type { Obj } from "./fields.ts";
import { child, label, num, obj, otherKeys, str } from "./fields.ts";
import type { ConvertedAnalysis, ConvertedCanarySpec, OutputObject } from "./model.ts";
import type { Report } from "./report.ts";
import { apexServiceName, convertTrafficRouting } from "./routers.ts";
import type { PlacedDraft } from "./schedule.ts";
import { buildSchedule } from "./schedule.ts";
import type { SourceObject, Sources } from "./source.ts";
import type { Gate } from "./steps.ts";
import { walkSteps } from "./steps.ts";
import type { MetricTemplates } from "./templates.ts";
import { convertWorkload, servicePort } from "./workload.ts";

export interface ConvertOptions {
  /** URL of a service that opens Argo's indefinite pauses: they become confirm webhooks. */
  gateUrl?: string | undefined;
  /** The Canary's apex Service name (default: the Rollout's name, or SMI's rootService). */
  serviceName?: string | undefined;
  /** Region for CloudWatch MetricTemplates. */
  awsRegion?: string | undefined;
}

export interface RolloutConversion {
  /** Deployment and rewritten user objects. */
  workload: OutputObject[];
  canary: OutputObject | undefined;
}

const SPEC_FIELDS = ["replicas", "selector", "template", "workloadRef", "minReadySeconds", "revisionHistoryLimit", "strategy", "paused", "progressDeadlineSeconds", "progressDeadlineAbort", "analysis", "restartAt", "rollbackWindow"];
const CANARY_FIELDS = ["canaryService", "stableService", "trafficRouting", "steps", "analysis", "maxSurge", "maxUnavailable", "scaleDownDelaySeconds", "abortScaleDownDelaySeconds", "scaleDownDelayRevisionLimit", "canaryMetadata", "stableMetadata", "dynamicStableScale", "antiAffinity", "minPodsPerReplicaSet", "pingPong"];

export function convertRollout(rollout: SourceObject, sources: Sources, report: Report, templates: MetricTemplates, opts: ConvertOptions): RolloutConversion {
  const source = label(rollout.ref);
  const spec = obj(rollout.body.spec) ?? {};
  reportRolloutFields(spec, source, report);
  const strategy = obj(spec.strategy) ?? {};
  const workload = convertWorkload(rollout, sources, report);
  const workloadOutputs = workload?.output ? [workload.output] : [];
  const canaryStrategy = obj(strategy.canary);
  if (canaryStrategy === undefined) {
    const what = strategy.blueGreen !== undefined ? "the blueGreen strategy is not converted (aviary's blue/green is a Canary with analysis.iterations); convert it by hand" : "has no canary strategy";
    report.lossy(source, strategy.blueGreen !== undefined ? "spec.strategy.blueGreen" : "spec.strategy", `${what}; no Canary is written`);
    return { workload: workloadOutputs, canary: undefined };
  }
  if (workload === undefined) return { workload: [], canary: undefined };
  const path = "spec.strategy.canary";
  reportCanaryFields(canaryStrategy, path, source, report, workload.output?.manifest.spec, spec.workloadRef !== undefined);

  const routing = obj(canaryStrategy.trafficRouting);
  const apex = apexServiceName(routing, rollout.ref.name, opts.serviceName);
  const stableService = str(canaryStrategy.stableService);
  const canaryService = str(canaryStrategy.canaryService);
  reportServices(source, path, apex, stableService, canaryService, report);
  const port = servicePort(rollout, stableService, workload, sources, report);
  const router = convertTrafficRouting(routing, child(path, "trafficRouting"), { sources, report, rollout, apex, stableService, canaryService, port: port.port });

  // Steps, and the analyses bound to them, in Argo's order.
  const serviceRenames = new Map<string, string>();
  if (canaryService !== undefined && canaryService !== `${apex}-canary`) serviceRenames.set(canaryService, `${apex}-canary`);
  if (stableService !== undefined && stableService !== `${apex}-primary` && stableService !== apex) serviceRenames.set(stableService, `${apex}-primary`);
  const ctx: AnalysisContext = { sources, report, rollout, templates, awsRegion: opts.awsRegion, serviceRenames };
  const placed: PlacedDraft[] = [];
  const dropped: { at: string; stepIndex: number }[] = [];
  const walk = walkSteps(canaryStrategy.steps, child(path, "steps"), {
    report,
    source,
    maxTrafficWeight: num(routing?.maxTrafficWeight) ?? 100,
    canMirror: router.canMirror,
    onAnalysis(analysis, at, position) {
      const run = convertAnalysisRun(ctx, analysis, at);
      for (const draft of run.drafts) placed.push({ draft, binding: { kind: "at", position } });
      if (run.drafts.length === 0) dropped.push({ at, stepIndex: position.stepIndex });
      return { durationMs: run.durationMs, metrics: run.drafts.length };
    },
  });
  const background = obj(canaryStrategy.analysis);
  if (background !== undefined) {
    const at = child(path, "analysis");
    const run = convertAnalysisRun(ctx, background, at);
    const starting = num(background.startingStep);
    const position = starting === undefined ? undefined : walk.positions[starting];
    if (starting !== undefined && position === undefined) report.lossy(source, child(at, "startingStep"), `there is no step ${starting}; the analysis is converted to run from the first step`);
    for (const draft of run.drafts) placed.push({ draft, binding: position === undefined ? { kind: "always" } : { kind: "from", position } });
  }
  const lastWeightStep = walk.steps.length - 1;
  for (const d of dropped) {
    const instead =
      d.stepIndex === 0
        ? "; to run something before any traffic moves, use a pre-rollout webhook"
        : d.stepIndex === lastWeightStep
          ? "; to run something after the last step, use a post-rollout webhook (after promotion)"
          : "";
    report.lossy(source, d.at, `none of its metrics could be converted (see the lines of its templates); the step is dropped${instead}`);
  }
  const schedule = buildSchedule(walk, placed, walk.gates.map((g) => g.stepIndex));
  const analysis: ConvertedAnalysis = { interval: checkInterval(schedule.metrics.map((m) => m.interval)), steps: schedule.steps };
  if (schedule.metrics.length > 0) analysis.metrics = schedule.metrics;
  const webhooks = gateWebhooks(walk.gates, lastWeightStep, opts.gateUrl, source, report);
  if (webhooks.length > 0) analysis.webhooks = webhooks;
  if (walk.mirror !== undefined) {
    analysis.mirror = true;
    if (walk.mirror.percentage < 100) analysis.mirrorWeight = walk.mirror.percentage;
  }

  const canarySpec: ConvertedCanarySpec = {
    provider: router.provider,
    targetRef: { apiVersion: "apps/v1", kind: "Deployment", name: workload.name },
    ...(router.ingressRef ? { ingressRef: router.ingressRef } : {}),
    ...(num(spec.progressDeadlineSeconds) !== undefined ? { progressDeadlineSeconds: num(spec.progressDeadlineSeconds)! } : {}),
    service: { name: apex, port: port.port, ...(port.targetPort !== undefined ? { targetPort: port.targetPort } : {}), ...(port.portName ? { portName: port.portName } : {}), ...router.service },
    analysis,
  };
  report.action(
    source,
    "",
    `cut over in this order: apply the Deployment, MetricTemplates and Canary; once Canary ${rollout.ref.name} reports Initialized (Service ${apex} then reaches ${workload.name}-primary), apply the rewritten routes${router.outputs.length > 0 ? " written here" : ""} and delete the Rollout. Until then its own pods keep serving${stableService ? ` through Service ${stableService}` : ""}`,
  );
  const metadata: OutputObject["manifest"]["metadata"] = { name: rollout.ref.name, ...(rollout.ref.namespace ? { namespace: rollout.ref.namespace } : {}) };
  if (spec.paused === true) metadata.annotations = { [ANNOTATION_PAUSED]: "true" };
  return {
    workload: [...workloadOutputs, ...router.outputs],
    canary: { from: source, manifest: { apiVersion: API_VERSION, kind: KIND_CANARY, metadata, spec: canarySpec as unknown as Obj } },
  };
}

/** The Canary's check interval: the shortest metric interval, else a minute. */
function checkInterval(intervals: (string | undefined)[]): string {
  let best: { text: string; ms: number } | undefined;
  for (const text of intervals) {
    const d = text === undefined ? undefined : tryParseDuration(text);
    if (d?.ok && d.ms > 0 && (best === undefined || d.ms < best.ms)) best = { text: text!, ms: d.ms };
  }
  return best?.text ?? "1m";
}

function gateWebhooks(gates: readonly Gate[], lastStep: number, url: string | undefined, source: string, report: Report): CanaryWebhook[] {
  if (gates.length === 0) return [];
  if (url === undefined) {
    for (const g of gates) {
      report.lossy(
        source,
        g.path,
        `waits at ${g.weight}% until a person promotes; aviary has no manual hold at one step: pass --gate-url to make it a ${g.stepIndex === lastStep ? "confirm-promotion" : "confirm-traffic-increase"} webhook, or hold a run with the ${ANNOTATION_PAUSED} annotation`,
      );
    }
    return [];
  }
  const hooks: CanaryWebhook[] = [];
  const beforeIncrease = gates.filter((g) => g.stepIndex !== lastStep);
  const beforePromotion = gates.filter((g) => g.stepIndex === lastStep);
  if (beforeIncrease.length > 0) {
    const weights = beforeIncrease.map((g) => g.weight).join(",");
    hooks.push({ name: "manual-gate", type: "confirm-traffic-increase", url, metadata: { pauseAtWeights: weights } });
    for (const g of beforeIncrease) {
      report.changed(source, g.path, `became the confirm-traffic-increase webhook manual-gate (${url}); aviary asks it before every weight increase, so it must open at once for weights other than ${weights} (its metadata lists them)`);
    }
  }
  if (beforePromotion.length > 0) {
    hooks.push({ name: "manual-promotion", type: "confirm-promotion", url });
    for (const g of beforePromotion) report.changed(source, g.path, `became the confirm-promotion webhook manual-promotion (${url}): the run waits at ${g.weight}% until it answers 200`);
  }
  return hooks;
}

function reportRolloutFields(spec: Obj, source: string, report: Report): void {
  for (const field of otherKeys(spec, SPEC_FIELDS)) report.lossy(source, `spec.${field}`, "has no aviary equivalent; dropped");
  if (spec.analysis !== undefined) report.changed(source, "spec.analysis", "aviary keeps no AnalysisRun history (status.lastAnalysis holds the last check's results); the history limits are dropped");
  if (spec.restartAt !== undefined) report.lossy(source, "spec.restartAt", "aviary has no scheduled restart; use kubectl rollout restart on the Deployment (a restart is a new revision and runs as a canary); dropped");
  if (spec.rollbackWindow !== undefined) report.lossy(source, "spec.rollbackWindow", "aviary has no fast-track rollback: an older revision runs as a canary like any other (only the last promoted one starts no run); dropped");
  if (spec.progressDeadlineSeconds !== undefined && spec.progressDeadlineAbort !== true) {
    report.changed(source, "spec.progressDeadlineSeconds", "Argo only marked the Rollout degraded when it passed (progressDeadlineAbort was not true); aviary rolls the canary back");
  }
  if (spec.paused === true) report.changed(source, "spec.paused", `became the Canary annotation ${ANNOTATION_PAUSED}: "true"; remove it to let runs proceed`);
}

function reportCanaryFields(c: Obj, path: string, source: string, report: Report, deploymentSpec: Obj | undefined, workloadRef: boolean): void {
  for (const field of otherKeys(c, CANARY_FIELDS)) report.lossy(source, child(path, field), "has no aviary equivalent; dropped");
  const surge = c.maxSurge;
  const unavailable = c.maxUnavailable;
  if (surge !== undefined || unavailable !== undefined) {
    const field = child(path, surge !== undefined ? "maxSurge" : "maxUnavailable");
    if (deploymentSpec !== undefined && !workloadRef) {
      deploymentSpec.strategy = { type: "RollingUpdate", rollingUpdate: { ...(surge !== undefined ? { maxSurge: surge } : {}), ...(unavailable !== undefined ? { maxUnavailable: unavailable } : {}) } };
      report.changed(source, field, "now paces the Deployment's own rolling updates (the primary's at promotion); canary and primary are separate Deployments");
    } else {
      report.changed(source, field, "dropped: the referenced Deployment's own rolling update settings apply");
    }
  }
  for (const field of ["scaleDownDelaySeconds", "abortScaleDownDelaySeconds", "scaleDownDelayRevisionLimit"]) {
    if (c[field] !== undefined) report.changed(source, child(path, field), "aviary scales the canary to zero as soon as traffic is back on the primary; dropped");
  }
  for (const field of ["canaryMetadata", "stableMetadata"]) {
    if (c[field] !== undefined) report.lossy(source, child(path, field), "pods get no per-role labels or annotations in aviary (canary and primary are separate Deployments); dropped");
  }
  if (c.dynamicStableScale === true) report.lossy(source, child(path, "dynamicStableScale"), "aviary keeps the primary at full size during a run; dropped");
  if (c.antiAffinity !== undefined) report.lossy(source, child(path, "antiAffinity"), "aviary sets no anti-affinity between canary and primary pods; add it to the pod template if needed; dropped");
  if (c.minPodsPerReplicaSet !== undefined) report.changed(source, child(path, "minPodsPerReplicaSet"), "aviary runs the canary at the Deployment's full replica count; dropped");
  if (c.pingPong !== undefined) report.lossy(source, child(path, "pingPong"), "aviary always promotes by copying the canary into the primary; dropped");
}

function reportServices(source: string, path: string, apex: string, stable: string | undefined, canary: string | undefined, report: Report): void {
  const created = `aviary creates Services ${apex}, ${apex}-primary and ${apex}-canary`;
  if (stable !== undefined) {
    if (stable === apex) {
      report.action(source, child(path, "stableService"), `Service ${stable} becomes the Canary's apex Service: aviary points its selector at the primary's pods; stop applying it from your manifests`);
    } else {
      report.action(source, child(path, "stableService"), `Service ${stable} is not used by the Canary (${created}): send clients and routes to ${apex} in place of ${stable}, then delete ${stable}`);
    }
  }
  if (canary !== undefined && canary !== `${apex}-canary`) {
    report.action(source, child(path, "canaryService"), `Service ${canary} is not used by the Canary: the canary's traffic goes to ${apex}-canary, which aviary creates; delete ${canary} after the cutover`);
  }
  if (canary === `${apex}-canary` || stable === `${apex}-primary`) {
    report.action(source, child(path, canary === `${apex}-canary` ? "canaryService" : "stableService"), `aviary manages the Service of that name from now on; stop applying it from your manifests`);
  }
}
