/**
 * The KubeClient implementation: a dynamic client over any apiVersion/kind, with discovery
 * (refreshed on a miss, so CRDs installed after start work), server-side apply as
 * `aviary`, merge patches on the object or its status/scale subresource, paginated lists,
 * watches, and every failure as a KubeApiError that names the object.
 *
 * It talks JSON straight to the API server through the library's authenticated transport
 * rather than through KubernetesObjectApi, which has no subresources, accepts no
 * AbortSignal, and deserializes built-in kinds into model classes (timestamps become Date
 * objects, unknown fields are dropped) — all wrong for an operator that patches and
 * compares objects.
 */
import type { KubeConfig } from "@kubernetes/client-node";
import { createDiscovery, groupVersionPath } from "./discovery.ts";
import type { ApiDiscovery, ApiResource } from "./discovery.ts";
import { apiErrorFromResponse, describeRef, REASON_NO_SUBRESOURCE, refAction } from "./errors.ts";
import type { RequestCounter } from "./request-counter.ts";
import type { RateLimitOptions } from "./rate-limit.ts";
import { createTransport } from "./transport.ts";
import type { HttpRequest, KubeTransport } from "./transport.ts";
import { FIELD_MANAGER, KubeApiError } from "./types.ts";
import type { CallOptions, KubeClient, KubeObject, ListOptions, ObjectRef, Subresource } from "./types.ts";

export interface KubeClientOptions {
  /** Per-request timeout (default 30 s). Watches use their own timeouts. */
  timeoutMs?: number;
  /** fieldManager for apply, create, replace and patches (default `aviary`). */
  fieldManager?: string;
  userAgent?: string;
  /** Page size of list calls (default 500). */
  pageSize?: number;
  /** Counts every request sent (idle cost, benchmarks, the requests metric). */
  requestCounter?: RequestCounter;
  /** Client-side rate limit (`--kube-api-qps`, `--kube-api-burst`); watches are not limited. */
  rateLimit?: RateLimitOptions;
  /** Told how long each request waited for the rate limit. */
  onRateLimitWait?: (waitedMs: number, action: string) => void;
}

/** A list or watch of a collection, optionally of its objects' metadata only. */
export interface CollectionOptions extends ListOptions {
  /**
   * Ask the server for PartialObjectMetadata: name, namespace, labels, annotations,
   * resourceVersion… and no spec, data or status. For Secrets and ConfigMaps this is the
   * difference between kilobytes and megabytes per object.
   */
  metadataOnly?: boolean;
}

/** The media types that make the API server answer with PartialObjectMetadata(List). */
export const METADATA_LIST_ACCEPT = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1";
export const METADATA_WATCH_ACCEPT = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1";

export interface ListResult<T> {
  items: T[];
  /** The collection's resourceVersion: where a watch continues from. */
  resourceVersion: string;
}

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK";

export interface WatchEvent<T extends KubeObject = KubeObject> {
  type: WatchEventType;
  object: T;
}

export interface WatchOptions extends CollectionOptions {
  resourceVersion?: string;
  /** Server-side duration of the watch; the server then ends it cleanly. */
  timeoutSeconds?: number;
  allowWatchBookmarks?: boolean;
  /** Client-side: abandon the stream when nothing arrives for this long. */
  idleTimeoutMs?: number;
}

