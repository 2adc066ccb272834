/**
 * The contract between `plan` (pure decisions) and the reconciler that gathers observed
 * state, runs checks and applies actions. Re-exported from plan.ts; kept apart so the
 * planner's other files can share it without importing plan.ts.
 */
import type { AnalysisResult, Canary, CanaryStatus, JudgeStatus } from "../../../api/types.ts";
import type { Split } from "../../../ground/split.ts";
import type { Sizing } from "../../../ground/workloads.ts";

/**
 * Questions plan asks the caller. Each maps to webhooks of the same type (`analysis` is the
 * `rollout` webhooks plus the metrics). Plan only asks for a kind that has something to
 * run, and only when it is due.
 */
export const CHECK_KINDS = [
  "confirm-rollout",
  "pre-rollout",
  "analysis",
  "confirm-traffic-increase",
  "confirm-promotion",
  "rollback",
] as const;
export type CheckKind = (typeof CHECK_KINDS)[number];

/**
 * The answer to one CheckKind.
 * - checks (`pre-rollout`, `analysis`): `ok` = every webhook and metric passed;
 * - gates (`confirm-*`): `ok` = every gate webhook said yes (open);
 * - `rollback`: `ok` = a rollback webhook asks to roll back now (Flagger's manual rollback).
 * `halted` (a provider or webhook could not be asked at all) means neither pass nor fail:
 * the run holds, the failure is not counted, and a gate stays closed.
 */
export interface CheckOutcome {
  ok: boolean;
  halted?: string;
  results: AnalysisResult[];
  /** `analysis` with compared metrics: the judge's tests after this check, for status. */
  judge?: JudgeStatus;
}

/**
 * One workload (the target or the primary) as plan needs to see it. A Deployment's counts
 * are its replicas; a DaemonSet's are its scheduled pods (controller/canary/workload-kinds.ts).
 */
export interface WorkloadState {
  name: string;
  generation: number;
  observedGeneration: number;
  /** How it is sized; absent: "replicas". A "nodes" workload is parked instead of scaled to zero. */
  sizing?: Sizing;
  /** sizing "nodes": aviary's parking node selector is set, so it runs no pods. */
  parked?: boolean;
  /** spec.replicas; a DaemonSet's desiredNumberScheduled, or 0 while parked. */
  specReplicas: number;
  /** status.replicas: pods of every ReplicaSet, old ones included. */
  replicas: number;
  readyReplicas: number;
  updatedReplicas: number;
  availableReplicas: number;
  /** What the user asked for: annotation aviary.dev/desired-replicas, else spec.replicas; 0 for "nodes". */
  desiredReplicas: number;
  /** The Progressing condition has reason ProgressDeadlineExceeded. */
  progressDeadlineExceeded: boolean;
  templateHash: string;
  /** metadata.deletionTimestamp is set: the Deployment is going away, whatever its template says. */
  deleting?: boolean;
  /**
   * The `aviary.dev/revision` annotation in metadata. For the primary it is stamped by the
   * `initialize` and `promote` actions and tells which revision the primary carries.
   */
  revision?: string;
}

export interface Requests {
  promote?: boolean;
  abort?: boolean;
  retry?: boolean;
  paused?: boolean;
}

export interface Observed {
  /** Epoch ms, injected: plan never reads a clock. */
  now: number;
  /** Defaults applied and validated. `canary.status` is the state plan continues from. */
  canary: Canary;
  /** null: the target Deployment does not exist. */
  target: WorkloadState | null;
  /** null: `<target>-primary` does not exist (yet). */
  primary: WorkloadState | null;
  /** revisionOf(target template hash, trackedConfigs). Ignored when target is null. */
  revision: string;
  /** Content hashes of the configs the target references, keyed `ConfigMap/<name>`/`Secret/<name>`. */
  trackedConfigs: Record<string, string>;
  /**
   * The hash key changed (a rotation) and nothing else did: `revision` is what the status's
   * revision `rekeyedFrom` is under the new key. plan moves its records over, without a run.
   */
  rekeyedFrom?: string;
  /**
   * The status carries revisions aviary did not write (Flagger's hashes): the Canary was
   * reconciled by Flagger until now, and its generated objects are Flagger's. Absent: false.
   */
  foreignStatus?: boolean;
  /**
   * The split the router's objects carry, after this reconcile corrected them to the
   * status (see ground/split.ts); null when they cannot be read (missing).
   */
  routes: Split | null;
  /** Answers to the checks plan asked for; empty on the first call of a reconcile. */
  checks: Partial<Record<CheckKind, CheckOutcome>>;
  /** Annotations on the Canary (aviary.dev/promote, abort, retry, paused). */
  requests: Requests;
  /** metadata.deletionTimestamp is set. */
  deleting: boolean;
  /**
   * The Canary's namespace is being deleted: everything in it is going away, in no
   * particular order, so nothing that disappears is a revision. Absent: false.
   */
  namespaceTerminating?: boolean;
  /**
   * Keys (`Secret/<name>`) of the ConfigMaps/Secrets the target's template requires (a
   * reference not marked `optional`) that do not exist. Their absence is not a revision:
   * pods of such a template cannot start. Absent: none.
   */
  missingConfigs?: string[];
  /**
   * The primary's pod template is not what aviary builds from the target (edited by hand,
   * e.g. while the admission webhook was down). Only meaningful while the target carries the
   * promoted revision. Absent: false.
   */
  primaryTemplateDrifted?: boolean;
  /**
   * Generated objects a run routes to (`Service/<name>`) that are missing after this
   * reconcile tried to restore them. No weight moves while one is. Absent: none.
   */
  missingObjects?: string[];
  /**
   * The snapshot of the primary written at its initialization or last promotion (the
   * ControllerRevision `<target>-primary`): the revision it holds and the replicas it was
   * written with. Read only while the primary is missing; absent or null: none.
   */
  primarySnapshot?: { revision: string; replicas: number | null } | null;
}

