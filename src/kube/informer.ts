/**
 * An informer: list, then watch from the list's resourceVersion, keeping an in-memory cache
 * of the collection and telling a handler about every change.
 *
 * It never goes silent. A watch that the server ends (its timeout) is resumed from the last
 * resourceVersion seen; a failed list or watch is retried with exponential backoff; a 410
 * Gone (the resourceVersion was compacted away) triggers a fresh list, whose differences from
 * the cache are delivered as ordinary added/updated/deleted events so no change is lost.
 * Memory stays bounded by `transform`, which keeps only what reconcile reads (by default the
 * object without managedFields).
 */
import type { Logger } from "../observability/logger.ts";
import type { ClusterClient } from "./client.ts";
import { isGone } from "./errors.ts";
import type { KubeObject } from "./types.ts";

export type InformerEventType = "added" | "updated" | "deleted";

export interface InformerEvent<T> {
  type: InformerEventType;
  /** `namespace/name`, or `name` for cluster-scoped objects: the work-queue key. */
  key: string;
  object: T;
  /** The cached object before an update. */
  old?: T;
}

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
}

export interface InformerOptions<T extends KubeObject> {
  client: Pick<ClusterClient, "listPages" | "watch">;
  apiVersion: string;
  kind: string;
  /** Only this namespace; all namespaces when absent. */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /**
   * List and watch PartialObjectMetadata only (no spec, data or status): for kinds whose
   * changes matter but whose content is read only for the few objects that need it.
   */
  metadataOnly?: boolean;
  /**
   * Reduces each object before it is cached and handed out (keep at least metadata.name and
   * namespace). Default: `trimForCache`.
   */
  transform?: (obj: KubeObject) => T;
  /** Called for every change; should only enqueue (it must not block the watch). */
  onEvent?: (event: InformerEvent<T>) => void;
  logger: Logger;
  backoff?: BackoffOptions;
  /** Server-side watch duration before a routine reconnect (default 300 s, jittered up to 2×). */
  watchTimeoutSeconds?: number;
  /** A watch counts as healthy, resetting the backoff, once it delivered an event or lasted this long (default 5 s). */
  healthyAfterMs?: number;
  random?: () => number;
}

export interface InformerHealth {
  synced: boolean;
  /** Consecutive failed list/watch attempts; 0 while healthy. */
  failures: number;
  lastError?: string;
  /** Last resourceVersion the cache is at. */
  resourceVersion?: string;
}

export interface Informer<T> {
  /** Starts listing and watching; idempotent. */
  start(): void;
  /** Stops the watch and every timer; resolves once nothing is left running. */
  stop(): Promise<void>;
  /** The first list has been loaded into the cache. */
  hasSynced(): boolean;
  /** Resolves once synced; rejects if `signal` aborts first or the informer is stopped. */
  waitForSync(signal?: AbortSignal): Promise<void>;
  get(namespace: string | undefined, name: string): T | undefined;
  list(namespace?: string): T[];
  health(): InformerHealth;
}

export const objectKey = (obj: { metadata: { namespace?: string | undefined; name: string } }): string =>
  obj.metadata.namespace ? `${obj.metadata.namespace}/${obj.metadata.name}` : obj.metadata.name;

/** The object without managedFields, usually its largest part. */
export function stripManagedFields<T extends KubeObject>(obj: T): T {
  if (!obj.metadata.managedFields) return obj;
  const { managedFields: _dropped, ...metadata } = obj.metadata;
  return { ...obj, metadata };
}

/** Written by `kubectl apply`: a second copy of the whole object, as JSON text. */
export const LAST_APPLIED_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration";

/**
 * The default transform: the object without managedFields and without the
 * last-applied-configuration annotation — the two parts that repeat the object itself and
 * that no reconcile reads. Together they are often more than half of a cached object.
 */
export function trimForCache<T extends KubeObject>(obj: T): T {
  const annotations = obj.metadata.annotations;
  const lastApplied = annotations?.[LAST_APPLIED_ANNOTATION] !== undefined;
  if (!obj.metadata.managedFields && !lastApplied) return obj;
  const { managedFields: _dropped, ...metadata } = obj.metadata;
  if (lastApplied) {
    const { [LAST_APPLIED_ANNOTATION]: _copy, ...rest } = annotations!;
    if (Object.keys(rest).length > 0) metadata.annotations = rest;
    else delete metadata.annotations;
  }
  return { ...obj, metadata };
}

