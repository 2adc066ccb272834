import assert from "node:assert/strict";
import { caughtUp, createCachedReads } from "../../../src/kube/cached-reads.ts";
import type { ClusterClient, WatchEvent } from "../../../src/kube/client.ts";
import type { KubeClient, KubeObject } from "../../../src/kube/types.ts";
import { createLogger } from "../../../src/observability/logger.ts";
import { FakeKube } from "../../support/fake-kube.ts";
import { quietCluster } from "../../support/quiet-cluster.ts";
import { scriptedClient, until } from "../../support/scripted-cluster.ts";

describe("cached reads", () => {
  it("uses a cached copy only once the watch has reached aviary's own last write", () => {
    assert.equal(caughtUp("41", "42"), false, "the cache still holds the object from before the write");
    assert.equal(caughtUp("42", "42"), true);
    assert.equal(caughtUp("43", "42"), true, "someone wrote after aviary: the cache is newer still");
    assert.equal(caughtUp("100", "99"), true, "compared as numbers, not as text");
    assert.equal(caughtUp(undefined, "42"), false, "not in the cache yet");
    assert.equal(caughtUp("abc", "abd"), false, "opaque versions count only when equal");
    assert.equal(caughtUp("abc", "abc"), true);
  });

  it("answers a read of an object it wrote with the write's answer until the watch catches up, without a request", async () => {
    const kube = new FakeKube();
    const reads = createCachedReads({
      client: quietCluster(), writes: kube, logger: createLogger({ level: "error", write: () => {} }),
      sources: [{ apiVersion: "apps/v1", kind: "Deployment", labelSelector: "aviary.dev/canary" }],
    });
    for (const i of reads.informers) i.start();
    try {
      await Promise.all(reads.informers.map((i) => i.waitForSync(AbortSignal.timeout(5_000))));
      const ref = { apiVersion: "apps/v1", kind: "Deployment", namespace: "shop", name: "web-primary" };
      const written = await reads.client.apply({ ...ref, metadata: { name: ref.name, namespace: ref.namespace, managedFields: [{}] }, spec: { replicas: 2 } } as KubeObject);
      const got = await reads.client.get<KubeObject & { spec: { replicas: number } }>(ref);
      assert.deepEqual(kube.gets, [], "no request");
      assert.equal(got?.spec.replicas, 2);
      assert.equal(got?.metadata.resourceVersion, written.metadata.resourceVersion, "the version the write produced");
      assert.equal(got?.metadata.managedFields, undefined, "kept as the cache keeps objects");
      // A later write's answer replaces it.
      await reads.client.mergePatch(ref, { spec: { replicas: 3 } });
      assert.equal((await reads.client.get<KubeObject & { spec: { replicas: number } }>(ref))?.spec.replicas, 3);
      assert.deepEqual(kube.gets, []);
      // A deletion is read from the API server until the watch shows it.
      await reads.client.delete(ref);
      assert.equal(await reads.client.get(ref), null);
      assert.equal(kube.gets.length, 1);
    } finally {
      await Promise.all(reads.informers.map((i) => i.stop()));
    }
  });

  it("uses the watch's copy when the watch delivered a write, and changes after it, before the write's answer arrived", async () => {
    // The watch and the write travel on separate connections: the create's answer can be
    // handled after the watch has already shown the object, and kube-controller-manager's
    // status update after it. Holding the create's answer then would hide that status for good.
    const cluster = scriptedClient();
    cluster.lists.push({ items: [], resourceVersion: "1" });
    const kube = new FakeKube();
    let release = () => {};
    const answered = new Promise<void>((resolve) => (release = resolve));
    const writes = {
      get: kube.get.bind(kube),
      delete: kube.delete.bind(kube),
      async create<T extends KubeObject>(obj: KubeObject): Promise<T> {
        await answered;
        return { ...obj, metadata: { ...obj.metadata, resourceVersion: "5" } } as T;
      },
    } as unknown as KubeClient;
    const reads = createCachedReads({
      client: cluster.client as unknown as ClusterClient, writes, logger: createLogger({ level: "error", write: () => {} }),
      sources: [{ apiVersion: "apps/v1", kind: "Deployment" }],
    });
    for (const i of reads.informers) i.start();
    try {
      await Promise.all(reads.informers.map((i) => i.waitForSync(AbortSignal.timeout(5_000))));
      const ref = { apiVersion: "apps/v1", kind: "Deployment", namespace: "shop", name: "web-primary" };
      const body = { ...ref, metadata: { name: ref.name, namespace: ref.namespace, generation: 1 }, spec: { replicas: 1 } } as KubeObject;
      await until("the watch", () => cluster.watches.length === 1);
      const push = (event: WatchEvent) => cluster.watches[0]!.push({ event });
      const created = reads.client.create(body);
      push({ type: "ADDED", object: { ...body, metadata: { ...body.metadata, resourceVersion: "5" } } });
      push({ type: "MODIFIED", object: { ...body, metadata: { ...body.metadata, resourceVersion: "6" }, status: { observedGeneration: 1 } } as KubeObject });
      await until("the watch to deliver both events", () => reads.observed("apps/v1", "Deployment", "shop", "web-primary")?.metadata.resourceVersion === "6");
      release();
      await created;
      const got = await reads.client.get<KubeObject & { status?: { observedGeneration?: number } }>(ref);
      assert.equal(got?.metadata.resourceVersion, "6", "the watch's newer copy, not the create's answer");
      assert.equal(got?.status?.observedGeneration, 1);
      assert.deepEqual(kube.gets, [], "no request");

      // A deletion the watch reported before the delete's answer: read from the cache, not live.
      push({ type: "DELETED", object: { ...body, metadata: { ...body.metadata, resourceVersion: "7" } } });
      await until("the watch to deliver the deletion", () => reads.observed("apps/v1", "Deployment", "shop", "web-primary") === undefined);
      kube.put(body);
      await reads.client.delete(ref);
      assert.equal(await reads.client.get(ref), null);
      assert.deepEqual(kube.gets, [], "the watch covers the kind: its miss is the answer, no request");
    } finally {
      await Promise.all(reads.informers.map((i) => i.stop()));
    }
  });
});
