/**
 * The smi router (and linkerd, the same router) against a real API server with the SMI
 * TrafficSplit CRD: the Linkerd example's TrafficSplit passes the schema in v1alpha2 and
 * v1alpha3, weights follow a canary run and a rollback, a second reconcile writes nothing,
 * hand edits are undone, a taken-over TrafficSplit is given back, and a missing CRD is
 * reported as such.
 */
import assert from "node:assert/strict";
import type { Canary } from "../../../src/api/types.ts";
import type { ClusterClient } from "../../../src/kube/client.ts";
import type { KubeObject } from "../../../src/kube/types.ts";
import { createSmiRouter } from "../../../src/router/smi.ts";
import type { Router } from "../../../src/router/types.ts";
import { kubectl, kubectlJson, kubectlOk } from "../../support/kubectl.ts";
import { testLogger } from "../kube/support.ts";
import { assertCrdMissing, assertGivenBack, assertIdleReconcile, assertRunWrittenOnce, createCanary, loadExample, setUpRouterBench, tearDownRouterBench } from "./support.ts";
import type { CountingClient, RouterBench } from "./support.ts";

interface TrafficSplit extends KubeObject {
  spec: { service: string; backends: { service: string; weight: number }[]; matches?: unknown[] };
}

describe("smi router (real API server)", function () {
  this.timeout(60_000);
  let ns: RouterBench["ns"];
  let client: ClusterClient;
  let kube: CountingClient;
  let router: Router;
  const signal = () => AbortSignal.timeout(30_000);
  const getSplit = (name: string, version = "v1alpha2") => kubectlJson<TrafficSplit>(["get", `trafficsplits.${version}.split.smi-spec.io`, name, "-n", ns.name]);
  const weights = async (name: string) => (await getSplit(name)).spec.backends.map((b) => [b.service, b.weight]);

  before(async () => {
    ({ ns, client, kube, router } = await setUpRouterBench((kube) => createSmiRouter({ kube, logger: testLogger() }, { name: "linkerd" })));
  });

  after(() => tearDownRouterBench({ ns, client }));

  describe("the Linkerd example Canary (examples/linkerd)", () => {
    let canary: Canary;

    before(async () => {
      for (const t of await loadExample("examples/linkerd/metric-template.yaml", "MetricTemplate")) await kubectlOk(["apply", "-n", ns.name, "-f", "-"], JSON.stringify(t));
      for (const d of await loadExample("examples/linkerd/podinfo.yaml", "Deployment")) await kubectlOk(["apply", "-n", ns.name, "-f", "-"], JSON.stringify(d));
      const [example] = await loadExample("examples/linkerd/canary.yaml", "Canary");
      canary = await createCanary(client, ns.name, "podinfo", example!.spec as Canary["spec"]);
      assert.equal(canary.spec.provider, "linkerd");
    });

    it("creates a v1alpha2 TrafficSplit the schema accepts, at 100/0, owned by the Canary", async () => {
      kube.writes.length = 0;
      assert.deepEqual(await router.reconcile(canary, signal()), { changed: true });
      assert.deepEqual(kube.writes, ["apply TrafficSplit podinfo"]);
      const ts = await getSplit("podinfo");
      assert.equal(ts.apiVersion, "split.smi-spec.io/v1alpha2");
      assert.deepEqual(ts.spec, { service: "podinfo", backends: [{ service: "podinfo-primary", weight: 100 }, { service: "podinfo-canary", weight: 0 }] });
      assert.deepEqual(ts.metadata.ownerReferences?.map((o) => [o.kind, o.name, o.uid]), [["Canary", "podinfo", canary.metadata.uid]]);
      assert.equal(ts.metadata.labels?.["aviary.dev/canary"], "podinfo");
    });

    it("the API server does enforce the TrafficSplit schema", async () => {
      const bad = { apiVersion: "split.smi-spec.io/v1alpha2", kind: "TrafficSplit", metadata: { name: "invalid", namespace: ns.name }, spec: { backends: [{ service: "x", weight: "heavy" }] } };
      const r = await kubectl(["apply", "-f", "-"], JSON.stringify(bad));
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /spec.service: Required value/);
    });

    it("writes nothing when reconciled again: no request, resourceVersion unchanged", async () => {
      await assertIdleReconcile({ kube, router }, canary, async () => (await getSplit("podinfo")).metadata.resourceVersion, signal());
    });

    it("follows a full canary run 10 → 20 → 30, then promotion to 100/0", async () => {
      await assertRunWrittenOnce({ kube, router }, canary, ["podinfo-primary", "podinfo-canary"], [10, 20, 30, 0], () => weights("podinfo"), signal);
    });

    it("rolls back from mid-run to 100/0; a reconcile mid-run keeps the weights", async () => {
      await router.setRoutes(canary, { primary: 80, canary: 20, mirror: false }, signal());
      assert.deepEqual(await router.reconcile(canary, signal()), { changed: false });
      await router.setRoutes(canary, { primary: 100, canary: 0, mirror: false }, signal());
      assert.deepEqual(await router.getRoutes(canary, signal()), { primary: 100, canary: 0, mirror: false });
    });

    it("is readable as v1alpha3 and by a v1alpha3 router, which sees nothing to change", async () => {
      await router.setRoutes(canary, { primary: 70, canary: 30, mirror: false }, signal());
      assert.deepEqual((await getSplit("podinfo", "v1alpha3")).spec.backends.map((b) => b.weight), [70, 30]);
      const v3 = createSmiRouter({ kube, logger: testLogger() }, { apiVersion: "split.smi-spec.io/v1alpha3" });
      assert.deepEqual(await v3.getRoutes(canary, signal()), { primary: 70, canary: 30, mirror: false });
      kube.writes.length = 0;
      assert.deepEqual(await v3.reconcile(canary, signal()), { changed: false });
      assert.deepEqual(kube.writes, []);
    });

    it("brings a hand-edited TrafficSplit back, dropping added matches, keeping the split", async () => {
      await router.setRoutes(canary, { primary: 60, canary: 40, mirror: false }, signal());
      await kubectlOk(["patch", "trafficsplits.v1alpha3.split.smi-spec.io", "podinfo", "-n", ns.name, "--type=merge",
        "-p", JSON.stringify({ metadata: { labels: { "aviary.dev/canary": "hijacked" } }, spec: { service: "elsewhere", matches: [{ kind: "HTTPRouteGroup", name: "only-api" }] } })]);
      assert.deepEqual(await router.reconcile(canary, signal()), { changed: true });
      const ts = await getSplit("podinfo");
      assert.deepEqual(ts.spec, { service: "podinfo", backends: [{ service: "podinfo-primary", weight: 60 }, { service: "podinfo-canary", weight: 40 }] });
      assert.equal(ts.metadata.labels?.["aviary.dev/canary"], "podinfo");
      assert.deepEqual(await router.reconcile(canary, signal()), { changed: false });
    });

    it("finalize deletes the TrafficSplit it created", async () => {
      await router.finalize(canary, signal());
      assert.notEqual((await kubectl(["get", "trafficsplits.split.smi-spec.io", "podinfo", "-n", ns.name])).code, 0);
    });
  });

  it("takes over an existing TrafficSplit and restores it on finalize", async () => {
    const userSplit = {
      apiVersion: "split.smi-spec.io/v1alpha2", kind: "TrafficSplit",
      metadata: { name: "legacy", namespace: ns.name, labels: { owner: "platform" } },
      spec: { service: "legacy", backends: [{ service: "legacy-v1", weight: 90 }, { service: "legacy-v2", weight: 10 }] },
    };
    await kubectlOk(["apply", "-f", "-"], JSON.stringify(userSplit));
    const original = await getSplit("legacy");
    const canary = await createCanary(client, ns.name, "legacy", { provider: "smi", service: { port: 80 } });
    const smi = createSmiRouter({ kube, logger: testLogger() });
    await smi.reconcile(canary, signal());
    const taken = await getSplit("legacy");
    assert.deepEqual(taken.spec.backends.map((b) => b.service), ["legacy-primary", "legacy-canary"]);
    assert.equal(taken.metadata.ownerReferences, undefined);
    await smi.setRoutes(canary, { primary: 50, canary: 50, mirror: false }, signal());

    await smi.finalize(canary, signal());
    assertGivenBack(await getSplit("legacy"), original, { owner: "platform" });
  });

  it("reports a missing CRD as RouterCrdMissingError", async () => {
    const canary = await createCanary(client, ns.name, "nocrd", { provider: "smi", service: { port: 80 } });
    const missing = createSmiRouter({ kube: client, logger: testLogger() }, { apiVersion: "split.aviary-missing.example/v1alpha2" });
    await assertCrdMissing(missing, canary, "trafficsplits.split.aviary-missing.example", signal);
  });
});
