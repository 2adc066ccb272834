/**
 * Mutating admission for the workloads (Deployments, DaemonSets) that a Canary targets
 * (labelled `aviary.dev/canary`).
 *
 * - A new pod template is stamped with its revision (the controller's pod-template hash)
 *   and the user who made it, and the controller is woken at once.
 * - The replica guard: aviary sizes a target itself (zero while idle, the canary's size
 *   during a run), so a re-apply by Helm, kubectl apply or a GitOps sync may not move
 *   `spec.replicas`. The stored value is kept and the requested one is recorded in
 *   `aviary.dev/desired-replicas`, which the controller uses to size the primary.
 *   `kubectl scale` and HPAs use the scale subresource, which this webhook never sees.
 * - The parking guard, the same rule for a DaemonSet: a replace that drops aviary's parking
 *   node selector would unpark the idle canary on every node, so the selector is kept —
 *   while the Canary exists. Once it is gone (deleted without revertOnDeletion, which leaves
 *   the target parked, as Flagger does) its owner may unpark the DaemonSet.
 *
 * The response patch is the diff of the request's object and the mutated copy, never a
 * hand-written JSON Patch, so it cannot disagree with what was mutated.
 */
import jsonPatch from "fast-json-patch";
import type { KubeObject } from "../../kube/types.ts";
import {
  ANNOTATION_CHANGED_BY,
  ANNOTATION_DESIRED_REPLICAS,
  ANNOTATION_REVISION,
  LABEL_CANARY,
  LABEL_MANAGED_BY,
  MANAGED_BY_VALUE,
} from "../../api/types.ts";
import { hashPodTemplate } from "../../ground/hash.ts";
import { PARK_NODE_SELECTOR_KEY, PARK_NODE_SELECTOR_VALUE, TARGET_KIND_INFO, isParked } from "../../ground/workloads.ts";
import type { PodTemplateSpec } from "../../ground/workloads.ts";
import type { AdmissionHandler, AdmissionRequest, AdmissionResult } from "../admission.ts";
import { allowed, annotationsOf, isUserIn, labelsOf } from "../admission.ts";

export interface DeploymentMutatorOptions {
  /** aviary's own identities (its service account): their replica changes pass unchanged. */
  aviaryUsers: readonly string[];
  /**
   * Called once per new revision (never for dry runs), so a controller in the same
   * process can enqueue the Canary without waiting for the watch. The request has not
   * been persisted yet: the callback should only enqueue.
   */
  onRevision?: (namespace: string, canaryName: string) => void;
  /** Time budget; the Deployment webhook is configured with a short timeout. Default 2 s. */
  timeoutMs?: number;
  /**
   * Whether the Canary still exists; asked only before the parking guard acts. Without it, or
   * when the answer cannot be had, the Canary is taken to exist (the guard holds).
   */
  canaryExists?: (namespace: string, name: string, signal: AbortSignal) => Promise<boolean>;
}

/** What the handler looked up before deciding (mutateDeployment itself does no I/O). */
export interface MutationFacts {
  /** The Canary named by the target's label no longer exists. */
  canaryGone?: boolean;
}

export interface DeploymentMutation {
  result: AdmissionResult;
  /** Set when the pod template changed: which Canary to wake. */
  revision?: { namespace: string; canary: string; hash: string };
}

/** Annotations only aviary writes; a client's full replace must not drop them. */
const AVIARY_ANNOTATIONS = [ANNOTATION_REVISION, ANNOTATION_CHANGED_BY, ANNOTATION_DESIRED_REPLICAS];

interface DeploymentShape extends KubeObject {
  spec?: { replicas?: unknown; template?: PodTemplateSpec; [field: string]: unknown };
}

const replicasOf = (obj: DeploymentShape): number | undefined => {
  const r = obj.spec?.replicas;
  return typeof r === "number" && Number.isInteger(r) && r >= 0 ? r : undefined;
};

