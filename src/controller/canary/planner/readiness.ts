/**
 * When a workload counts as ready (Flagger's rules, with the ready threshold rounded up),
 * and how a step says it is waiting for one. A Deployment is measured in replicas, a
 * DaemonSet in the pods scheduled on its eligible nodes (desiredNumberScheduled).
 */
import { PARK_NODE_SELECTOR_KEY } from "../../../ground/workloads.ts";
import type { WorkloadState } from "./types.ts";

/** Condition messages for "waiting for readiness" start with this, so a later step knows to replace them. */
export const READINESS_PREFIX = "waiting for ";

/** The workload runs no pods because aviary sized it so: scaled to zero, or parked. */
export function isScaledDown(w: WorkloadState): boolean {
  return w.sizing === "nodes" ? w.parked === true : w.specReplicas < 1;
}

/**
 * Why a workload is not ready, or null when it is: the rollout has been observed, every
 * pod runs the current template, no old replicas remain, and at least `percent`% of the
 * desired pods are available (rounded up: 50% of 3 is 2). `requireReplicas`: a workload
 * with no pods is not ready (a canary with no pods cannot be analysed).
 */
export function notReadyReason(w: WorkloadState | null, percent: number, requireReplicas: boolean): string | null {
  if (w === null) return "it does not exist";
  if (w.observedGeneration < w.generation) return `generation ${w.generation} is not observed yet`;
  const nodes = w.sizing === "nodes";
  if (requireReplicas && isScaledDown(w)) return nodes ? `it is parked (node selector ${PARK_NODE_SELECTOR_KEY})` : "it is scaled to zero";
  if (requireReplicas && w.specReplicas < 1) return nodes ? "no node is eligible for its pods" : "it is scaled to zero";
  const unit = nodes ? "scheduled pods" : "replicas";
  if (w.updatedReplicas < w.specReplicas) return `${w.updatedReplicas} of ${w.specReplicas} ${unit} are updated`;
  if (w.replicas > w.updatedReplicas) return `${w.replicas - w.updatedReplicas} old replicas are pending termination`;
  const needed = Math.ceil((w.specReplicas * percent) / 100);
  if (w.availableReplicas < needed) {
    return `${w.availableReplicas} of ${w.specReplicas} ${unit} are available (${needed} needed at ${percent}%)`;
  }
  return null;
}
