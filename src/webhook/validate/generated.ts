/**
 * Validating admission for the objects aviary generates (`<target>-primary`, the apex,
 * primary and canary Services, route objects): only aviary may change or delete them, so
 * nobody bypasses the canary by editing the primary. The denial names what to change
 * instead. A cluster-admin can opt one object out with an annotation; each such edit is
 * reported (an Event is recorded by the callback's owner).
 */
import { isDeepStrictEqual } from "node:util";
import type { KubeObject } from "../../kube/types.ts";
import { LABEL_CANARY, LABEL_CANARY_NAMESPACE, LABEL_MANAGED_BY, MANAGED_BY_VALUE } from "../../api/types.ts";
import { TARGET_KIND_INFO } from "../../ground/workloads.ts";
import type { AdmissionHandler, AdmissionRequest, AdmissionResult, UserInfo } from "../admission.ts";
import { allowed, annotationsOf, denied, isUserIn, labelsOf, objectName } from "../admission.ts";

/** On a generated object, "true" lets anyone edit it (aviary reconciles it back later). */
export const ANNOTATION_ALLOW_MANUAL_EDITS = "aviary.dev/allow-manual-edits";

/**
 * Kubernetes' own controllers write generated objects too: the Deployment controller sets
 * `deployment.kubernetes.io/revision` with a plain update, the garbage collector removes
 * the objects a deleted Canary owned, the namespace controller empties a namespace.
 */
export const DEFAULT_SYSTEM_USERS: readonly string[] = ["system:kube-controller-manager"];
export const DEFAULT_SYSTEM_GROUPS: readonly string[] = ["system:serviceaccounts:kube-system"];

export interface ManualEdit {
  namespace: string;
  kind: string;
  name: string;
  /** The Canary that owns the object ("" when the label is missing). */
  canary: string;
  operation: "UPDATE" | "DELETE";
  user: string;
}

export interface GeneratedGuardOptions {
  /** aviary's own identities (its service account), always allowed. */
  aviaryUsers: readonly string[];
  /** Default DEFAULT_SYSTEM_USERS. */
  systemUsers?: readonly string[];
  /** Default DEFAULT_SYSTEM_GROUPS. */
  systemGroups?: readonly string[];
  /** Called for each edit let through by the opt-out annotation (never for dry runs). */
  onManualEdit?: (edit: ManualEdit) => void;
}

const isGenerated = (obj: KubeObject | null | undefined): boolean => labelsOf(obj)[LABEL_MANAGED_BY] === MANAGED_BY_VALUE;

/** Fields that other actors legitimately change on any object; an update touching only these passes. */
function withoutBookkeeping(obj: KubeObject): unknown {
  const { status: _status, metadata, ...rest } = obj;
  const { resourceVersion: _rv, managedFields: _mf, generation: _gen, finalizers: _fin, ...meta } = metadata ?? { name: "" };
  return { ...rest, metadata: meta };
}

/**
 * The denial: `podinfo-primary is managed by canary default/podinfo; change deployment/podinfo`.
 * The primary's pod template comes from the target workload, a Deployment or DaemonSet (its
 * name without `-primary`); everything else aviary generates comes from the Canary's spec.
 */
export function managedMessage(kind: string, name: string, namespace: string, canary: string): string {
  const owner = canary ? `canary ${namespace}/${canary}` : "aviary";
  const target =
    Object.hasOwn(TARGET_KIND_INFO, kind) && name.endsWith("-primary") && name.length > "-primary".length
      ? `${kind.toLowerCase()}/${name.slice(0, -"-primary".length)}`
      : canary
        ? `canary/${canary}`
        : "the Canary that generated it";
  return `${name} is managed by ${owner}; change ${target}`;
}

function isTrusted(user: UserInfo, opts: GeneratedGuardOptions): boolean {
  return (
    isUserIn(user, opts.aviaryUsers) ||
    isUserIn(user, opts.systemUsers ?? DEFAULT_SYSTEM_USERS) ||
    (user.groups ?? []).some((g) => (opts.systemGroups ?? DEFAULT_SYSTEM_GROUPS).includes(g))
  );
}

/** Decides one request. Pure apart from the opt-out callback. */
export function guardGenerated(request: AdmissionRequest, opts: GeneratedGuardOptions): AdmissionResult {
  if (request.operation !== "UPDATE" && request.operation !== "DELETE") return allowed();
  // The scale subresource is the HPA's; status is the owning controller's.
  if (request.subResource) return allowed();
  // Judge by the stored object: an update cannot escape by dropping the label.
  const stored = request.oldObject ?? null;
  if (!isGenerated(stored) && !isGenerated(request.object)) return allowed();
  if (isTrusted(request.userInfo, opts)) return allowed();
  if (request.operation === "UPDATE" && stored && request.object) {
    if (isDeepStrictEqual(withoutBookkeeping(stored), withoutBookkeeping(request.object))) return allowed();
  }

  // A cluster-scoped object (Kuma's TrafficRoute) names its Canary's namespace in a label.
  const namespace = request.namespace || stored?.metadata?.namespace || labelsOf(stored)[LABEL_CANARY_NAMESPACE] || labelsOf(request.object)[LABEL_CANARY_NAMESPACE] || "";
  const name = objectName(request);
  const kind = request.kind.kind;
  const canary = labelsOf(stored)[LABEL_CANARY] ?? labelsOf(request.object)[LABEL_CANARY] ?? "";
  const optedOut = [stored, request.object].some((o) => annotationsOf(o)[ANNOTATION_ALLOW_MANUAL_EDITS] === "true");
  if (optedOut) {
    if (!request.dryRun) {
      opts.onManualEdit?.({ namespace, kind, name, canary, operation: request.operation, user: request.userInfo.username ?? "" });
    }
    return allowed([`${name} is managed by aviary; this manual edit is allowed by ${ANNOTATION_ALLOW_MANUAL_EDITS}=true and may be overwritten by aviary`]);
  }
  return denied(managedMessage(kind, name, namespace, canary));
}

export function createGeneratedObjectGuard(opts: GeneratedGuardOptions): AdmissionHandler {
  return {
    type: "validate",
    name: "generated",
    // Deletes of generated objects (namespace teardown) must not hang on a broken webhook.
    failurePolicy: "Ignore",
    handle: (request) => guardGenerated(request, opts),
  };
}
