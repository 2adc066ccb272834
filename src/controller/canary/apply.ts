/**
 * Carries out the actions of a plan, in order. All cluster writes of the canary engine are
 * here: generated objects through server-side apply (fieldManager aviary), replica changes
 * through the scale subresource (which the admission webhook's replica guard leaves alone)
 * or, for a DaemonSet, by parking and unparking it (workload-kinds.ts), weights through the
 * router.
 */
import { ANNOTATION_CHANGED_BY, ANNOTATION_DESIRED_REPLICAS, ANNOTATION_REVISION, FINALIZER, LABEL_CANARY } from "../../api/types.ts";
import type { Canary, CanaryStatus } from "../../api/types.ts";
import type { EventRecorder, EventType } from "../../kube/events.ts";
import type { KubeClient } from "../../kube/types.ts";
import type { Logger } from "../../observability/logger.ts";
import type { AlertDispatcher } from "../../notifier/dispatcher.ts";
import type { Router } from "../../router/types.ts";
import type { CheckRunner } from "../checks/runner.ts";
import type { Action } from "./planner/plan.ts";
import { buildConfigCopy, configRefKey, configRefs } from "./config-refs.ts";
import { ALL_TO_PRIMARY } from "../../ground/split.ts";
import { buildFirstDeployServices } from "./expose.ts";
import { buildPrimaryWorkload, buildServices, serviceForApply } from "./objects.ts";
import { workloadKind } from "./workload-kinds.ts";
import { canaryOwnerReference, managedLabels, primaryDeploymentName, selectorLabel, serviceNames } from "../../ground/identity.ts";
import type { ConfigMapOrSecret, ConfigRef } from "./config-refs.ts";
import { workloadRef } from "../../ground/workloads.ts";
import type { Deployment, Service, Workload } from "../../ground/workloads.ts";
import { primaryFromSnapshot, writePrimarySnapshot } from "./primary-snapshot.ts";
import { adoptGenerated } from "./adopt.ts";

export interface ApplyContext {
  kube: KubeClient;
  router: Router;
  checks: CheckRunner;
  events: EventRecorder;
  logger: Logger;
  canary: Canary;
  /** The target workload as read for this reconcile; null when missing. */
  target: Workload | null;
  /**
   * Whether this reconcile saw the primary (observe.ts); `initialize` then does not read it
   * again. Unknown (read again) when absent.
   */
  primaryExists?: boolean;
  revision: string;
  /** The status plan is moving to: alerts describe the Canary as it will be. */
  nextStatus: CanaryStatus;
  alerts?: AlertDispatcher | undefined;
  signal: AbortSignal;
}

export async function applyActions(actions: readonly Action[], ctx: ApplyContext): Promise<void> {
  for (const action of actions) {
    await applyAction(action, ctx);
  }
}

async function applyAction(action: Action, ctx: ApplyContext): Promise<void> {
  const ns = ctx.canary.metadata.namespace ?? "default";
  switch (action.type) {
    case "initialize":
      return initialize(ctx, action.revision, action.replicas, action.apexOnTarget === true);
    case "exposeTarget":
      for (const svc of buildFirstDeployServices(ctx.canary, requireTarget(ctx))) await applyService(ctx, svc);
      return;
    case "promote":
      return promote(ctx, action.revision, action.replicas, action.configs);
    case "restorePrimary":
      await ctx.kube.apply(await primaryFromSnapshot(ctx.kube, ctx.canary, action.revision, action.replicas, ctx.signal), { signal: ctx.signal, force: true });
      return;
    case "adopt": {
      const adopted = await adoptGenerated({ kube: ctx.kube, canary: ctx.canary, target: ctx.target, signal: ctx.signal, now: () => new Date() });
      ctx.logger.info("took over the objects Flagger generated", { objects: adopted });
      return;
    }
    case "scaleTarget":
      return scale(ctx, ctx.canary.spec.targetRef.name, action.replicas);
    case "scalePrimary":
      return scale(ctx, primaryDeploymentName(ctx.canary), action.replicas);
    case "setRoutes":
      return ctx.router.setRoutes(ctx.canary, { primary: action.primary, canary: action.canary, mirror: action.mirror ?? false }, ctx.signal);
    case "event": {
      const type: EventType = action.severity === "info" ? "Normal" : "Warning";
      // A transition planned again from the same state (its status write failed, or the
      // leader died before it) is the same fact: told, hooked and alerted once.
      const once = [action.reason, action.message, transitionState(ctx.canary.status)].join("\u0000");
      if (!(await ctx.events.record(ctx.canary, type, action.reason, action.message, { once }))) return;
      ctx.logger[action.severity === "error" ? "warn" : "info"](action.message, { reason: action.reason });
      await notifyEventHooks(ctx, action.reason, action.message, type);
      if (action.alert) await sendAlerts(ctx, action.reason, action.message, action.severity);
      return;
    }
    case "webhook": {
      const results = await ctx.checks.notify(action.hook, { canary: ctx.canary, revision: action.revision, phase: action.phase, signal: ctx.signal });
      for (const r of results.filter((x) => x.verdict !== "pass")) {
        ctx.logger.warn(`${action.hook} webhook ${r.name} failed: ${r.message}`);
      }
      return;
    }
    case "finalize":
      if (action.revert) await revert(ctx);
      else if (ctx.router.restoresOnDeletion === true) await ctx.router.finalize(ctx.canary, ctx.signal);
      await removeFinalizer(ctx);
      return;
    case "clearRequest":
      await ctx.kube.mergePatch(
        { apiVersion: ctx.canary.apiVersion, kind: ctx.canary.kind, namespace: ns, name: ctx.canary.metadata.name },
        { metadata: { annotations: { [action.annotation]: null } } },
        { signal: ctx.signal },
      );
      return;
  }
}

