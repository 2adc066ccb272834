/**
 * autoscalerRef against the real API server and kube-controller-manager's HPA controller:
 * the `-primary` copy of the user's HPA or KEDA ScaledObject, its scale target, its upkeep
 * (an edit of the user's object reaches it, a deleted copy comes back). No metrics are fed:
 * the HPA controller still resolves the copy's scale target and lifts the primary to
 * minReplicas, which is the wiring under test.
 */
import assert from "node:assert/strict";
import { eventually, kubectl, kubectlJson, kubectlOk } from "../../support/kubectl.ts";
import { apply, canary, deployment, getDeployment, waitForPhase } from "../../support/canary-fixtures.ts";
import { startEngineBench, stopEngineBench } from "./router-runs.ts";
import type { EngineBench } from "./router-runs.ts";

interface ScalerObject {
  metadata: { name: string; uid?: string; labels?: Record<string, string>; annotations?: Record<string, string>; ownerReferences?: { kind: string; name: string }[] };
  spec: { scaleTargetRef: { apiVersion?: string; kind?: string; name: string }; minReplicas?: number; maxReplicas?: number; maxReplicaCount?: number; triggers?: { metadata?: Record<string, string> }[] };
  status?: { conditions?: { type: string; status: string; reason?: string }[] };
}

const hpa = (name: string, target: string, min: number, max: number) => ({
  apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler", metadata: { name, labels: { team: "web" } },
  spec: {
    scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: target },
    minReplicas: min, maxReplicas: max,
    metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 99 } } }],
  },
});

const getHpa = (ns: string, name: string) => kubectlJson<ScalerObject>(["get", "horizontalpodautoscalers.autoscaling", name, "-n", ns]);
const getScaledObject = (ns: string, name: string) => kubectlJson<ScalerObject>(["get", "scaledobjects.keda.sh", name, "-n", ns]);