/** KubeClient plus what controllers and routers need beyond single-object calls. */
export interface ClusterClient extends KubeClient {
  readonly server: string;
  readonly discovery: ApiDiscovery;
  /** Whether the CRD `<plural>.<group>` is installed and served. */
  crdInstalled(group: string, plural: string, opts?: CallOptions): Promise<boolean>;
  /** All pages of a list, with the collection's resourceVersion. */
  listWithVersion<T extends KubeObject = KubeObject>(apiVersion: string, kind: string, namespace: string | undefined, opts?: CollectionOptions): Promise<ListResult<T>>;
  /**
   * A list one page (`limit`/`continue`) at a time, each with the collection's resourceVersion:
   * a caller that reduces every page before asking for the next never holds the whole
   * collection (5,000 Secrets, 2,000 Deployments) in memory at once.
   */
  listPages<T extends KubeObject = KubeObject>(apiVersion: string, kind: string, namespace: string | undefined, opts?: CollectionOptions): AsyncGenerator<ListResult<T>, void, void>;
  /**
   * Watches a collection. Ends when the server closes the stream; throws a KubeApiError on
   * failure, including a watch ERROR event (410 Gone when `resourceVersion` is too old).
   */
  watch<T extends KubeObject = KubeObject>(apiVersion: string, kind: string, namespace: string | undefined, opts?: WatchOptions): AsyncGenerator<WatchEvent<T>, void, void>;
  /** Closes pooled connections. */
  close(): Promise<void>;
}

export const APPLY_PATCH = "application/apply-patch+yaml";
export const MERGE_PATCH = "application/merge-patch+json";

/** The URL path of a collection (no name) or an object, optionally of a subresource. */
export function resourcePath(res: ApiResource, namespace: string | undefined, name?: string, subresource?: string): string {
  let path = groupVersionPath(res.apiVersion);
  if (res.namespaced && namespace) path += `/namespaces/${encodeURIComponent(namespace)}`;
  path += `/${res.plural}`;
  if (name !== undefined) path += `/${encodeURIComponent(name)}`;
  if (subresource) path += `/${subresource}`;
  return path;
}

/** The body for server-side apply: managedFields must be absent. */
export function applyBody(obj: KubeObject): KubeObject {
  if (!obj.metadata.managedFields) return obj;
  const { managedFields: _dropped, ...metadata } = obj.metadata;
  return { ...obj, metadata };
}

export function createKubeClient(kubeConfig: KubeConfig, opts: KubeClientOptions = {}): ClusterClient {
  const transport = createTransport(kubeConfig, {
    ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
    ...(opts.userAgent !== undefined ? { userAgent: opts.userAgent } : {}),
    counter: opts.requestCounter,
    rateLimit: opts.rateLimit,
    onRateLimitWait: opts.onRateLimitWait,
  });
  return createClientOn(transport, opts);
}

