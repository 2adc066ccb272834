/**
 * Proves the local control plane is a real one: the Deployment controller, the scheduler and
 * kwok's fake kubelets together take a Deployment to Ready replicas and roll out new revisions.
 */
import assert from "node:assert/strict";
import { eventually, kubectlJson, kubectlOk, tempNamespace } from "../../support/kubectl.ts";

interface DeploymentStatus {
  status?: { readyReplicas?: number; updatedReplicas?: number; availableReplicas?: number; conditions?: { type: string; status: string }[] };
}
interface ReplicaSetList {
  items: { metadata: { name: string }; spec: { replicas: number; template: { spec: { containers: { image: string }[] } } }; status: { readyReplicas?: number } }[];
}

describe("local control plane: workloads", () => {
  let ns: Awaited<ReturnType<typeof tempNamespace>>;
  before(async () => { ns = await tempNamespace(); });
  after(async () => { await ns?.remove(); });

  it("takes a Deployment with 3 replicas to 3 ready replicas", async () => {
    await kubectlOk(["create", "deployment", "web", "--image=nginx:1.27", "--replicas=3", "-n", ns.name]);
    const status = await eventually("3 ready replicas", async () => {
      const d = await kubectlJson<DeploymentStatus>(["get", "deployment", "web", "-n", ns.name]);
      return d.status?.readyReplicas === 3 && d.status.availableReplicas === 3 ? d.status : undefined;
    });
    assert.equal(status.updatedReplicas, 3);
    const available = status.conditions?.find((c) => c.type === "Available");
    assert.equal(available?.status, "True");
    const pods = await kubectlJson<{ items: { spec: { nodeName?: string }; status: { phase: string; podIP?: string } }[] }>(["get", "pods", "-n", ns.name]);
    assert.equal(pods.items.length, 3);
    for (const pod of pods.items) {
      assert.match(pod.spec.nodeName ?? "", /^kwok-node-/, "pods are scheduled onto kwok nodes");
      assert.equal(pod.status.phase, "Running");
      assert.ok(pod.status.podIP, "kwok gives every pod an IP");
    }
  });

  it("rolls a changed image out as a new ReplicaSet", async () => {
    await kubectlOk(["set", "image", "deployment/web", "nginx=nginx:1.28", "-n", ns.name]);
    const sets = await eventually("the new ReplicaSet to own all 3 ready replicas", async () => {
      const rs = await kubectlJson<ReplicaSetList>(["get", "replicasets", "-n", ns.name]);
      const fresh = rs.items.find((r) => r.spec.template.spec.containers[0]?.image === "nginx:1.28");
      const old = rs.items.find((r) => r.spec.template.spec.containers[0]?.image === "nginx:1.27");
      return fresh?.status.readyReplicas === 3 && old?.spec.replicas === 0 ? rs.items : undefined;
    });
    assert.equal(sets.length, 2);
    await kubectlOk(["rollout", "status", "deployment/web", "-n", ns.name, "--timeout=60s"]);
  });
});
