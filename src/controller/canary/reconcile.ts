/**
 * reconcile(namespace/name): read the Canary and the world around it, let `plan` decide,
 * run the checks it asks for, apply its actions and write the status it returns.
 * Level-triggered: it never asks what event woke it, only what is there now.
 */
import { randomUUID } from "node:crypto";
import { withDefaults } from "../../api/defaults.ts";
import { TerminalError, isTerminal } from "../../ground/errors.ts";
import type { KindedError } from "../../ground/errors.ts";
import { ANNOTATION_DESIRED_REPLICAS, FINALIZER } from "../../api/types.ts";
import { DEFAULT_API } from "../../api/groups.ts";
import type { ApiGroup } from "../../api/groups.ts";
import type { Canary, CanaryCondition, CanaryStatus, RouterProvider } from "../../api/types.ts";
import { effectiveProvider } from "../../api/providers.ts";
import { errorsOf, formatProblems, validateCanary } from "../../api/validate.ts";
import type { EventRecorder } from "../../kube/events.ts";
import { updateStatus } from "../../kube/status.ts";
import type { KubeClient, ObjectRef } from "../../kube/types.ts";
import type { Logger } from "../../observability/logger.ts";
import type { AlertDispatcher } from "../../notifier/dispatcher.ts";
import type { RouterRegistry } from "../../router/registry.ts";
import type { Router } from "../../router/types.ts";
import type { HandlerResult } from "../workqueue.ts";
import type { CheckRunner } from "../checks/runner.ts";
import { applyActions } from "./apply.ts";
import { syncPrimaryAutoscaler } from "./autoscaler.ts";
import { observe } from "./observe.ts";
import { namespaceTerminating, restoreConfigCopies, restoreServices } from "./restore.ts";
import type { RestoreResult } from "./restore.ts";
import { workloadRef } from "../../ground/workloads.ts";
import type { Workload } from "../../ground/workloads.ts";
import type { HashKeys } from "../../kube/hash-key.ts";
import { plan } from "./planner/plan.ts";
import { runShapeOf } from "./planner/strategy.ts";
import { inFirstDeploy } from "./planner/first-deploy.ts";
import { splitForStatus } from "./planner/weights.ts";
import { sameSplit } from "../../ground/split.ts";
import type { Split } from "../../ground/split.ts";
import type { Observed, Plan } from "./planner/plan.ts";
import { withProviderStatus } from "./provider-status.ts";

export interface ReconcilerDeps {
  kube: KubeClient;
  routers: RouterRegistry;
  checks: CheckRunner;
  events: EventRecorder;
  logger: Logger;
  now?: () => number;
  /** How soon a Canary stuck on a terminal problem (a missing CRD, a bad selector) is looked at again. */
  terminalRetryMs?: number;
  alerts?: AlertDispatcher;
  /** Called after every reconcile with the Canary's new status (metrics, CLI watchers). */
  onStatus?: (canary: Canary, status: CanaryStatus) => void;
  /**
   * The keys Secret content is hashed with for status.trackedConfigs (kube/hash-key.ts); the
   * Canary's uid when absent.
   */
  hashKeys?: HashKeys;
  /** Called when the Canary no longer exists (metrics drop its series). */
  onGone?: (namespace: string, name: string) => void;
  /** The router for Canaries without spec.provider (--mesh-provider); default kubernetes. */
  meshProvider?: RouterProvider;
  /** The group Canaries are served in (--api-group); default aviary.dev. */
  api?: ApiGroup;
}

/** The plan loop: ask, answer, ask again. plan never asks twice for the same kind. */
export async function decide(observed: Observed, answer: (p: Extract<Plan, { kind: "need" }>) => Promise<Observed["checks"]>): Promise<Extract<Plan, { kind: "act" }>> {
  let p = plan(observed);
  for (let round = 0; p.kind === "need"; round++) {
    if (round >= 4) throw new Error(`plan kept asking for checks (${p.checks.join(", ")})`);
    observed = { ...observed, checks: { ...observed.checks, ...(await answer(p)) } };
    p = plan(observed);
  }
  return p;
}

