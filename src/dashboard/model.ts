/**
 * What the dashboard shows, as plain JSON-able values: one summary line per Canary for the
 * list, and for one Canary the runs (weights and checks over time), the events and the
 * generated objects. Pure: objects in, values out; the store (store.ts) feeds it.
 */
import { ANNOTATION_CHANGED_BY, ANNOTATION_PAUSED, ANNOTATION_REVISION, CONDITION_PROMOTED } from "../api/types.ts";
import type { AnalysisVerdict, Canary, CanaryPhase, JudgeEvidence } from "../api/types.ts";
import { DEFAULT_THRESHOLD } from "../api/defaults.ts";
import { pendingRequests } from "../cli/report.ts";
import type { KubeObject } from "../kube/types.ts";

export interface CanarySummary {
  /** `namespace/name`. */
  key: string;
  namespace: string;
  name: string;
  phase: CanaryPhase | undefined;
  canaryWeight: number;
  primaryWeight: number;
  failedChecks: number;
  threshold: number;
  /** ISO 8601. */
  lastTransitionTime: string | undefined;
  /** The revision under analysis (status.canaryRevision), else the last one acted on. */
  revision: string | undefined;
  /** The revision last promoted to the primary. */
  promotedRevision: string | undefined;
  /** From the target Deployment's aviary.dev/changed-by, stamped by the admission webhook. */
  changedBy: string | undefined;
  /** The target's aviary.dev/revision: the pod-template hash the webhook saw last. */
  targetRevision: string | undefined;
  target: string;
  paused: boolean;
  suspended: boolean;
  /** Requests written but not yet acted on (`abort (aviary.dev/abort=…)`). */
  pending: string[];
  /** The Promoted condition's message: what the controller is doing, or why the run ended. */
  message: string;
}

export interface WeightPoint {
  /** Milliseconds since the epoch. */
  t: number;
  canary: number;
  primary: number;
}

export interface CheckPoint {
  t: number;
  value?: number;
  min?: number;
  max?: number;
  verdict: AnalysisVerdict;
  message: string;
}

export interface CheckSeries {
  name: string;
  kind: "metric" | "webhook";
  points: CheckPoint[];
}

/**
 * One check of a metric with `compare`: how it counted, the judge's sentence, and the
 * evidence behind it as status.lastAnalysis[].judge carries it (both arms' bad-event rates
 * over the run so far, the ratio and its confidence interval, the tolerance, the e-value and
 * the threshold it must reach to fail the canary). `evidence` is absent while the judge has
 * no window counted yet, or when the counts could not be read (the message says which).
 */
export interface ComparisonPoint {
  t: number;
  verdict: AnalysisVerdict;
  message: string;
  evidence?: JudgeEvidence;
  /** Windows the judge has counted in this run, when status.judge was written with this check. */
  windows?: number;
}

/** A compared metric over one run; the page draws the section only when a run has one. */
export interface ComparisonSeries {
  name: string;
  points: ComparisonPoint[];
}

export type RunOutcome = "Succeeded" | "Failed";

export interface RunHistory {
  revision: string | undefined;
  startedAt: number;
  endedAt?: number;
  outcome?: RunOutcome;
  /** The sentence that ended the run (the Promoted/RolledBack event or the condition). */
  verdict?: string;
  weights: WeightPoint[];
  checks: CheckSeries[];
  comparisons: ComparisonSeries[];
}

export interface TimelineEvent {
  /** ISO 8601 of the last occurrence. */
  time: string;
  type: string;
  reason: string;
  message: string;
  count: number;
}

export interface GeneratedObject {
  kind: string;
  name: string;
  /** true ready, false not ready, null when the object has no readiness to speak of. */
  ready: boolean | null;
  detail: string;
}

export interface CanaryDetail {
  summary: CanarySummary;
  /** The last runs seen, oldest first (at most the current one and the one before). */
  runs: RunHistory[];
  events: TimelineEvent[];
  objects: GeneratedObject[];
  /** status.lastAnalysis as the controller wrote it. */
  lastAnalysis: NonNullable<NonNullable<Canary["status"]>["lastAnalysis"]>;
}

export const keyOf = (namespace: string, name: string): string => `${namespace}/${name}`;

