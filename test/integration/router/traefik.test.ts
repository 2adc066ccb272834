/**
 * The traefik router against a real API server with Traefik's TraefikService CRD (from
 * Traefik's Go module): the weighted TraefikService passes the CRD's schema, weights
 * round-trip through the stored object, a second reconcile writes nothing, hand edits and
 * deletions are undone, a taken-over TraefikService is given back, finalize removes its own.
 */
import assert from "node:assert/strict";
import type { Canary } from "../../../src/api/types.ts";
import type { ClusterClient } from "../../../src/kube/client.ts";
import type { KubeObject } from "../../../src/kube/types.ts";
import { createTraefikRouter } from "../../../src/router/traefik.ts";
import type { Router } from "../../../src/router/types.ts";
import { kubectl, kubectlJson, kubectlOk } from "../../support/kubectl.ts";
import { testLogger } from "../kube/support.ts";
import { assertGivenBack, assertIdleReconcile, createCanary, setUpRouterBench, tearDownRouterBench } from "./support.ts";
import type { CountingClient, RouterBench } from "./support.ts";

interface TraefikService extends KubeObject {
  spec: { weighted?: { services: { name: string; namespace?: string; port: number; weight?: number }[] }; mirroring?: unknown };
}

describe("traefik router (real API server)", function () {
  this.timeout(60_000);
  let ns: RouterBench["ns"];
  let client: ClusterClient;
  let kube: CountingClient;
  let router: Router;
  const signal = () => AbortSignal.timeout(30_000);
  const get = (name: string) => kubectlJson<TraefikService>(["get", "traefikservices.traefik.io", name, "-n", ns.name]);
  const weights = async (name: string) => (await get(name)).spec.weighted!.services.map((s) => [s.name, s.weight]);

  before(async () => {
    ({ ns, client, kube, router } = await setUpRouterBench((kube) => createTraefikRouter({ kube, logger: testLogger() })));
  });
  after(() => tearDownRouterBench({ ns, client }));

  describe("a weighted canary", () => {
    let canary: Canary;
    before(async () => {
      canary = await createCanary(client, ns.name, "podinfo", { provider: "traefik", service: { port: 9898 } });
    });

    it("creates a weighted TraefikService the schema accepts, all on the primary, owned by the Canary", async () => {
      kube.writes.length = 0;
      assert.deepEqual(await router.reconcile(canary, signal()), { changed: true });
      assert.deepEqual(kube.writes, ["apply TraefikService podinfo"]);
      const ts = await get("podinfo");
      assert.deepEqual(ts.spec, { weighted: { services: [{ name: "podinfo-primary", namespace: ns.name, port: 9898, weight: 100 }] } });
      assert.deepEqual(ts.metadata.ownerReferences?.map((o) => [o.kind, o.name, o.uid]), [["Canary", "podinfo", canary.metadata.uid]]);
    });

    it("writes nothing when reconciled again: no request, resourceVersion unchanged", async () => {
      await assertIdleReconcile({ kube, router }, canary, async () => (await get("podinfo")).metadata.resourceVersion, signal());
    });

    it("follows a canary run 10 → 20 → 30, then promotion back to the primary alone", async () => {
      for (const w of [10, 20, 30]) {
        await router.setRoutes(canary, { primary: 100 - w, canary: w, mirror: false }, signal());
        assert.deepEqual(await weights("podinfo"), [["podinfo-primary", 100 - w], ["podinfo-canary", w]]);
        assert.deepEqual(await router.getRoutes(canary, signal()), { primary: 100 - w, canary: w, mirror: false });
        kube.writes.length = 0;
        await router.setRoutes(canary, { primary: 100 - w, canary: w, mirror: false }, signal());
        assert.deepEqual(kube.writes, [], `the same split (${w}) again is not written`);
      }
      await router.setRoutes(canary, { primary: 100, canary: 0, mirror: false }, signal());
      assert.deepEqual(await weights("podinfo"), [["podinfo-primary", 100]]);
      assert.deepEqual(await router.getRoutes(canary, signal()), { primary: 100, canary: 0, mirror: false });
    });

    it("brings a TraefikService edited to send everything to the canary back to the split", async () => {
      await router.setRoutes(canary, { primary: 60, canary: 40, mirror: false }, signal());
      await kubectlOk(["patch", "traefikservices.traefik.io", "podinfo", "-n", ns.name, "--type=merge",
        "-p", JSON.stringify({ spec: { weighted: { services: [{ name: "podinfo-canary", port: 9898, weight: 100 }] } } })]);
      assert.deepEqual(await router.reconcile(canary, signal(), { primary: 60, canary: 40, mirror: false }), { changed: true, split: { now: { primary: 60, canary: 40, mirror: false }, before: { primary: 0, canary: 100, mirror: false } } });
      assert.deepEqual(await weights("podinfo"), [["podinfo-primary", 60], ["podinfo-canary", 40]]);
    });

    it("recreates a deleted TraefikService with the split it is handed", async () => {
      await kubectlOk(["delete", "traefikservices.traefik.io", "podinfo", "-n", ns.name]);
      assert.equal((await router.reconcile(canary, signal(), { primary: 60, canary: 40, mirror: false })).changed, true);
      assert.deepEqual(await weights("podinfo"), [["podinfo-primary", 60], ["podinfo-canary", 40]]);
    });

    it("finalize deletes the TraefikService it created", async () => {
      await router.finalize(canary, signal());
      assert.notEqual((await kubectl(["get", "traefikservices.traefik.io", "podinfo", "-n", ns.name])).code, 0);
    });
  });

  it("takes over an existing TraefikService and restores it on finalize", async () => {
    const user = {
      apiVersion: "traefik.io/v1alpha1", kind: "TraefikService",
      metadata: { name: "legacy", namespace: ns.name, labels: { owner: "platform" } },
      spec: { weighted: { services: [{ name: "legacy-v1", port: 80, weight: 3 }, { name: "legacy-v2", port: 80, weight: 1 }] } },
    };
    await kubectlOk(["apply", "-f", "-"], JSON.stringify(user));
    const original = await get("legacy");
    const canary = await createCanary(client, ns.name, "legacy", { provider: "traefik", service: { port: 80 } });
    await router.reconcile(canary, signal());
    assert.deepEqual((await get("legacy")).spec.weighted!.services.map((s) => s.name), ["legacy-primary"]);
    await router.setRoutes(canary, { primary: 50, canary: 50, mirror: false }, signal());
    await router.finalize(canary, signal());
    assertGivenBack(await get("legacy"), original, { owner: "platform" });
  });
});