/**
 * Where a run stands, as far as its transitions go: what a retried transition starts from
 * again, and what differs when the same words are said of a later run. Conditions, analysis
 * results and check times are left out: they change while a transition is held.
 */
function transitionState(s: CanaryStatus | undefined): string {
  return JSON.stringify([s?.phase, s?.lastAppliedSpec, s?.lastPromotedSpec, s?.canaryRevision, s?.canaryWeight, s?.iterations, s?.failedChecks, s?.stepIndex, s?.lastTransitionTime]);
}

async function notifyEventHooks(ctx: ApplyContext, reason: string, message: string, type: EventType): Promise<void> {
  const results = await ctx.checks.notify(
    "event",
    { canary: ctx.canary, revision: ctx.revision, phase: ctx.canary.status?.phase ?? "Initializing", signal: ctx.signal },
    { eventMessage: message, eventType: type, eventReason: reason },
  );
  for (const r of results.filter((x) => x.verdict !== "pass")) ctx.logger.warn(`event webhook ${r.name} failed: ${r.message}`);
}

/** Alerts never block or fail a run: problems become a log line and a Warning event. */
async function sendAlerts(ctx: ApplyContext, reason: string, message: string, severity: "info" | "warn" | "error"): Promise<void> {
  if (!ctx.alerts || (ctx.canary.spec.analysis?.alerts ?? []).length === 0) return;
  const problems = await ctx.alerts.dispatch(
    { ...ctx.canary, status: ctx.nextStatus },
    { reason, message, severity, changedBy: ctx.target?.metadata.annotations?.[ANNOTATION_CHANGED_BY], revision: ctx.revision },
    ctx.signal,
  );
  for (const p of problems) {
    ctx.logger.warn(`alert ${p.alert} via ${p.provider} failed: ${p.message}`);
    await ctx.events.record(ctx.canary, "Warning", "AlertFailed", `alert ${p.alert} via AlertProvider ${p.provider}: ${p.message}`);
  }
}

function requireTarget(ctx: ApplyContext): Workload {
  if (!ctx.target) throw new Error(`target ${targetName(ctx)} disappeared during the reconcile`);
  return ctx.target;
}

/**
 * Copies every ConfigMap/Secret the target references to `<name>-primary`; returns the copied
 * refs. A config in `required` (the ones a promotion was analysed with) that is missing fails
 * the copy: the primary must never be left pointing at an original instead of its copy.
 */
async function copyConfigs(ctx: ApplyContext, target: Workload, required: readonly string[] = []): Promise<ConfigRef[]> {
  const ns = target.metadata.namespace;
  const owner = canaryOwnerReference(ctx.canary);
  const copied: ConfigRef[] = [];
  for (const ref of configRefs(target.spec.template)) {
    const source = await ctx.kube.get<ConfigMapOrSecret>({ apiVersion: "v1", kind: ref.kind, namespace: ns, name: ref.name }, { signal: ctx.signal });
    if (!source) {
      if (required.includes(configRefKey(ref))) throw new RevisionMovedError(`${configRefKey(ref)} disappeared during the promotion of ${targetName(ctx)}`);
      continue; // an optional reference; the pods see the same absence
    }
    await ctx.kube.apply(buildConfigCopy(source, owner, managedLabels(ctx.canary)), { signal: ctx.signal, force: true });
    copied.push(ref);
  }
  return copied;
}

