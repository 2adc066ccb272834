/**
 * An in-memory KubeClient for unit tests of the dispatcher: `get` reads from a map, keyed
 * by kind/namespace/name, and records what was asked. Only reads are needed; writes fail.
 */
import type { KubeClient, KubeObject, ObjectRef } from "../../../src/kube/types.ts";

export interface FakeKube extends KubeClient {
  put(obj: KubeObject): void;
  gets: ObjectRef[];
  /** Make `get` never answer (and ignore its signal), for deadline tests. */
  hang: boolean;
}

export function createFakeKube(objects: KubeObject[] = []): FakeKube {
  const store = new Map<string, KubeObject>();
  const key = (kind: string, namespace: string | undefined, name: string) => `${kind}/${namespace ?? ""}/${name}`;
  const unsupported = () => Promise.reject(new Error("the fake KubeClient only reads"));
  const fake: FakeKube = {
    gets: [],
    hang: false,
    put(obj) {
      store.set(key(obj.kind, obj.metadata.namespace, obj.metadata.name), structuredClone(obj));
    },
    get<T extends KubeObject = KubeObject>(ref: ObjectRef): Promise<T | null> {
      fake.gets.push(ref);
      if (fake.hang) return new Promise<T | null>(() => undefined);
      const found = store.get(key(ref.kind, ref.namespace, ref.name));
      return Promise.resolve(found === undefined ? null : (structuredClone(found) as T));
    },
    list: unsupported,
    create: unsupported,
    apply: unsupported,
    mergePatch: unsupported,
    replace: unsupported,
    delete: unsupported,
  };
  for (const obj of objects) fake.put(obj);
  return fake;
}