/** Reasons of the Kubernetes Events plan emits. */
export const EVENT_REASONS = [
  "Initializing",
  "Initialized",
  "FirstDeployStarted",
  "FirstDeployPassed",
  "FirstDeployFailed",
  "WaitingForTarget",
  "TargetDeleted",
  "ConfigMissing",
  "ObjectMissing",
  "ObjectRestored",
  "Adopted",
  "NewRevision",
  "Retrying",
  "RevisionReverted",
  "GateClosed",
  "GateOpened",
  "AnalysisStarted",
  "WeightAdvanced",
  "IterationAdvanced",
  "CheckFailed",
  "NoData",
  "CheckHalted",
  "Promoting",
  "Promoted",
  "RolledBack",
  "ProgressDeadlineExceeded",
  "Suspended",
  "Paused",
  "RequestIgnored",
  "Terminating",
  "Terminated",
] as const;
export type EventReason = (typeof EVENT_REASONS)[number];

export type EventSeverity = "info" | "warn" | "error";

export type Action =
  /**
   * Create what is missing: the primary Deployment (a copy of the target's template and
   * rollout settings, `-primary` config copies, metadata annotation aviary.dev/revision =
   * `revision`, replicas = `replicas` or left to the autoscaler when null), the Services and
   * the router objects at 100/0. Never overwrites an existing primary's template.
   * Emitted on every reconcile while Initializing, so it must be idempotent.
   */
  | {
      type: "initialize";
      revision: string;
      replicas: number | null;
      /** After a first-deploy analysis: the apex Service keeps selecting the target until the primary is ready. */
      apexOnTarget?: boolean;
    }
  /**
   * First-deploy analysis (no primary yet): apply the apex and `-canary` Services, both
   * selecting the target's pods, so users and the load tester reach the revision under
   * analysis. No primary Service and no route objects are made until it passes.
   */
  | { type: "exposeTarget" }
  /**
   * Copy the target's template, minReadySeconds, strategy and progressDeadlineSeconds
   * into the primary, plus its configs as `-primary` copies; stamp aviary.dev/revision =
   * `revision` on the primary; set replicas (null: the autoscaler owns them). If the
   * target no longer carries `revision`, fail the action (retryable): plan will see the
   * new revision on the next reconcile. `configs`: the keys of the configs the revision was
   * analysed with; each must be copied, and a missing one fails the action (retryable)
   * rather than leave the primary pointing at a config that is not its `-primary` copy.
   */
  | { type: "promote"; revision: string; replicas: number | null; configs: string[] }
  /**
   * Re-create a missing primary from its snapshot (the ControllerRevision `<target>-primary`,
   * written by `initialize` and `promote`), with `replicas` (null: the autoscaler owns them).
   * Needs no target: the snapshot holds the promoted primary whole. Fails (retryable) when
   * the snapshot no longer holds `revision`.
   */
  | { type: "restorePrimary"; revision: string; replicas: number | null }
  /**
   * Take over the objects another controller (Flagger) generated for this Canary, in place:
   * aviary's labels and owner reference on the primary, the target's canary label, and the
   * other manager's fields of the primary and the Services moved to aviary (so aviary's
   * later applies manage them). Nothing is recreated, rescaled or rerouted.
   */
  | { type: "adopt" }
  /** Scale the target (the canary) through the scale subresource. */
  | { type: "scaleTarget"; replicas: number }
  /**
   * Scale the primary through the scale subresource: the user changed the replicas they
   * ask for (kept in aviary.dev/desired-replicas while the target is guarded). Never
   * emitted when an autoscaler owns the primary.
   */
  | { type: "scalePrimary"; replicas: number }
  /**
   * router.setRoutes(primary, canary, mirror). For A/B runs the weights apply to the
   * matched route (unmatched requests always go to the primary).
   */
  | { type: "setRoutes"; primary: number; canary: number; mirror: boolean }
  /**
   * Fire-and-forget: call the `post-rollout` webhooks (Flagger runs them after a promotion
   * and after a rollback alike) with this phase and the run's revision as checksum.
   */
  | { type: "webhook"; hook: "post-rollout"; phase: "Succeeded" | "Failed"; revision: string }
  /**
   * Record a Kubernetes Event on the Canary and send it to the `event` webhooks;
   * with `alert`, also to the Canary's alert providers at this severity.
   */
  | { type: "event"; reason: EventReason; message: string; severity: EventSeverity; alert: boolean }
  /**
   * The Canary is being deleted. `revert`: point the apex Service and routes back at the
   * target (plan has already scaled it up and waited for it), delete the generated
   * objects, then remove the finalizer. Without revert: only remove aviary's finalizer if
   * present. After this the Canary may be gone: a NotFound on the status write is success.
   */
  | { type: "finalize"; revert: boolean }
  /** Remove this annotation from the Canary (a request that has been acted on or refused). */
  | { type: "clearRequest"; annotation: string };

export type Plan =
  /**
   * Run these checks, add their outcomes to `observed.checks`, and call plan again.
   * `metrics`: the `analysis` check measures only these metrics (a step schedule or metrics
   * with a count pick them per tick); absent, every metric.
   */
  | { kind: "need"; checks: CheckKind[]; metrics?: string[] }
  /**
   * Execute `actions` in order, then write `status` (the full next status; fields absent
   * here but present before are removed). `requeueAfterMs`: reconcile again after this
   * long (0: as soon as the queue allows); null: only when something changes.
   */
  | { kind: "act"; actions: Action[]; status: CanaryStatus; requeueAfterMs: number | null };
