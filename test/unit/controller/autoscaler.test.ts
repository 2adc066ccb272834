import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import { validateCanary } from "../../../src/api/validate.ts";
import type { KubeObject } from "../../../src/kube/types.ts";
import type { AutoscalerReference, Canary } from "../../../src/api/types.ts";
import { autoscalerSourceRef, buildPrimaryHpa, buildPrimaryScaledObject, primaryQuery } from "../../../src/controller/canary/autoscaler.ts";
import type { HorizontalPodAutoscaler, ScaledObject } from "../../../src/controller/canary/autoscaler.ts";

const managed = { "app.kubernetes.io/managed-by": "aviary", "aviary.dev/canary": "podinfo" };
const owner = { apiVersion: "aviary.dev/v1beta1", kind: "Canary", name: "podinfo", uid: "uid-1", controller: true, blockOwnerDeletion: true };

function canary(autoscalerRef: AutoscalerReference): Canary {
  return {
    apiVersion: "aviary.dev/v1beta1",
    kind: "Canary",
    metadata: { name: "podinfo", namespace: "test", uid: "uid-1" },
    spec: { targetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "podinfo" }, autoscalerRef, service: { port: 9898 } },
  };
}

const hpa = (): HorizontalPodAutoscaler => ({
  apiVersion: "autoscaling/v2",
  kind: "HorizontalPodAutoscaler",
  metadata: {
    name: "podinfo-hpa", namespace: "test", uid: "hpa-uid", resourceVersion: "7",
    labels: { team: "web" }, annotations: { "kubectl.kubernetes.io/last-applied-configuration": "{}", note: "kept" },
  },
  spec: {
    scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "podinfo" },
    minReplicas: 2,
    maxReplicas: 4,
    metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 99 } } }],
    behavior: { scaleDown: { stabilizationWindowSeconds: 60 } },
  },
});

const scaledObject = (): ScaledObject => ({
  apiVersion: "keda.sh/v1alpha1",
  kind: "ScaledObject",
  metadata: { name: "podinfo-so", namespace: "test", annotations: { "autoscaling.keda.sh/paused-replicas": "0" } },
  spec: {
    scaleTargetRef: { name: "podinfo" },
    minReplicaCount: 1,
    maxReplicaCount: 3,
    pollingInterval: 10,
    triggers: [
      { type: "prometheus", name: "rps", metadata: { serverAddress: "http://prometheus:9090", query: 'sum(rate(http_requests_total{app="podinfo-canary"}[1m]))', threshold: "5" } },
      { type: "prometheus", name: "latency", metadata: { serverAddress: "http://prometheus:9090", query: "histogram_quantile(0.99, x)", threshold: "1" } },
      { type: "cpu", metadata: { value: "50" } },
    ],
  },
});

describe("primary autoscaler", () => {
  it("copies the HPA's spec as <hpa>-primary scaling the primary, owned by the Canary", () => {
    const source = hpa();
    const primary = buildPrimaryHpa(source, canary({ apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler", name: "podinfo-hpa" }));
    assert.deepEqual(primary, {
      apiVersion: "autoscaling/v2",
      kind: "HorizontalPodAutoscaler",
      metadata: { name: "podinfo-hpa-primary", namespace: "test", labels: { team: "web", ...managed }, annotations: { note: "kept" }, ownerReferences: [owner] },
      spec: { ...source.spec, scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "podinfo-primary" } },
    });
    assert.equal(source.spec.scaleTargetRef.name, "podinfo", "the user's HPA is not mutated");
  });

  it("takes the primary's bounds from primaryScalerReplicas when given", () => {
    const primary = buildPrimaryHpa(hpa(), canary({ name: "podinfo-hpa", primaryScalerReplicas: { minReplicas: 3, maxReplicas: 9 } }));
    assert.equal(primary.spec.minReplicas, 3);
    assert.equal(primary.spec.maxReplicas, 9);
  });

  it("aims a ScaledObject at the primary, rewrites its queries and drops KEDA's pause", () => {
    const primary = buildPrimaryScaledObject(scaledObject(), canary({ apiVersion: "keda.sh/v1alpha1", kind: "ScaledObject", name: "podinfo-so", primaryScalerQueries: { latency: "primary_latency" } }));
    assert.equal(primary.metadata.name, "podinfo-so-primary");
    assert.equal(primary.metadata.annotations, undefined, "the pause annotation belongs to the user's object");
    assert.deepEqual(primary.spec.scaleTargetRef, { apiVersion: "apps/v1", kind: "Deployment", name: "podinfo-primary" });
    assert.deepEqual(primary.spec.triggers?.map((t) => t.metadata?.query), ['sum(rate(http_requests_total{app="podinfo-primary"}[1m]))', "primary_latency", undefined]);
    assert.equal(primary.spec.pollingInterval, 10);
    assert.deepEqual(primary.metadata.ownerReferences, [owner]);
  });

  it("rewrites whole names only: <target> and <target>-canary, never <target>-primary or a longer name", () => {
    assert.equal(primaryQuery('x{deployment="podinfo"} + y{pod=~"podinfo-canary-.*"}', "podinfo"), 'x{deployment="podinfo-primary"} + y{pod=~"podinfo-primary-.*"}');
    assert.equal(primaryQuery('x{deployment="podinfo-primary"}', "podinfo"), 'x{deployment="podinfo-primary"}');
    assert.equal(primaryQuery('x{deployment="mypodinfo",app="podinfo2"}', "podinfo"), 'x{deployment="mypodinfo",app="podinfo2"}');
  });

  it("reads an HPA at autoscaling/v2 and a ScaledObject at keda.sh/v1alpha1", () => {
    const c = canary({ name: "x" });
    assert.deepEqual(autoscalerSourceRef(c, { apiVersion: "autoscaling/v1", kind: "HorizontalPodAutoscaler", name: "x" }), { apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler", namespace: "test", name: "x" });
    assert.deepEqual(autoscalerSourceRef(c, { kind: "ScaledObject", name: "x" }), { apiVersion: "keda.sh/v1alpha1", kind: "ScaledObject", namespace: "test", name: "x" });
  });
});

describe("examples/autoscaler", () => {
  for (const file of ["hpa.yaml", "keda.yaml"]) {
    it(`${file}: the Canary passes validation and its autoscaler's copy targets the primary`, () => {
      const docs = parseAllDocuments(readFileSync(`examples/autoscaler/${file}`, "utf8")).map((d) => d.toJS() as KubeObject);
      const c = docs.find((d) => d.kind === "Canary") as unknown as Canary;
      assert.deepEqual(validateCanary(c).filter((p) => p.severity === "error"), []);
      const source = docs.find((d) => d.kind !== "Canary")!;
      const copy = source.kind === "ScaledObject"
        ? buildPrimaryScaledObject(source as ScaledObject, { ...c, metadata: { ...c.metadata, uid: "u" } })
        : buildPrimaryHpa(source as HorizontalPodAutoscaler, { ...c, metadata: { ...c.metadata, uid: "u" } });
      assert.equal(copy.metadata.name, "podinfo-primary");
      assert.equal(copy.spec.scaleTargetRef.name, "podinfo-primary");
    });
  }
});
