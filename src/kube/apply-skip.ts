/**
 * Server-side apply that is not sent when it would change nothing.
 *
 * A level-triggered reconcile applies the objects it generates every time it runs; almost
 * always the server already holds exactly that. The skip is exact rather than a guess: an
 * apply is left out only when aviary sent the very same body before and the object is still
 * at the resourceVersion that apply produced — as a watch of the generated objects reports
 * it (`observed`). Anyone else's edit moves the resourceVersion, so drift is still corrected
 * by the next apply; after a restart, or for an object no watch covers, the apply is sent.
 * A skipped apply answers with the watch's copy, which is at that very version: only a digest
 * and a version are remembered per object, not a second copy of it.
 */
import { createHash } from "node:crypto";
import { applyBody } from "./client.ts";
import type { CallOptions, KubeClient, KubeObject } from "./types.ts";

/** What the last apply of one object sent and got back. */
export interface AppliedRecord {
  /** Digest of the body and options sent. */
  digest: string;
  /** The resourceVersion the server answered with. */
  resourceVersion: string | undefined;
}

/** True when an apply with `digest` would change nothing: the same body was applied and nobody wrote since. */
export function applyWouldChangeNothing(last: AppliedRecord | undefined, digest: string, observedResourceVersion: string | undefined): boolean {
  return last !== undefined && last.digest === digest && observedResourceVersion !== undefined && last.resourceVersion === observedResourceVersion;
}

export function applyDigest(obj: KubeObject, force: boolean): string {
  return createHash("sha256").update(JSON.stringify(applyBody(obj))).update(force ? "\0force" : "\0").digest("base64");
}

export interface ApplySkipOptions {
  client: KubeClient;
  /** The copy a watch last saw of an object; undefined when it is not watched or not seen. */
  observed(apiVersion: string, kind: string, namespace: string | undefined, name: string): KubeObject | undefined;
}

export interface ApplySkip {
  /** `apply` may be answered without a request; every other call goes straight through. */
  readonly client: KubeClient;
  /** Applies answered without a request so far. */
  skipped(): number;
}

const keyOf = (obj: KubeObject) => `${obj.apiVersion}/${obj.kind}/${obj.metadata.namespace ?? ""}/${obj.metadata.name}`;

export function createApplySkip(opts: ApplySkipOptions): ApplySkip {
  const last = new Map<string, AppliedRecord>();
  let skipped = 0;
  const base = opts.client;
  // Everything but apply goes straight through (the client's methods are closures, not `this`-bound).
  const client: KubeClient = {
    ...base,
    async apply<T extends KubeObject>(obj: KubeObject, o: CallOptions & { force?: boolean } = {}): Promise<T> {
      const observed = opts.observed(obj.apiVersion, obj.kind, obj.metadata.namespace, obj.metadata.name);
      const key = keyOf(obj);
      const digest = applyDigest(obj, o.force === true);
      if (observed && applyWouldChangeNothing(last.get(key), digest, observed.metadata.resourceVersion)) {
        skipped++;
        return structuredClone(observed) as T;
      }
      const applied = await base.apply<T>(obj, o);
      last.set(key, { digest, resourceVersion: applied.metadata.resourceVersion });
      return applied;
    },
  };
  return { client, skipped: () => skipped };
}
