/**
 * The primary's autoscaler. A Canary whose `autoscalerRef` names the user's
 * HorizontalPodAutoscaler (autoscaling/v2) or KEDA ScaledObject (keda.sh/v1alpha1) gets a
 * `<autoscaler>-primary` copy whose scale target is the `<target>-primary` Deployment: the
 * user's scaler keeps sizing the canary during a run, the copy sizes the primary, which is
 * what serves. The copy is applied on every reconcile once the primary exists, so an edit of
 * the user's object reaches it and a copy deleted by hand comes back.
 *
 * A KEDA ScaledObject is also paused at zero replicas (`autoscaling.keda.sh/paused-replicas`)
 * while no run is under way: KEDA would otherwise scale the idle target back up from the zero
 * aviary holds it at. An HPA needs no such care: it does not act on a workload at zero.
 */
import type { AutoscalerReference, Canary } from "../../api/types.ts";
import { GeneratedObjectError, canaryOwnerReference, managedLabels, primaryAutoscalerName, primaryDeploymentName } from "../../ground/identity.ts";
import type { KubeClient, KubeObject, ObjectRef } from "../../kube/types.ts";

export const HPA_API_VERSION = "autoscaling/v2";
export const SCALED_OBJECT_API_VERSION = "keda.sh/v1alpha1";
/** KEDA holds the scale target at this many replicas while the annotation is present. */
export const KEDA_PAUSED_REPLICAS = "autoscaling.keda.sh/paused-replicas";

export type AutoscalerKind = "HorizontalPodAutoscaler" | "ScaledObject";

/** The phases in which the canary runs and its own scaler may size it. */
const RUNNING_PHASES: ReadonlySet<string> = new Set(["Progressing", "WaitingPromotion", "Promoting", "Finalising"]);

interface ScaleTargetRef {
  apiVersion?: string;
  kind?: string;
  name: string;
  [field: string]: unknown;
}

export interface HorizontalPodAutoscaler extends KubeObject {
  spec: { scaleTargetRef: ScaleTargetRef; minReplicas?: number; maxReplicas: number; metrics?: unknown[]; behavior?: unknown };
}

interface ScaledObjectTrigger {
  type: string;
  name?: string;
  metadata?: Record<string, string>;
  [field: string]: unknown;
}

export interface ScaledObject extends KubeObject {
  spec: { scaleTargetRef: ScaleTargetRef; minReplicaCount?: number; maxReplicaCount?: number; triggers?: ScaledObjectTrigger[]; [field: string]: unknown };
}

export function autoscalerKind(ref: AutoscalerReference): AutoscalerKind {
  return ref.kind === "ScaledObject" ? "ScaledObject" : "HorizontalPodAutoscaler";
}

/** Where the user's autoscaler is read: HPAs at autoscaling/v2 whatever version the ref names. */
export function autoscalerSourceRef(canary: Canary, ref: AutoscalerReference): ObjectRef {
  const kind = autoscalerKind(ref);
  const apiVersion = kind === "ScaledObject" ? SCALED_OBJECT_API_VERSION : HPA_API_VERSION;
  return { apiVersion, kind, namespace: canary.metadata.namespace ?? "default", name: ref.name };
}

/** Annotations that describe the source object's own history and must not follow the copy. */
const UNCOPIED_ANNOTATION_PREFIXES = ["kubectl.kubernetes.io/", "meta.helm.sh/", "argocd.argoproj.io/", "aviary.dev/", "autoscaling.keda.sh/"];

function copyMeta(source: KubeObject, canary: Canary): KubeObject["metadata"] {
  const annotations = Object.fromEntries(
    Object.entries(source.metadata.annotations ?? {}).filter(([k]) => !UNCOPIED_ANNOTATION_PREFIXES.some((p) => k.startsWith(p))),
  );
  return {
    name: primaryAutoscalerName(source.metadata.name),
    namespace: canary.metadata.namespace ?? source.metadata.namespace ?? "default",
    labels: { ...(source.metadata.labels ?? {}), ...managedLabels(canary) },
    ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
    ownerReferences: [canaryOwnerReference(canary)],
  };
}

function primaryTarget(source: ScaleTargetRef, canary: Canary): ScaleTargetRef {
  return { ...structuredClone(source), apiVersion: source.apiVersion ?? "apps/v1", kind: source.kind ?? "Deployment", name: primaryDeploymentName(canary) };
}

