/**
 * A tiny simulated world for driving `plan` through whole runs: Deployments that become
 * ready after a delay (or never), a router whose weights can be read back, webhooks whose
 * answers the test scripts, and a clock. `step` is one reconcile (plan, checks, plan again,
 * apply); `run` keeps reconciling, waking up like the controller would: at the requeue
 * time, when a Deployment it scaled becomes ready (the watch), and right after any status
 * change (the Canary watch sees its own status write). That last rule also checks that a
 * reconcile repeated at once never repeats an action.
 */
import assert from "node:assert/strict";
import { withDefaults } from "../../../../src/api/defaults.ts";
import { ANNOTATION_ABORT, ANNOTATION_PROMOTE, ANNOTATION_RETRY, API_VERSION } from "../../../../src/api/types.ts";
import type { Canary, CanaryAnalysis, CanarySpec, CanaryStatus, CanaryWebhook } from "../../../../src/api/types.ts";
import { plan } from "../../../../src/controller/canary/planner/plan.ts";
import type { Split } from "../../../../src/ground/split.ts";
import type { Action, CheckKind, CheckOutcome, Observed, Plan, Requests, WorkloadState } from "../../../../src/controller/canary/planner/plan.ts";

export const T0 = Date.UTC(2025, 0, 1, 12, 0, 0);
export const INTERVAL = 10_000;

export interface SimDeployment {
  name: string;
  specReplicas: number;
  desiredReplicas: number;
  generation: number;
  templateHash: string;
  revision?: string;
  /** Pods become available this long after a change; null: never (a crashing image). */
  readyDelayMs: number | null;
  changedAt: number;
  progressDeadlineExceeded: boolean;
  /** metadata.deletionTimestamp is set. */
  deleting?: boolean;
}

export interface World {
  now: number;
  canary: Canary;
  target: SimDeployment | null;
  primary: SimDeployment | null;
  trackedConfigs: Record<string, string>;
  routes: Split | null;
  /** false: setRoutes is accepted but the read-back never changes (a stuck router). */
  routerApplies: boolean;
  requests: Requests;
  deleting: boolean;
  namespaceTerminating: boolean;
  /** Required configs of the target that do not exist (`Secret/<name>`). */
  missingConfigs: string[];
  /** Generated Services missing after the reconciler's restore. */
  missingObjects: string[];
  /** The primary's snapshot, as `initialize` and `promote` write it (the ControllerRevision). */
  snapshot: { revision: string; templateHash: string; replicas: number | null } | null;
  /** `metrics`: the metrics plan asked the analysis to measure (absent: all). */
  answers: Partial<Record<CheckKind, (w: World, metrics?: string[]) => CheckOutcome>>;
  /** Every check run, with the time, the canary weight at that moment and the metrics asked for. */
  checks: { at: number; kind: CheckKind; weight: number; metrics?: string[] }[];
  log: { at: number; action: Action }[];
  wakeups: number[];
  lastPlan?: Plan;
  /** finalize ran: the Canary is gone and nothing reconciles it any more. */
  gone: boolean;
}

export const pass = (): CheckOutcome => ({ ok: true, results: [] });
export const fail = (message = "HTTP 500"): CheckOutcome => ({
  ok: false,
  results: [{ name: "load-test", kind: "webhook", verdict: "fail", message, time: new Date(T0).toISOString() }],
});
export const halted = (why = "prometheus unreachable"): CheckOutcome => ({ ok: false, halted: why, results: [] });

/** Checks pass and gates open by default; a rollback webhook by default does not ask for a rollback. */
const defaultAnswer = (kind: CheckKind): ((w: World) => CheckOutcome) =>
  kind === "rollback" ? () => ({ ok: false, results: [] }) : pass;

export const hook = (type: CanaryWebhook["type"], name: string = type ?? "rollout"): CanaryWebhook => ({ name, type, url: `http://hooks.test/${name}` });

export function makeCanary(analysis: CanaryAnalysis, spec: Partial<CanarySpec> = {}): Canary {
  return withDefaults({
    apiVersion: API_VERSION,
    kind: "Canary",
    metadata: { name: "podinfo", namespace: "test", generation: 1 },
    spec: {
      provider: "gatewayapi",
      targetRef: { name: "podinfo" },
      service: { port: 9898 },
      progressDeadlineSeconds: 60,
      ...spec,
      analysis: { interval: "10s", threshold: 2, ...analysis },
    },
  });
}

export function simDeployment(name: string, replicas: number, templateHash: string, now: number): SimDeployment {
  return { name, specReplicas: replicas, desiredReplicas: replicas, generation: 1, templateHash, readyDelayMs: 0, changedAt: now, progressDeadlineExceeded: false };
}

