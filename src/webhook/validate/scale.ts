/**
 * Validating admission for the scale subresource of generated workloads (`kubectl scale
 * deployment/podinfo-primary`). The rule: the primary's size is the user's desired size,
 * and the user states it on their own Deployment. So a scale of the primary by a person is
 * denied, naming the Deployment to scale instead — where a scale of the idle target is
 * adopted as the new desired size and the primary follows it. An autoscaler that owns the
 * primary's scale (the HPA controller, as its service account or as kube-controller-manager)
 * and aviary itself pass.
 *
 * A Scale object carries no labels, so the webhook configuration cannot select generated
 * workloads by label: it narrows by name (`*-primary`), and this handler reads the
 * Deployment to tell a generated primary from a user's Deployment that happens to end so.
 */
import { LABEL_CANARY, LABEL_MANAGED_BY, MANAGED_BY_VALUE } from "../../api/types.ts";
import type { KubeObject } from "../../kube/types.ts";
import type { AdmissionHandler, AdmissionRequest, AdmissionResult, HandlerContext, UserInfo } from "../admission.ts";
import { allowed, denied, isUserIn } from "../admission.ts";
import { ANNOTATION_ALLOW_MANUAL_EDITS, DEFAULT_SYSTEM_GROUPS, DEFAULT_SYSTEM_USERS } from "./generated.ts";

/** The HPA controller's identity when kube-controller-manager runs it with per-controller credentials. */
export const HPA_SERVICE_ACCOUNT = "system:serviceaccount:kube-system:horizontal-pod-autoscaler";

export interface ScaleGuardOptions {
  aviaryUsers: readonly string[];
  /** Default: kube-controller-manager and the HPA controller's service account. */
  systemUsers?: readonly string[];
  /** Default DEFAULT_SYSTEM_GROUPS (kube-system's service accounts). */
  systemGroups?: readonly string[];
  /** Reads the Deployment the scale request is for; null when it does not exist. */
  getDeployment: (namespace: string, name: string, signal: AbortSignal) => Promise<KubeObject | null>;
}

function isTrusted(user: UserInfo, opts: ScaleGuardOptions): boolean {
  return (
    isUserIn(user, opts.aviaryUsers) ||
    isUserIn(user, opts.systemUsers ?? [...DEFAULT_SYSTEM_USERS, HPA_SERVICE_ACCOUNT]) ||
    (user.groups ?? []).some((g) => (opts.systemGroups ?? DEFAULT_SYSTEM_GROUPS).includes(g))
  );
}

export async function guardScale(request: AdmissionRequest, opts: ScaleGuardOptions, signal: AbortSignal): Promise<AdmissionResult> {
  if (request.operation !== "UPDATE" || request.subResource !== "scale") return allowed();
  if (isTrusted(request.userInfo, opts)) return allowed();
  const namespace = request.namespace ?? "";
  const name = request.name ?? "";
  const deployment = await opts.getDeployment(namespace, name, signal);
  const labels = deployment?.metadata.labels ?? {};
  if (deployment === null || labels[LABEL_MANAGED_BY] !== MANAGED_BY_VALUE) return allowed();
  if (deployment.metadata.annotations?.[ANNOTATION_ALLOW_MANUAL_EDITS] === "true") {
    return allowed([`${name} is managed by aviary; this scale is allowed by ${ANNOTATION_ALLOW_MANUAL_EDITS}=true and aviary sets the size back to the desired one`]);
  }
  const canary = labels[LABEL_CANARY];
  const owner = canary ? `canary ${namespace}/${canary}` : "aviary";
  const target = name.endsWith("-primary") ? name.slice(0, -"-primary".length) : name;
  return denied(`${name} is managed by ${owner}; scale deployment/${target} instead: its size is the desired size, and ${name} follows it`);
}

export function createScaleGuard(opts: ScaleGuardOptions): AdmissionHandler {
  return {
    type: "validate",
    name: "scale",
    // A scale must never be blocked by aviary being down.
    failurePolicy: "Ignore",
    handle: (request, ctx: HandlerContext) => guardScale(request, opts, ctx.signal),
  };
}
