/**
 * The kuma router against a real API server with Kuma's TrafficRoute CRD (from Kuma's Go
 * module; cluster-scoped): the TrafficRoute is stored without a namespace or owner reference
 * and labelled with its Canary's namespace, weights round-trip through it, a second
 * reconcile writes nothing, hand edits (the mesh included) and deletions are undone, a Canary
 * of the same service in another namespace is refused, a taken-over TrafficRoute is given
 * back, and finalize removes its own.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import type { Canary } from "../../../src/api/types.ts";
import type { ClusterClient } from "../../../src/kube/client.ts";
import type { KubeObject } from "../../../src/kube/types.ts";
import { createKumaRouter } from "../../../src/router/kuma.ts";
import { RouterSpecError } from "../../../src/router/types.ts";
import type { Router } from "../../../src/router/types.ts";
import { kubectl, kubectlJson, kubectlOk, tempNamespace } from "../../support/kubectl.ts";
import { testLogger } from "../kube/support.ts";
import { assertGivenBack, assertIdleReconcile, assertRunWrittenOnce, createCanary, setUpRouterBench, tearDownRouterBench } from "./support.ts";
import type { CountingClient, RouterBench } from "./support.ts";

interface TrafficRoute extends KubeObject {
  mesh?: string;
  spec: { conf: { split: { weight: number; destination: Record<string, string> }[] } };
}

describe("kuma router (real API server)", function () {
  this.timeout(60_000);
  let ns: RouterBench["ns"];
  let client: ClusterClient;
  let kube: CountingClient;
  let router: Router;
  let canary: Canary;
  // TrafficRoutes are cluster-wide: a name no other run uses.
  const svc = `kuma-it-${randomBytes(3).toString("hex")}`;
  const signal = () => AbortSignal.timeout(30_000);
  const route = (name = svc) => kubectlJson<TrafficRoute>(["get", "trafficroutes.kuma.io", name]);
  const weights = async () => (await route()).spec.conf.split.map((s) => [s.destination["kuma.io/service"]!.split("_")[0], s.weight]);

  before(async () => {
    ({ ns, client, kube, router } = await setUpRouterBench((kube) => createKumaRouter({ kube, logger: testLogger() })));
    canary = await createCanary(client, ns.name, svc, { provider: "kuma", service: { port: 9898 } });
  });
  after(async () => {
    await kubectl(["delete", "trafficroutes.kuma.io", svc, `${svc}-legacy`, "--ignore-not-found"]);
    await tearDownRouterBench({ ns, client });
  });

  it("creates a cluster-scoped TrafficRoute the schema accepts, at 100/0, in the default mesh, labelled with the Canary's namespace", async () => {
    kube.writes.length = 0;
    assert.deepEqual(await router.reconcile(canary, signal()), { changed: true });
    assert.deepEqual(kube.writes, [`apply TrafficRoute ${svc}`]);
    const tr = await route();
    assert.equal(tr.metadata.namespace, undefined);
    assert.equal(tr.metadata.ownerReferences, undefined);
    assert.equal(tr.mesh, "default");
    assert.equal(tr.metadata.labels?.["aviary.dev/canary-namespace"], ns.name);
    assert.deepEqual(await weights(), [[`${svc}-primary`, 100], [`${svc}-canary`, 0]]);
  });

  it("writes nothing when reconciled again: no request, resourceVersion unchanged", async () => {
    await assertIdleReconcile({ kube, router }, canary, async () => (await route()).metadata.resourceVersion, signal());
  });

  it("follows a full canary run 10 → 20 → 30, then promotion to 100/0", async () => {
    await assertRunWrittenOnce({ kube, router }, canary, [`${svc}-primary`, `${svc}-canary`], [10, 20, 30, 0], weights, signal);
  });

  it("brings a TrafficRoute moved to another mesh by hand back to the Canary's", async () => {
    await kubectlOk(["patch", "trafficroutes.kuma.io", svc, "--type=merge", "-p", JSON.stringify({ mesh: "other" })]);
    assert.deepEqual(await router.reconcile(canary, signal()), { changed: true });
    assert.equal((await route()).mesh, "default");
  });

  it("brings a hand-edited TrafficRoute back (weights and mesh), keeping the split it is handed", async () => {
    await kubectlOk(["patch", "trafficroutes.kuma.io", svc, "--type=merge", "-p", JSON.stringify({ mesh: "other", spec: { conf: { split: [] } } })]);
    const result = await router.reconcile(canary, signal(), { primary: 80, canary: 20, mirror: false });
    assert.deepEqual(result, { changed: true, split: { now: { primary: 80, canary: 20, mirror: false }, before: null } });
    assert.equal((await route()).mesh, "default");
    assert.deepEqual(await weights(), [[`${svc}-primary`, 80], [`${svc}-canary`, 20]]);
  });

  it("recreates a deleted TrafficRoute", async () => {
    await kubectlOk(["delete", "trafficroutes.kuma.io", svc]);
    assert.equal((await router.reconcile(canary, signal())).changed, true);
    assert.deepEqual(await weights(), [[`${svc}-primary`, 100], [`${svc}-canary`, 0]]);
  });

  it("refuses the same service name from a Canary in another namespace", async () => {
    const other = await tempNamespace();
    try {
      const rival = await createCanary(client, other.name, svc, { provider: "kuma", service: { port: 9898 } });
      await assert.rejects(router.reconcile(rival, signal()), (err: unknown) => err instanceof RouterSpecError && err.message.includes(`managed by Canary ${ns.name}/${svc}`));
      await router.finalize(rival, signal());
      assert.equal((await kubectl(["get", "trafficroutes.kuma.io", svc])).code, 0, "the rival's finalize leaves it alone");
    } finally {
      await other.remove();
    }
  });

  it("finalize deletes the TrafficRoute it created", async () => {
    await router.finalize(canary, signal());
    assert.notEqual((await kubectl(["get", "trafficroutes.kuma.io", svc])).code, 0);
  });

  it("takes over an existing TrafficRoute and restores it, mesh included, on finalize", async () => {
    const name = `${svc}-legacy`;
    await kubectlOk(["apply", "-f", "-"], JSON.stringify({
      apiVersion: "kuma.io/v1alpha1", kind: "TrafficRoute", metadata: { name, labels: { owner: "platform" } }, mesh: "legacy",
      spec: { sources: [{ match: { "kuma.io/service": "*" } }], destinations: [{ match: { "kuma.io/service": "x_y_svc_80" } }], conf: { destination: { "kuma.io/service": "x_y_svc_80" } } },
    }));
    const original = await route(name);
    const owner = await createCanary(client, ns.name, name, { provider: "kuma", service: { port: 80 } });
    await router.reconcile(owner, signal());
    assert.equal((await route(name)).mesh, "default");
    await router.finalize(owner, signal());
    const back = await route(name);
    assertGivenBack(back, original, { owner: "platform" });
    assert.equal(back.mesh, "legacy");
  });
});
