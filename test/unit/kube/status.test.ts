import assert from "node:assert/strict";
import { deepEqual, mergePatchDiff, updateStatus } from "../../../src/kube/status.ts";
import { KubeApiError } from "../../../src/kube/types.ts";
import type { KubeObject } from "../../../src/kube/types.ts";
import { FakeKube } from "../../support/fake-kube.ts";

interface Canary extends KubeObject {
  status?: { phase?: string; canaryWeight?: number; failedChecks?: number; conditions?: Array<{ type: string; status: string }>; lastAnalysis?: Record<string, unknown> };
}

const ref = { apiVersion: "aviary.dev/v1beta1", kind: "Canary", namespace: "ns", name: "podinfo" };

describe("status", () => {
  describe("mergePatchDiff", () => {
    it("is undefined when nothing changed", () => {
      assert.equal(mergePatchDiff({ a: 1, b: { c: [1, 2] } }, { a: 1, b: { c: [1, 2] } }), undefined);
      assert.equal(mergePatchDiff({}, {}), undefined);
    });
    it("carries changed and added fields, nested", () => {
      assert.deepEqual(mergePatchDiff({ phase: "Progressing", canaryWeight: 20, x: { y: 1, z: 2 } }, { phase: "Progressing", canaryWeight: 40, x: { y: 1, z: 3 }, n: "new" }), {
        canaryWeight: 40,
        x: { z: 3 },
        n: "new",
      });
    });
    it("removes dropped fields with null, and ignores undefined values", () => {
      assert.deepEqual(mergePatchDiff({ a: 1, b: 2, c: { d: 1 } }, { a: 1, c: {}, e: undefined }), { b: null, c: { d: null } });
    });
    it("replaces arrays whole, as merge patch requires", () => {
      assert.deepEqual(mergePatchDiff({ conditions: [{ type: "Promoted", status: "False" }] }, { conditions: [{ type: "Promoted", status: "True" }] }), {
        conditions: [{ type: "Promoted", status: "True" }],
      });
    });
    it("replaces a value whose type changed", () => {
      assert.deepEqual(mergePatchDiff({ a: "x" }, { a: { b: 1 } }), { a: { b: 1 } });
      assert.deepEqual(mergePatchDiff({ a: { b: 1 } }, { a: 3 }), { a: 3 });
    });
  });

  it("deepEqual compares structure, not identity or key order", () => {
    assert.ok(deepEqual({ a: [1, { b: 2 }], c: "x" }, { c: "x", a: [1, { b: 2 }] }));
    assert.ok(!deepEqual({ a: [1, 2] }, { a: [2, 1] }));
    assert.ok(!deepEqual({ a: 1 }, { a: 1, b: 2 }));
    assert.ok(deepEqual({ a: 1, b: undefined }, { a: 1 }));
    assert.ok(!deepEqual([1], { 0: 1 }));
  });

  describe("updateStatus", () => {
    const seed = (status?: Canary["status"]) => {
      const client = new FakeKube();
      client.put({ ...ref, metadata: { name: "podinfo", namespace: "ns" }, spec: { x: 1 }, ...(status ? { status } : {}) });
      return client;
    };

    it("patches only what changed, through the status subresource", async () => {
      const client = seed({ phase: "Progressing", canaryWeight: 20, failedChecks: 0 });
      const result = await updateStatus<Canary>(client, ref, (s: NonNullable<Canary["status"]>) => {
        s.canaryWeight = 40;
      });
      assert.equal(result?.status?.canaryWeight, 40);
      const patch = client.calls.find((c) => c.verb === "patch/status")!;
      assert.deepEqual(patch.body, { status: { canaryWeight: 40 } });
      assert.equal(client.calls.filter((c) => c.verb === "patch/status").length, 1);
    });

    it("accepts a returned status instead of an in-place change", async () => {
      const client = seed({ phase: "Progressing", canaryWeight: 20 });
      const result = await updateStatus<Canary>(client, ref, () => ({ phase: "Succeeded" }));
      assert.deepEqual(result?.status, { phase: "Succeeded" });
      assert.deepEqual(client.calls.find((c) => c.verb === "patch/status")!.body, { status: { phase: "Succeeded", canaryWeight: null } });
    });

    it("writes nothing when the status is already as wanted", async () => {
      const client = seed({ phase: "Succeeded" });
      const result = await updateStatus<Canary>(client, ref, (s: NonNullable<Canary["status"]>) => {
        s.phase = "Succeeded";
      });
      assert.equal(result?.status?.phase, "Succeeded");
      assert.equal(client.calls.filter((c) => c.verb.startsWith("patch")).length, 0);
    });

    it("starts from an empty status when the object has none", async () => {
      const client = seed();
      const result = await updateStatus<Canary>(client, ref, (s: NonNullable<Canary["status"]>) => {
        s.phase = "Initializing";
      });
      assert.deepEqual(result?.status, { phase: "Initializing" });
    });

    it("re-reads and recomputes after a conflict, keeping the other writer's change", async () => {
      const client = seed({ phase: "Progressing", failedChecks: 0 });
      let interfered = false;
      client.before = (verb) => {
        if (verb === "patch/status" && !interfered) {
          interfered = true;
          const current = [...client.objects.values()][0]!;
          client.put({ ...current, status: { ...(current.status as object), failedChecks: 1 } });
        }
      };
      const seen: Array<number | undefined> = [];
      const result = await updateStatus<Canary>(client, ref, (s: NonNullable<Canary["status"]>) => {
        seen.push(s.failedChecks);
        s.canaryWeight = 10;
      });
      assert.deepEqual(seen, [0, 1]);
      assert.deepEqual(result?.status, { phase: "Progressing", failedChecks: 1, canaryWeight: 10 });
    });

    it("gives up with the conflict after maxAttempts", async () => {
      const client = seed({ phase: "Progressing" });
      client.failNext.set("patch/status", [1, 2, 3].map(() => new KubeApiError("modified", 409, "Conflict")));
      await assert.rejects(updateStatus<Canary>(client, ref, (s: NonNullable<Canary["status"]>) => void (s.canaryWeight = 1), { maxAttempts: 3 }), (err: unknown) => err instanceof KubeApiError && err.status === 409);
      assert.equal(client.calls.filter((c) => c.verb === "get").length, 3);
    });

    it("does not retry other errors", async () => {
      const client = seed({ phase: "Progressing" });
      client.failNext.set("patch/status", [new KubeApiError("invalid", 422, "Invalid")]);
      await assert.rejects(updateStatus<Canary>(client, ref, (s: NonNullable<Canary["status"]>) => void (s.canaryWeight = 1)), /invalid/);
      assert.equal(client.calls.filter((c) => c.verb === "get").length, 1);
    });

    it("returns null when the object is missing or deleted mid-way", async () => {
      const client = new FakeKube();
      assert.equal(await updateStatus(client, ref, () => ({ phase: "x" })), null);
      const seeded = seed({ phase: "Progressing" });
      seeded.failNext.set("patch/status", [new KubeApiError("not found", 404, "NotFound")]);
      assert.equal(await updateStatus<Canary>(seeded, ref, () => ({ phase: "Terminated" })), null);
    });

    it("does not take a missing subresource for a missing object", async () => {
      const client = seed({ phase: "Progressing" });
      client.failNext.set("patch/status", [new KubeApiError("Canary has no status subresource", 404, "NoSubresource")]);
      await assert.rejects(updateStatus<Canary>(client, ref, () => ({ phase: "Failed" })), /no status subresource/);
    });
  });
});
