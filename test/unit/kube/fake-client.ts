/**
 * An in-memory KubeClient for unit tests of logic that sits on top of the port (status
 * retries, event de-duplication, leader election). It keeps resourceVersions and answers
 * 404/409 like the API server; `failNext` injects errors. Tests against the real API server
 * live in test/integration/kube.
 */
import { KubeApiError } from "../../../src/kube/types.ts";
import type { KubeClient, KubeObject, ObjectRef } from "../../../src/kube/types.ts";

export interface MemoryClient extends KubeClient {
  objects: Map<string, KubeObject>;
  calls: Array<{ verb: string; key: string; body?: unknown }>;
  /** Errors thrown by the next calls of a verb, in order. */
  failNext: Map<string, KubeApiError[]>;
  /** Runs before a verb executes (e.g. to simulate a concurrent writer). */
  before?: (verb: string, key: string) => void;
  put(obj: KubeObject): KubeObject;
}

export const keyOf = (r: { apiVersion: string; kind: string; namespace?: string | undefined; name: string }) =>
  `${r.apiVersion}/${r.kind}/${r.namespace ?? ""}/${r.name}`;

const refOf = (o: KubeObject): ObjectRef => ({ apiVersion: o.apiVersion, kind: o.kind, namespace: o.metadata.namespace, name: o.metadata.name });

function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== "object" || patch === null || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> = typeof target === "object" && target !== null && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

export function memoryClient(): MemoryClient {
  const objects = new Map<string, KubeObject>();
  const calls: MemoryClient["calls"] = [];
  const failNext = new Map<string, KubeApiError[]>();
  let rv = 100;
  const clone = <T>(v: T): T => structuredClone(v);

  const client: MemoryClient = {
    objects,
    calls,
    failNext,
    put(obj) {
      const stored = clone({ ...obj, metadata: { ...obj.metadata, resourceVersion: String(++rv), uid: obj.metadata.uid ?? `uid-${rv}` } });
      objects.set(keyOf(refOf(obj)), stored);
      return clone(stored);
    },
    async get<T extends KubeObject>(ref: ObjectRef) {
      step("get", keyOf(ref));
      const o = objects.get(keyOf(ref));
      return o ? (clone(o) as T) : null;
    },
    async list<T extends KubeObject>(apiVersion: string, kind: string) {
      return [...objects.values()].filter((o) => o.apiVersion === apiVersion && o.kind === kind).map((o) => clone(o) as T);
    },
    async create<T extends KubeObject>(obj: KubeObject) {
      const key = keyOf(refOf(obj));
      step("create", key, obj);
      if (objects.has(key)) throw new KubeApiError(`${obj.kind} "${obj.metadata.name}" already exists`, 409, "AlreadyExists");
      return client.put(obj) as T;
    },
    async apply<T extends KubeObject>(obj: KubeObject) {
      step("apply", keyOf(refOf(obj)), obj);
      return client.put(obj) as T;
    },
    async mergePatch<T extends KubeObject>(ref: ObjectRef, patch: unknown, opts: { subresource?: string; resourceVersion?: string } = {}) {
      const key = keyOf(ref);
      step(opts.subresource ? `patch/${opts.subresource}` : "patch", key, patch);
      const current = objects.get(key);
      if (!current) throw new KubeApiError(`${ref.kind} "${ref.name}" not found`, 404, "NotFound");
      if (opts.resourceVersion !== undefined && opts.resourceVersion !== current.metadata.resourceVersion) {
        throw new KubeApiError("the object has been modified; please apply your changes to the latest version and try again", 409, "Conflict");
      }
      return client.put(mergePatch(current, patch) as KubeObject) as T;
    },
    async replace<T extends KubeObject>(obj: KubeObject) {
      const key = keyOf(refOf(obj));
      step("replace", key, obj);
      const current = objects.get(key);
      if (!current) throw new KubeApiError(`${obj.kind} "${obj.metadata.name}" not found`, 404, "NotFound");
      if (obj.metadata.resourceVersion !== current.metadata.resourceVersion) throw new KubeApiError("the object has been modified", 409, "Conflict");
      return client.put(obj) as T;
    },
    async delete(ref: ObjectRef) {
      step("delete", keyOf(ref));
      return objects.delete(keyOf(ref));
    },
  };

  function step(verb: string, key: string, body?: unknown) {
    calls.push({ verb, key, ...(body !== undefined ? { body: clone(body) } : {}) });
    client.before?.(verb, key);
    const err = failNext.get(verb)?.shift();
    if (err) throw err;
  }

  return client;
}
