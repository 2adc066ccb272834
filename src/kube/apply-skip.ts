/**
 * Server-side apply that is not sent when it would change nothing.
 *
 * A level-triggered reconcile applies the objects it generates every time it runs; almost
 * always the server already holds exactly that. The skip is exact rather than a guess: an
 * apply is left out only when aviary sent the very same body before and the object is still
 * at the resourceVersion that apply produced — as a metadata-only watch of the generated
 * objects reports it. Anyone else's edit moves the resourceVersion, so drift is still
 * corrected by the next apply; a restart or an object the watch does not cover just sends
 * the apply, as before.
 */
import { createHash } from "node:crypto";
import type { Logger } from "../observability/logger.ts";
import { applyBody } from "./client.ts";
import type { ClusterClient } from "./client.ts";
import { createInformer, trimForCache } from "./informer.ts";
import type { Informer } from "./informer.ts";
import type { CallOptions, KubeClient, KubeObject } from "./types.ts";

/** What the last apply of one object sent and got back. */
export interface AppliedRecord {
  /** Digest of the body and options sent. */
  digest: string;
  /** The resourceVersion the server answered with. */
  resourceVersion: string | undefined;
  /** The answer, returned again when an apply is skipped. */
  object: KubeObject;
}

/** True when an apply with `digest` would change nothing: the same body was applied and nobody wrote since. */
export function applyWouldChangeNothing(last: AppliedRecord | undefined, digest: string, observedResourceVersion: string | undefined): boolean {
  return last !== undefined && last.digest === digest && observedResourceVersion !== undefined && last.resourceVersion === observedResourceVersion;
}

export function applyDigest(obj: KubeObject, force: boolean): string {
  return createHash("sha256").update(JSON.stringify(applyBody(obj))).update(force ? "\0force" : "\0").digest("base64");
}

export interface ApplySkipOptions {
  client: ClusterClient;
  logger: Logger;
  /** The kinds whose applies may be skipped, e.g. `[{ apiVersion: "v1", kind: "Service" }]`. */
  kinds: readonly { apiVersion: string; kind: string }[];
  /** Selects the generated objects (aviary's managed-by label). */
  labelSelector: string;
  namespace?: string | undefined;
}

export interface ApplySkip {
  /** The client to reconcile with: `apply` of a watched kind may be answered without a request. */
  readonly client: KubeClient;
  /** The watches of the generated objects; start, stop and await them with the controller's. */
  readonly informers: readonly Informer<KubeObject>[];
  /** Applies answered without a request so far. */
  skipped(): number;
}

const keyOf = (apiVersion: string, kind: string, namespace: string | undefined, name: string) => `${apiVersion}/${kind}/${namespace ?? ""}/${name}`;

export function createApplySkip(opts: ApplySkipOptions): ApplySkip {
  const last = new Map<string, AppliedRecord>();
  const watched = new Map<string, Informer<KubeObject>>();
  let skipped = 0;
  for (const { apiVersion, kind } of opts.kinds) {
    watched.set(
      `${apiVersion}/${kind}`,
      createInformer<KubeObject>({
        client: opts.client, apiVersion, kind, namespace: opts.namespace, labelSelector: opts.labelSelector, logger: opts.logger,
        metadataOnly: true,
        transform: (o) => ({ apiVersion: o.apiVersion, kind: o.kind, metadata: { name: o.metadata.name, namespace: o.metadata.namespace, resourceVersion: o.metadata.resourceVersion } }),
        // A deleted object is applied in full again; its record would only take memory.
        onEvent: (e) => {
          if (e.type === "deleted") last.delete(keyOf(apiVersion, kind, e.object.metadata.namespace, e.object.metadata.name));
        },
      }),
    );
  }
  const base = opts.client;
  // Everything but apply goes straight through (the client's methods are closures, not `this`-bound).
  const client: KubeClient = {
    ...base,
    async apply<T extends KubeObject>(obj: KubeObject, o: CallOptions & { force?: boolean } = {}): Promise<T> {
      const informer = watched.get(`${obj.apiVersion}/${obj.kind}`);
      if (!informer) return base.apply<T>(obj, o);
      const key = keyOf(obj.apiVersion, obj.kind, obj.metadata.namespace, obj.metadata.name);
      const digest = applyDigest(obj, o.force === true);
      const observed = informer.get(obj.metadata.namespace, obj.metadata.name)?.metadata.resourceVersion;
      const record = last.get(key);
      if (applyWouldChangeNothing(record, digest, observed)) {
        skipped++;
        return structuredClone(record!.object) as T;
      }
      const applied = await base.apply<T>(obj, o);
      last.set(key, { digest, resourceVersion: applied.metadata.resourceVersion, object: trimForCache(applied) });
      return applied;
    },
  };
  return { client, informers: [...watched.values()], skipped: () => skipped };
}
