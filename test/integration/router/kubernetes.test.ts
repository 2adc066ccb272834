/**
 * The kubernetes router and the objects it relies on (controller/canary/objects.ts builds them)
 * against a real API server: the generated primary Deployment, config copies and Services
 * are accepted as server-side applies, and getRoutes follows the apex Service's selector.
 */
import assert from "node:assert/strict";
import type { Canary } from "../../../src/api/types.ts";
import { buildConfigCopy, configRefs } from "../../../src/controller/canary/config-refs.ts";
import { buildPrimaryWorkload, buildServices } from "../../../src/controller/canary/objects.ts";
import { canaryOwnerReference, managedLabels } from "../../../src/ground/identity.ts";
import type { ConfigMapOrSecret } from "../../../src/controller/canary/config-refs.ts";
import type { Deployment } from "../../../src/ground/workloads.ts";
import type { ClusterClient } from "../../../src/kube/client.ts";
import { createKubernetesRouter } from "../../../src/router/kubernetes.ts";
import type { Router } from "../../../src/router/types.ts";
import { kubectlJson, kubectlOk, tempNamespace } from "../../support/kubectl.ts";
import { clusterClient, testLogger } from "../kube/support.ts";
import { countingClient, createCanary, installAviaryCrds } from "./support.ts";

describe("kubernetes router and generated objects (real API server)", function () {
  this.timeout(60_000);
  let ns: Awaited<ReturnType<typeof tempNamespace>>;
  let client: ClusterClient;
  let router: Router;
  let canary: Canary;
  let target: Deployment;
  const signal = () => AbortSignal.timeout(30_000);

  before(async () => {
    await installAviaryCrds();
    ns = await tempNamespace();
    client = clusterClient();
    router = createKubernetesRouter({ kube: client, logger: testLogger() });
    await client.apply({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "podinfo-env", namespace: ns.name }, data: { COLOR: "blue" } });
    target = await client.apply<Deployment>({
      apiVersion: "apps/v1", kind: "Deployment",
      metadata: { name: "podinfo", namespace: ns.name },
      spec: {
        replicas: 1,
        selector: { matchLabels: { "app.kubernetes.io/name": "podinfo" } },
        template: {
          metadata: { labels: { "app.kubernetes.io/name": "podinfo" } },
          spec: { containers: [{ name: "app", image: "ghcr.io/stefanprodan/podinfo:6.9.0", ports: [{ name: "http", containerPort: 9898 }], envFrom: [{ configMapRef: { name: "podinfo-env" } }] }] },
        },
      },
    });
    canary = await createCanary(client, ns.name, "podinfo", { provider: "kubernetes", service: { port: 80, targetPort: "http", primary: { labels: { role: "primary" } } } });
  });

  after(async () => {
    await ns?.remove();
    await client?.close();
  });

  it("the generated Deployment, config copy and Services are accepted, and a re-apply changes nothing", async () => {
    const refs = configRefs(target.spec.template);
    assert.deepEqual(refs, [{ kind: "ConfigMap", name: "podinfo-env" }]);
    const source = await client.get<ConfigMapOrSecret>({ apiVersion: "v1", kind: "ConfigMap", namespace: ns.name, name: "podinfo-env" });
    const svcs = buildServices(canary, target);
    const objects = [
      buildConfigCopy(source!, canaryOwnerReference(canary), managedLabels(canary)),
      buildPrimaryWorkload({ target, canary, replicas: 1, copiedConfigs: refs }),
      svcs.apex, svcs.primary, svcs.canary,
    ];
    const first = [];
    for (const o of objects) first.push(await client.apply(o, { force: true }));
    for (const [i, o] of objects.entries()) {
      const again = await client.apply(o, { force: true });
      // The Deployment's status moves on its own (the rollout); its spec did not change when generation did not.
      const version = (obj: typeof again) => (obj.kind === "Deployment" ? obj.metadata.generation : obj.metadata.resourceVersion);
      assert.equal(version(again), version(first[i]!), `${o.kind} ${o.metadata.name} was rewritten`);
    }

    const primary = await kubectlJson<Deployment>(["get", "deployment", "podinfo-primary", "-n", ns.name]);
    assert.deepEqual(primary.spec.selector, { matchLabels: { "app.kubernetes.io/name": "podinfo-primary" } });
    assert.equal(primary.metadata.labels?.role, "primary");
    assert.deepEqual(primary.metadata.ownerReferences?.map((o) => o.uid), [canary.metadata.uid]);
    const envFrom = (primary.spec.template.spec as unknown as { containers: { envFrom: { configMapRef: { name: string } }[] }[] }).containers[0]!.envFrom;
    assert.equal(envFrom[0]!.configMapRef.name, "podinfo-env-primary");
    const copy = await kubectlJson<{ data: Record<string, string> }>(["get", "configmap", "podinfo-env-primary", "-n", ns.name]);
    assert.deepEqual(copy.data, { COLOR: "blue" });
    const apex = await kubectlJson<{ spec: { selector: Record<string, string>; ports: { name: string; port: number; targetPort: string }[] } }>(["get", "service", "podinfo", "-n", ns.name]);
    assert.deepEqual(apex.spec.selector, { "app.kubernetes.io/name": "podinfo-primary" });
    assert.deepEqual(apex.spec.ports.map((p) => [p.name, p.port, p.targetPort]), [["http", 80, "http"]]);
  });

  it("getRoutes follows the apex selector: primary until it selects the canary's pods", async () => {
    assert.deepEqual(await router.getRoutes(canary, signal()), { primary: 100, canary: 0, mirror: false });
    await kubectlOk(["patch", "service", "podinfo", "-n", ns.name, "--type=merge", "-p", '{"spec":{"selector":{"app.kubernetes.io/name":"podinfo"}}}']);
    assert.deepEqual(await router.getRoutes(canary, signal()), { primary: 0, canary: 100, mirror: false });
  });

  it("reconcile, setRoutes and finalize write nothing", async () => {
    const counting = countingClient(client);
    const quiet = createKubernetesRouter({ kube: counting, logger: testLogger() });
    assert.deepEqual(await quiet.reconcile(canary, signal()), { changed: false });
    await quiet.setRoutes(canary, { primary: 0, canary: 100, mirror: false }, signal());
    await quiet.finalize(canary, signal());
    assert.deepEqual(counting.writes, []);
  });
});
