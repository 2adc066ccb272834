import assert from "node:assert/strict";
import type { Canary } from "../../../src/api/types.ts";
import { buildServices } from "../../../src/controller/canary/objects.ts";
import { restoreServices } from "../../../src/controller/canary/restore.ts";
import type { Deployment } from "../../../src/ground/workloads.ts";
import { KubeApiError } from "../../../src/kube/types.ts";
import { FakeKube } from "../../support/fake-kube.ts";

const signal = new AbortController().signal;

const canary: Canary = {
  apiVersion: "aviary.dev/v1beta1",
  kind: "Canary",
  metadata: { name: "podinfo", namespace: "test", uid: "uid-1" },
  spec: { targetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "podinfo" }, service: { port: 9898 } },
};

const target: Deployment = {
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "podinfo", namespace: "test" },
  spec: { replicas: 0, selector: { matchLabels: { app: "podinfo" } }, template: { metadata: { labels: { app: "podinfo" } }, spec: { containers: [{ name: "app", image: "podinfo:1" }] } } },
};

/** The three generated Services, minus `-canary` (deleted by hand). */
function withoutCanaryService(): FakeKube {
  const s = buildServices(canary, target);
  return new FakeKube([s.apex, s.primary]);
}

describe("restoring generated Services", () => {
  it("writes a deleted Service back", async () => {
    const kube = withoutCanaryService();
    assert.deepEqual(await restoreServices(kube, canary, target, true, signal), { restored: ["Service/podinfo-canary"], missing: [] });
  });

  it("reports a deleted Service it could not write back as missing, with why, so the run holds instead of failing", async () => {
    const kube = withoutCanaryService();
    kube.failNext.set("apply", [new KubeApiError('services "podinfo-canary" is forbidden: denied by a policy', 403, "Forbidden")]);
    const result = await restoreServices(kube, canary, target, true, signal);
    assert.deepEqual(result, { restored: [], missing: ["Service/podinfo-canary"], failures: ['Service/podinfo-canary: services "podinfo-canary" is forbidden: denied by a policy'] });
  });

  it("only reports a deleted Service of a suspended Canary", async () => {
    const kube = withoutCanaryService();
    assert.deepEqual(await restoreServices(kube, canary, target, false, signal), { restored: [], missing: ["Service/podinfo-canary"] });
    assert.deepEqual(kube.writes, []);
  });
});
