/**
 * The contour router against a real API server with Contour's HTTPProxy CRD (from Contour's
 * Go module): the HTTPProxy passes the CRD's schema, weights round-trip through the stored
 * object, a second reconcile writes nothing, hand edits and deletions are undone, a
 * taken-over proxy is given back, and finalize removes the one aviary created.
 */
import assert from "node:assert/strict";
import type { Canary } from "../../../src/api/types.ts";
import type { ClusterClient } from "../../../src/kube/client.ts";
import type { KubeObject } from "../../../src/kube/types.ts";
import { createContourRouter } from "../../../src/router/contour.ts";
import type { Router } from "../../../src/router/types.ts";
import { kubectl, kubectlJson, kubectlOk } from "../../support/kubectl.ts";
import { testLogger } from "../kube/support.ts";
import { assertGivenBack, assertIdleReconcile, assertRunWrittenOnce, createCanary, setUpRouterBench, tearDownRouterBench } from "./support.ts";
import type { CountingClient, RouterBench } from "./support.ts";

interface HTTPProxy extends KubeObject {
  spec: {
    includes?: unknown[];
    routes: { conditions: { prefix: string }[]; services: { name: string; port: number; weight: number; requestHeadersPolicy?: unknown }[]; timeoutPolicy?: unknown; retryPolicy?: unknown }[];
  };
}

describe("contour router (real API server)", function () {
  this.timeout(60_000);
  let ns: RouterBench["ns"];
  let client: ClusterClient;
  let kube: CountingClient;
  let router: Router;
  const signal = () => AbortSignal.timeout(30_000);
  const getProxy = (name: string) => kubectlJson<HTTPProxy>(["get", "httpproxies.projectcontour.io", name, "-n", ns.name]);
  const weights = async (name: string) => (await getProxy(name)).spec.routes[0]!.services.map((s) => [s.name, s.weight]);

  before(async () => {
    ({ ns, client, kube, router } = await setUpRouterBench((kube) => createContourRouter({ kube, logger: testLogger() })));
  });
  after(() => tearDownRouterBench({ ns, client }));

  describe("a weighted canary", () => {
    let canary: Canary;
    before(async () => {
      canary = await createCanary(client, ns.name, "podinfo", {
        provider: "contour",
        service: { port: 9898, timeout: "15s", retries: { attempts: 3, perTryTimeout: "5s" }, match: [{ uri: { prefix: "/api" } }] },
      });
    });

    it("creates an HTTPProxy the schema accepts, at 100/0, owned by the Canary", async () => {
      kube.writes.length = 0;
      assert.deepEqual(await router.reconcile(canary, signal()), { changed: true });
      assert.deepEqual(kube.writes, ["apply HTTPProxy podinfo"]);
      const proxy = await getProxy("podinfo");
      const dst = (svc: string, weight: number) => ({
        name: svc, port: 9898, weight, requestHeadersPolicy: { set: [{ name: "l5d-dst-override", value: `${svc}.${ns.name}.svc.cluster.local:9898` }] },
      });
      assert.deepEqual(proxy.spec.routes, [{
        conditions: [{ prefix: "/api" }],
        services: [dst("podinfo-primary", 100), dst("podinfo-canary", 0)],
        timeoutPolicy: { response: "15s", idle: "5m" },
        retryPolicy: { count: 3, perTryTimeout: "5s" },
      }]);
      assert.deepEqual(proxy.metadata.ownerReferences?.map((o) => [o.kind, o.name, o.uid]), [["Canary", "podinfo", canary.metadata.uid]]);
    });

    it("the API server does enforce the HTTPProxy schema", async () => {
      const bad = { apiVersion: "projectcontour.io/v1", kind: "HTTPProxy", metadata: { name: "invalid", namespace: ns.name }, spec: { routes: [{ services: [{ name: "x", weight: 10 }] }] } };
      const r = await kubectl(["apply", "-f", "-"], JSON.stringify(bad));
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /port: Required value/);
    });

    it("writes nothing when reconciled again: no request, resourceVersion unchanged", async () => {
      await assertIdleReconcile({ kube, router }, canary, async () => (await getProxy("podinfo")).metadata.resourceVersion, signal());
    });

    it("follows a full canary run 10 → 20 → 30, then promotion to 100/0", async () => {
      await assertRunWrittenOnce({ kube, router }, canary, ["podinfo-primary", "podinfo-canary"], [10, 20, 30, 0], () => weights("podinfo"), signal);
    });

    it("brings a hand-edited HTTPProxy back, dropping an added include, keeping the split", async () => {
      await router.setRoutes(canary, { primary: 60, canary: 40, mirror: false }, signal());
      await kubectlOk(["patch", "httpproxies.projectcontour.io", "podinfo", "-n", ns.name, "--type=merge",
        "-p", JSON.stringify({ spec: { includes: [{ name: "elsewhere" }] } })]);
      assert.deepEqual(await router.reconcile(canary, signal()), { changed: true });
      const proxy = await getProxy("podinfo");
      assert.equal(proxy.spec.includes, undefined);
      assert.deepEqual(await weights("podinfo"), [["podinfo-primary", 60], ["podinfo-canary", 40]]);
    });

    it("recreates a deleted HTTPProxy with the split it is handed", async () => {
      await kubectlOk(["delete", "httpproxies.projectcontour.io", "podinfo", "-n", ns.name]);
      const result = await router.reconcile(canary, signal(), { primary: 60, canary: 40, mirror: false });
      assert.equal(result.changed, true);
      assert.deepEqual(await weights("podinfo"), [["podinfo-primary", 60], ["podinfo-canary", 40]]);
    });

    it("finalize deletes the HTTPProxy it created", async () => {
      await router.finalize(canary, signal());
      assert.notEqual((await kubectl(["get", "httpproxies.projectcontour.io", "podinfo", "-n", ns.name])).code, 0);
    });
  });

  it("takes over an existing HTTPProxy and restores it on finalize", async () => {
    const user = {
      apiVersion: "projectcontour.io/v1", kind: "HTTPProxy",
      metadata: { name: "legacy", namespace: ns.name, labels: { owner: "platform" } },
      spec: { routes: [{ conditions: [{ prefix: "/" }], services: [{ name: "legacy-v1", port: 80, weight: 90 }, { name: "legacy-v2", port: 80, weight: 10 }] }] },
    };
    await kubectlOk(["apply", "-f", "-"], JSON.stringify(user));
    const original = await getProxy("legacy");
    const canary = await createCanary(client, ns.name, "legacy", { provider: "contour", service: { port: 80 } });
    await router.reconcile(canary, signal());
    assert.deepEqual((await getProxy("legacy")).spec.routes[0]!.services.map((s) => s.name), ["legacy-primary", "legacy-canary"]);
    await router.setRoutes(canary, { primary: 50, canary: 50, mirror: false }, signal());
    await router.finalize(canary, signal());
    assertGivenBack(await getProxy("legacy"), original, { owner: "platform" });
  });
});
