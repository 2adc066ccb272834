/**
 * Counts the requests a client sends to the API server, by verb and kind, as the transport
 * sees them (one per HTTP exchange; a watch counts once when it opens). It answers "what
 * does aviary cost the API server while nothing happens": the idle figure should be the
 * watches and the periodic resync, nothing else. Read through `snapshot`, or exported as
 * `aviary_kube_requests_total{verb,kind}` (observability/kube-requests.ts).
 */

export interface RequestTally {
  total: number;
  /** `verb kind` → count, e.g. `get Deployment`, `apply Service`, `patch Canary`. */
  byVerbKind: Record<string, number>;
}

export interface RequestCounter {
  /** One request; `action` reads like "get Deployment apps/v1 ns/web". */
  record(action: string): void;
  snapshot(): RequestTally;
}

/** `verb kind` from an action like "get Deployment apps/v1 ns/web" or "patch Canary aviary.dev/v1beta1 ns/x (status)". */
export function verbKindOf(action: string): string {
  const [verb = "unknown", kind = ""] = action.split(" ", 2);
  const sub = /\((\w+)\)$/.exec(action)?.[1];
  return `${verb} ${kind}${sub ? `/${sub}` : ""}`.trim();
}

export function createRequestCounter(): RequestCounter {
  const counts = new Map<string, number>();
  let total = 0;
  return {
    record(action) {
      total++;
      const key = verbKindOf(action);
      counts.set(key, (counts.get(key) ?? 0) + 1);
    },
    snapshot: () => ({ total, byVerbKind: Object.fromEntries(counts) }),
  };
}

/** What happened between two snapshots (requests made in a window). */
export function requestsBetween(before: RequestTally, after: RequestTally): RequestTally {
  const byVerbKind: Record<string, number> = {};
  for (const [k, v] of Object.entries(after.byVerbKind)) {
    const d = v - (before.byVerbKind[k] ?? 0);
    if (d > 0) byVerbKind[k] = d;
  }
  return { total: after.total - before.total, byVerbKind };
}