export function newWorld(canary: Canary, opts: { target?: boolean } = {}): World {
  return {
    now: T0,
    canary,
    target: opts.target === false ? null : simDeployment("podinfo", 2, "rev1", T0),
    primary: null,
    trackedConfigs: {},
    routes: null,
    routerApplies: true,
    requests: {},
    deleting: false,
    namespaceTerminating: false,
    missingConfigs: [],
    missingObjects: [],
    snapshot: null,
    answers: {},
    checks: [],
    log: [],
    wakeups: [],
    gone: false,
  };
}

function view(d: SimDeployment | null, now: number): WorkloadState | null {
  if (d === null) return null;
  const ready = d.readyDelayMs !== null && now >= d.changedAt + d.readyDelayMs;
  const available = ready ? d.specReplicas : 0;
  const state: WorkloadState = {
    name: d.name,
    generation: d.generation,
    observedGeneration: d.generation,
    specReplicas: d.specReplicas,
    replicas: d.specReplicas,
    readyReplicas: available,
    updatedReplicas: d.specReplicas,
    availableReplicas: available,
    desiredReplicas: d.desiredReplicas,
    progressDeadlineExceeded: d.progressDeadlineExceeded,
    templateHash: d.templateHash,
  };
  if (d.revision !== undefined) state.revision = d.revision;
  if (d.deleting === true) state.deleting = true;
  return state;
}

export function observe(w: World): Observed {
  return {
    now: w.now,
    canary: structuredClone(w.canary),
    target: view(w.target, w.now),
    primary: view(w.primary, w.now),
    revision: w.target?.templateHash ?? "",
    trackedConfigs: { ...w.trackedConfigs },
    routes: w.routes === null ? null : { ...w.routes },
    checks: {},
    requests: { ...w.requests },
    deleting: w.deleting,
    namespaceTerminating: w.namespaceTerminating,
    missingConfigs: [...w.missingConfigs],
    missingObjects: [...w.missingObjects],
    primarySnapshot: w.primary === null && w.snapshot !== null ? { revision: w.snapshot.revision, replicas: w.snapshot.replicas } : null,
  };
}

function changed(w: World, d: SimDeployment): void {
  d.generation++;
  d.changedAt = w.now;
  if (d.readyDelayMs !== null) w.wakeups.push(w.now + d.readyDelayMs);
}

const REQUEST_BY_ANNOTATION: Record<string, keyof Requests> = {
  [ANNOTATION_PROMOTE]: "promote",
  [ANNOTATION_ABORT]: "abort",
  [ANNOTATION_RETRY]: "retry",
};

function applyAction(w: World, a: Action): void {
  w.log.push({ at: w.now, action: a });
  switch (a.type) {
    case "initialize":
      assert.ok(w.target !== null, "initialize needs the target");
      if (w.primary === null) {
        w.primary = simDeployment("podinfo-primary", a.replicas ?? 1, w.target.templateHash, w.now);
        w.primary.revision = a.revision;
        w.snapshot = { revision: a.revision, templateHash: w.primary.templateHash, replicas: a.replicas };
        w.wakeups.push(w.now);
      }
      w.routes ??= { primary: 100, canary: 0, mirror: false };
      return;
    case "promote":
      assert.ok(w.target !== null && w.primary !== null, "promote needs target and primary");
      assert.equal(w.target.templateHash, a.revision, "promote must copy the revision plan decided on");
      assert.deepEqual(a.configs, Object.keys(w.trackedConfigs).sort(), "promote copies exactly the configs the run analysed");
      w.primary.templateHash = w.target.templateHash;
      w.primary.revision = a.revision;
      if (a.replicas !== null) w.primary.specReplicas = a.replicas;
      w.snapshot = { revision: a.revision, templateHash: w.primary.templateHash, replicas: a.replicas };
      changed(w, w.primary);
      return;
    case "restorePrimary":
      assert.ok(w.primary === null, "only a missing primary is restored");
      assert.ok(w.snapshot !== null && w.snapshot.revision === a.revision, "the snapshot holds the revision plan decided on");
      w.primary = simDeployment("podinfo-primary", a.replicas ?? 1, w.snapshot.templateHash, w.now);
      w.primary.revision = a.revision;
      w.wakeups.push(w.now);
      return;
    case "scaleTarget":
      assert.ok(w.target !== null);
      w.target.specReplicas = a.replicas;
      changed(w, w.target);
      return;
    case "scalePrimary":
      assert.ok(w.primary !== null);
      w.primary.specReplicas = a.replicas;
      changed(w, w.primary);
      return;
    case "setRoutes":
      if (w.routerApplies) w.routes = { primary: a.primary, canary: a.canary, mirror: a.mirror };
      return;
    case "clearRequest": {
      const key = REQUEST_BY_ANNOTATION[a.annotation];
      assert.ok(key !== undefined, `unknown annotation ${a.annotation}`);
      delete w.requests[key];
      return;
    }
    case "finalize":
      w.gone = true;
      return;
    case "exposeTarget":
    case "webhook":
    case "event":
      return;
  }
}

