/**
 * What differs between the kinds a Canary can target, in one place per kind: how plan sees
 * one (its state and readiness counts), which rollout settings the `-primary` copy takes
 * from the target, how it is sized (the scale subresource, or parking by node selector) and
 * what makes a target unusable. Everything else — the pod template, the selector, the
 * config copies, the Services — is the same for every kind and lives where it always did.
 */
import { ANNOTATION_DESIRED_REPLICAS, ANNOTATION_REVISION } from "../../api/types.ts";
import type { TargetKind } from "../../api/types.ts";
import { hashPodTemplate } from "../../ground/hash.ts";
import { GeneratedObjectError } from "../../ground/identity.ts";
import { PARK_NODE_SELECTOR_KEY, PARK_NODE_SELECTOR_VALUE, TARGET_KIND_INFO, isParked, kindInfo } from "../../ground/workloads.ts";
import type { DaemonSet, Deployment, TargetKindInfo, Workload } from "../../ground/workloads.ts";
import type { WorkloadState } from "./planner/types.ts";

/** A write that sizes a workload: a merge patch, through the scale subresource or not. */
export interface SizePatch {
  patch: Record<string, unknown>;
  subresource?: "scale";
}

export interface WorkloadKind {
  readonly info: TargetKindInfo;
  /** The workload as plan sees it. */
  state(obj: Workload): WorkloadState;
  /** The spec fields besides selector and template that the primary copies from the target. */
  rolloutSettings(target: Workload): Record<string, unknown>;
  /** The patch that runs `replicas` pods (0: none). A DaemonSet runs one per node for any positive count. */
  sizePatch(replicas: number): SizePatch;
  /** Why aviary cannot run canaries of this target (a terminal problem naming the field), or null. */
  problem(target: Workload): GeneratedObjectError | null;
}

interface DeploymentStatus {
  observedGeneration?: number;
  replicas?: number;
  readyReplicas?: number;
  updatedReplicas?: number;
  availableReplicas?: number;
  conditions?: { type: string; status: string; reason?: string }[];
}

interface DaemonSetStatus {
  observedGeneration?: number;
  desiredNumberScheduled?: number;
  currentNumberScheduled?: number;
  updatedNumberScheduled?: number;
  numberReady?: number;
  numberAvailable?: number;
}

/** The fields every kind reads the same way. */
function common(obj: Workload): Pick<WorkloadState, "name" | "generation" | "templateHash" | "revision" | "deleting"> {
  const state: Pick<WorkloadState, "name" | "generation" | "templateHash" | "revision" | "deleting"> = {
    name: obj.metadata.name,
    generation: obj.metadata.generation ?? 0,
    templateHash: hashPodTemplate(obj.spec.template),
  };
  const revision = obj.metadata.annotations?.[ANNOTATION_REVISION];
  if (revision !== undefined) state.revision = revision;
  if (obj.metadata.deletionTimestamp !== undefined) state.deleting = true;
  return state;
}

const copyDefined = (spec: Record<string, unknown>, fields: readonly string[]): Record<string, unknown> =>
  Object.fromEntries(fields.filter((f) => spec[f] !== undefined).map((f) => [f, structuredClone(spec[f])]));

const deploymentKind: WorkloadKind = {
  info: TARGET_KIND_INFO.Deployment,
  state(obj) {
    const d = obj as Deployment;
    const status = (d.status ?? {}) as DeploymentStatus;
    const specReplicas = d.spec.replicas ?? 1;
    const desired = Number(d.metadata.annotations?.[ANNOTATION_DESIRED_REPLICAS]);
    const progressing = status.conditions?.find((c) => c.type === "Progressing");
    return {
      ...common(d),
      sizing: "replicas",
      observedGeneration: status.observedGeneration ?? 0,
      specReplicas,
      replicas: status.replicas ?? 0,
      readyReplicas: status.readyReplicas ?? 0,
      updatedReplicas: status.updatedReplicas ?? 0,
      availableReplicas: status.availableReplicas ?? 0,
      desiredReplicas: Number.isInteger(desired) && desired >= 0 ? desired : specReplicas,
      progressDeadlineExceeded: progressing?.status === "False" && progressing.reason === "ProgressDeadlineExceeded",
    };
  },
  rolloutSettings: (target) => copyDefined(target.spec, ["strategy", "minReadySeconds", "progressDeadlineSeconds", "revisionHistoryLimit"]),
  sizePatch: (replicas) => ({ patch: { spec: { replicas } }, subresource: "scale" }),
  problem: () => null,
};

/**
 * A DaemonSet, read as Flagger reads one: ready once its generation is observed, every
 * scheduled pod is updated and enough are available, all counted against
 * desiredNumberScheduled. Parked, it counts as scaled to zero whatever its status says.
 */
const daemonSetKind: WorkloadKind = {
  info: TARGET_KIND_INFO.DaemonSet,
  state(obj) {
    const ds = obj as DaemonSet;
    const status = (ds.status ?? {}) as DaemonSetStatus;
    const parked = isParked(ds.spec.template);
    const scheduled = status.desiredNumberScheduled ?? 0;
    return {
      ...common(ds),
      sizing: "nodes",
      parked,
      observedGeneration: status.observedGeneration ?? 0,
      specReplicas: parked ? 0 : scheduled,
      // A DaemonSet replaces its pods node by node: no count of old pods beside the new ones.
      replicas: status.updatedNumberScheduled ?? 0,
      readyReplicas: status.numberReady ?? 0,
      updatedReplicas: status.updatedNumberScheduled ?? 0,
      availableReplicas: status.numberAvailable ?? 0,
      desiredReplicas: 0,
      progressDeadlineExceeded: false,
    };
  },
  rolloutSettings: (target) => copyDefined(target.spec, ["updateStrategy", "minReadySeconds", "revisionHistoryLimit"]),
  // A JSON merge patch: null removes the key (and the API server drops a map left empty).
  sizePatch: (replicas) => ({
    patch: { spec: { template: { spec: { nodeSelector: { [PARK_NODE_SELECTOR_KEY]: replicas > 0 ? null : PARK_NODE_SELECTOR_VALUE } } } } },
  }),
  problem(target) {
    // OnDelete never replaces a running pod: neither a promotion nor an unpark would roll out.
    const type = (target as DaemonSet).spec.updateStrategy?.type;
    if (type === undefined || type === "RollingUpdate") return null;
    return new GeneratedObjectError("spec.updateStrategy.type", `DaemonSet ${target.metadata.name}: spec.updateStrategy.type is ${type}; aviary needs RollingUpdate, or no promotion would reach the running pods`);
  },
};

const KINDS: Readonly<Record<TargetKind, WorkloadKind>> = { Deployment: deploymentKind, DaemonSet: daemonSetKind };

/** The descriptor of a kind; throws for a kind aviary does not serve (validation rejects those first). */
export function workloadKind(kind: string | undefined): WorkloadKind {
  return KINDS[kindInfo(kind).kind];
}
