/**
 * When a Deployment counts as ready (Flagger's rules, with the ready threshold rounded up),
 * and how a step says it is waiting for one.
 */
import type { WorkloadState } from "./types.ts";

/** Condition messages for "waiting for readiness" start with this, so a later step knows to replace them. */
export const READINESS_PREFIX = "waiting for ";

/**
 * Why a Deployment is not ready, or null when it is: the rollout has been observed, every
 * replica runs the current template, no old replicas remain, and at least `percent`% of the
 * desired replicas are available (rounded up: 50% of 3 is 2). `requireReplicas`: a
 * Deployment scaled to zero is not ready (a canary with no pods cannot be analysed).
 */
export function notReadyReason(w: WorkloadState | null, percent: number, requireReplicas: boolean): string | null {
  if (w === null) return "the Deployment does not exist";
  if (w.observedGeneration < w.generation) return `generation ${w.generation} is not observed yet`;
  if (requireReplicas && w.specReplicas < 1) return "it is scaled to zero";
  if (w.updatedReplicas < w.specReplicas) return `${w.updatedReplicas} of ${w.specReplicas} replicas are updated`;
  if (w.replicas > w.updatedReplicas) return `${w.replicas - w.updatedReplicas} old replicas are pending termination`;
  const needed = Math.ceil((w.specReplicas * percent) / 100);
  if (w.availableReplicas < needed) {
    return `${w.availableReplicas} of ${w.specReplicas} replicas are available (${needed} needed at ${percent}%)`;
  }
  return null;
}
