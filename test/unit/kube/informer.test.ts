import assert from "node:assert/strict";
import type { ListResult, WatchEvent, WatchOptions } from "../../../src/kube/client.ts";
import { createInformer, informerBackoff, LAST_APPLIED_ANNOTATION, objectKey, stripManagedFields, trimForCache } from "../../../src/kube/informer.ts";
import type { InformerEvent, InformerOptions } from "../../../src/kube/informer.ts";
import { KubeApiError } from "../../../src/kube/types.ts";
import type { KubeObject } from "../../../src/kube/types.ts";
import { createLogger } from "../../../src/observability/logger.ts";
import { ScriptedWatch, scriptedClient, until } from "../../support/scripted-cluster.ts";

const obj = (name: string, rv: string, data: Record<string, string> = {}, namespace = "ns"): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, namespace, resourceVersion: rv, managedFields: [{ manager: "kubectl" }] },
  data,
});


function setup(extra: Partial<InformerOptions<KubeObject>> = {}) {
  const s = scriptedClient();
  const events: Array<InformerEvent<KubeObject>> = [];
  const lines: string[] = [];
  const informer = createInformer({
    client: s.client,
    apiVersion: "v1",
    kind: "ConfigMap",
    onEvent: (e) => events.push(e),
    logger: createLogger({ level: "debug", write: (l) => lines.push(l) }),
    backoff: { initialMs: 5, maxMs: 20 },
    random: () => 0.5,
    healthyAfterMs: 10_000,
    ...extra,
  });
  return { ...s, events, lines, informer };
}