/** Exponential backoff with full jitter in the upper half: [d/2, d], d = initial·2^(n-1) capped. */
export function informerBackoff(failures: number, opts: BackoffOptions, random: () => number = Math.random): number {
  const ceiling = Math.min(opts.maxMs, opts.initialMs * 2 ** Math.max(0, failures - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export function createInformer<T extends KubeObject = KubeObject>(opts: InformerOptions<T>): Informer<T> {
  const transform = opts.transform ?? ((o: KubeObject) => trimForCache(o) as T);
  const backoff = opts.backoff ?? { initialMs: 500, maxMs: 30_000 };
  const watchTimeout = opts.watchTimeoutSeconds ?? 300;
  const healthyAfterMs = opts.healthyAfterMs ?? 5_000;
  const random = opts.random ?? Math.random;
  const log = opts.logger.child({ informer: `${opts.kind}.${opts.apiVersion}`, ...(opts.namespace ? { namespace: opts.namespace } : {}) });
  const selectors = {
    ...(opts.labelSelector ? { labelSelector: opts.labelSelector } : {}),
    ...(opts.fieldSelector ? { fieldSelector: opts.fieldSelector } : {}),
    ...(opts.metadataOnly ? { metadataOnly: true } : {}),
  };

  const cache = new Map<string, T>();
  // resourceVersions of the raw objects, so change detection does not depend on what `transform` keeps.
  const versions = new Map<string, string | undefined>();
  let synced = false;
  let failures = 0;
  let lastError: string | undefined;
  let resourceVersion: string | undefined;
  let running: Promise<void> | undefined;
  let stopper: AbortController | undefined;
  const syncWaiters = new Set<{ resolve: () => void; reject: (e: Error) => void }>();

  const emit = (event: InformerEvent<T>) => {
    try {
      opts.onEvent?.(event);
    } catch (err) {
      // A throwing handler must not kill the watch loop.
      log.error("informer event handler threw", { err, key: event.key, type: event.type });
    }
  };

  const upsert = (raw: KubeObject) => {
    const key = objectKey(raw);
    const old = cache.get(key);
    if (old && versions.get(key) === raw.metadata.resourceVersion) return;
    const object = transform(raw);
    cache.set(key, object);
    versions.set(key, raw.metadata.resourceVersion);
    if (old) emit({ type: "updated", key, object, old });
    else emit({ type: "added", key, object });
  };

  const remove = (raw: KubeObject) => {
    const key = objectKey(raw);
    const old = cache.get(key);
    cache.delete(key);
    versions.delete(key);
    emit({ type: "deleted", key, object: old ?? transform(raw) });
  };

  /**
   * Loads a full list, one page at a time: each page is reduced by `transform` before the next
   * is read, so the raw collection is never held at once. Differences from the cache become
   * events (a relist after 410 loses nothing).
   */
  const relist = async (signal: AbortSignal) => {
    const seen = new Set<string>();
    let rv = "";
    for await (const page of opts.client.listPages(opts.apiVersion, opts.kind, opts.namespace, { ...selectors, signal })) {
      for (const item of page.items) {
        seen.add(objectKey(item));
        upsert(item);
      }
      rv = page.resourceVersion;
    }
    for (const [key, object] of [...cache]) {
      if (!seen.has(key)) {
        cache.delete(key);
        versions.delete(key);
        emit({ type: "deleted", key, object });
      }
    }
    resourceVersion = rv;
    if (!synced) {
      synced = true;
      for (const w of syncWaiters) w.resolve();
      syncWaiters.clear();
      log.info("informer synced", { objects: cache.size });
    }
  };

  /** Watches until the server ends the stream; returns whether it was healthy. */
  const watchOnce = async (signal: AbortSignal): Promise<boolean> => {
    const started = Date.now();
    let delivered = false;
    const events = opts.client.watch(opts.apiVersion, opts.kind, opts.namespace, {
      ...selectors,
      signal,
      ...(resourceVersion ? { resourceVersion } : {}),
      allowWatchBookmarks: true,
      timeoutSeconds: Math.round(watchTimeout * (1 + random())),
    });
    for await (const event of events) {
      delivered = true;
      if (event.type === "DELETED") remove(event.object);
      else if (event.type !== "BOOKMARK") upsert(event.object);
      resourceVersion = event.object.metadata.resourceVersion ?? resourceVersion;
    }
    return delivered || Date.now() - started >= healthyAfterMs;
  };

  const sleep = (ms: number, signal: AbortSignal) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      }
      signal.addEventListener("abort", done, { once: true });
    });

  const loop = async (signal: AbortSignal) => {
    while (!signal.aborted) {
      try {
        if (resourceVersion === undefined) await relist(signal);
        const healthy = await watchOnce(signal);
        if (healthy) {
          failures = 0;
          lastError = undefined;
          continue;
        }
        // The server closed a watch at once, with nothing in it: back off, as for an error.
        throw new Error("the watch closed immediately");
      } catch (err) {
        if (signal.aborted) break;
        if (isGone(err) && resourceVersion !== undefined) {
          // Our resourceVersion is too old to resume from: list again, right away.
          log.info("watch resourceVersion expired; relisting", { resourceVersion });
          resourceVersion = undefined;
          continue;
        }
        failures++;
        lastError = err instanceof Error ? err.message : String(err);
        const delay = informerBackoff(failures, backoff, random);
        log.warn("list/watch failed; retrying", { err, failures, retryInMs: delay });
        await sleep(delay, signal);
      }
    }
  };

  return {
    start() {
      if (running) return;
      stopper = new AbortController();
      running = loop(stopper.signal);
    },

    async stop() {
      stopper?.abort(new Error("informer stopped"));
      for (const w of syncWaiters) w.reject(new Error(`informer for ${opts.kind} stopped before it synced`));
      syncWaiters.clear();
      await running;
      running = undefined;
    },

    hasSynced: () => synced,

    waitForSync(signal) {
      if (synced) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const waiter = {
          resolve: () => {
            signal?.removeEventListener("abort", onAbort);
            resolve();
          },
          reject: (e: Error) => {
            signal?.removeEventListener("abort", onAbort);
            reject(e);
          },
        };
        const onAbort = () => {
          syncWaiters.delete(waiter);
          reject(new Error(`gave up waiting for the ${opts.kind} informer to sync`));
        };
        if (signal?.aborted) return onAbort();
        signal?.addEventListener("abort", onAbort, { once: true });
        syncWaiters.add(waiter);
      });
    },

    get: (namespace, name) => cache.get(namespace ? `${namespace}/${name}` : name),

    list(namespace) {
      const all = [...cache.values()];
      return namespace === undefined ? all : all.filter((o) => o.metadata.namespace === namespace);
    },

    health: () => ({
      synced,
      failures,
      ...(lastError !== undefined ? { lastError } : {}),
      ...(resourceVersion !== undefined ? { resourceVersion } : {}),
    }),
  };
}
