/**
 * The snapshot of the promoted primary: an apps/v1 ControllerRevision named like the primary
 * (`<target>-primary`), owned by the Canary, written whenever `initialize` creates the primary
 * and at every promotion. It holds the primary aviary wrote (a Deployment or a DaemonSet: its
 * kind, the metadata it decides, the whole spec) and the revision it carries, so a primary deleted by hand is rebuilt as it
 * was — also in the middle of a run, when the target carries another revision and cannot be
 * copied again. A ControllerRevision's data is immutable: a new snapshot replaces the old one
 * (delete, then create).
 */
import { isDeepStrictEqual } from "node:util";
import { ANNOTATION_REVISION } from "../../api/types.ts";
import type { Canary } from "../../api/types.ts";
import { canaryOwnerReference, managedLabels, primaryDeploymentName } from "../../ground/identity.ts";
import type { DeploymentSpec, Workload } from "../../ground/workloads.ts";
import { isConflict } from "../../kube/types.ts";
import type { KubeClient, KubeObject, ObjectMeta, ObjectRef } from "../../kube/types.ts";

interface SnapshotData {
  /** The primary as aviary applied it: kind, name, labels, annotations, owner references, spec. */
  primary: { kind: Workload["kind"]; metadata: Pick<ObjectMeta, "name" | "labels" | "annotations" | "ownerReferences">; spec: Workload["spec"] };
}

export interface PrimarySnapshot extends KubeObject {
  data?: SnapshotData;
  revision?: number;
}

export const snapshotRef = (canary: Canary): ObjectRef => ({
  apiVersion: "apps/v1",
  kind: "ControllerRevision",
  namespace: canary.metadata.namespace ?? "default",
  name: primaryDeploymentName(canary),
});

/** The revision a snapshot holds (the primary's `aviary.dev/revision`); undefined when unreadable. */
export function snapshotRevision(snapshot: PrimarySnapshot): string | undefined {
  return snapshot.metadata.annotations?.[ANNOTATION_REVISION] ?? snapshot.data?.primary?.metadata.annotations?.[ANNOTATION_REVISION];
}

function snapshotData(primary: Workload): SnapshotData {
  const { name, labels, annotations, ownerReferences } = primary.metadata;
  const metadata: SnapshotData["primary"]["metadata"] = { name };
  if (labels !== undefined) metadata.labels = labels;
  if (annotations !== undefined) metadata.annotations = annotations;
  if (ownerReferences !== undefined) metadata.ownerReferences = ownerReferences;
  return { primary: { kind: primary.kind, metadata, spec: structuredClone(primary.spec) } };
}

/**
 * Records `primary` (as just applied, carrying `revision`) as the Canary's primary snapshot.
 * With `firstSnapshot` (the primary is being created) the snapshot is created without reading
 * first; one that exists after all answers AlreadyExists and is compared and replaced as usual.
 */
export async function writePrimarySnapshot(kube: KubeClient, canary: Canary, primary: Workload, revision: string, signal: AbortSignal, opts: { firstSnapshot?: boolean } = {}): Promise<void> {
  const ref = snapshotRef(canary);
  const data = snapshotData(primary);
  if (opts.firstSnapshot === true) {
    try {
      await kube.create(buildSnapshot(canary, ref, revision, data, 1), { signal });
      return;
    } catch (err) {
      if (!isConflict(err)) throw err;
    }
  }
  const existing = await kube.get<PrimarySnapshot>(ref, { signal });
  if (existing !== null && snapshotRevision(existing) === revision && isDeepStrictEqual(existing.data, data)) return;
  if (existing !== null) await kube.delete(ref, { signal });
  await kube.create(buildSnapshot(canary, ref, revision, data, (existing?.revision ?? 0) + 1), { signal });
}

function buildSnapshot(canary: Canary, ref: ObjectRef, revision: string, data: SnapshotData, revisionNumber: number): PrimarySnapshot {
  return {
    apiVersion: "apps/v1",
    kind: "ControllerRevision",
    metadata: {
      name: ref.name,
      namespace: ref.namespace,
      labels: managedLabels(canary),
      annotations: { [ANNOTATION_REVISION]: revision },
      ownerReferences: [canaryOwnerReference(canary)],
    },
    data,
    revision: revisionNumber,
  };
}

/** What plan needs to know of the snapshot: the revision and the replicas it was written with. */
export async function readPrimarySnapshot(kube: KubeClient, canary: Canary, signal: AbortSignal): Promise<{ revision: string; replicas: number | null } | null> {
  const snapshot = await kube.get<PrimarySnapshot>(snapshotRef(canary), { signal });
  const revision = snapshot === null ? undefined : snapshotRevision(snapshot);
  const held = snapshot?.data?.primary;
  if (revision === undefined || held?.spec === undefined) return null;
  return { revision, replicas: held.kind === "Deployment" ? (held.spec as DeploymentSpec).replicas ?? null : null };
}

/** A snapshot that no longer holds the revision plan decided on: the next reconcile looks again. */
export class SnapshotMovedError extends Error {
  readonly retryable = true;
  constructor(message: string) {
    super(message);
    this.name = "SnapshotMovedError";
  }
}

/**
 * The primary held by the snapshot, with `replicas` for a Deployment (null: left to the
 * autoscaler), ready for server-side apply. Throws SnapshotMovedError when the snapshot is gone or holds
 * another revision than `revision`.
 */
export async function primaryFromSnapshot(kube: KubeClient, canary: Canary, revision: string, replicas: number | null, signal: AbortSignal): Promise<Workload> {
  const snapshot = await kube.get<PrimarySnapshot>(snapshotRef(canary), { signal });
  const held = snapshot === null ? undefined : snapshotRevision(snapshot);
  const primary = snapshot?.data?.primary;
  if (held !== revision || primary === undefined) {
    throw new SnapshotMovedError(`ControllerRevision ${snapshotRef(canary).name} holds ${held === undefined ? "nothing" : `revision ${held}`}, not the promoted ${revision}`);
  }
  const metadata = { ...structuredClone(primary.metadata), namespace: canary.metadata.namespace ?? "default" };
  if (primary.kind === "DaemonSet") return { apiVersion: "apps/v1", kind: "DaemonSet", metadata, spec: structuredClone(primary.spec) } as Workload;
  const spec = structuredClone(primary.spec) as DeploymentSpec;
  if (replicas === null) delete spec.replicas;
  else spec.replicas = replicas;
  return { apiVersion: "apps/v1", kind: "Deployment", metadata, spec };
}
