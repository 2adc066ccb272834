import assert from "node:assert/strict";
import { createEventRecorder, eventKey, eventName, MAX_EVENT_MESSAGE, onceEventName, truncateMessage } from "../../../src/kube/events.ts";
import { KubeApiError } from "../../../src/kube/types.ts";
import type { KubeObject } from "../../../src/kube/types.ts";
import { createLogger } from "../../../src/observability/logger.ts";
import { FakeKube } from "../../support/fake-kube.ts";

const canary: KubeObject = { apiVersion: "aviary.dev/v1beta1", kind: "Canary", metadata: { name: "podinfo", namespace: "test", uid: "u-1", resourceVersion: "7" } };

function setup(opts: { cacheSize?: number } = {}) {
  const client = new FakeKube();
  const lines: string[] = [];
  let t = Date.UTC(2025, 0, 1, 12, 0, 0);
  const recorder = createEventRecorder({
    client,
    logger: createLogger({ write: (l) => lines.push(l) }),
    instance: "aviary-7d9f",
    now: () => new Date((t += 1000)),
    ...opts,
  });
  const events = () => [...client.objects.values()].filter((o) => o.kind === "Event") as Array<KubeObject & Record<string, unknown>>;
  return { client, recorder, events, lines };
}

describe("events", () => {
  it("creates a core/v1 Event naming the object, the reason and the reporter", async () => {
    const { recorder, events } = setup();
    await recorder.record(canary, "Normal", "NewRevision", "New revision detected: podinfo.test");
    const [e] = events();
    assert.ok(e);
    assert.equal(e.metadata.namespace, "test");
    assert.match(e.metadata.name, /^podinfo\.[0-9a-f]+$/);
    assert.deepEqual(e.involvedObject, { apiVersion: "aviary.dev/v1beta1", kind: "Canary", name: "podinfo", namespace: "test", uid: "u-1", resourceVersion: "7" });
    assert.equal(e.type, "Normal");
    assert.equal(e.reason, "NewRevision");
    assert.equal(e.message, "New revision detected: podinfo.test");
    assert.equal(e.count, 1);
    assert.equal(e.firstTimestamp, "2025-01-01T12:00:01Z");
    assert.deepEqual(e.source, { component: "aviary", host: "aviary-7d9f" });
    assert.equal(e.reportingComponent, "aviary");
    assert.equal(e.reportingInstance, "aviary-7d9f");
  });

  it("counts a repeated event on the existing Event instead of writing another", async () => {
    const { client, recorder, events } = setup();
    for (let i = 0; i < 3; i++) await recorder.record(canary, "Warning", "CheckFailed", "request-success-rate 91 < 99");
    assert.equal(events().length, 1);
    assert.equal(events()[0]!.count, 3);
    assert.equal(events()[0]!.lastTimestamp, "2025-01-01T12:00:03Z");
    assert.equal(events()[0]!.firstTimestamp, "2025-01-01T12:00:01Z");
    assert.deepEqual(client.calls.map((c) => c.verb), ["create", "patch", "patch"]);
  });

  it("keeps concurrent repeats in order, so the count never goes backwards", async () => {
    const { recorder, events } = setup();
    await Promise.all([1, 2, 3, 4].map(() => recorder.record(canary, "Normal", "Waiting", "waiting for rollout")));
    assert.equal(events().length, 1);
    assert.equal(events()[0]!.count, 4);
  });

  it("writes separate Events for a different message, type, reason or object", async () => {
    const { recorder, events } = setup();
    await recorder.record(canary, "Normal", "WeightAdvanced", "weight 20");
    await recorder.record(canary, "Normal", "WeightAdvanced", "weight 40");
    await recorder.record(canary, "Warning", "WeightAdvanced", "weight 40");
    await recorder.record({ ...canary, metadata: { ...canary.metadata, name: "other", uid: "u-2" } }, "Normal", "WeightAdvanced", "weight 40");
    assert.equal(events().length, 4);
  });

  it("starts a new Event when the counted one has expired", async () => {
    const { client, recorder, events } = setup();
    await recorder.record(canary, "Normal", "Promoted", "done");
    for (const k of [...client.objects.keys()]) client.objects.delete(k);
    await recorder.record(canary, "Normal", "Promoted", "done");
    assert.equal(events().length, 1);
    assert.equal(events()[0]!.count, 1);
  });

  it("logs instead of throwing when the API refuses, and tries again next time", async () => {
    const { client, recorder, events, lines } = setup();
    client.failNext.set("create", [new KubeApiError("events is forbidden", 403, "Forbidden")]);
    await recorder.record(canary, "Warning", "RolledBack", "rolled back");
    assert.equal(events().length, 0);
    assert.match(lines.join("\n"), /could not record event.*events is forbidden/);
    await recorder.record(canary, "Warning", "RolledBack", "rolled back");
    assert.equal(events().length, 1);
    assert.equal(events()[0]!.count, 1);
  });

  it("forgets the oldest events beyond the cache size", async () => {
    const { client, recorder } = setup({ cacheSize: 2 });
    await recorder.record(canary, "Normal", "A", "a");
    await recorder.record(canary, "Normal", "B", "b");
    await recorder.record(canary, "Normal", "C", "c");
    await recorder.record(canary, "Normal", "A", "a");
    assert.deepEqual(client.calls.map((c) => c.verb), ["create", "create", "create", "create"], "A was evicted, so it is written anew");
    await recorder.record(canary, "Normal", "C", "c");
    assert.equal(client.calls.at(-1)!.verb, "patch");
  });

  describe("once", () => {
    it("tells a transition once, across attempts and recorders (another process, the next leader)", async () => {
      const { client, recorder, events } = setup();
      assert.equal(await recorder.record(canary, "Normal", "NewRevision", "new revision r2", { once: "status-1" }), true);
      assert.equal(await recorder.record(canary, "Normal", "NewRevision", "new revision r2", { once: "status-1" }), false);
      const other = createEventRecorder({ client, logger: createLogger({ write: () => {} }) });
      assert.equal(await other.record(canary, "Normal", "NewRevision", "new revision r2", { once: "status-1" }), false);
      assert.equal(events().length, 1);
      assert.equal(events()[0]!.metadata.name, onceEventName(canary, "status-1"));
      assert.equal(events()[0]!.count, 1);
      // The same words from another state are another fact.
      assert.equal(await recorder.record(canary, "Normal", "NewRevision", "new revision r2", { once: "status-2" }), true);
      assert.equal(events().length, 2);
    });

    it("throws when the API server cannot be reached, so the transition is retried and told then", async () => {
      const { client, recorder, events } = setup();
      client.failNext.set("create", [new KubeApiError("connect ECONNREFUSED", 0, "ConnectionError")]);
      await assert.rejects(recorder.record(canary, "Warning", "RolledBack", "rolled back r2", { once: "s" }), /ECONNREFUSED/);
      assert.equal(events().length, 0);
      assert.equal(await recorder.record(canary, "Warning", "RolledBack", "rolled back r2", { once: "s" }), true);
      assert.equal(events().length, 1);
    });

    it("logs and goes on when events are refused for good (no RBAC to write them)", async () => {
      const { client, recorder, lines } = setup();
      client.failNext.set("create", [new KubeApiError("events is forbidden", 403, "Forbidden")]);
      assert.equal(await recorder.record(canary, "Normal", "Promoted", "promoted r2", { once: "s" }), true);
      assert.match(lines.join("\n"), /could not record event/);
    });

    it("names the event by the object's uid and the key, within 253 characters", () => {
      assert.equal(onceEventName(canary, "k"), onceEventName({ ...canary }, "k"));
      assert.notEqual(onceEventName(canary, "k"), onceEventName({ ...canary, metadata: { ...canary.metadata, uid: "u-2" } }, "k"));
      assert.match(onceEventName(canary, "k"), /^podinfo\.[0-9a-f]{16}$/);
      assert.ok(onceEventName({ ...canary, metadata: { name: "x".repeat(300) } }, "k").length <= 253);
    });
  });

  it("puts events of cluster-scoped objects in the default namespace", async () => {
    const { recorder, events } = setup();
    await recorder.record({ apiVersion: "v1", kind: "Node", metadata: { name: "n1" } }, "Normal", "Seen", "hello");
    assert.equal(events()[0]!.metadata.namespace, "default");
  });

  it("names, keys and truncates like client-go", () => {
    const at = new Date(1_700_000_000_000);
    assert.equal(eventName("podinfo", at, 0), `podinfo.${(1_700_000_000_000n * 1_000_000n).toString(16)}`);
    assert.ok(eventName("x".repeat(300), at, 5).length <= 253);
    assert.notEqual(eventName("p", at, 1), eventName("p", at, 2));
    assert.notEqual(eventKey(canary, "Normal", "R", "a"), eventKey(canary, "Normal", "R", "b"));
    assert.equal(truncateMessage("short"), "short");
    const long = truncateMessage("y".repeat(5000));
    assert.equal(long.length, MAX_EVENT_MESSAGE);
    assert.ok(long.endsWith("..."));
  });
});
