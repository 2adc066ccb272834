/**
 * Reads served from watch caches, with read-your-writes.
 *
 * A reconcile reads the Canary, its target and primary Deployments and the generated
 * Services every time it runs; the watches that wake it already hold them. This client
 * answers `get` for the kinds it watches from those caches, and sends every other call on.
 * Two rules keep the answers as good as a live read:
 *
 * - after aviary writes an object through this client, its cached copy is used only once
 *   the watch has caught up with that write (an own write is never read back stale); until
 *   then a read is answered with what the API server returned for that write — the object as
 *   it stood right after it — or, when the answer was not the object (a scale subresource
 *   answers with a Scale), from the API server;
 * - a miss goes to the API server, unless the watch covers the whole kind in the namespace
 *   (no label selector), in which case a miss means the object does not exist — the same
 *   rule controller-runtime's cached client follows. Namespaces are the exception: a miss
 *   is read live (`confirmMisses`), since a Canary may be seen before its new namespace is.
 *
 * A source with a label selector (Deployments labelled as a Canary's target or primary)
 * keeps the cache to aviary's own objects, so unrelated workloads cost no memory. Cluster-scoped
 * kinds (Namespaces) are watched whole, or through a field selector when aviary watches one
 * namespace.
 */
import type { Logger } from "../observability/logger.ts";
import type { ClusterClient } from "./client.ts";
import { createInformer, trimForCache } from "./informer.ts";
import type { Informer, InformerEvent } from "./informer.ts";
import type { CallOptions, KubeClient, KubeObject, ObjectRef } from "./types.ts";

export interface CachedSource {
  apiVersion: string;
  kind: string;
  labelSelector?: string;
  /** e.g. `metadata.name=<ns>`: one Namespace, not all of them. A miss then goes to the API server. */
  fieldSelector?: string;
  /**
   * Read a miss from the API server even when the watch covers the whole kind: for objects
   * whose absence would be acted on at once (a Namespace created a moment before its first
   * Canary may not be in the watch yet, and "no namespace" stops everything in it).
   */
  confirmMisses?: boolean;
  /** Reduces what is cached (default: trimForCache); keep everything reconcile reads. */
  transform?: (obj: KubeObject) => KubeObject;
}

export interface CachedReadsOptions {
  client: ClusterClient;
  /** Where writes go and uncached reads come from (default: `client`). */
  writes?: KubeClient;
  logger: Logger;
  namespace?: string | undefined;
  sources: readonly CachedSource[];
}

export interface CachedReads {
  readonly client: KubeClient;
  /** The copy the watch last saw of an object (not to be modified); undefined when not watched or not seen. */
  observed(apiVersion: string, kind: string, namespace: string | undefined, name: string): KubeObject | undefined;
  readonly informers: readonly Informer<KubeObject>[];
  /**
   * Tells `handler` about every change the caches see. Whoever reconciles on watch events must
   * also listen here: these caches are separate watches, and a reconcile woken by another
   * watch may read a copy that is a moment older — the second wake-up reads the new one.
   */
  onChange(handler: (event: InformerEvent<KubeObject>) => void): void;
  /** Reads answered from a cache / sent to the API server, so far. */
  stats(): { cached: number; live: number };
}

/**
 * Whether the watch has seen `observed` at or past the version aviary wrote. resourceVersions
 * are etcd revisions, comparable as integers; anything else is compared for equality only.
 */
export function caughtUp(observed: string | undefined, written: string): boolean {
  if (observed === undefined) return false;
  if (observed === written) return true;
  if (/^\d+$/.test(observed) && /^\d+$/.test(written)) return BigInt(observed) >= BigInt(written);
  return false;
}

const keyOf = (apiVersion: string, kind: string, namespace: string | undefined, name: string) => `${apiVersion}/${kind}/${namespace ?? ""}/${name}`;

