/**
 * promote, abort, retry, pause and resume act by writing an annotation on the Canary (a
 * merge patch), never by touching generated objects: RBAC on `canaries` decides who may do
 * it, the API server's audit log records who did, and GitOps tools, which own the spec, do
 * not revert it. The controller clears one-shot requests once it acts on them.
 *
 * Decided here, without I/O: whether the request means anything in the Canary's phase (the
 * same rules the controller applies; asking early gives the user an answer now instead of
 * an ignored-request event later), the patch, and the sentence that says what will happen.
 */
import { ANNOTATION_ABORT, ANNOTATION_PAUSED, ANNOTATION_PROMOTE, ANNOTATION_RETRY } from "../api/types.ts";
import type { Canary, CanaryPhase } from "../api/types.ts";
import { phaseLabel } from "./progress.ts";

export const REQUEST_KINDS = ["promote", "abort", "retry", "pause", "resume"] as const;
export type RequestKind = (typeof REQUEST_KINDS)[number];

export const REQUEST_ANNOTATION: Record<RequestKind, string> = {
  promote: ANNOTATION_PROMOTE,
  abort: ANNOTATION_ABORT,
  retry: ANNOTATION_RETRY,
  pause: ANNOTATION_PAUSED,
  resume: ANNOTATION_PAUSED,
};

export interface AnnotationPatch {
  metadata: { annotations: Record<string, string | null> };
}

export type RequestDecision =
  /** Write `patch`; then print `done` and each note. */
  | { kind: "write"; patch: AnnotationPatch; done: string; notes: string[] }
  /** Nothing to write: the Canary is already as asked. */
  | { kind: "unchanged"; done: string }
  /** The request means nothing in the current state; `reason` says why. */
  | { kind: "refuse"; reason: string };

export function decideRequest(request: RequestKind, canary: Canary, now: Date): RequestDecision {
  const ref = `${canary.metadata.namespace ?? ""}/${canary.metadata.name}`;
  const annotations = canary.metadata.annotations ?? {};
  const phase = canary.status?.phase;
  const revision = canary.status?.canaryRevision ?? canary.status?.lastAppliedSpec;
  const rev = revision ? `revision ${revision}` : "the canary revision";
  if (canary.metadata.deletionTimestamp !== undefined && request !== "resume") {
    return { kind: "refuse", reason: `cannot ${request} ${ref}: the Canary is being deleted` };
  }
  const notes: string[] = [];
  if (canary.spec?.suspend === true) notes.push("spec.suspend is true: the controller acts on this once suspend is cleared");
  const annotation = REQUEST_ANNOTATION[request];
  const set = (value: string | null): AnnotationPatch => ({ metadata: { annotations: { [annotation]: value } } });
  const stamp = now.toISOString();
  const pending = annotations[annotation];
  if (pending !== undefined && (request === "promote" || request === "abort" || request === "retry")) {
    notes.push(`it replaces a request still pending since ${pending}`);
  }
  const at = `(${annotation}=${stamp})`;

  switch (request) {
    case "promote": {
      if (phase === "Waiting") return write(set(stamp), `promotion requested for ${ref} ${at}: the confirm-rollout gate opens and the run starts`, notes);
      if (phase === "Progressing") return write(set(stamp), `promotion requested for ${ref} ${at}: the remaining steps are skipped and ${rev} is promoted`, notes);
      if (phase === "WaitingPromotion") return write(set(stamp), `promotion requested for ${ref} ${at}: the confirm-promotion gate opens and ${rev} is promoted`, notes);
      return refuse("promote", ref, phase, phase === "Promoting" || phase === "Finalising" ? "a promotion is already under way" : idleReason(phase));
    }
    case "abort": {
      if (phase === "Waiting" || phase === "Progressing" || phase === "WaitingPromotion") {
        return write(set(stamp), `abort requested for ${ref} ${at}: all traffic returns to the primary, the canary is scaled to zero and the run ends Failed`, notes);
      }
      return refuse("abort", ref, phase, phase === "Promoting" || phase === "Finalising" ? "the promotion is already under way" : idleReason(phase));
    }
    case "retry": {
      if (phase === "Failed") return write(set(stamp), `retry requested for ${ref} ${at}: ${rev} is analysed again from the first step`, notes);
      return refuse("retry", ref, phase, "only a Failed canary can be retried");
    }
    case "pause": {
      if (annotations[ANNOTATION_PAUSED] === "true") return { kind: "unchanged", done: `${ref} is already paused` };
      const effect =
        phase === "Waiting" || phase === "Progressing" || phase === "WaitingPromotion"
          ? "the run holds at its current step"
          : "the next revision waits before its analysis starts";
      return write(set("true"), `paused ${ref} (${ANNOTATION_PAUSED}=true): ${effect} until \`aviary resume ${canary.metadata.name}\``, notes);
    }
    case "resume": {
      if (annotations[ANNOTATION_PAUSED] === undefined) return { kind: "unchanged", done: `${ref} is not paused` };
      return write(set(null), `resumed ${ref} (${ANNOTATION_PAUSED} removed): the run continues from where it held`, notes);
    }
  }
}

const write = (patch: AnnotationPatch, done: string, notes: string[]): RequestDecision => ({ kind: "write", patch, done, notes });

function refuse(request: RequestKind, ref: string, phase: CanaryPhase | undefined, why: string): RequestDecision {
  return { kind: "refuse", reason: `cannot ${request} ${ref}: ${why} (phase ${phaseLabel(phase)})` };
}

function idleReason(phase: CanaryPhase | undefined): string {
  if (phase === undefined) return "the controller has not reported a status yet";
  if (phase === "Initializing") return "the Canary is still initializing";
  if (phase === "Terminating" || phase === "Terminated") return "the Canary is being deleted";
  return "no run is in progress";
}
