/**
 * The informer against a real API server: it sees adds, updates and deletes, keeps a cache
 * that matches the server, and carries on after the server ends the watch or the connection
 * dies, without losing a change made while it was reconnecting.
 */
import assert from "node:assert/strict";
import type { ClusterClient, WatchOptions } from "../../../src/kube/client.ts";
import { createInformer } from "../../../src/kube/informer.ts";
import type { Informer, InformerEvent } from "../../../src/kube/informer.ts";
import type { KubeObject } from "../../../src/kube/types.ts";
import { eventually, kubectlOk, tempNamespace } from "../../support/kubectl.ts";
import { clusterClient, testLogger } from "./support.ts";

interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

const cm = (namespace: string, name: string, data: Record<string, string>, tier = "watched"): ConfigMap => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, namespace, labels: { tier } },
  data,
});

describe("informer (real API server)", () => {
  let ns: Awaited<ReturnType<typeof tempNamespace>>;
  let client: ClusterClient;
  const informers: Array<Informer<ConfigMap>> = [];

  before(async () => {
    ns = await tempNamespace();
    client = clusterClient();
  });

  afterEach(async () => {
    await Promise.all(informers.splice(0).map((i) => i.stop()));
  });

  after(async () => {
    await ns?.remove();
    await client?.close();
  });

  const start = (opts: { client?: Pick<ClusterClient, "listPages" | "watch">; watchTimeoutSeconds?: number } = {}) => {
    const events: Array<InformerEvent<ConfigMap>> = [];
    const logger = testLogger();
    const informer = createInformer<ConfigMap>({
      client: opts.client ?? client,
      apiVersion: "v1",
      kind: "ConfigMap",
      namespace: ns.name,
      labelSelector: "tier=watched",
      onEvent: (e) => events.push(e),
      logger,
      backoff: { initialMs: 100, maxMs: 1000 },
      ...(opts.watchTimeoutSeconds ? { watchTimeoutSeconds: opts.watchTimeoutSeconds } : {}),
      healthyAfterMs: 200,
    });
    informers.push(informer);
    informer.start();
    return { informer, events, logger };
  };

  const seen = (events: Array<InformerEvent<ConfigMap>>, type: string, name: string, check: (o: ConfigMap) => boolean = () => true) =>
    eventually(`${type} ${name}`, async () => (events.some((e) => e.type === type && e.object.metadata.name === name && check(e.object)) ? true : undefined), 15_000, 50);

  it("lists what exists, then sees adds, updates and deletes, keeping the cache in step", async () => {
    await client.create(cm(ns.name, "before-start", { v: "1" }));
    await client.create(cm(ns.name, "not-selected", { v: "1" }, "other"));
    const { informer, events } = start();
    await informer.waitForSync();
    assert.ok(informer.hasSynced());
    assert.deepEqual(informer.list().map((o) => o.metadata.name), ["before-start"]);
    assert.equal(events[0]?.type, "added");
    assert.equal(events[0]?.key, `${ns.name}/before-start`);

    await client.create(cm(ns.name, "created", { v: "1" }));
    await seen(events, "added", "created");
    await client.mergePatch({ apiVersion: "v1", kind: "ConfigMap", namespace: ns.name, name: "created" }, { data: { v: "2" } });
    await seen(events, "updated", "created", (o) => o.data?.v === "2");
    const update = events.find((e) => e.type === "updated")!;
    assert.equal(update.old?.data?.v, "1");
    assert.equal(informer.get(ns.name, "created")?.data?.v, "2");
    assert.equal(informer.get(ns.name, "created")?.metadata.managedFields, undefined, "managedFields are not cached");

    await client.delete({ apiVersion: "v1", kind: "ConfigMap", namespace: ns.name, name: "created" });
    await seen(events, "deleted", "created");
    assert.equal(informer.get(ns.name, "created"), undefined);
    assert.ok(!events.some((e) => e.object.metadata.name === "not-selected"), "the label selector is applied");
  });

  it("resumes after the server ends the watch", async () => {
    // A one-second server-side timeout: the server closes every watch almost at once.
    let watches = 0;
    const counting: Pick<ClusterClient, "listPages" | "watch"> = {
      listPages: client.listPages,
      watch: (apiVersion, kind, namespace, opts) => {
        watches++;
        return client.watch(apiVersion, kind, namespace, opts);
      },
    };
    const { informer, events } = start({ client: counting, watchTimeoutSeconds: 1 });
    await informer.waitForSync();
    await eventually("the server to end two watches", async () => (watches >= 3 ? true : undefined), 15_000, 50);
    await client.create(cm(ns.name, "after-server-close", { v: "1" }));
    await seen(events, "added", "after-server-close");
    assert.equal(informer.health().failures, 0, "a watch the server ends is routine, not a failure");
  });

  it("reconnects after the connection dies, and catches up on changes made meanwhile", async () => {
    // The first watch's connection is cut after 500 ms of silence (as a dead TCP connection
    // would be), and the next watch is held back so changes land while no watch is open.
    let watches = 0;
    let releaseSecond!: () => void;
    const secondMayStart = new Promise<void>((resolve) => (releaseSecond = resolve));
    const flaky: Pick<ClusterClient, "listPages" | "watch"> = {
      listPages: client.listPages,
      watch: <T extends KubeObject>(apiVersion: string, kind: string, namespace: string | undefined, opts: WatchOptions = {}) => {
        watches++;
        if (watches === 1) return client.watch<T>(apiVersion, kind, namespace, { ...opts, idleTimeoutMs: 500 });
        return (async function* () {
          await secondMayStart;
          yield* client.watch<T>(apiVersion, kind, namespace, opts);
        })();
      },
    };
    const { informer, events, logger } = start({ client: flaky });
    await informer.waitForSync();
    await eventually("the first watch to be cut", async () => (watches >= 2 ? true : undefined), 10_000, 50);
    await client.create(cm(ns.name, "while-disconnected", { v: "1" }));
    releaseSecond();
    await seen(events, "added", "while-disconnected");
    assert.ok(logger.lines.some((l) => /list\/watch failed; retrying/.test(l) && /Timeout|no answer/.test(l)), "the cut was noticed and logged");
  });

  it("stops cleanly and rejects a wait for a sync that will never come", async () => {
    const { informer, events } = start();
    await informer.waitForSync();
    await informer.stop();
    const before = events.length;
    await kubectlOk(["create", "configmap", "after-stop", "-n", ns.name, "--from-literal=v=1"]);
    await kubectlOk(["label", "configmap", "after-stop", "-n", ns.name, "tier=watched"]);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(events.length, before, "a stopped informer hears nothing");
    assert.equal(informer.get(ns.name, "after-stop"), undefined);
    const neverSynced = createInformer({ client, apiVersion: "v1", kind: "ConfigMap", namespace: ns.name, logger: testLogger() });
    const waiting = neverSynced.waitForSync();
    await neverSynced.stop();
    await assert.rejects(waiting, /stopped before it synced/);
  });
});