/** Decides the mutation of one request. Pure: no I/O, no callbacks. */
export function mutateDeployment(request: AdmissionRequest, opts: Pick<DeploymentMutatorOptions, "aviaryUsers">, facts: MutationFacts = {}): DeploymentMutation {
  const pass = { result: allowed() };
  if (request.operation !== "UPDATE" || request.subResource) return pass;
  if (request.kind.group !== "apps" || !Object.hasOwn(TARGET_KIND_INFO, request.kind.kind)) return pass;
  const object = request.object as DeploymentShape | null | undefined;
  const old = request.oldObject as DeploymentShape | null | undefined;
  if (!object?.metadata || !old) return pass;
  // The primary carries the label too, but it is aviary's; the generated-object guard owns it.
  if (labelsOf(old)[LABEL_MANAGED_BY] === MANAGED_BY_VALUE || labelsOf(object)[LABEL_MANAGED_BY] === MANAGED_BY_VALUE) return pass;
  const canary = labelsOf(object)[LABEL_CANARY] ?? labelsOf(old)[LABEL_CANARY];
  if (!canary) return pass;

  const fromAviary = isUserIn(request.userInfo, opts.aviaryUsers);
  const mutated = structuredClone(object);
  mutated.metadata.annotations = { ...annotationsOf(mutated) };
  const annotations = mutated.metadata.annotations;

  if (!fromAviary) {
    // A replace that drops aviary's label or bookkeeping would hide the target from this
    // webhook's objectSelector and lose the recorded desired size.
    if (labelsOf(mutated)[LABEL_CANARY] === undefined) mutated.metadata.labels = { ...labelsOf(mutated), [LABEL_CANARY]: canary };
    for (const key of AVIARY_ANNOTATIONS) {
      const before = annotationsOf(old)[key];
      if (annotations[key] === undefined && before !== undefined) annotations[key] = before;
    }
  }

  const hash = hashPodTemplate(object.spec?.template);
  const templateChanged = hashPodTemplate(old.spec?.template) !== hash;
  if (templateChanged) {
    annotations[ANNOTATION_REVISION] = hash;
    annotations[ANNOTATION_CHANGED_BY] = request.userInfo.username ?? "unknown";
  } else if (annotations[ANNOTATION_REVISION] !== hash) {
    annotations[ANNOTATION_REVISION] = hash;
  }

  const requested = replicasOf(object);
  const stored = replicasOf(old);
  if (!fromAviary && stored !== undefined && requested !== undefined && requested !== stored) {
    mutated.spec = { ...mutated.spec, replicas: stored };
    annotations[ANNOTATION_DESIRED_REPLICAS] = String(requested);
  }

  if (unparksByHand(request, opts) && facts.canaryGone !== true) keepParked(mutated);

  if (Object.keys(annotations).length === 0 && object.metadata.annotations === undefined) delete mutated.metadata.annotations;
  const patch = jsonPatch.compare(object, mutated);
  const mutation: DeploymentMutation = { result: patch.length > 0 ? { allowed: true, patch } : allowed() };
  if (templateChanged) mutation.revision = { namespace: request.namespace ?? object.metadata.namespace ?? "", canary, hash };
  return mutation;
}

/** A request by someone other than aviary that would unpark a parked target. */
function unparksByHand(request: AdmissionRequest, opts: Pick<DeploymentMutatorOptions, "aviaryUsers">): boolean {
  const object = request.object as DeploymentShape | null | undefined;
  const old = request.oldObject as DeploymentShape | null | undefined;
  return !isUserIn(request.userInfo, opts.aviaryUsers) && isParked(old?.spec?.template) && !isParked(object?.spec?.template);
}

/** Puts aviary's parking node selector back into the request's pod template. */
function keepParked(obj: DeploymentShape): void {
  const template: PodTemplateSpec = { ...(obj.spec?.template ?? {}) };
  const podSpec = { ...(template.spec ?? {}) } as { nodeSelector?: Record<string, string>; [field: string]: unknown };
  podSpec.nodeSelector = { ...(podSpec.nodeSelector ?? {}), [PARK_NODE_SELECTOR_KEY]: PARK_NODE_SELECTOR_VALUE };
  template.spec = podSpec;
  obj.spec = { ...obj.spec, template };
}

export function createDeploymentMutator(opts: DeploymentMutatorOptions): AdmissionHandler {
  return {
    type: "mutate",
    name: "deployments",
    // Deploys are never blocked by aviary: the watcher still sees the change.
    failurePolicy: "Ignore",
    timeoutMs: opts.timeoutMs ?? 2_000,
    async handle(request, ctx): Promise<AdmissionResult> {
      const facts: MutationFacts = {};
      const canary = labelsOf(request.oldObject)[LABEL_CANARY];
      if (opts.canaryExists && canary && request.operation === "UPDATE" && unparksByHand(request, opts)) {
        const namespace = request.namespace ?? request.oldObject?.metadata?.namespace ?? "";
        facts.canaryGone = !(await opts.canaryExists(namespace, canary, ctx.signal).catch(() => true));
      }
      const { result, revision } = mutateDeployment(request, opts, facts);
      if (revision && !request.dryRun && opts.onRevision) {
        try {
          opts.onRevision(revision.namespace, revision.canary);
        } catch (err) {
          // Waking early is an optimisation; the watch delivers the change anyway.
          ctx.log.warn("onRevision callback failed", { err, canary: `${revision.namespace}/${revision.canary}` });
        }
      }
      return result;
    },
  };
}
