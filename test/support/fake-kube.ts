/**
 * The one in-memory KubeClient of the unit tier, for logic that sits on top of the port
 * (status retries, events, leases, routers, certificate stores, alert lookups). It keeps
 * resourceVersions and answers like the API server where these tests look: 404 on a
 * missing object or an uninstalled type, 409 AlreadyExists on create, 409 Conflict on a
 * stale replace or a patch guarded by an old resourceVersion. Server-side apply is
 * simplified (spec replaced; labels, annotations and owner references merged). Anything
 * that depends on the real API server (defaulting, SSA field ownership, watch) is tested
 * in test/integration against one.
 */
import { KubeApiError } from "../../src/kube/types.ts";
import type { CallOptions, KubeClient, KubeObject, ObjectRef } from "../../src/kube/types.ts";

/** `apiVersion/kind/namespace/name`: how objects are keyed in `objects` and in `calls`. */
export const keyOf = (r: { apiVersion: string; kind: string; namespace?: string | undefined; name: string }): string =>
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

export interface FakeCall {
  /** get, list, create, apply, patch, patch/<subresource>, replace, delete */
  verb: string;
  key: string;
  body?: unknown;
}

export class FakeKube implements KubeClient {
  readonly objects = new Map<string, KubeObject>();
  /** Every call, in order. */
  readonly calls: FakeCall[] = [];
  /** Every write that changed something, as `<verb> <Kind> <name>`. */
  readonly writes: string[] = [];
  /** Every ref `get` was asked for. */
  readonly gets: ObjectRef[] = [];
  /** `apiVersion/kind` of resource types that answer 404 on every call, like an uninstalled CRD. */
  readonly missingTypes = new Set<string>();
  /** Errors thrown by the next calls of a verb, in order. */
  readonly failNext = new Map<string, KubeApiError[]>();
  /** Runs before a verb executes, e.g. to simulate a concurrent writer. */
  before: ((verb: string, key: string) => void) | null = null;
  /** Make `get` never answer (and ignore its signal), for deadline tests. */
  hang = false;
  #rv = 100;

  constructor(objects: KubeObject[] = []) {
    for (const obj of objects) this.put(obj);
  }

  /** Stores an object as it is (not counted as a write), with a fresh resourceVersion and a uid. */
  put(obj: KubeObject): KubeObject {
    const stored = structuredClone(obj);
    stored.metadata.resourceVersion = String(++this.#rv);
    stored.metadata.uid ??= `uid-${this.#rv}`;
    this.objects.set(keyOf(refOf(obj)), stored);
    return structuredClone(stored);
  }

  /** The stored object itself (not a copy), or undefined. */
  peek(ref: ObjectRef): KubeObject | undefined {
    return this.objects.get(keyOf(ref));
  }

  #step(verb: string, ref: { apiVersion: string; kind: string; namespace?: string | undefined; name: string }, body?: unknown): string {
    const key = keyOf(ref);
    this.calls.push({ verb, key, ...(body !== undefined ? { body: structuredClone(body) } : {}) });
    this.before?.(verb, key);
    const err = this.failNext.get(verb)?.shift();
    if (err) throw err;
    if (this.missingTypes.has(`${ref.apiVersion}/${ref.kind}`)) throw new KubeApiError("the server could not find the requested resource", 404, "NotFound");
    return key;
  }

  #write(verb: string, obj: KubeObject): KubeObject {
    this.writes.push(`${verb} ${obj.kind} ${obj.metadata.name}`);
    return this.put(obj);
  }

  async get<T extends KubeObject = KubeObject>(ref: ObjectRef, opts?: CallOptions): Promise<T | null> {
    this.gets.push(ref);
    if (this.hang) return new Promise<T | null>(() => undefined);
    opts?.signal?.throwIfAborted();
    const key = this.#step("get", ref);
    const obj = this.objects.get(key);
    return obj === undefined ? null : (structuredClone(obj) as T);
  }

  async list<T extends KubeObject = KubeObject>(apiVersion: string, kind: string, namespace?: string): Promise<T[]> {
    if (this.missingTypes.has(`${apiVersion}/${kind}`)) throw new KubeApiError("the server could not find the requested resource", 404, "NotFound");
    return [...this.objects.values()]
      .filter((o) => o.apiVersion === apiVersion && o.kind === kind && (namespace === undefined || o.metadata.namespace === namespace))
      .map((o) => structuredClone(o) as T);
  }

  async create<T extends KubeObject = KubeObject>(obj: KubeObject): Promise<T> {
    const key = this.#step("create", refOf(obj), obj);
    if (this.objects.has(key)) throw new KubeApiError(`${obj.kind} "${obj.metadata.name}" already exists`, 409, "AlreadyExists");
    return this.#write("create", obj) as T;
  }

  async apply<T extends KubeObject = KubeObject>(obj: KubeObject): Promise<T> {
    const key = this.#step("apply", refOf(obj), obj);
    const old = this.objects.get(key);
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
    return this.#write("apply", merged) as T;
  }

  async mergePatch<T extends KubeObject = KubeObject>(ref: ObjectRef, patch: unknown, opts: CallOptions & { subresource?: string; resourceVersion?: string } = {}): Promise<T> {
    const key = this.#step(opts.subresource ? `patch/${opts.subresource}` : "patch", ref, patch);
    const current = this.objects.get(key);
    if (!current) throw new KubeApiError(`${ref.kind} "${ref.name}" not found`, 404, "NotFound");
    if (opts.resourceVersion !== undefined && opts.resourceVersion !== current.metadata.resourceVersion) {
      throw new KubeApiError("the object has been modified; please apply your changes to the latest version and try again", 409, "Conflict");
    }
    return this.#write("patch", mergePatch(current, patch) as KubeObject) as T;
  }

  async replace<T extends KubeObject = KubeObject>(obj: KubeObject): Promise<T> {
    const key = this.#step("replace", refOf(obj), obj);
    const current = this.objects.get(key);
    if (!current) throw new KubeApiError(`${obj.kind} "${obj.metadata.name}" not found`, 404, "NotFound");
    if (obj.metadata.resourceVersion !== current.metadata.resourceVersion) throw new KubeApiError("the object has been modified", 409, "Conflict");
    return this.#write("replace", obj) as T;
  }

  async delete(ref: ObjectRef): Promise<boolean> {
    const key = this.#step("delete", ref);
    const had = this.objects.delete(key);
    if (had) this.writes.push(`delete ${ref.kind} ${ref.name}`);
    return had;
  }
}