/** `<hpa>-primary`: the user's HPA spec with the scale target swapped for the primary. */
export function buildPrimaryHpa(source: HorizontalPodAutoscaler, canary: Canary): HorizontalPodAutoscaler {
  const spec = structuredClone(source.spec);
  spec.scaleTargetRef = primaryTarget(source.spec.scaleTargetRef, canary);
  const replicas = canary.spec.autoscalerRef?.primaryScalerReplicas;
  if (replicas?.minReplicas !== undefined) spec.minReplicas = replicas.minReplicas;
  if (replicas?.maxReplicas !== undefined) spec.maxReplicas = replicas.maxReplicas;
  return { apiVersion: HPA_API_VERSION, kind: "HorizontalPodAutoscaler", metadata: copyMeta(source, canary), spec };
}

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * A trigger query rewritten for the primary: every whole-word `<target>` and
 * `<target>-canary` becomes `<target>-primary` (a name already ending in -primary stays).
 * A query the user gave in `primaryScalerQueries` (by trigger name) wins over the rewrite.
 */
export function primaryQuery(query: string, targetName: string): string {
  const name = escapeRegExp(targetName);
  const pattern = new RegExp(`(?<![A-Za-z0-9_-])${name}(?:-canary)?(?!-primary)(?![A-Za-z0-9_])`, "g");
  return query.replace(pattern, `${targetName}-primary`);
}

/** `<scaledobject>-primary`: the user's ScaledObject spec aimed at the primary, queries rewritten. */
export function buildPrimaryScaledObject(source: ScaledObject, canary: Canary): ScaledObject {
  const spec = structuredClone(source.spec);
  spec.scaleTargetRef = primaryTarget(source.spec.scaleTargetRef, canary);
  const ref = canary.spec.autoscalerRef;
  const queries = ref?.primaryScalerQueries ?? {};
  for (const trigger of spec.triggers ?? []) {
    const given = trigger.name !== undefined ? queries[trigger.name] : undefined;
    if (given !== undefined) trigger.metadata = { ...(trigger.metadata ?? {}), query: given };
    else if (typeof trigger.metadata?.query === "string") trigger.metadata.query = primaryQuery(trigger.metadata.query, canary.spec.targetRef.name);
  }
  if (ref?.primaryScalerReplicas?.minReplicas !== undefined) spec.minReplicaCount = ref.primaryScalerReplicas.minReplicas;
  if (ref?.primaryScalerReplicas?.maxReplicas !== undefined) spec.maxReplicaCount = ref.primaryScalerReplicas.maxReplicas;
  return { apiVersion: SCALED_OBJECT_API_VERSION, kind: "ScaledObject", metadata: copyMeta(source, canary), spec };
}

export interface AutoscalerSync {
  /** The `-primary` object applied, or null when the Canary names no autoscaler. */
  primary: string | null;
}

/**
 * Reads the user's autoscaler and applies its `-primary` copy (server-side apply: an
 * unchanged copy is not rewritten). `phase` is the one the Canary is moving to. A missing source is the user's to fix: a terminal error
 * naming `spec.autoscalerRef.name`, reported on the Canary and looked at again later.
 */
export async function syncPrimaryAutoscaler(kube: KubeClient, canary: Canary, phase: string | undefined, signal: AbortSignal): Promise<AutoscalerSync> {
  const ref = canary.spec.autoscalerRef;
  if (ref === undefined) return { primary: null };
  const sourceRef = autoscalerSourceRef(canary, ref);
  const source = await kube.get<HorizontalPodAutoscaler | ScaledObject>(sourceRef, { signal });
  if (source === null) {
    throw new GeneratedObjectError("spec.autoscalerRef.name", `${sourceRef.kind} ${sourceRef.namespace}/${ref.name} named by spec.autoscalerRef does not exist; the primary has no autoscaler until it does`);
  }
  if (typeof source.spec?.scaleTargetRef?.name !== "string") {
    throw new GeneratedObjectError("spec.autoscalerRef.name", `${sourceRef.kind} ${ref.name} has no spec.scaleTargetRef.name`);
  }
  if (sourceRef.kind === "ScaledObject") {
    const so = source as ScaledObject;
    await kube.apply(buildPrimaryScaledObject(so, canary), { signal, force: true });
    await pauseIdleScaledObject(kube, so, RUNNING_PHASES.has(phase ?? ""), signal);
  } else {
    await kube.apply(buildPrimaryHpa(source as HorizontalPodAutoscaler, canary), { signal, force: true });
  }
  return { primary: primaryAutoscalerName(ref.name) };
}

/** Pauses the user's ScaledObject at zero outside a run and lifts the pause during one. */
async function pauseIdleScaledObject(kube: KubeClient, so: ScaledObject, running: boolean, signal: AbortSignal): Promise<void> {
  const paused = so.metadata.annotations?.[KEDA_PAUSED_REPLICAS];
  const ref = { apiVersion: so.apiVersion, kind: so.kind, namespace: so.metadata.namespace ?? "default", name: so.metadata.name };
  if (!running && paused !== "0") {
    await kube.mergePatch(ref, { metadata: { annotations: { [KEDA_PAUSED_REPLICAS]: "0" } } }, { signal });
  } else if (running && paused !== undefined) {
    await kube.mergePatch(ref, { metadata: { annotations: { [KEDA_PAUSED_REPLICAS]: null } } }, { signal });
  }
}