export function createCanaryReconciler(deps: ReconcilerDeps) {
  const now = deps.now ?? Date.now;
  const terminalRetryMs = deps.terminalRetryMs ?? 60_000;
  const api = deps.api ?? DEFAULT_API;

  return async function reconcile(key: string, signal: AbortSignal): Promise<HandlerResult> {
    const [namespace, name] = splitKey(key);
    const ref: ObjectRef = { ...api.canary, namespace, name };
    const log = deps.logger.child({ namespace, name, reconcileId: randomUUID().slice(0, 8) });
    const stored = await deps.kube.get<Canary>(ref, { signal });
    if (!stored) {
      // Deleted: owner references let the garbage collector remove what aviary made.
      deps.onGone?.(namespace, name);
      return {};
    }

    const problems = errorsOf(validateCanary(stored, { defaultProvider: deps.meshProvider, apiVersion: api.apiVersion }));
    if (problems.length > 0) {
      await reportInvalid(stored, formatProblems(problems), deps, ref, now, signal);
      log.warn("invalid canary; nothing is touched until it is fixed", { problems: problems.map((p) => `${p.path}: ${p.rule}`) });
      return {};
    }
    // From here on spec.provider is the provider in effect: routing, plan and built-in metrics read it.
    const canary = withDefaults(stored, { defaultProvider: deps.meshProvider });

    try {
      const router = deps.routers.get(canary.spec.provider);
      if (await syncFinalizer(canary, router, deps.kube, ref, signal)) return { requeueAfterMs: 0 };
      // A namespace being deleted loses its objects in no particular order; nothing is
      // restored or created in it (the API server would refuse), and plan starts nothing.
      const terminating = await namespaceTerminating(deps.kube, namespace, signal);
      const restored = terminating ? { restored: [], missing: [] } : await restoreGenerated(canary, deps.kube, signal);
      if (restored.restored.length > 0) log.info("generated objects restored", { objects: restored.restored });
      if (restored.failures !== undefined) log.warn("generated objects could not be restored; the run holds its weight", { failures: restored.failures });
      // The status owns the weights (ground/split.ts): route objects are brought back to the
      // split it implies, and to the rest of their content, in one write; that read is the
      // only one, and what it found tells whether they had drifted.
      let routes: Split | null | undefined;
      if (!terminating && keepsRoutes(canary)) {
        const want = splitForStatus(runShapeOf(canary), canary.status ?? {});
        const { changed, split } = await router.reconcile(canary, signal, want);
        routes = split?.now ?? null;
        if (split !== undefined && split.before !== null && !sameSplit(split.before, want)) {
          log.info("route weights had drifted from the status; corrected", { router: router.name, found: split.before, status: want });
        } else if (changed) {
          log.info("route objects restored to aviary's desired state", { router: router.name });
        }
      }
      const { observed, target } = await observe(canary, { kube: deps.kube, router, now, routes, namespaceTerminating: terminating, missingObjects: restored.missing, ...(deps.hashKeys ? { hashKeys: deps.hashKeys } : {}) }, signal);
      // A config copy holds promoted content: it is rebuilt from its source only while the
      // target carries the promoted revision (then the source has exactly that content).
      if (!terminating && target !== null && canary.spec.suspend !== true && IDLE_PHASES.has(canary.status?.phase ?? "") && observed.revision === canary.status?.lastPromotedSpec && observed.missingConfigs?.length === 0) {
        const copies = await restoreConfigCopies(deps.kube, canary, target, signal);
        if (copies.length > 0) log.info("generated objects restored", { objects: copies });
      }
      if (await adoptUserScale(canary, observed, deps.kube, signal)) log.info("the idle target was scaled by hand: that is the new desired size", { replicas: observed.target?.desiredReplicas });
      const decision = await decide(observed, async (need) => {
        log.debug("running checks", { checks: need.checks });
        return deps.checks.run(need.checks, { canary, revision: observed.revision, phase: canary.status?.phase ?? "Initializing", signal, ...(need.metrics ? { metrics: need.metrics } : {}) });
      });
      const provider = effectiveProvider(stored, deps.meshProvider).name;
      const status = withProviderStatus(clearReadyProblem(decision.status, now), stored, provider, new Date(now()).toISOString());
      const ctx = { kube: deps.kube, router, checks: deps.checks, events: deps.events, alerts: deps.alerts, logger: log, canary, target, primaryExists: observed.primary !== null, revision: observed.revision, nextStatus: status, signal };
      // aviary may die, or lose the API server, between any two writes; the order of writes
      // makes every such gap safe. The status that implies a new split is written before the
      // route moves, so a gap leaves the route behind the status (the next reconcile moves it
      // on) and never ahead of it (which the next reconcile would take back: traffic going
      // backwards within a run). The transition's events go out before the status records it,
      // so a gap never loses them; a retry plans the same transition from the same status and
      // the recorder knows it told it (apply.ts), so nothing is told twice either. The events and
      // the writes before the route move do not depend on each other: they go out side by side,
      // both before the status (a new revision is recorded one round trip sooner).
      const writes = decision.actions.filter((a) => a.type !== "event");
      const routeAt = writes.findIndex((a) => a.type === "setRoutes");
      const first = routeAt >= 0 ? writes.slice(0, routeAt) : writes;
      await Promise.all([applyActions(first, ctx), applyActions(decision.actions.filter((a) => a.type === "event"), ctx)]);
      if (routeAt < 0 && keepsAutoscaler(canary, observed, decision.actions)) await syncPrimaryAutoscaler(deps.kube, canary, status.phase, signal);
      const written = (await writeStatus(deps.kube, ref, stored, status, signal)) ?? stored;
      if (routeAt >= 0) {
        await applyActions(writes.slice(routeAt), ctx);
        if (keepsAutoscaler(canary, observed, decision.actions)) await syncPrimaryAutoscaler(deps.kube, canary, status.phase, signal);
        await writeStatus(deps.kube, ref, written, status, signal);
      }
      deps.onStatus?.(canary, status);
      if (decision.status.phase !== stored.status?.phase) {
        log.info(`phase ${stored.status?.phase ?? "(none)"} → ${decision.status.phase}`, { weight: decision.status.canaryWeight, failedChecks: decision.status.failedChecks });
      }
      return decision.requeueAfterMs === null ? {} : { requeueAfterMs: decision.requeueAfterMs };
    } catch (err) {
      if (!isTerminal(err)) throw err;
      log.warn(`cannot reconcile: ${err.message}`, { error: err.name });
      await reportTerminal(stored, err, deps, ref, now, signal);
      return { requeueAfterMs: terminalRetryMs };
    }
  };
}

