import assert from "node:assert/strict";
import type { AdmissionRequest } from "../../../src/webhook/admission.ts";
import type { KubeObject } from "../../../src/kube/types.ts";
import { guardScale, HPA_SERVICE_ACCOUNT } from "../../../src/webhook/validate/scale.ts";

const SELF = "system:serviceaccount:aviary-system:aviary";
const primary: KubeObject = {
  apiVersion: "apps/v1", kind: "Deployment",
  metadata: { name: "podinfo-primary", namespace: "test", labels: { "app.kubernetes.io/managed-by": "aviary", "aviary.dev/canary": "podinfo" } },
};
const own: KubeObject = { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "cache-primary", namespace: "test", labels: { app: "cache" } } };

function scaleRequest(name: string, username: string, groups: string[] = []): AdmissionRequest {
  return {
    uid: "1", operation: "UPDATE", subResource: "scale", name, namespace: "test",
    kind: { group: "autoscaling", version: "v1", kind: "Scale" },
    resource: { group: "apps", version: "v1", resource: "deployments" },
    userInfo: { username, groups },
    object: { apiVersion: "autoscaling/v1", kind: "Scale", metadata: { name, namespace: "test" }, spec: { replicas: 5 } },
    oldObject: { apiVersion: "autoscaling/v1", kind: "Scale", metadata: { name, namespace: "test" }, spec: { replicas: 2 } },
  } as AdmissionRequest;
}

const objects = new Map([[primary.metadata.name, primary], [own.metadata.name, own]]);
const opts = { aviaryUsers: [SELF], getDeployment: async (_ns: string, name: string) => objects.get(name) ?? null };
const signal = new AbortController().signal;

describe("webhook: scale of generated workloads", () => {
  it("denies `kubectl scale` of a generated primary, naming the Deployment to scale instead", async () => {
    const r = await guardScale(scaleRequest("podinfo-primary", "alice", ["system:authenticated"]), opts, signal);
    assert.equal(r.allowed, false);
    assert.match(r.message ?? "", /podinfo-primary is managed by canary test\/podinfo; scale deployment\/podinfo instead/);
  });

  it("lets the HPA controller (its service account or kube-controller-manager) and aviary scale a primary", async () => {
    for (const user of [HPA_SERVICE_ACCOUNT, "system:kube-controller-manager", SELF]) {
      assert.equal((await guardScale(scaleRequest("podinfo-primary", user), opts, signal)).allowed, true, user);
    }
  });

  it("leaves a user's own Deployment alone, even one named *-primary, and one that does not exist", async () => {
    assert.equal((await guardScale(scaleRequest("cache-primary", "alice"), opts, signal)).allowed, true);
    assert.equal((await guardScale(scaleRequest("gone-primary", "alice"), opts, signal)).allowed, true);
  });

  it("lets a scale through with the opt-out annotation, with a warning", async () => {
    const annotated = { ...primary, metadata: { ...primary.metadata, annotations: { "aviary.dev/allow-manual-edits": "true" } } };
    const r = await guardScale(scaleRequest("podinfo-primary", "alice"), { ...opts, getDeployment: async () => annotated }, signal);
    assert.equal(r.allowed, true);
    assert.ok((r.warnings ?? []).length > 0);
  });
});
