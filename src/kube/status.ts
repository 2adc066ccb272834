/**
 * How status is written — the one path every status write of aviary takes: through the
 * status subresource, as a JSON merge patch carrying only what changed, guarded by the
 * resourceVersion that was read. A 409 means someone wrote in between (another writer, or
 * aviary itself patching the object's metadata during the same reconcile); the object is
 * read again and the change is recomputed from the fresh state, so no concurrent write is
 * overwritten blindly.
 */
import { isObjectNotFound } from "./errors.ts";
import { isConflict } from "./types.ts";
import type { KubeClient, KubeObject, ObjectRef } from "./types.ts";

export interface UpdateStatusOptions {
  signal?: AbortSignal;
  /** Attempts before a persistent conflict is returned as the error (default 5). */
  maxAttempts?: number;
  /**
   * The object as the caller already read it: the first attempt patches against it (and its
   * resourceVersion) without reading again; a 409 then means it has moved since.
   */
  read?: KubeObject;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => deepEqual(a[k], b[k]));
  }
  return false;
}

/**
 * The RFC 7386 merge patch that turns `from` into `to`: changed and added fields with
 * their new values, removed fields as null, arrays whole. `undefined` when nothing changed.
 */
export function mergePatchDiff(from: unknown, to: unknown): Json | undefined {
  if (isPlainObject(from) && isPlainObject(to)) {
    const patch: Record<string, Json> = {};
    for (const key of Object.keys(from)) {
      if (from[key] !== undefined && to[key] === undefined) patch[key] = null;
    }
    for (const key of Object.keys(to)) {
      if (to[key] === undefined) continue;
      if (from[key] === undefined) {
        patch[key] = to[key] as Json;
        continue;
      }
      const sub = mergePatchDiff(from[key], to[key]);
      if (sub !== undefined) patch[key] = sub;
    }
    return Object.keys(patch).length > 0 ? patch : undefined;
  }
  return deepEqual(from, to) ? undefined : ((to ?? null) as Json);
}

/**
 * Reads the object (or starts from `opts.read`), lets `mutate` change a copy of its status
 * (in place, or by returning a new status), and writes the difference through the status
 * subresource, guarded by the resourceVersion. On 409 it reads again and repeats. Returns
 * the object as written, the object unchanged when there was nothing to write, or null
 * when the object does not exist.
 */
export async function updateStatus<T extends KubeObject = KubeObject, S extends object = Record<string, unknown>>(
  client: KubeClient,
  ref: ObjectRef,
  mutate: (status: S, current: T) => S | void,
  opts: UpdateStatusOptions = {},
): Promise<T | null> {
  const maxAttempts = opts.maxAttempts ?? 5;
  const callOpts = opts.signal ? { signal: opts.signal } : {};
  for (let attempt = 1; ; attempt++) {
    const current = attempt === 1 && opts.read !== undefined ? (opts.read as T) : await client.get<T>(ref, callOpts);
    if (!current) return null;
    const before = (isPlainObject(current.status) ? current.status : {}) as S;
    const draft = structuredClone(before);
    const after = mutate(draft, current) ?? draft;
    const patch = mergePatchDiff(before, after);
    if (patch === undefined) return current;
    try {
      return await client.mergePatch<T>(ref, { status: patch }, {
        ...callOpts,
        subresource: "status",
        ...(current.metadata.resourceVersion ? { resourceVersion: current.metadata.resourceVersion } : {}),
      });
    } catch (err) {
      if (isObjectNotFound(err)) return null;
      if (!isConflict(err) || attempt >= maxAttempts) throw err;
    }
  }
}