describe("canary engine: autoscalerRef", function () {
  let bench: EngineBench;

  before(async () => { bench = await startEngineBench(); });
  after(() => stopEngineBench(bench ?? {}));

  it("makes <hpa>-primary scale the primary, and the HPA controller acts on it", async () => {
    const ns = bench.ns.name;
    await apply(ns, deployment("podinfo", "podinfo:1.0.0", { replicas: 1 }));
    await apply(ns, hpa("podinfo", "podinfo", 3, 4));
    await apply(ns, canary("podinfo", { spec: { autoscalerRef: { apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler", name: "podinfo" } } }));
    await waitForPhase(ns, "podinfo", "Initialized");

    const primary = await eventually("podinfo-primary HPA", () => getHpa(ns, "podinfo-primary"));
    assert.deepEqual(primary.spec.scaleTargetRef, { apiVersion: "apps/v1", kind: "Deployment", name: "podinfo-primary" });
    assert.deepEqual([primary.spec.minReplicas, primary.spec.maxReplicas], [3, 4]);
    assert.equal(primary.metadata.labels?.team, "web");
    assert.equal(primary.metadata.labels?.["app.kubernetes.io/managed-by"], "aviary");
    assert.deepEqual(primary.metadata.ownerReferences?.map((o) => `${o.kind}/${o.name}`), ["Canary/podinfo"]);

    // The HPA controller found the primary through the copy (AbleToScale) and raised it to
    // minReplicas; the user's HPA leaves the target at the zero aviary holds it at.
    await eventually("the HPA controller to resolve the primary", async () => {
      const h = await getHpa(ns, "podinfo-primary");
      return h.status?.conditions?.some((c) => c.type === "AbleToScale" && c.status === "True") ? true : undefined;
    });
    await eventually("the primary at the HPA's minReplicas", async () => ((await getDeployment(ns, "podinfo-primary")).spec.replicas === 3 ? true : undefined), 90_000);
    assert.equal((await getDeployment(ns, "podinfo")).spec.replicas, 0);
  });

  it("carries an edit of the user's HPA to the copy", async () => {
    const ns = bench.ns.name;
    await kubectlOk(["patch", "horizontalpodautoscalers.autoscaling", "podinfo", "-n", ns, "--type=merge", "-p", JSON.stringify({ spec: { maxReplicas: 7 } })]);
    await eventually("maxReplicas 7 on podinfo-primary", async () => ((await getHpa(ns, "podinfo-primary")).spec.maxReplicas === 7 ? true : undefined), 60_000);
  });

  it("restores the copy when it is deleted by hand", async () => {
    const ns = bench.ns.name;
    const before = await getHpa(ns, "podinfo-primary");
    await kubectlOk(["delete", "horizontalpodautoscalers.autoscaling", "podinfo-primary", "-n", ns]);
    const after = await eventually("podinfo-primary HPA restored", async () => {
      const h = await getHpa(ns, "podinfo-primary").catch(() => undefined);
      return h && h.metadata.uid !== before.metadata.uid ? h : undefined;
    }, 60_000);
    assert.equal(after.spec.scaleTargetRef.name, "podinfo-primary");
    assert.equal(after.spec.maxReplicas, 7);
  });

  it("reports a missing autoscaler by field on the Canary", async () => {
    const ns = bench.ns.name;
    await apply(ns, deployment("orphan", "podinfo:1.0.0", { replicas: 1 }));
    await apply(ns, canary("orphan", { spec: { autoscalerRef: { apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler", name: "nowhere" } } }));
    const c = await eventually("a Ready=False condition on orphan", async () => {
      const o = await kubectlJson<{ status?: { conditions?: { type: string; status: string; message?: string }[] } }>(["get", "canaries.aviary.dev", "orphan", "-n", ns]);
      return o.status?.conditions?.find((x) => x.type === "Ready" && x.status === "False");
    });
    assert.match(c.message ?? "", /HorizontalPodAutoscaler .*\/nowhere named by spec\.autoscalerRef does not exist/);
    const r = await kubectl(["get", "horizontalpodautoscalers.autoscaling", "nowhere-primary", "-n", ns]);
    assert.notEqual(r.code, 0, "no copy of an autoscaler that does not exist");
  });

  it("makes <scaledobject>-primary target the primary and pauses the idle target's ScaledObject at zero", async () => {
    const ns = bench.ns.name;
    await apply(ns, deployment("worker", "podinfo:1.0.0", { replicas: 1 }));
    await apply(ns, {
      apiVersion: "keda.sh/v1alpha1", kind: "ScaledObject", metadata: { name: "worker" },
      spec: {
        scaleTargetRef: { name: "worker" }, minReplicaCount: 1, maxReplicaCount: 5,
        triggers: [{ type: "prometheus", name: "rps", metadata: { serverAddress: "http://prometheus:9090", query: 'sum(rate(http_requests_total{deployment="worker"}[1m]))', threshold: "10" } }],
      },
    });
    // The Canary CRD is cluster-wide: apply this tree's (which knows ScaledObject) right before use.
    await kubectlOk(["apply", "--server-side", "--force-conflicts", "-k", "manifests/crds"]);
    await apply(ns, canary("worker", { spec: { autoscalerRef: { apiVersion: "keda.sh/v1alpha1", kind: "ScaledObject", name: "worker" } } }));
    await waitForPhase(ns, "worker", "Initialized");
    const primary = await eventually("worker-primary ScaledObject", () => getScaledObject(ns, "worker-primary"));
    assert.equal(primary.spec.scaleTargetRef.name, "worker-primary");
    assert.equal(primary.spec.maxReplicaCount, 5);
    assert.equal(primary.spec.triggers?.[0]?.metadata?.query, 'sum(rate(http_requests_total{deployment="worker-primary"}[1m]))');
    assert.deepEqual(primary.metadata.ownerReferences?.map((o) => `${o.kind}/${o.name}`), ["Canary/worker"]);
    const source = await eventually("the pause on the user's ScaledObject", async () => {
      const so = await getScaledObject(ns, "worker");
      return so.metadata.annotations?.["autoscaling.keda.sh/paused-replicas"] === "0" ? so : undefined;
    });
    assert.equal(source.spec.scaleTargetRef.name, "worker", "the user's ScaledObject keeps its target");
  });
});
