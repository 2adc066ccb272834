/**
 * The key Secret content is hashed with before its hash goes into a Canary's status
 * (`status.trackedConfigs`). A plain hash, or one keyed with something the reader of the
 * Canary also knows (its uid), lets anyone who can read Canaries test guesses of a
 * low-entropy Secret offline. The key lives in a Secret in aviary's own namespace
 * (default `aviary-config-hash-key`), created with 32 random bytes on first start and read
 * at every start.
 *
 * Rotation: put a new `key` in the Secret and move the old one to `previousKey` (ids follow
 * from the bytes), then restart aviary. Hashes in a status carry the id of the key that made
 * them, so the previous key still reproduces them; an idle Canary is re-keyed without a run,
 * a running one at the end of its run.
 */
import { createHash, randomBytes } from "node:crypto";
import type { Logger } from "../observability/logger.ts";
import type { KubeClient, KubeObject } from "./types.ts";
import { isConflict } from "./types.ts";

export const DEFAULT_HASH_KEY_SECRET = "aviary-config-hash-key";

export interface HashKey {
  /** 8 hex characters derived from the key: stored with each hash, reveals nothing of the key. */
  id: string;
  key: string;
}

export interface HashKeys {
  current: HashKey;
  /** The key before the last rotation, to recognise hashes made with it. */
  previous?: HashKey;
}

interface SecretObject extends KubeObject {
  data?: Record<string, string>;
}

export const hashKeyId = (key: string): string => createHash("sha256").update(`aviary-hash-key-id\u0000${key}`).digest("hex").slice(0, 8);

const keyOf = (b64: string | undefined): HashKey | undefined => {
  if (b64 === undefined || b64 === "") return undefined;
  const key = Buffer.from(b64, "base64").toString("base64"); // normalised text form of the bytes
  return { id: hashKeyId(key), key };
};

/** The keys held in the Secret's data; undefined when it has no usable `key`. */
export function hashKeysOf(secret: SecretObject): HashKeys | undefined {
  const current = keyOf(secret.data?.key);
  if (current === undefined) return undefined;
  const previous = keyOf(secret.data?.previousKey);
  return previous !== undefined && previous.id !== current.id ? { current, previous } : { current };
}

/**
 * Reads the key Secret, creating it with random bytes when it does not exist. Several
 * replicas starting at once all end up with the one that was created first (a create that
 * loses the race re-reads). When the namespace does not exist (a local run against a
 * cluster without aviary installed) a key held only in memory is used: hashes then change
 * at each restart, and the key ids make that a re-keying, never a new revision.
 */
export async function loadHashKeys(kube: KubeClient, namespace: string, name: string, log: Logger, signal?: AbortSignal): Promise<HashKeys> {
  const ref = { apiVersion: "v1", kind: "Secret", namespace, name };
  const opts = signal ? { signal } : {};
  const existing = await kube.get<SecretObject>(ref, opts);
  const found = existing ? hashKeysOf(existing) : undefined;
  if (found) return found;
  const data = { key: randomBytes(32).toString("base64") };
  try {
    if (existing) {
      await kube.mergePatch(ref, { data }, opts);
    } else {
      await kube.create({ apiVersion: "v1", kind: "Secret", metadata: { name, namespace, labels: { "app.kubernetes.io/part-of": "aviary" } }, type: "Opaque", data } as SecretObject, opts);
    }
    log.info("created the key that hashes Secret content in Canary statuses", { secret: `${namespace}/${name}` });
    return { current: keyOf(data.key)! };
  } catch (err) {
    if (isConflict(err) || (err as { status?: number }).status === 409) {
      const raced = await kube.get<SecretObject>(ref, opts);
      const keys = raced ? hashKeysOf(raced) : undefined;
      if (keys) return keys;
    }
    if ((err as { status?: number }).status === 404) {
      log.warn("namespace for the hash key Secret does not exist; using a key held in memory (Canaries are re-keyed after each restart, without runs)", { secret: `${namespace}/${name}` });
      return { current: keyOf(data.key)! };
    }
    throw err;
  }
}
