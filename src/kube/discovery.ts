/**
 * API discovery: which resource (plural, scope, subresources) serves an apiVersion/kind.
 *
 * Answers are cached per group version and refreshed on a miss, so a CRD installed after
 * aviary started is found the first time it is asked for, while known kinds cost no
 * request. Concurrent misses for one group version share a single request.
 */
import { apiErrorFromException, apiErrorFromResponse, noKindMatch } from "./errors.ts";
import type { KubeTransport } from "./transport.ts";
import type { CallOptions } from "./types.ts";

export interface ApiResource {
  apiVersion: string;
  /** "" for the core group. */
  group: string;
  version: string;
  kind: string;
  /** The URL segment: "deployments". */
  plural: string;
  namespaced: boolean;
  /** "status", "scale", … */
  subresources: string[];
  verbs: string[];
}

export interface ApiDiscovery {
  /** The resource for apiVersion/kind; throws a `NoKindMatch` KubeApiError when it is not served. */
  resource(apiVersion: string, kind: string, opts?: CallOptions): Promise<ApiResource>;
  /** Whether the API server serves `plural` in `group` (any version): the CRD is installed and established. */
  crdInstalled(group: string, plural: string, opts?: CallOptions): Promise<boolean>;
  /** Drops every cached answer. */
  invalidate(): void;
}

interface RawResource {
  name: string;
  kind: string;
  namespaced: boolean;
  verbs?: string[];
}

/** "virtualrouters.appmesh.k8s.aws" */
export const crdName = (group: string, plural: string): string => `${plural}.${group}`;

export function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf("/");
  return slash < 0 ? { group: "", version: apiVersion } : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

export const groupVersionPath = (apiVersion: string): string => (apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`);

/** Reads an APIResourceList into resources by kind, with their subresources attached. */
export function parseResourceList(apiVersion: string, list: { resources?: RawResource[] }): Map<string, ApiResource> {
  const { group, version } = splitApiVersion(apiVersion);
  const raw = list.resources ?? [];
  const byKind = new Map<string, ApiResource>();
  for (const r of raw) {
    if (r.name.includes("/")) continue;
    byKind.set(r.kind, {
      apiVersion,
      group,
      version,
      kind: r.kind,
      plural: r.name,
      namespaced: r.namespaced,
      subresources: raw.filter((s) => s.name.startsWith(`${r.name}/`)).map((s) => s.name.slice(r.name.length + 1)),
      verbs: r.verbs ?? [],
    });
  }
  return byKind;
}

export function createDiscovery(transport: KubeTransport): ApiDiscovery {
  // apiVersion -> resources by kind; null when the group version is not served.
  const cache = new Map<string, Map<string, ApiResource> | null>();
  const inFlight = new Map<string, Promise<Map<string, ApiResource> | null>>();

  // One shared request per group version, bounded by the transport timeout rather than by
  // any one caller's signal (an aborted caller must not fail the others); each caller still
  // stops waiting when its own signal fires.
  const fetchGroupVersion = (apiVersion: string, opts?: CallOptions): Promise<Map<string, ApiResource> | null> => {
    const pending = inFlight.get(apiVersion);
    if (pending) return untilAborted(pending, opts?.signal, `discover API ${apiVersion}`);
    const request = (async () => {
      const res = await transport.request({ method: "GET", path: groupVersionPath(apiVersion), action: `discover API ${apiVersion}` });
      if (res.status === 404) return null;
      if (res.status < 200 || res.status > 299) throw apiErrorFromResponse(`discover API ${apiVersion}`, res.status, res.text);
      return parseResourceList(apiVersion, JSON.parse(res.text) as { resources?: RawResource[] });
    })();
    const settled = request.then(
      (resources) => {
        inFlight.delete(apiVersion);
        cache.set(apiVersion, resources);
        return resources;
      },
      (err: unknown) => {
        inFlight.delete(apiVersion);
        throw err;
      },
    );
    inFlight.set(apiVersion, settled);
    return untilAborted(settled, opts?.signal, `discover API ${apiVersion}`);
  };

  const lookup = async (apiVersion: string, match: (r: ApiResource) => boolean, opts?: CallOptions): Promise<ApiResource | undefined> => {
    const cached = cache.get(apiVersion);
    const hit = cached && [...cached.values()].find(match);
    if (hit) return hit;
    const fresh = await fetchGroupVersion(apiVersion, opts);
    return fresh ? [...fresh.values()].find(match) : undefined;
  };

  return {
    async resource(apiVersion, kind, opts) {
      const cached = cache.get(apiVersion)?.get(kind);
      if (cached) return cached;
      const fresh = await fetchGroupVersion(apiVersion, opts);
      const found = fresh?.get(kind);
      if (!found) throw noKindMatch(apiVersion, kind);
      return found;
    },

    async crdInstalled(group, plural, opts) {
      const res = await transport.request({ method: "GET", path: `/apis/${group}`, signal: opts?.signal, action: `discover API group ${group}` });
      if (res.status === 404) return false;
      if (res.status < 200 || res.status > 299) throw apiErrorFromResponse(`discover API group ${group}`, res.status, res.text);
      const apiGroup = JSON.parse(res.text) as { versions?: Array<{ groupVersion: string }> };
      for (const { groupVersion } of apiGroup.versions ?? []) {
        if (await lookup(groupVersion, (r) => r.plural === plural, opts)) return true;
      }
      return false;
    },

    invalidate() {
      cache.clear();
    },
  };
}

function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined, action: string): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(apiErrorFromException(action, signal.reason, false, true));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(apiErrorFromException(action, signal.reason, false, true));
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (err: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(err);
      },
    );
  });
}
