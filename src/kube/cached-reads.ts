/**
 * Reads served from watch caches, with read-your-writes.
 *
 * A reconcile reads the Canary, its target and primary Deployments and the generated
 * Services every time it runs; the watches that wake it already hold them. This client
 * answers `get` for the kinds it watches from those caches, and sends every other call on.
 * Two rules keep the answers as good as a live read:
 *
 * - after aviary writes an object through this client, its cached copy is used only once
 *   the watch has caught up with that write (an own write is never read back stale);
 * - a miss goes to the API server, unless the watch covers the whole kind in the namespace
 *   (no label selector), in which case a miss means the object does not exist — the same
 *   rule controller-runtime's cached client follows.
 *
 * A source with a label selector (Deployments labelled as a Canary's target or primary)
 * keeps the cache to aviary's own objects, so unrelated workloads cost no memory.
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
  /** The resourceVersion the watch last saw of an object; undefined when not watched or not seen. */
  versionOf(apiVersion: string, kind: string, namespace: string | undefined, name: string): string | undefined;
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
  const sources = new Map<string, { informer: Informer<KubeObject>; complete: boolean }>();
  // Per object: the resourceVersion of aviary's last write the cache has not caught up with yet.
  const pending = new Map<string, string>();
  let cached = 0;
  let live = 0;
  const handlers: ((event: InformerEvent<KubeObject>) => void)[] = [];

  for (const s of opts.sources) {
    const informer = createInformer<KubeObject>({
      client: opts.client, apiVersion: s.apiVersion, kind: s.kind, namespace: opts.namespace, logger: opts.logger,
      ...(s.labelSelector ? { labelSelector: s.labelSelector } : {}),
      transform: s.transform ?? trimForCache,
      onEvent: (e) => {
        const key = keyOf(s.apiVersion, s.kind, e.object.metadata.namespace, e.object.metadata.name);
        const written = pending.get(key);
        if (written !== undefined && (e.type === "deleted" || caughtUp(e.object.metadata.resourceVersion, written))) pending.delete(key);
        for (const h of handlers) h(e);
      },
    });
    sources.set(`${s.apiVersion}/${s.kind}`, { informer, complete: !s.labelSelector });
  }

  /** Remembers the version an own write produced, until the cache shows it. */
  const wrote = (apiVersion: string, kind: string, namespace: string | undefined, name: string, result: KubeObject | null | undefined) => {
    if (!sources.has(`${apiVersion}/${kind}`)) return;
    const rv = result?.metadata?.resourceVersion;
    const key = keyOf(apiVersion, kind, namespace, name);
    if (rv === undefined) pending.set(key, "unknown");
    else pending.set(key, rv);
  };

  const client: KubeClient = {
    ...writes,
    async get<T extends KubeObject>(ref: ObjectRef, o: CallOptions = {}): Promise<T | null> {
      const source = sources.get(`${ref.apiVersion}/${ref.kind}`);
      if (source?.informer.hasSynced() && !pending.has(keyOf(ref.apiVersion, ref.kind, ref.namespace, ref.name))) {
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
      // Until the watch reports the deletion, read it live.
      if (gone && sources.has(`${ref.apiVersion}/${ref.kind}`)) pending.set(keyOf(ref.apiVersion, ref.kind, ref.namespace, ref.name), "deleted");
      return gone;
    },
  };
  return {
    client,
    versionOf: (apiVersion, kind, namespace, name) => sources.get(`${apiVersion}/${kind}`)?.informer.get(namespace, name)?.metadata.resourceVersion,
    informers: [...sources.values()].map((s) => s.informer),
    onChange: (handler) => void handlers.push(handler),
    stats: () => ({ cached, live }),
  };
}