function splitKey(key: string): [string, string] {
  const i = key.indexOf("/");
  if (i <= 0) throw new TerminalError(`bad work-queue key "${key}": want namespace/name`);
  return [key.slice(0, i), key.slice(i + 1)];
}

/**
 * After initialization (a first-deploy analysis has none yet), while the Canary is not being
 * deleted: the generated Services are put back before plan looks. Suspended Canaries only
 * have missing Services reported.
 */
async function restoreGenerated(canary: Canary, kube: KubeClient, signal: AbortSignal): Promise<RestoreResult> {
  const phase = canary.status?.phase;
  if (phase === undefined || phase === "Initializing" || inFirstDeploy(canary) || canary.metadata.deletionTimestamp !== undefined) return { restored: [], missing: [] };
  const target = await kube.get<Workload>(workloadRef(canary), { signal });
  if (target === null || target.metadata.deletionTimestamp !== undefined) return { restored: [], missing: [] };
  const write = canary.spec.suspend !== true;
  return restoreServices(kube, canary, target, write, signal);
}

/** After initialization (a first-deploy analysis has no primary to route to), while the Canary is neither suspended nor being deleted. */
function keepsRoutes(canary: Canary): boolean {
  const phase = canary.status?.phase;
  if (inFirstDeploy(canary)) return false;
  return phase !== undefined && phase !== "Initializing" && canary.spec.suspend !== true && canary.metadata.deletionTimestamp === undefined;
}

/** The primary's autoscaler copy follows the primary: once it exists, until the Canary goes. */
function keepsAutoscaler(canary: Canary, observed: Observed, actions: readonly { type: string }[]): boolean {
  if (canary.spec.autoscalerRef === undefined || canary.spec.suspend === true || canary.metadata.deletionTimestamp !== undefined) return false;
  return observed.primary !== null || actions.some((a) => a.type === "initialize");
}

const IDLE_PHASES: ReadonlySet<string> = new Set(["Initialized", "Succeeded", "Failed"]);

/**
 * `kubectl scale` and autoscalers act through the scale subresource, which the admission
 * webhook leaves alone. A scale of an idle target (no new revision) is the user's new
 * desired size: it is recorded on the target, and plan then sizes the primary from it and
 * returns the target to zero.
 */
async function adoptUserScale(canary: Canary, observed: Observed, kube: KubeClient, signal: AbortSignal): Promise<boolean> {
  const t = observed.target;
  const status = canary.status ?? {};
  if (!t || !IDLE_PHASES.has(status.phase ?? "") || observed.revision !== status.lastAppliedSpec) return false;
  // A DaemonSet has no count to adopt: one unparked by hand is parked again by plan.
  if (t.sizing === "nodes" || t.specReplicas < 1 || t.specReplicas === t.desiredReplicas || canary.spec.autoscalerRef !== undefined) return false;
  await kube.mergePatch(workloadRef(canary, t.name), { metadata: { annotations: { [ANNOTATION_DESIRED_REPLICAS]: String(t.specReplicas) } } }, { signal });
  observed.target = { ...t, desiredReplicas: t.specReplicas };
  return true;
}