/** One reconcile: plan, answer what it needs (never the same kind twice), plan again, apply. */
export function step(w: World): Plan & { kind: "act" } {
  assert.ok(!w.gone, "the Canary was finalized");
  const o = observe(w);
  let p = plan(o);
  for (let round = 0; p.kind === "need"; round++) {
    assert.ok(round < 4, "plan kept asking for checks");
    assert.ok(p.checks.length > 0, "an empty need");
    for (const kind of p.checks) {
      assert.equal(o.checks[kind], undefined, `plan asked again for ${kind}`);
      const metrics = kind === "analysis" ? p.metrics : undefined;
      o.checks[kind] = (w.answers[kind] ?? defaultAnswer(kind))(w, metrics);
      w.checks.push({ at: w.now, kind, weight: w.routes?.canary ?? 0, ...(metrics ? { metrics } : {}) });
    }
    p = plan(o);
  }
  for (const a of p.actions) applyAction(w, a);
  w.canary = { ...w.canary, status: p.status };
  w.lastPlan = p;
  return p;
}

/**
 * Reconciles until `until` holds or nothing is scheduled any more (requeue null and no
 * Deployment about to become ready). Throws if the run does not settle.
 */
export function run(w: World, until?: (w: World) => boolean, maxSteps = 400): World {
  for (let i = 0; i < maxSteps; i++) {
    const before: CanaryStatus | undefined = structuredClone(w.canary.status);
    const p = step(w);
    if (until?.(w) === true || w.gone) return w;
    const statusChanged = JSON.stringify(before) !== JSON.stringify(p.status);
    const next = [statusChanged ? w.now : Infinity, p.requeueAfterMs === null ? Infinity : w.now + p.requeueAfterMs, ...w.wakeups.filter((t) => t >= w.now)];
    const at = Math.min(...next);
    w.wakeups = w.wakeups.filter((t) => t > at);
    if (at === Infinity) {
      assert.ok(until === undefined, `settled in phase ${w.canary.status?.phase} before the awaited state`);
      return w;
    }
    w.now = at;
  }
  throw new Error(`no settled state after ${maxSteps} reconciles (phase ${w.canary.status?.phase})`);
}

/** Reconciles until the clock reaches `until` (or nothing is scheduled), then stops. */
export function runUntilTime(w: World, until: number): World {
  for (let i = 0; i < 400; i++) {
    step(w);
    const p = w.lastPlan;
    const wake = p?.kind === "act" && p.requeueAfterMs !== null ? w.now + p.requeueAfterMs : Infinity;
    const next = Math.min(wake, ...w.wakeups.filter((t) => t >= w.now));
    if (next > until) return w;
    w.wakeups = w.wakeups.filter((t) => t > next);
    w.now = next;
  }
  throw new Error("runUntilTime did not reach its time");
}

/** A world whose Canary has been initialized with the target at revision rev1. */
export function initialized(canary: Canary): World {
  const w = newWorld(canary);
  run(w);
  assert.equal(w.canary.status?.phase, "Initialized");
  w.log = [];
  w.checks = [];
  return w;
}

/** `kubectl set image`: the target's template (and so its revision) changes. */
export function deploy(w: World, revision: string, opts: { readyDelayMs?: number | null } = {}): void {
  assert.ok(w.target !== null);
  w.target.templateHash = revision;
  if (opts.readyDelayMs !== undefined) w.target.readyDelayMs = opts.readyDelayMs;
  changed(w, w.target);
}

export const phase = (w: World) => w.canary.status?.phase;
export const actions = (w: World, type?: Action["type"]) => w.log.filter((e) => type === undefined || e.action.type === type).map((e) => e.action);
export const events = (w: World) => w.log.flatMap((e) => (e.action.type === "event" ? [e.action.reason] : []));
export const eventMessages = (w: World, reason: string) =>
  w.log.flatMap((e) => (e.action.type === "event" && e.action.reason === reason ? [e.action.message] : []));
/** The canary weight of every setRoutes, in order. */
export const routeWeights = (w: World) => w.log.flatMap((e) => (e.action.type === "setRoutes" ? [e.action.canary] : []));
export const routeActions = (w: World) => w.log.flatMap((e) => (e.action.type === "setRoutes" ? [{ at: e.at, ...e.action }] : []));
export const checksOf = (w: World, kind: CheckKind) => w.checks.filter((c) => c.kind === kind);