describe("informer", () => {
  const stops: Array<() => Promise<void>> = [];
  afterEach(async () => {
    await Promise.all(stops.splice(0).map((stop) => stop()));
  });
  const started = (extra: Partial<InformerOptions<KubeObject>> = {}, firstList: KubeObject[] = [], rv = "10") => {
    const t = setup(extra);
    t.lists.push({ items: firstList, resourceVersion: rv });
    t.informer.start();
    stops.push(() => t.informer.stop());
    return t;
  };
  const summary = (events: Array<InformerEvent<KubeObject>>) => events.map((e) => `${e.type} ${e.key}`);

  it("lists, reports synced, caches without managedFields, and watches from the list's resourceVersion", async () => {
    const t = started({}, [obj("a", "5"), obj("b", "6", {}, "other")]);
    await t.informer.waitForSync();
    assert.equal(t.informer.hasSynced(), true);
    assert.deepEqual(summary(t.events), ["added ns/a", "added other/b"]);
    assert.equal(t.informer.get("ns", "a")?.metadata.managedFields, undefined);
    assert.deepEqual(t.informer.list("other").map(objectKey), ["other/b"]);
    assert.equal(t.informer.list().length, 2);
    await until("a watch", () => t.watches.length === 1);
    assert.equal(t.watches[0]!.opts.resourceVersion, "10");
    assert.equal(t.watches[0]!.opts.allowWatchBookmarks, true);
  });

  it("applies watch events to the cache and reports each change once", async () => {
    const t = started({}, [obj("a", "5", { v: "1" })]);
    await until("a watch", () => t.watches.length === 1);
    const w = t.watches[0]!;
    w.push({ event: { type: "MODIFIED", object: obj("a", "11", { v: "2" }) } });
    w.push({ event: { type: "MODIFIED", object: obj("a", "11", { v: "2" }) } });
    w.push({ event: { type: "ADDED", object: obj("c", "12") } });
    w.push({ event: { type: "DELETED", object: obj("c", "13") } });
    await until("4 events", () => t.events.length === 4);
    assert.deepEqual(summary(t.events), ["added ns/a", "updated ns/a", "added ns/c", "deleted ns/c"]);
    assert.equal(t.events[1]!.old?.data && (t.events[1]!.old.data as Record<string, string>).v, "1");
    assert.equal((t.informer.get("ns", "a")?.data as Record<string, string>).v, "2");
    assert.equal(t.informer.get("ns", "c"), undefined);
    assert.equal(t.informer.health().resourceVersion, "13");
  });

  it("resumes from the last resourceVersion (bookmarks included) when the server ends a watch", async () => {
    const t = started({});
    await until("a watch", () => t.watches.length === 1);
    t.watches[0]!.push({ event: { type: "BOOKMARK", object: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "", resourceVersion: "55" } } } });
    t.watches[0]!.push({ end: true });
    await until("a second watch", () => t.watches.length === 2);
    assert.equal(t.watches[1]!.opts.resourceVersion, "55");
    assert.equal(t.listCalls(), 1, "no relist for a routine close");
    assert.equal(t.informer.health().failures, 0);
    assert.deepEqual(summary(t.events), [], "bookmarks are not changes");
  });

  it("relists after 410 Gone and reports only the differences", async () => {
    const t = started({}, [obj("keep", "1"), obj("change", "2"), obj("vanish", "3")]);
    await until("a watch", () => t.watches.length === 1);
    t.lists.push({ items: [obj("keep", "1"), obj("change", "20"), obj("new", "21")], resourceVersion: "30" });
    t.watches[0]!.push({ error: new KubeApiError("watch: too old resource version", 410, "Expired") });
    await until("a watch after the relist", () => t.watches.length === 2);
    assert.equal(t.watches[1]!.opts.resourceVersion, "30");
    assert.deepEqual(summary(t.events).slice(3).sort(), ["added ns/new", "deleted ns/vanish", "updated ns/change"]);
    assert.equal(t.informer.health().failures, 0, "410 is routine, not a failure");
  });

  it("backs off and retries after watch errors, then resets once healthy", async () => {
    const t = started({ healthyAfterMs: 0 });
    await until("a watch", () => t.watches.length === 1);
    t.watches[0]!.push({ error: new KubeApiError("watch: ECONNRESET", 0, "ConnectionError") });
    await until("a retry", () => t.watches.length === 2);
    assert.equal(t.informer.health().failures, 1);
    assert.match(t.informer.health().lastError ?? "", /ECONNRESET/);
    assert.match(t.lines.join("\n"), /list\/watch failed; retrying.*"failures":1/);
    t.watches[1]!.push({ event: { type: "ADDED", object: obj("x", "40") } });
    t.watches[1]!.push({ end: true });
    await until("a third watch", () => t.watches.length === 3);
    assert.equal(t.informer.health().failures, 0);
    assert.equal(t.watches[2]!.opts.resourceVersion, "40");
  });

  it("treats a watch that closes at once with nothing in it as a failure (no hot loop)", async () => {
    const t = started({});
    await until("a watch", () => t.watches.length === 1);
    t.watches[0]!.push({ end: true });
    await until("a second watch", () => t.watches.length === 2);
    assert.equal(t.informer.health().failures, 1);
    assert.match(t.informer.health().lastError ?? "", /closed immediately/);
  });

  it("retries a failed first list and syncs when it succeeds", async () => {
    const t = setup();
    t.lists.push(new KubeApiError("list: connection refused", 0, "ConnectionError"), { items: [obj("a", "1")], resourceVersion: "2" });
    t.informer.start();
    stops.push(() => t.informer.stop());
    await t.informer.waitForSync();
    assert.equal(t.listCalls(), 2);
    assert.deepEqual(summary(t.events), ["added ns/a"]);
  });

  it("uses the transform for the cache and the events", async () => {
    const t = started({ transform: (o) => ({ apiVersion: o.apiVersion, kind: o.kind, metadata: { name: o.metadata.name, namespace: o.metadata.namespace } }) }, [obj("a", "1", { big: "x".repeat(1000) })]);
    await t.informer.waitForSync();
    assert.deepEqual(t.informer.get("ns", "a"), { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a", namespace: "ns" } });
    assert.deepEqual(t.events[0]!.object, t.informer.get("ns", "a"));
    // Change detection still works without resourceVersion in the cached form.
    await until("a watch", () => t.watches.length === 1);
    t.watches[0]!.push({ event: { type: "MODIFIED", object: obj("a", "2") } });
    await until("the update", () => t.events.length === 2);
  });


  it("reduces each page of the first list before it reads the next, and watches from the last page's resourceVersion", async () => {
    const order: string[] = [];
    const page = (names: string[], rv: string): ListResult<KubeObject> => ({ items: names.map((n) => obj(n, "1")), resourceVersion: rv });
    const paged = {
      async *listPages<T extends KubeObject>(): AsyncGenerator<ListResult<T>, void, void> {
        order.push("page 1");
        yield page(["a", "b"], "7") as ListResult<T>;
        order.push("page 2");
        yield page(["c"], "8") as ListResult<T>;
      },
      watch<T extends KubeObject>(_apiVersion: string, _kind: string, _ns: string | undefined, opts: WatchOptions = {}) {
        order.push(`watch from ${opts.resourceVersion}`);
        return new ScriptedWatch(opts).run() as AsyncGenerator<WatchEvent<T>, void, void>;
      },
    };
    const informer = createInformer({
      client: paged, apiVersion: "v1", kind: "ConfigMap", logger: createLogger({ level: "error", write: () => {} }),
      transform: (o) => {
        order.push(`keep ${o.metadata.name}`);
        return { apiVersion: o.apiVersion, kind: o.kind, metadata: { name: o.metadata.name, namespace: o.metadata.namespace } };
      },
    });
    informer.start();
    stops.push(() => informer.stop());
    await informer.waitForSync();
    await until("a watch", () => order.some((o) => o.startsWith("watch")));
    assert.deepEqual(order, ["page 1", "keep a", "keep b", "page 2", "keep c", "watch from 8"]);
    assert.equal(informer.list().length, 3);
  });
  it("survives a handler that throws", async () => {
    let calls = 0;
    const t = started({ onEvent: () => {
      calls++;
      throw new Error("handler bug");
    } }, [obj("a", "1")]);
    await until("a watch", () => t.watches.length === 1);
    t.watches[0]!.push({ event: { type: "ADDED", object: obj("b", "2") } });
    await until("both events", () => calls === 2);
    assert.ok(t.informer.get("ns", "b"));
    assert.match(t.lines.join("\n"), /handler threw/);
  });

  it("stops promptly, even while backing off", async () => {
    const t = started({ backoff: { initialMs: 60_000, maxMs: 60_000 } });
    await until("a watch", () => t.watches.length === 1);
    t.watches[0]!.push({ error: new Error("boom") });
    await until("the failure", () => t.informer.health().failures === 1);
    const before = Date.now();
    await t.informer.stop();
    assert.ok(Date.now() - before < 1000);
    assert.equal(t.watches.length, 1);
  });

  it("rejects waitForSync on abort and on stop", async () => {
    const t = setup();
    const aborted = new AbortController();
    const waiting = t.informer.waitForSync(aborted.signal);
    aborted.abort();
    await assert.rejects(waiting, /gave up waiting/);
    const waiting2 = t.informer.waitForSync();
    await t.informer.stop();
    await assert.rejects(waiting2, /stopped before it synced/);
  });

  it("informerBackoff stays within [d/2, d] and under the cap", () => {
    const o = { initialMs: 100, maxMs: 1000 };
    assert.equal(informerBackoff(1, o, () => 0), 50);
    assert.equal(informerBackoff(1, o, () => 1), 100);
    assert.equal(informerBackoff(3, o, () => 1), 400);
    assert.equal(informerBackoff(50, o, () => 1), 1000);
    assert.equal(informerBackoff(50, o, () => 0), 500);
  });

  it("trimForCache drops managedFields and kubectl's last-applied copy, keeps every other annotation, mutates nothing", () => {
    const raw = {
      apiVersion: "apps/v1", kind: "Deployment",
      metadata: {
        name: "web", namespace: "ns", resourceVersion: "9", managedFields: [{ manager: "kubectl" }],
        annotations: { [LAST_APPLIED_ANNOTATION]: '{"spec":{}}', "aviary.dev/revision": "abc" },
      },
      spec: { replicas: 2 },
    };
    const before = structuredClone(raw);
    const trimmed = trimForCache(raw);
    assert.deepEqual(trimmed, { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web", namespace: "ns", resourceVersion: "9", annotations: { "aviary.dev/revision": "abc" } }, spec: { replicas: 2 } });
    assert.deepEqual(raw, before, "the input is left as it was");
    const onlyLastApplied = trimForCache({ apiVersion: "v1", kind: "Service", metadata: { name: "s", annotations: { [LAST_APPLIED_ANNOTATION]: "{}" } } });
    assert.equal(onlyLastApplied.metadata.annotations, undefined, "no empty annotations map is left behind");
    const plain = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a", annotations: { x: "1" } } };
    assert.equal(trimForCache(plain), plain, "an object with nothing to trim is not copied");
  });

  it("stripManagedFields leaves objects without them alone", () => {
    const plain = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a" } };
    assert.equal(stripManagedFields(plain), plain);
    assert.equal(stripManagedFields(obj("a", "1")).metadata.managedFields, undefined);
  });
});