async function initialize(ctx: ApplyContext, revision: string, replicas: number | null, apexOnTarget: boolean): Promise<void> {
  const target = requireTarget(ctx);
  // The label lets the admission webhook's objectSelector find the targets aviary manages.
  // The desired size is recorded before the target is scaled to zero, so it is never lost.
  const patch: { labels?: Record<string, string>; annotations?: Record<string, string> } = {};
  if (target.metadata.labels?.[LABEL_CANARY] !== ctx.canary.metadata.name) patch.labels = { [LABEL_CANARY]: ctx.canary.metadata.name };
  const sized = workloadKind(target.kind).info.sizing === "replicas";
  if (sized && target.metadata.annotations?.[ANNOTATION_DESIRED_REPLICAS] === undefined) {
    patch.annotations = { [ANNOTATION_DESIRED_REPLICAS]: String(desiredReplicas(target as Deployment)) };
  }
  const services = buildServices(ctx.canary, target);
  const apex = apexOnTarget ? (buildFirstDeployServices(ctx.canary, target)[0] ?? services.apex) : services.apex;
  // The target's label, the three Services and the read of the primary do not depend on each
  // other: one round trip instead of five.
  const [existing] = await Promise.all([
    ctx.primaryExists !== undefined ? ctx.primaryExists : ctx.kube.get<Workload>(workloadRef(ctx.canary, primaryDeploymentName(ctx.canary)), { signal: ctx.signal }),
    patch.labels || patch.annotations ? ctx.kube.mergePatch(workloadRef(ctx.canary, target.metadata.name), { metadata: patch }, { signal: ctx.signal }) : undefined,
    ...[services.primary, services.canary, apex].map((svc) => applyService(ctx, svc)),
  ]);
  // Route objects exist before the primary so a mesh's sidecar injection finds them. The
  // split is given: without one a router keeps what it reads, and a hand-edited route would
  // first be written back with its edited weights, then corrected.
  await ctx.router.reconcile(ctx.canary, ctx.signal, { ...ALL_TO_PRIMARY });
  if (existing) return; // never overwrite a primary that already serves: only promotion changes it
  const copied = await copyConfigs(ctx, target);
  // A primary created for the first time has no snapshot yet, as a rule.
  await applyPrimary(ctx, primaryFor(ctx, target, revision, replicas, copied), revision, true);
}

/**
 * Applies the primary and records it as the snapshot a deleted primary is rebuilt from, side
 * by side: the snapshot is built from what is applied, not from the answer. Should one of the
 * two fail the reconcile retries both; a snapshot ahead of its primary is only ever read for a
 * missing primary, which is then rebuilt with the revision being applied anyway.
 */
async function applyPrimary(ctx: ApplyContext, primary: Workload, revision: string, firstSnapshot = false): Promise<void> {
  await Promise.all([
    ctx.kube.apply(primary, { signal: ctx.signal, force: true }),
    writePrimarySnapshot(ctx.kube, ctx.canary, primary, revision, ctx.signal, { firstSnapshot }),
  ]);
}

/** The primary built from the target, stamped with the revision it carries. */
function primaryFor(ctx: ApplyContext, target: Workload, revision: string, replicas: number | null, copied: ConfigRef[]): Workload {
  const primary = buildPrimaryWorkload({ target, canary: ctx.canary, replicas: replicas ?? 0, copiedConfigs: copied });
  if (replicas === null) delete primary.spec.replicas; // the autoscaler owns them
  const annotations: Record<string, string> = { ...(primary.metadata.annotations ?? {}), [ANNOTATION_REVISION]: revision };
  const by = target.metadata.annotations?.[ANNOTATION_CHANGED_BY];
  if (by) annotations[ANNOTATION_CHANGED_BY] = by;
  primary.metadata.annotations = annotations;
  return primary;
}

async function promote(ctx: ApplyContext, revision: string, replicas: number | null, configs: readonly string[]): Promise<void> {
  const target = requireTarget(ctx);
  if (ctx.revision !== revision) {
    // The target changed between plan and apply; the next reconcile sees the new revision.
    throw new RevisionMovedError(`target ${targetName(ctx)} moved from revision ${revision} to ${ctx.revision} during promotion`);
  }
  const copied = await copyConfigs(ctx, target, configs);
  await applyPrimary(ctx, primaryFor(ctx, target, revision, replicas, copied), revision);
  // Services keep following the selector; re-apply them in case the Canary's ports changed.
  const services = buildServices(ctx.canary, target);
  // The three Services do not depend on each other: one round trip instead of three.
  await Promise.all([services.primary, services.canary, services.apex].map((svc) => applyService(ctx, svc)));
}