export function createCachedReads(opts: CachedReadsOptions): CachedReads {
  const writes = opts.writes ?? opts.client;
  const sources = new Map<string, { informer: Informer<KubeObject>; complete: boolean; transform: (obj: KubeObject) => KubeObject }>();
  // Per object: the resourceVersion of aviary's last write the cache has not caught up with yet,
  // and the object that write returned, when it returned the object.
  const pending = new Map<string, { version: string; object?: KubeObject }>();
  let cached = 0;
  let live = 0;
  const handlers: ((event: InformerEvent<KubeObject>) => void)[] = [];

  for (const s of opts.sources) {
    const informer = createInformer<KubeObject>({
      client: opts.client, apiVersion: s.apiVersion, kind: s.kind, namespace: opts.namespace, logger: opts.logger,
      ...(s.labelSelector ? { labelSelector: s.labelSelector } : {}),
      ...(s.fieldSelector ? { fieldSelector: s.fieldSelector } : {}),
      transform: s.transform ?? trimForCache,
      onEvent: (e) => {
        const key = keyOf(s.apiVersion, s.kind, e.object.metadata.namespace, e.object.metadata.name);
        const written = pending.get(key);
        if (written !== undefined && (e.type === "deleted" || caughtUp(e.object.metadata.resourceVersion, written.version))) pending.delete(key);
        for (const h of handlers) h(e);
      },
    });
    sources.set(`${s.apiVersion}/${s.kind}`, { informer, complete: !s.labelSelector && !s.fieldSelector && s.confirmMisses !== true, transform: s.transform ?? trimForCache });
  }

  /** Remembers the version an own write produced, and the object when the answer was it, until the cache shows it. */
  const wrote = (apiVersion: string, kind: string, namespace: string | undefined, name: string, result: KubeObject | null | undefined) => {
    const source = sources.get(`${apiVersion}/${kind}`);
    if (!source) return;
    const rv = result?.metadata?.resourceVersion;
    const key = keyOf(apiVersion, kind, namespace, name);
    if (rv === undefined) {
      pending.set(key, { version: "unknown" });
      return;
    }
    // The watch may have delivered this write, and changes after it, before its answer got
    // here (separate connections): then the cache is already as new, and nothing is pending.
    if (caughtUp(source.informer.get(namespace, name)?.metadata.resourceVersion, rv)) {
      pending.delete(key);
      return;
    }
    // Two writes of one object answered out of order: the newer answer stays.
    const before = pending.get(key);
    if (before !== undefined && before.version !== rv && caughtUp(before.version, rv)) return;
    const isObject = result!.apiVersion === apiVersion && result!.kind === kind;
    pending.set(key, isObject ? { version: rv, object: source.transform(result!) } : { version: rv });
  };

  const client: KubeClient = {
    ...writes,
    async get<T extends KubeObject>(ref: ObjectRef, o: CallOptions = {}): Promise<T | null> {
      const source = sources.get(`${ref.apiVersion}/${ref.kind}`);
      const written = pending.get(keyOf(ref.apiVersion, ref.kind, ref.namespace, ref.name));
      if (written?.object !== undefined) {
        cached++;
        return structuredClone(written.object) as T;
      }
      if (source?.informer.hasSynced() && written === undefined) {
        const hit = source.informer.get(ref.namespace, ref.name);
        if (hit) {
          cached++;
          return structuredClone(hit) as T;
        }
        if (source.complete) {
          cached++;
          return null;
        }
      }
      live++;
      return writes.get<T>(ref, o);
    },
    async create<T extends KubeObject>(obj: KubeObject, o?: CallOptions): Promise<T> {
      const r = await writes.create<T>(obj, o);
      wrote(obj.apiVersion, obj.kind, obj.metadata.namespace, obj.metadata.name, r);
      return r;
    },
    async apply<T extends KubeObject>(obj: KubeObject, o?: CallOptions & { force?: boolean }): Promise<T> {
      const r = await writes.apply<T>(obj, o);
      wrote(obj.apiVersion, obj.kind, obj.metadata.namespace, obj.metadata.name, r);
      return r;
    },
    async mergePatch<T extends KubeObject>(ref: ObjectRef, patch: unknown, o?: Parameters<KubeClient["mergePatch"]>[2]): Promise<T> {
      const r = await writes.mergePatch<T>(ref, patch, o);
      wrote(ref.apiVersion, ref.kind, ref.namespace, ref.name, r);
      return r;
    },
    async replace<T extends KubeObject>(obj: KubeObject, o?: Parameters<KubeClient["replace"]>[1]): Promise<T> {
      const r = await writes.replace<T>(obj, o);
      wrote(obj.apiVersion, obj.kind, obj.metadata.namespace, obj.metadata.name, r);
      return r;
    },
    async delete(ref: ObjectRef, o?: Parameters<KubeClient["delete"]>[1]): Promise<boolean> {
      const gone = await writes.delete(ref, o);
      // Until the watch reports the deletion, read it live, unless it has already reported it
      // (no copy cached and no own write awaited).
      const source = sources.get(`${ref.apiVersion}/${ref.kind}`);
      const key = keyOf(ref.apiVersion, ref.kind, ref.namespace, ref.name);
      if (gone && source !== undefined && (source.informer.get(ref.namespace, ref.name) !== undefined || pending.has(key))) pending.set(key, { version: "deleted" });
      return gone;
    },
  };
  return {
    client,
    observed: (apiVersion, kind, namespace, name) => sources.get(`${apiVersion}/${kind}`)?.informer.get(namespace, name),
    informers: [...sources.values()].map((s) => s.informer),
    onChange: (handler) => void handlers.push(handler),
    stats: () => ({ cached, live }),
  };
}
