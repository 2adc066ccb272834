/**
 * The dashboard's buttons: promote, abort, retry, pause and resume, written exactly as the
 * CLI writes them (cli/request-write.ts) with the server's client, so RBAC on the Canary
 * decides. The answer is what a person needs to read: what happens next, why nothing was
 * written, or the API server's own refusal.
 */
import { REQUEST_KINDS } from "../cli/requests.ts";
import type { RequestKind } from "../cli/requests.ts";
import { writeRequest } from "../cli/request-write.ts";
import { DEFAULT_API } from "../api/groups.ts";
import type { ApiGroup } from "../api/groups.ts";
import { KubeApiError } from "../kube/types.ts";
import type { KubeClient } from "../kube/types.ts";

export interface ActionAnswer {
  /** HTTP status for the browser. */
  status: number;
  body: { ok: boolean; message: string; notes?: string[] };
}

export const isRequestKind = (s: string): s is RequestKind => (REQUEST_KINDS as readonly string[]).includes(s);

export async function runAction(
  client: Pick<KubeClient, "get" | "mergePatch">, namespace: string, name: string, action: RequestKind, signal: AbortSignal, api: ApiGroup = DEFAULT_API,
): Promise<ActionAnswer> {
  try {
    const outcome = await writeRequest(client, namespace, name, action, { signal, now: () => new Date(), api });
    switch (outcome.kind) {
      case "written":
        return { status: 200, body: { ok: true, message: outcome.done, notes: outcome.notes } };
      case "unchanged":
        return { status: 200, body: { ok: true, message: outcome.done } };
      case "refused":
        return { status: 409, body: { ok: false, message: outcome.reason } };
      case "not-found":
        return { status: 404, body: { ok: false, message: `canary ${namespace}/${name} not found` } };
      case "cancelled":
      case "contended":
        return { status: 409, body: { ok: false, message: `the Canary ${namespace}/${name} kept changing while the ${action} request was written; try again` } };
    }
  } catch (err) {
    if (err instanceof KubeApiError) {
      // 401/403 are the cluster's answer about this user: pass them on with the API server's words.
      const status = err.status === 401 || err.status === 403 ? err.status : err.status === 0 ? 503 : 502;
      const prefix = err.status === 403 ? "not allowed by the cluster (RBAC decides who may patch canaries): " : "";
      return { status, body: { ok: false, message: prefix + err.message } };
    }
    return { status: 500, body: { ok: false, message: err instanceof Error ? err.message : String(err) } };
  }
}