/** The apex exists when it is reverted: its address stays. */
const withoutClusterIP = ({ clusterIP: _ip, ...spec }: Service["spec"]): Service["spec"] => spec;

/**
 * A generated Service, applied so that the stored one keeps its clusterIP (objects.ts). Only a
 * headless Service names a clusterIP; any other is applied as built, without reading it first.
 */
async function applyService(ctx: ApplyContext, svc: Service): Promise<void> {
  const ref = { apiVersion: "v1", kind: "Service", namespace: svc.metadata.namespace ?? "default", name: svc.metadata.name };
  const stored = svc.spec.clusterIP === undefined ? null : await ctx.kube.get<Service>(ref, { signal: ctx.signal });
  await ctx.kube.apply(serviceForApply(svc, stored), { signal: ctx.signal, force: true });
}

/** Scales a Deployment through its scale subresource; parks (0) or unparks a DaemonSet. */
async function scale(ctx: ApplyContext, name: string, replicas: number): Promise<void> {
  const { patch, subresource } = workloadKind(ctx.canary.spec.targetRef.kind).sizePatch(replicas);
  await ctx.kube.mergePatch(workloadRef(ctx.canary, name), patch, { signal: ctx.signal, ...(subresource ? { subresource } : {}) });
}

/** `deployment/podinfo`, `daemonset/node-agent`: the target as kubectl names it. */
const targetName = (ctx: ApplyContext): string => `${(ctx.canary.spec.targetRef.kind ?? "Deployment").toLowerCase()}/${ctx.canary.spec.targetRef.name}`;

/** A retryable failure: the world moved under the plan. */
export class RevisionMovedError extends Error {
  readonly retryable = true;
  constructor(message: string) {
    super(message);
    this.name = "RevisionMovedError";
  }
}

async function removeFinalizer(ctx: ApplyContext): Promise<void> {
  const finalizers = ctx.canary.metadata.finalizers ?? [];
  if (!finalizers.includes(FINALIZER)) return;
  const ref = { apiVersion: ctx.canary.apiVersion, kind: ctx.canary.kind, namespace: ctx.canary.metadata.namespace ?? "default", name: ctx.canary.metadata.name };
  // The resourceVersion makes this fail (409) rather than drop a finalizer someone else just added.
  const patch = { metadata: { finalizers: finalizers.filter((f) => f !== FINALIZER), resourceVersion: ctx.canary.metadata.resourceVersion } };
  await ctx.kube.mergePatch(ref, patch, { signal: ctx.signal });
}

/**
 * revertOnDeletion: plan has already scaled the target up and waited for it; point the
 * routes and the apex Service back at it, then remove what aviary generated, in that order
 * so no request is dropped.
 */
async function revert(ctx: ApplyContext): Promise<void> {
  const target = ctx.target;
  const ns = ctx.canary.metadata.namespace ?? "default";
  await ctx.router.finalize(ctx.canary, ctx.signal);
  if (target) {
    const services = buildServices(ctx.canary, target);
    const { key, value } = selectorLabel(target);
    // Applied without owner reference and aviary's labels: the apex Service outlives the
    // Canary (server-side apply drops the fields aviary owned and no longer sends).
    const apex = services.apex;
    await ctx.kube.apply(
      { apiVersion: apex.apiVersion, kind: apex.kind, metadata: { name: apex.metadata.name, namespace: ns }, spec: { ...withoutClusterIP(apex.spec), selector: { [key]: value } } },
      { signal: ctx.signal, force: true },
    );
  }
  const names = serviceNames(ctx.canary);
  for (const name of [names.primary, names.canary]) {
    await ctx.kube.delete({ apiVersion: "v1", kind: "Service", namespace: ns, name }, { signal: ctx.signal });
  }
  await ctx.kube.delete(workloadRef(ctx.canary, primaryDeploymentName(ctx.canary)), { signal: ctx.signal, propagationPolicy: "Background" });
}

/** What the user asked for: the replica guard's annotation, else the target's own spec. */
export function desiredReplicas(target: Deployment): number {
  const raw = target.metadata.annotations?.[ANNOTATION_DESIRED_REPLICAS];
  const fromAnnotation = raw === undefined ? NaN : Number(raw);
  if (Number.isInteger(fromAnnotation) && fromAnnotation >= 0) return fromAnnotation;
  const spec = target.spec.replicas ?? 1;
  return spec > 0 ? spec : 1;
}
