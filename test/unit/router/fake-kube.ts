/**
 * An in-memory KubeClient for the routers' unit tests: stores objects by kind/namespace/name,
 * bumps resourceVersion on every write and counts writes. Resource types listed in
 * `missingTypes` answer 404 on every call, as the API server does for an uninstalled CRD.
 * The real API server's behaviour (defaulting, SSA merge) is covered by the integration tests.
 */
import { KubeApiError } from "../../../src/kube/types.ts";
import type { KubeClient, KubeObject, ObjectRef } from "../../../src/kube/types.ts";

export class FakeKube implements KubeClient {
  readonly objects = new Map<string, KubeObject>();
  readonly writes: string[] = [];
  readonly missingTypes = new Set<string>();
  private rv = 1;

  private key(apiVersion: string, kind: string, namespace: string | undefined, name: string): string {
    return `${apiVersion}/${kind}/${namespace ?? ""}/${name}`;
  }

  private checkType(apiVersion: string, kind: string): void {
    if (this.missingTypes.has(`${apiVersion}/${kind}`)) throw new KubeApiError("the server could not find the requested resource", 404, "NotFound");
  }

  private store(obj: KubeObject, verb: string): KubeObject {
    const copy = structuredClone(obj);
    copy.metadata.resourceVersion = String(++this.rv);
    copy.metadata.uid ??= `uid-${this.rv}`;
    this.objects.set(this.key(obj.apiVersion, obj.kind, obj.metadata.namespace, obj.metadata.name), copy);
    this.writes.push(`${verb} ${obj.kind} ${obj.metadata.name}`);
    return structuredClone(copy);
  }

  /** Test helper: put an object in place without counting it as a write. */
  seed(obj: KubeObject): void {
    this.objects.set(this.key(obj.apiVersion, obj.kind, obj.metadata.namespace, obj.metadata.name), { ...structuredClone(obj), metadata: { ...structuredClone(obj.metadata), resourceVersion: String(++this.rv) } });
  }

  peek(ref: ObjectRef): KubeObject | undefined {
    return this.objects.get(this.key(ref.apiVersion, ref.kind, ref.namespace, ref.name));
  }

  async get<T extends KubeObject = KubeObject>(ref: ObjectRef): Promise<T | null> {
    this.checkType(ref.apiVersion, ref.kind);
    const obj = this.peek(ref);
    return obj === undefined ? null : (structuredClone(obj) as T);
  }

  async list<T extends KubeObject = KubeObject>(apiVersion: string, kind: string, namespace: string | undefined): Promise<T[]> {
    this.checkType(apiVersion, kind);
    return [...this.objects.values()].filter((o) => o.apiVersion === apiVersion && o.kind === kind && o.metadata.namespace === namespace).map((o) => structuredClone(o) as T);
  }

  async create<T extends KubeObject = KubeObject>(obj: KubeObject): Promise<T> {
    this.checkType(obj.apiVersion, obj.kind);
    if (this.peek({ ...obj, name: obj.metadata.name, namespace: obj.metadata.namespace })) throw new KubeApiError("already exists", 409, "AlreadyExists");
    return this.store(obj, "create") as T;
  }

  /** Server-side apply, simplified: spec replaced, labels/annotations/ownerReferences merged. */
  async apply<T extends KubeObject = KubeObject>(obj: KubeObject): Promise<T> {
    this.checkType(obj.apiVersion, obj.kind);
    const old = this.peek({ ...obj, name: obj.metadata.name, namespace: obj.metadata.namespace });
    const merged: KubeObject = {
      ...(old ?? {}),
      ...structuredClone(obj),
      metadata: {
        ...(old?.metadata ?? {}),
        ...structuredClone(obj.metadata),
        labels: { ...(old?.metadata.labels ?? {}), ...(obj.metadata.labels ?? {}) },
        annotations: { ...(old?.metadata.annotations ?? {}), ...(obj.metadata.annotations ?? {}) },
        ownerReferences: [
          ...(old?.metadata.ownerReferences ?? []).filter((o) => !(obj.metadata.ownerReferences ?? []).some((n) => n.uid === o.uid)),
          ...(obj.metadata.ownerReferences ?? []),
        ],
      },
    };
    return this.store(merged, "apply") as T;
  }

  async mergePatch<T extends KubeObject = KubeObject>(): Promise<T> {
    throw new Error("mergePatch is not used by the routers");
  }

  async replace<T extends KubeObject = KubeObject>(obj: KubeObject): Promise<T> {
    this.checkType(obj.apiVersion, obj.kind);
    const old = this.peek({ ...obj, name: obj.metadata.name, namespace: obj.metadata.namespace });
    if (old === undefined) throw new KubeApiError("not found", 404, "NotFound");
    if (obj.metadata.resourceVersion !== old.metadata.resourceVersion) throw new KubeApiError("conflict", 409, "Conflict");
    return this.store(obj, "replace") as T;
  }

  async delete(ref: ObjectRef): Promise<boolean> {
    this.checkType(ref.apiVersion, ref.kind);
    const key = this.key(ref.apiVersion, ref.kind, ref.namespace, ref.name);
    const had = this.objects.delete(key);
    if (had) this.writes.push(`delete ${ref.kind} ${ref.name}`);
    return had;
  }
}