export function summarize(canary: Canary, target: KubeObject | undefined): CanarySummary {
  const status = canary.status ?? {};
  const namespace = canary.metadata.namespace ?? "";
  const weight = clampPercent(status.canaryWeight ?? 0);
  const annotations = target?.metadata.annotations ?? {};
  return {
    key: keyOf(namespace, canary.metadata.name),
    namespace,
    name: canary.metadata.name,
    phase: status.phase,
    canaryWeight: weight,
    primaryWeight: 100 - weight,
    failedChecks: status.failedChecks ?? 0,
    threshold: canary.spec?.analysis?.threshold ?? DEFAULT_THRESHOLD,
    lastTransitionTime: status.lastTransitionTime,
    revision: status.canaryRevision ?? status.lastAppliedSpec,
    promotedRevision: status.lastPromotedSpec,
    changedBy: annotations[ANNOTATION_CHANGED_BY],
    targetRevision: annotations[ANNOTATION_REVISION],
    target: `${canary.spec?.targetRef?.kind ?? "Deployment"}/${canary.spec?.targetRef?.name ?? ""}`,
    paused: canary.metadata.annotations?.[ANNOTATION_PAUSED] === "true",
    suspended: canary.spec?.suspend === true,
    pending: pendingRequests(canary),
    message: status.conditions?.find((c) => c.type === CONDITION_PROMOTED)?.message ?? "",
  };
}

/** Readiness of a generated object, by kind, from what its controller reports. */
export function describeObject(obj: KubeObject): GeneratedObject {
  const base = { kind: obj.kind, name: obj.metadata.name };
  const spec = (obj.spec ?? {}) as Record<string, unknown>;
  const status = (obj.status ?? {}) as Record<string, unknown>;
  if (obj.kind === "Deployment") {
    const want = typeof spec.replicas === "number" ? spec.replicas : 1;
    const ready = typeof status.readyReplicas === "number" ? status.readyReplicas : 0;
    const current = (typeof status.observedGeneration === "number" ? status.observedGeneration : 0) >= (obj.metadata.generation ?? 0);
    if (want === 0) return { ...base, ready: true, detail: "scaled to 0" };
    return { ...base, ready: current && ready >= want, detail: `${ready}/${want} ready` };
  }
  if (obj.kind === "Service") {
    const ip = typeof spec.clusterIP === "string" ? ` ${spec.clusterIP}` : "";
    return { ...base, ready: null, detail: `${typeof spec.type === "string" ? spec.type : "ClusterIP"}${ip}` };
  }
  // Route objects: Gateway API reports per parent, most CRDs a conditions list.
  const parents = Array.isArray(status.parents) ? (status.parents as { conditions?: Condition[] }[]) : [];
  const conditions = [...(Array.isArray(status.conditions) ? (status.conditions as Condition[]) : []), ...parents.flatMap((p) => p.conditions ?? [])];
  const relevant = conditions.filter((c) => c.type === "Accepted" || c.type === "Ready" || c.type === "ResolvedRefs" || c.type === "VirtualRouterActive" || c.type === "VirtualServiceActive" || c.type === "VirtualNodeActive");
  if (relevant.length === 0) return { ...base, ready: null, detail: "no status reported by its controller" };
  const bad = relevant.find((c) => c.status !== "True");
  return bad
    ? { ...base, ready: false, detail: `${bad.type}=${bad.status}${bad.message ? `: ${bad.message}` : ""}` }
    : { ...base, ready: true, detail: relevant.map((c) => c.type).join(", ") };
}

interface Condition {
  type?: string;
  status?: string;
  message?: string;
}

export function toTimelineEvent(event: KubeObject): TimelineEvent {
  const e = event as KubeObject & { type?: string; reason?: string; message?: string; count?: number; lastTimestamp?: string; eventTime?: string; firstTimestamp?: string };
  return {
    time: e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata.creationTimestamp ?? "",
    type: e.type ?? "Normal",
    reason: e.reason ?? "",
    message: e.message ?? "",
    count: e.count ?? 1,
  };
}

function clampPercent(n: number): number {
  if (!Number.isFinite(n)) return 0;
  return Math.min(100, Math.max(0, Math.round(n)));
}
