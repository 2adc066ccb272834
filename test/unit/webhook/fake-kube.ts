/**
 * An in-memory KubeClient with the API server's optimistic concurrency (resourceVersion,
 * 409 on a stale write, 409 AlreadyExists on create), enough for the certificate store
 * and caBundle tests. Integration tests use the real API server instead.
 */
import type { CallOptions, KubeClient, KubeObject, ObjectRef } from "../../../src/kube/types.ts";
import { KubeApiError } from "../../../src/kube/types.ts";

const keyOf = (ref: { kind: string; namespace?: string; name: string }) => `${ref.kind}/${ref.namespace ?? ""}/${ref.name}`;

export class MemoryKube implements KubeClient {
  readonly objects = new Map<string, KubeObject>();
  readonly calls: string[] = [];
  #rv = 1;
  /** Runs before each write; lets a test inject a concurrent writer. */
  beforeWrite: ((key: string) => void) | null = null;

  put(obj: KubeObject): KubeObject {
    const stored = structuredClone(obj);
    stored.metadata.resourceVersion = String(++this.#rv);
    this.objects.set(keyOf({ kind: obj.kind, namespace: obj.metadata.namespace, name: obj.metadata.name }), stored);
    return structuredClone(stored);
  }

  async get<T extends KubeObject = KubeObject>(ref: ObjectRef, opts?: CallOptions): Promise<T | null> {
    opts?.signal?.throwIfAborted();
    this.calls.push(`get ${keyOf(ref)}`);
    const obj = this.objects.get(keyOf(ref));
    return obj ? (structuredClone(obj) as T) : null;
  }

  async list<T extends KubeObject = KubeObject>(): Promise<T[]> {
    return [...this.objects.values()].map((o) => structuredClone(o) as T);
  }

  async create<T extends KubeObject = KubeObject>(obj: KubeObject): Promise<T> {
    const key = keyOf({ kind: obj.kind, namespace: obj.metadata.namespace, name: obj.metadata.name });
    this.calls.push(`create ${key}`);
    this.beforeWrite?.(key);
    if (this.objects.has(key)) throw new KubeApiError(`${key} already exists`, 409, "AlreadyExists");
    return this.put(obj) as T;
  }

  async apply<T extends KubeObject = KubeObject>(obj: KubeObject): Promise<T> {
    return this.put(obj) as T;
  }

  async replace<T extends KubeObject = KubeObject>(obj: KubeObject): Promise<T> {
    const key = keyOf({ kind: obj.kind, namespace: obj.metadata.namespace, name: obj.metadata.name });
    this.calls.push(`replace ${key}`);
    this.beforeWrite?.(key);
    const current = this.objects.get(key);
    if (!current) throw new KubeApiError(`${key} not found`, 404, "NotFound");
    if (obj.metadata.resourceVersion !== current.metadata.resourceVersion) throw new KubeApiError(`${key} was modified`, 409, "Conflict");
    return this.put(obj) as T;
  }

  async mergePatch<T extends KubeObject = KubeObject>(ref: ObjectRef, patch: unknown, opts?: CallOptions & { resourceVersion?: string }): Promise<T> {
    const key = keyOf(ref);
    this.calls.push(`patch ${key}`);
    this.beforeWrite?.(key);
    const current = this.objects.get(key);
    if (!current) throw new KubeApiError(`${key} not found`, 404, "NotFound");
    if (opts?.resourceVersion !== undefined && opts.resourceVersion !== current.metadata.resourceVersion) {
      throw new KubeApiError(`${key} was modified`, 409, "Conflict");
    }
    // Top-level merge is all these tests need (merge patch replaces lists wholesale).
    return this.put({ ...current, ...(patch as Record<string, unknown>) } as KubeObject) as T;
  }

  async delete(ref: ObjectRef): Promise<boolean> {
    return this.objects.delete(keyOf(ref));
  }
}
