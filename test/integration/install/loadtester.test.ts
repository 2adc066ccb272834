/**
 * The load tester's kustomization against the real API server: applied with `-n` into an
 * application namespace that enforces the `restricted` Pod Security level, it is admitted
 * without warnings, its pod becomes ready behind the flagger-loadtester Service, and its
 * ServiceAccount can do nothing with the Kubernetes API.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { eventually, kubectl, kubectlJson, kubectlOk, requireKubeconfig, tempNamespace } from "../../support/kubectl.ts";

const DIR = join(new URL("../../../", import.meta.url).pathname, "manifests", "loadtester");

interface Deployment {
  status?: { availableReplicas?: number };
  spec: { template: { spec: { automountServiceAccountToken?: boolean } } };
}
interface Pod {
  spec: { volumes?: Array<{ name: string; projected?: unknown }>; containers: Array<{ volumeMounts?: Array<{ mountPath: string }> }> };
}

describe("load tester manifests on the API server", function () {
  this.timeout(120_000);
  let ns: { name: string; remove: () => Promise<void> };

  before(async () => {
    requireKubeconfig();
    ns = await tempNamespace("aviary-it-lt");
    await kubectlOk(["label", "namespace", ns.name, "pod-security.kubernetes.io/enforce=restricted", "pod-security.kubernetes.io/warn=restricted"]);
  });
  after(async () => ns?.remove());

  it("installs into an application namespace under the restricted Pod Security level, with no warnings", async () => {
    const applied = await kubectl(["apply", "-n", ns.name, "-k", DIR]);
    assert.equal(applied.code, 0, applied.stderr);
    assert.doesNotMatch(applied.stderr, /Warning/i);
    await eventually("the load tester to be available", async () => {
      const d = await kubectlJson<Deployment>(["get", "-n", ns.name, "deployment/aviary-loadtester"]);
      return (d.status?.availableReplicas ?? 0) >= 1 ? d : undefined;
    });
    const pods = await kubectlJson<{ items: Pod[] }>(["get", "-n", ns.name, "pods", "-l", "app.kubernetes.io/name=aviary-loadtester"]);
    assert.equal(pods.items.length, 1);
    const pod = pods.items[0]!;
    assert.ok(!(pod.spec.volumes ?? []).some((v) => v.projected !== undefined), "no service account token is mounted");
    assert.ok(!pod.spec.containers[0]!.volumeMounts?.some((m) => m.mountPath.includes("serviceaccount")));
    await eventually("the flagger-loadtester Service to have an endpoint", async () => {
      const slices = await kubectlJson<{ items: Array<{ endpoints?: unknown[] }> }>(["get", "-n", ns.name, "endpointslices", "-l", "kubernetes.io/service-name=flagger-loadtester"]);
      return slices.items.some((s) => (s.endpoints ?? []).length > 0) ? true : undefined;
    });
  });

  it("gives its ServiceAccount no access to the Kubernetes API", async () => {
    const as = `--as=system:serviceaccount:${ns.name}:aviary-loadtester`;
    for (const [verb, resource] of [["get", "secrets"], ["list", "pods"], ["create", "pods/exec"], ["patch", "deployments.apps"], ["get", "canaries.aviary.dev"]]) {
      const r = await kubectl(["auth", "can-i", verb!, resource!, "-n", ns.name, as]);
      assert.equal(r.stdout.trim(), "no", `${verb} ${resource}`);
    }
  });
});
