/**
 * Writing a promote/abort/retry/pause/resume request on a Canary, for every front end that
 * offers them (the CLI's commands, the dashboard's buttons): read the Canary, decide (see
 * requests.ts), and write the annotation with the Canary's resourceVersion as a
 * precondition, so the decision is never made on a state the controller has since changed;
 * on a conflict, read again and decide again. Errors from the API server (403 above all:
 * RBAC decides who may patch canaries) are thrown as they are, for the caller to show.
 */
import { DEFAULT_API } from "../api/groups.ts";
import type { ApiGroup } from "../api/groups.ts";
import type { Canary } from "../api/types.ts";
import { isConflict } from "../kube/types.ts";
import type { KubeClient } from "../kube/types.ts";
import { decideRequest } from "./requests.ts";
import type { RequestKind } from "./requests.ts";

const MAX_ATTEMPTS = 5;

export type RequestOutcome =
  | { kind: "written"; done: string; notes: string[] }
  | { kind: "unchanged"; done: string }
  | { kind: "refused"; reason: string }
  /** `confirm` said no: nothing was written. */
  | { kind: "cancelled" }
  | { kind: "not-found" }
  /** The Canary changed under every attempt. */
  | { kind: "contended" };

export interface WriteRequestOptions {
  signal: AbortSignal;
  now: () => Date;
  /** Asked once, before the first write; the request goes ahead only on true. */
  confirm?: (canary: Canary) => Promise<boolean>;
  /** The group Canaries are served in; default aviary.dev. */
  api?: ApiGroup;
}

export async function writeRequest(
  client: Pick<KubeClient, "get" | "mergePatch">,
  namespace: string,
  name: string,
  request: RequestKind,
  opts: WriteRequestOptions,
): Promise<RequestOutcome> {
  const ref = { ...(opts.api ?? DEFAULT_API).canary, namespace, name };
  let confirmed = false;
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const canary = await client.get<Canary>(ref, { signal: opts.signal });
    if (canary === null) return { kind: "not-found" };
    const decision = decideRequest(request, canary, opts.now());
    if (decision.kind === "refuse") return { kind: "refused", reason: decision.reason };
    if (decision.kind === "unchanged") return { kind: "unchanged", done: decision.done };
    if (opts.confirm && !confirmed) {
      if (!(await opts.confirm(canary))) return { kind: "cancelled" };
      confirmed = true;
    }
    try {
      await client.mergePatch(ref, decision.patch, {
        signal: opts.signal,
        ...(canary.metadata.resourceVersion !== undefined ? { resourceVersion: canary.metadata.resourceVersion } : {}),
      });
    } catch (err) {
      // The controller wrote in between (a status update, a cleared request): decide again on what is there now.
      if (isConflict(err)) continue;
      throw err;
    }
    return { kind: "written", done: decision.done, notes: decision.notes };
  }
  return { kind: "contended" };
}
