/**
 * The slices of the Kubernetes workload types aviary reads and generates: Deployments,
 * DaemonSets and Services. Only the fields aviary touches are typed; everything else passes
 * through. Also the table of target kinds: how each is addressed and sized.
 */
import type { Canary, TargetKind } from "../api/types.ts";
import type { KubeObject, ObjectRef } from "../kube/types.ts";

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: unknown[];
}

export interface ContainerPort {
  name?: string;
  containerPort: number;
  protocol?: string;
  [field: string]: unknown;
}

export interface PodTemplateSpec {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string>; [field: string]: unknown };
  spec?: { containers?: { name: string; ports?: ContainerPort[]; [field: string]: unknown }[]; [field: string]: unknown };
}

export interface DeploymentSpec {
  replicas?: number;
  selector: LabelSelector;
  template: PodTemplateSpec;
  strategy?: unknown;
  minReadySeconds?: number;
  progressDeadlineSeconds?: number;
  revisionHistoryLimit?: number;
  [field: string]: unknown;
}

export interface Deployment extends KubeObject {
  spec: DeploymentSpec;
  status?: Record<string, unknown>;
}

export interface DaemonSetSpec {
  selector: LabelSelector;
  template: PodTemplateSpec;
  updateStrategy?: { type?: string; [field: string]: unknown };
  minReadySeconds?: number;
  revisionHistoryLimit?: number;
  [field: string]: unknown;
}

export interface DaemonSet extends KubeObject {
  spec: DaemonSetSpec;
  status?: Record<string, unknown>;
}

/**
 * A workload a Canary targets, or its `-primary` copy. Both kinds select their pods with
 * `spec.selector` and describe them with `spec.template`; only Deployments have replicas.
 */
export type Workload = Deployment | DaemonSet;

/**
 * How a kind is sized. `replicas`: `spec.replicas`, changed through the scale subresource.
 * `nodes`: one pod per eligible node; aviary "scales it to zero" by parking it.
 */
export type Sizing = "replicas" | "nodes";

export interface TargetKindInfo {
  kind: TargetKind;
  apiVersion: "apps/v1";
  /** The REST resource, as RBAC and webhook rules name it. */
  resource: string;
  sizing: Sizing;
}

export const TARGET_KIND_INFO: Readonly<Record<TargetKind, TargetKindInfo>> = {
  Deployment: { kind: "Deployment", apiVersion: "apps/v1", resource: "deployments", sizing: "replicas" },
  DaemonSet: { kind: "DaemonSet", apiVersion: "apps/v1", resource: "daemonsets", sizing: "nodes" },
};

/**
 * The node selector that parks a DaemonSet (Flagger's `flagger.app/scale-to-zero`): no node
 * carries the label, so the DaemonSet controller schedules no pod and removes the running
 * ones. It sits under `aviary.dev/`, which revision hashes leave out (ground/hash.ts), so
 * parking and unparking never look like a new revision.
 */
export const PARK_NODE_SELECTOR_KEY = "aviary.dev/scale-to-zero";
export const PARK_NODE_SELECTOR_VALUE = "true";

/** The kind `spec.targetRef` names (default Deployment); undefined for a kind aviary does not serve. */
export function targetKindInfo(canary: Pick<Canary, "spec">): TargetKindInfo | undefined {
  const kind = canary.spec.targetRef.kind ?? "Deployment";
  return Object.hasOwn(TARGET_KIND_INFO, kind) ? TARGET_KIND_INFO[kind as TargetKind] : undefined;
}

/** The kind info for a kind name; throws for one aviary does not serve (validation rejects those first). */
export function kindInfo(kind: string | undefined): TargetKindInfo {
  const k = kind ?? "Deployment";
  if (!Object.hasOwn(TARGET_KIND_INFO, k)) throw new Error(`aviary cannot target kind ${k}; it serves ${Object.keys(TARGET_KIND_INFO).join(", ")}`);
  return TARGET_KIND_INFO[k as TargetKind];
}

/** A reference to a workload of the Canary's target kind: the target itself, or its primary by name. */
export function workloadRef(canary: Canary, name: string = canary.spec.targetRef.name): ObjectRef {
  const info = kindInfo(canary.spec.targetRef.kind);
  return { apiVersion: info.apiVersion, kind: info.kind, namespace: canary.metadata.namespace ?? "default", name };
}

/** The pod template carries aviary's parking node selector. */
export function isParked(template: PodTemplateSpec | undefined): boolean {
  const selector = (template?.spec as { nodeSelector?: Record<string, string> } | undefined)?.nodeSelector;
  return selector?.[PARK_NODE_SELECTOR_KEY] === PARK_NODE_SELECTOR_VALUE;
}

export interface ServicePort {
  name: string;
  port: number;
  targetPort: number | string;
  protocol: string;
  appProtocol?: string;
}

export interface Service extends KubeObject {
  spec: { selector: Record<string, string>; ports: ServicePort[]; clusterIP?: string; trafficDistribution?: string; [field: string]: unknown };
}