/** The client over an existing transport (tests hand in one aimed at a local server). */
export function createClientOn(transport: KubeTransport, opts: KubeClientOptions = {}): ClusterClient {
  const fieldManager = opts.fieldManager ?? FIELD_MANAGER;
  const pageSize = opts.pageSize ?? 500;
  const discovery = createDiscovery(transport);

  /** Resolves the object's resource and checks the namespace and subresource fit it. */
  const locate = async (ref: ObjectRef, action: string, signal: AbortSignal | undefined, subresource?: Subresource) => {
    const res = await discovery.resource(ref.apiVersion, ref.kind, { ...(signal ? { signal } : {}) });
    if (res.namespaced && !ref.namespace) {
      throw new KubeApiError(`${action}: ${ref.kind} is namespaced but no namespace was given`, 400, "BadRequest");
    }
    if (subresource && !res.subresources.includes(subresource)) {
      throw new KubeApiError(`${action}: ${ref.kind} ${ref.apiVersion} has no ${subresource} subresource`, 404, REASON_NO_SUBRESOURCE);
    }
    return resourcePath(res, ref.namespace, ref.name, subresource);
  };

  /** Sends, and returns the parsed body of a 2xx response or null for an accepted 404. */
  const send = async <T>(req: HttpRequest, allow404 = false): Promise<T | null> => {
    const res = await transport.request(req);
    if (allow404 && res.status === 404) return null;
    if (res.status < 200 || res.status > 299) throw apiErrorFromResponse(req.action, res.status, res.text);
    try {
      return JSON.parse(res.text) as T;
    } catch {
      throw new KubeApiError(`${req.action}: the API server answered HTTP ${res.status} with a body that is not JSON`, 0, "InvalidResponse");
    }
  };

  const objectRef = (obj: KubeObject): ObjectRef => ({
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    name: obj.metadata.name,
    ...(obj.metadata.namespace ? { namespace: obj.metadata.namespace } : {}),
  });

  async function* listPages<T extends KubeObject>(apiVersion: string, kind: string, namespace: string | undefined, listOpts: CollectionOptions = {}): AsyncGenerator<ListResult<T>, void, void> {
    const action = `list ${describeRef({ apiVersion, kind, namespace })}`;
    const res = await discovery.resource(apiVersion, kind, { ...(listOpts.signal ? { signal: listOpts.signal } : {}) });
    const path = resourcePath(res, namespace);
    let cont: string | undefined;
    let resourceVersion = "";
    do {
      const page = await send<{ items?: T[]; metadata?: { continue?: string; resourceVersion?: string } }>({
        method: "GET",
        path,
        query: { labelSelector: listOpts.labelSelector, fieldSelector: listOpts.fieldSelector, limit: pageSize, continue: cont },
        accept: listOpts.metadataOnly ? METADATA_LIST_ACCEPT : undefined,
        signal: listOpts.signal,
        action,
      });
      cont = page?.metadata?.continue || undefined;
      resourceVersion = page?.metadata?.resourceVersion ?? resourceVersion;
      // Items of built-in lists come without apiVersion/kind; callers expect whole objects.
      yield { items: (page?.items ?? []).map((item) => ({ ...item, apiVersion, kind })), resourceVersion };
    } while (cont);
  }

  const listWithVersion = async <T extends KubeObject>(apiVersion: string, kind: string, namespace: string | undefined, listOpts: CollectionOptions = {}): Promise<ListResult<T>> => {
    const items: T[] = [];
    let resourceVersion = "";
    for await (const page of listPages<T>(apiVersion, kind, namespace, listOpts)) {
      items.push(...page.items);
      resourceVersion = page.resourceVersion;
    }
    return { items, resourceVersion };
  };

  async function* watch<T extends KubeObject>(apiVersion: string, kind: string, namespace: string | undefined, watchOpts: WatchOptions = {}): AsyncGenerator<WatchEvent<T>, void, void> {
    const action = `watch ${describeRef({ apiVersion, kind, namespace })}`;
    const res = await discovery.resource(apiVersion, kind, { ...(watchOpts.signal ? { signal: watchOpts.signal } : {}) });
    const timeoutSeconds = watchOpts.timeoutSeconds ?? 300;
    const lines = transport.streamLines(
      {
        method: "GET",
        path: resourcePath(res, namespace),
        query: {
          watch: true,
          resourceVersion: watchOpts.resourceVersion,
          labelSelector: watchOpts.labelSelector,
          fieldSelector: watchOpts.fieldSelector,
          timeoutSeconds,
          allowWatchBookmarks: watchOpts.allowWatchBookmarks ?? true,
        },
        accept: watchOpts.metadataOnly ? METADATA_WATCH_ACCEPT : undefined,
        signal: watchOpts.signal,
        action,
      },
      // The server ends the watch after timeoutSeconds; silence well past that means a dead connection.
      { idleTimeoutMs: watchOpts.idleTimeoutMs ?? (timeoutSeconds + 30) * 1000 },
    );
    for await (const line of lines) {
      let event: { type?: string; object?: unknown };
      try {
        event = JSON.parse(line) as typeof event;
      } catch {
        throw new KubeApiError(`${action}: the stream carried a line that is not JSON`, 0, "InvalidResponse");
      }
      if (event.type === "ERROR") {
        const status = event.object as { code?: number; reason?: string; message?: string } | undefined;
        throw apiErrorFromResponse(action, status?.code ?? 500, JSON.stringify({ kind: "Status", ...status }));
      }
      if (event.type !== "ADDED" && event.type !== "MODIFIED" && event.type !== "DELETED" && event.type !== "BOOKMARK") continue;
      const object = event.object as T;
      yield { type: event.type, object: event.type === "BOOKMARK" ? object : { ...object, apiVersion, kind } };
    }
  }

  return {
    server: transport.server,
    discovery,

    async get<T extends KubeObject>(ref: ObjectRef, callOpts: CallOptions = {}) {
      const action = refAction("get", ref);
      const path = await locate(ref, action, callOpts.signal);
      return send<T>({ method: "GET", path, signal: callOpts.signal, action }, true);
    },

    async list<T extends KubeObject>(apiVersion: string, kind: string, namespace: string | undefined, listOpts: ListOptions = {}) {
      return (await listWithVersion<T>(apiVersion, kind, namespace, listOpts)).items;
    },

    listWithVersion,
    listPages,
    watch,

    async create<T extends KubeObject>(obj: KubeObject, callOpts: CallOptions = {}) {
      const ref = objectRef(obj);
      const action = refAction("create", ref);
      const res = await discovery.resource(ref.apiVersion, ref.kind, callOpts);
      if (res.namespaced && !ref.namespace) throw new KubeApiError(`${action}: ${ref.kind} is namespaced but no namespace was given`, 400, "BadRequest");
      return (await send<T>({
        method: "POST",
        path: resourcePath(res, ref.namespace),
        query: { fieldManager },
        body: obj,
        signal: callOpts.signal,
        action,
      }))!;
    },

    async apply<T extends KubeObject>(obj: KubeObject, callOpts: CallOptions & { force?: boolean } = {}) {
      const ref = objectRef(obj);
      const action = refAction("apply", ref);
      const path = await locate(ref, action, callOpts.signal);
      return (await send<T>({
        method: "PATCH",
        path,
        query: { fieldManager, force: callOpts.force ? true : undefined },
        body: applyBody(obj),
        contentType: APPLY_PATCH,
        signal: callOpts.signal,
        action,
      }))!;
    },

    async mergePatch<T extends KubeObject>(ref: ObjectRef, patch: unknown, callOpts: CallOptions & { subresource?: Subresource; resourceVersion?: string } = {}) {
      const action = refAction("patch", ref, callOpts.subresource);
      const path = await locate(ref, action, callOpts.signal, callOpts.subresource);
      let body = patch;
      if (callOpts.resourceVersion !== undefined) {
        if (!patch || typeof patch !== "object" || Array.isArray(patch)) {
          throw new KubeApiError(`${action}: a resourceVersion precondition needs an object patch`, 400, "BadRequest");
        }
        const p = patch as { metadata?: Record<string, unknown> };
        body = { ...p, metadata: { ...p.metadata, resourceVersion: callOpts.resourceVersion } };
      }
      return (await send<T>({
        method: "PATCH",
        path,
        query: { fieldManager },
        body,
        contentType: MERGE_PATCH,
        signal: callOpts.signal,
        action,
      }))!;
    },

    async replace<T extends KubeObject>(obj: KubeObject, callOpts: CallOptions & { subresource?: Subresource } = {}) {
      const ref = objectRef(obj);
      const action = refAction("replace", ref, callOpts.subresource);
      const path = await locate(ref, action, callOpts.signal, callOpts.subresource);
      return (await send<T>({ method: "PUT", path, query: { fieldManager }, body: obj, signal: callOpts.signal, action }))!;
    },

    async delete(ref: ObjectRef, callOpts: CallOptions & { propagationPolicy?: "Foreground" | "Background" | "Orphan" } = {}) {
      const action = refAction("delete", ref);
      const path = await locate(ref, action, callOpts.signal);
      const body = callOpts.propagationPolicy ? { apiVersion: "v1", kind: "DeleteOptions", propagationPolicy: callOpts.propagationPolicy } : undefined;
      const deleted = await send<unknown>({ method: "DELETE", path, body, signal: callOpts.signal, action }, true);
      return deleted !== null;
    },

    crdInstalled: (group, plural, callOpts) => discovery.crdInstalled(group, plural, callOpts),
    close: () => transport.close(),
  };
}
