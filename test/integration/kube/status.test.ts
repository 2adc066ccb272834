/**
 * Status through the status subresource (merge patch guarded by resourceVersion, a real 409
 * retried by re-reading) and Events
 * with de-duplication, against a real API server and a CRD shaped like aviary's own.
 */
import assert from "node:assert/strict";
import type { ClusterClient } from "../../../src/kube/client.ts";
import { createEventRecorder } from "../../../src/kube/events.ts";
import { updateStatus } from "../../../src/kube/status.ts";
import type { KubeClient, KubeObject } from "../../../src/kube/types.ts";
import { eventually, kubectlJson, tempNamespace } from "../../support/kubectl.ts";
import { clusterClient, installScratchCrd, testLogger } from "./support.ts";
import type { ScratchCrd } from "./support.ts";

interface Widget extends KubeObject {
  spec?: Record<string, unknown>;
  status?: { phase?: string; canaryWeight?: number; failedChecks?: number; note?: string; conditions?: unknown[] };
}

interface CoreEvent {
  metadata: { name: string };
  reason: string;
  message: string;
  type: string;
  count: number;
  involvedObject: { kind: string; name: string; uid?: string };
  source?: { component?: string };
}

describe("status subresource and events (real API server)", () => {
  let ns: Awaited<ReturnType<typeof tempNamespace>>;
  let client: ClusterClient;
  let crd: ScratchCrd;

  before(async () => {
    ns = await tempNamespace();
    client = clusterClient();
    crd = await installScratchCrd(client);
  });

  after(async () => {
    await crd?.remove();
    await ns?.remove();
    await client?.close();
  });

  const widget = async (name: string): Promise<Widget> =>
    client.create<Widget>({ apiVersion: crd.apiVersion, kind: crd.kind, metadata: { name, namespace: ns.name }, spec: { size: 1 } });
  const refTo = (name: string) => ({ apiVersion: crd.apiVersion, kind: crd.kind, namespace: ns.name, name });

  it("writes status through the subresource: spec untouched, removed fields deleted", async () => {
    await widget("plain");
    const first = await updateStatus<Widget>(client, refTo("plain"), (status: NonNullable<Widget["status"]>) => {
      status.phase = "Progressing";
      status.canaryWeight = 20;
      status.note = "temporary";
    });
    assert.equal(first?.status?.phase, "Progressing");
    const second = await updateStatus<Widget>(client, refTo("plain"), (status: NonNullable<Widget["status"]>) => {
      delete status.note;
      status.canaryWeight = 40;
    });
    assert.deepEqual(second?.status, { phase: "Progressing", canaryWeight: 40 });
    assert.equal(second?.metadata.generation, 1, "a status write does not bump generation");
    const unchanged = await updateStatus<Widget>(client, refTo("plain"), () => {});
    assert.equal(unchanged?.metadata.resourceVersion, second?.metadata.resourceVersion, "nothing to write, nothing written");
  });

  it("retries on 409 by re-reading, so a concurrent write is kept", async () => {
    await widget("contended");
    // Another writer gets in between our read and our patch, which makes our resourceVersion stale.
    let interfered = false;
    const interleaved: KubeClient = {
      ...client,
      mergePatch: async (ref, patch, opts) => {
        if (!interfered) {
          interfered = true;
          await client.mergePatch(ref, { status: { failedChecks: 2 } }, { subresource: "status" });
        }
        return client.mergePatch(ref, patch, opts);
      },
    };
    const seen: Array<number | undefined> = [];
    const result = await updateStatus<Widget>(interleaved, refTo("contended"), (status: NonNullable<Widget["status"]>) => {
      seen.push(status.failedChecks);
      status.phase = "Failed";
    });
    assert.deepEqual(seen, [undefined, 2], "mutate ran again on the re-read object");
    assert.deepEqual(result?.status, { failedChecks: 2, phase: "Failed" });
  });

  it("a write against an object read before it moved gets a real 409, re-reads and retries", async () => {
    const read = await widget("stale");
    // Someone writes after our read: the resourceVersion we hold is now stale.
    await client.mergePatch(refTo("stale"), { status: { failedChecks: 3 } }, { subresource: "status" });
    const outcomes: Array<number | "ok"> = [];
    const recording: KubeClient = {
      ...client,
      mergePatch: async <T extends KubeObject>(ref: Parameters<KubeClient["mergePatch"]>[0], patch: unknown, opts?: Parameters<KubeClient["mergePatch"]>[2]) => {
        try {
          const written = await client.mergePatch<T>(ref, patch, opts);
          outcomes.push("ok");
          return written;
        } catch (err) {
          outcomes.push((err as { status?: number }).status ?? -1);
          throw err;
        }
      },
    };
    const result = await updateStatus<Widget>(recording, refTo("stale"), (status: NonNullable<Widget["status"]>) => {
      status.phase = "Succeeded";
    }, { read });
    assert.deepEqual(outcomes, [409, "ok"], "the API server refused the stale write, the retry went through");
    assert.deepEqual(result?.status, { failedChecks: 3, phase: "Succeeded" }, "the concurrent write is kept");
  });

  it("returns null when the object does not exist", async () => {
    assert.equal(await updateStatus(client, refTo("never-created"), () => ({ phase: "x" })), null);
  });

  it("records an Event, and bumps its count when it repeats", async () => {
    const w = await widget("eventful");
    const logger = testLogger();
    const recorder = createEventRecorder({ client, logger, instance: "it-runner" });
    await recorder.record(w, "Normal", "NewRevision", "New revision detected, starting analysis");
    await recorder.record(w, "Normal", "NewRevision", "New revision detected, starting analysis");
    await recorder.record(w, "Normal", "NewRevision", "New revision detected, starting analysis");
    await recorder.record(w, "Warning", "CheckFailed", "request-success-rate 91.2 < 99");
    const events = await eventually("the events to be listed", async () => {
      const list = await kubectlJson<{ items: CoreEvent[] }>(["get", "events", "-n", ns.name, "--field-selector", `involvedObject.name=eventful`]);
      return list.items.length === 2 ? list.items : undefined;
    }, 10_000);
    const byReason = new Map(events.map((e) => [e.reason, e]));
    assert.equal(byReason.get("NewRevision")?.count, 3);
    assert.equal(byReason.get("NewRevision")?.type, "Normal");
    assert.equal(byReason.get("NewRevision")?.involvedObject.uid, w.metadata.uid);
    assert.equal(byReason.get("NewRevision")?.source?.component, "aviary");
    assert.equal(byReason.get("CheckFailed")?.type, "Warning");
    assert.equal(byReason.get("CheckFailed")?.count, 1);
    assert.deepEqual(logger.lines.filter((l) => l.includes("could not record")), []);
  });

  it("starts a new Event when the one it was counting is gone", async () => {
    const w = await widget("expired-event");
    const recorder = createEventRecorder({ client, logger: testLogger() });
    await recorder.record(w, "Normal", "Promoted", "promotion completed");
    const [first] = (await kubectlJson<{ items: CoreEvent[] }>(["get", "events", "-n", ns.name, "--field-selector", "involvedObject.name=expired-event"])).items;
    assert.ok(first);
    await client.delete({ apiVersion: "v1", kind: "Event", namespace: ns.name, name: first.metadata.name });
    await recorder.record(w, "Normal", "Promoted", "promotion completed");
    const after = (await kubectlJson<{ items: CoreEvent[] }>(["get", "events", "-n", ns.name, "--field-selector", "involvedObject.name=expired-event"])).items;
    assert.equal(after.length, 1);
    assert.notEqual(after[0]!.metadata.name, first.metadata.name);
    assert.equal(after[0]!.count, 1);
  });
});