/** Adds or removes aviary's finalizer to match revertOnDeletion (or a router that must restore a user's object); true when it wrote. */
async function syncFinalizer(canary: Canary, router: Router, kube: KubeClient, ref: ObjectRef, signal: AbortSignal): Promise<boolean> {
  if (canary.metadata.deletionTimestamp !== undefined) return false; // plan's finalize removes it
  const finalizers = canary.metadata.finalizers ?? [];
  const has = finalizers.includes(FINALIZER);
  const wants = canary.spec.revertOnDeletion === true || router.restoresOnDeletion === true;
  if (has === wants) return false;
  const next = wants ? [...finalizers, FINALIZER] : finalizers.filter((f) => f !== FINALIZER);
  await kube.mergePatch(ref, { metadata: { finalizers: next, resourceVersion: canary.metadata.resourceVersion } }, { signal });
  return true;
}

/**
 * Writes the status plan returned, through kube/status.ts's one path: a merge patch against
 * the Canary as read at the start of this reconcile, guarded by its resourceVersion; a 409
 * (the Canary moved meanwhile, e.g. an action cleared a request annotation) re-reads and
 * retries, since plan's status is complete. After a finalize the Canary may be gone.
 */
async function writeStatus(kube: KubeClient, ref: ObjectRef, stored: Canary, next: CanaryStatus, signal: AbortSignal): Promise<Canary | null> {
  return updateStatus<Canary, CanaryStatus>(kube, ref, () => next, { signal, read: stored });
}

/** Sets one condition, keeping lastTransitionTime when its status did not change. */
export function setCondition(conditions: readonly CanaryCondition[] | undefined, next: CanaryCondition): CanaryCondition[] {
  const list = [...(conditions ?? [])];
  const i = list.findIndex((c) => c.type === next.type);
  const prev = i >= 0 ? list[i] : undefined;
  const merged = { ...next, lastTransitionTime: prev && prev.status === next.status ? prev.lastTransitionTime : next.lastTransitionTime };
  if (i >= 0) list[i] = merged;
  else list.push(merged);
  return list;
}

async function reportCondition(stored: Canary, condition: CanaryCondition, eventReason: string, deps: ReconcilerDeps, ref: ObjectRef, signal: AbortSignal): Promise<void> {
  const prev = stored.status?.conditions?.find((c) => c.type === condition.type);
  if (prev?.status === condition.status && prev.message === condition.message) return; // already said
  await updateStatus<Canary, CanaryStatus>(deps.kube, ref, (status, current) => ({
    ...status,
    conditions: setCondition(status.conditions, condition),
    observedGeneration: current.metadata.generation,
  }), { signal, read: stored });
  await deps.events.record(stored, "Warning", eventReason, condition.message ?? "");
}

/** A reconcile that went through ends an earlier invalid-spec or terminal-error report. */
function clearReadyProblem(status: CanaryStatus, now: () => number): CanaryStatus {
  const ready = status.conditions?.find((c) => c.type === "Ready");
  if (!ready || ready.status === "True") return status;
  const time = new Date(now()).toISOString();
  const conditions = setCondition(status.conditions, { type: "Ready", status: "True", reason: "Reconciled", message: "the spec is valid and every object could be reconciled", lastUpdateTime: time, lastTransitionTime: time });
  return { ...status, conditions };
}

/** An invalid spec: a `Ready=False` condition and a Warning event naming each field and rule. */
async function reportInvalid(stored: Canary, message: string, deps: ReconcilerDeps, ref: ObjectRef, now: () => number, signal: AbortSignal): Promise<void> {
  const time = new Date(now()).toISOString();
  await reportCondition(stored, { type: "Ready", status: "False", reason: "InvalidSpec", message, lastUpdateTime: time, lastTransitionTime: time }, "InvalidSpec", deps, ref, signal);
}

async function reportTerminal(stored: Canary, err: KindedError, deps: ReconcilerDeps, ref: ObjectRef, now: () => number, signal: AbortSignal): Promise<void> {
  const time = new Date(now()).toISOString();
  const reason = err.name.replace(/Error$/, "") || "ReconcileFailed";
  await reportCondition(stored, { type: "Ready", status: "False", reason, message: err.message, lastUpdateTime: time, lastTransitionTime: time }, reason, deps, ref, signal);
}
