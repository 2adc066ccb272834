/**
 * The apisix router against a real API server with APISIX's ApisixRoute CRD (from the APISIX
 * ingress controller's Go module): the canary route `<route>-<svc>-canary` copied from
 * routeRef passes the schema (weight 0 included), your route is never written, weights
 * round-trip, a second reconcile writes nothing, hand edits and deletions are undone, a
 * change to your route is copied, and finalize removes the copy.
 */
import assert from "node:assert/strict";
import type { Canary } from "../../../src/api/types.ts";
import type { ClusterClient } from "../../../src/kube/client.ts";
import type { KubeObject } from "../../../src/kube/types.ts";
import { createApisixRouter } from "../../../src/router/apisix.ts";
import type { Router } from "../../../src/router/types.ts";
import { kubectl, kubectlJson, kubectlOk } from "../../support/kubectl.ts";
import { testLogger } from "../kube/support.ts";
import { assertIdleReconcile, assertRunWrittenOnce, createCanary, loadExample, setUpRouterBench, tearDownRouterBench } from "./support.ts";
import type { CountingClient, RouterBench } from "./support.ts";

interface ApisixRoute extends KubeObject {
  spec: { http: { name: string; priority?: number; match: { hosts?: string[]; paths: string[] }; backends: { serviceName: string; servicePort: number; weight?: number }[] }[] };
}

describe("apisix router (real API server)", function () {
  this.timeout(60_000);
  let ns: RouterBench["ns"];
  let client: ClusterClient;
  let kube: CountingClient;
  let router: Router;
  let canary: Canary;
  const signal = () => AbortSignal.timeout(30_000);
  const get = (name: string) => kubectlJson<ApisixRoute>(["get", "apisixroutes.apisix.apache.org", name, "-n", ns.name]);
  const copy = () => get("podinfo-route-podinfo-canary");
  const weights = async () => (await copy()).spec.http[0]!.backends.map((b) => [b.serviceName, b.weight]);

  before(async () => {
    ({ ns, client, kube, router } = await setUpRouterBench((kube) => createApisixRouter({ kube, logger: testLogger() })));
    // The user's route from examples/apisix, as written there.
    const [userRoute] = await loadExample("examples/apisix/canary.yaml", "ApisixRoute");
    await kubectlOk(["apply", "-n", ns.name, "-f", "-"], JSON.stringify(userRoute));
    canary = await createCanary(client, ns.name, "podinfo", { provider: "apisix", routeRef: { apiVersion: "apisix.apache.org/v2", kind: "ApisixRoute", name: "podinfo-route" }, service: { port: 80 } });
  });
  after(() => tearDownRouterBench({ ns, client }));

  it("creates the canary route the schema accepts, at 100/0 and priority 10000, owned by the Canary; yours is not written", async () => {
    const before = (await get("podinfo-route")).metadata.resourceVersion;
    kube.writes.length = 0;
    assert.deepEqual(await router.reconcile(canary, signal()), { changed: true });
    assert.deepEqual(kube.writes, ["apply ApisixRoute podinfo-route-podinfo-canary"]);
    const route = await copy();
    assert.deepEqual(route.spec.http.map((h) => [h.name, h.priority, h.match]), [["rule1", 10000, { hosts: ["app.example.com"], paths: ["/*"] }]]);
    assert.deepEqual(await weights(), [["podinfo-primary", 100], ["podinfo-canary", 0]]);
    assert.deepEqual(route.metadata.ownerReferences?.map((o) => [o.kind, o.uid]), [["Canary", canary.metadata.uid]]);
    assert.equal((await get("podinfo-route")).metadata.resourceVersion, before);
  });

  it("writes nothing when reconciled again: no request, resourceVersion unchanged", async () => {
    await assertIdleReconcile({ kube, router }, canary, async () => (await copy()).metadata.resourceVersion, signal());
  });

  it("follows a full canary run 10 → 20 → 30, then promotion to 100/0", async () => {
    await assertRunWrittenOnce({ kube, router }, canary, ["podinfo-primary", "podinfo-canary"], [10, 20, 30, 0], weights, signal);
  });

  it("brings a hand-edited canary route back, keeping the split", async () => {
    await router.setRoutes(canary, { primary: 60, canary: 40, mirror: false }, signal());
    const route = await copy();
    const http = [{ ...route.spec.http[0]!, priority: 1, backends: [{ serviceName: "elsewhere", servicePort: 80, weight: 100 }] }];
    await kubectlOk(["patch", "apisixroutes.apisix.apache.org", "podinfo-route-podinfo-canary", "-n", ns.name, "--type=merge", "-p", JSON.stringify({ spec: { http } })]);
    assert.equal((await router.reconcile(canary, signal(), { primary: 60, canary: 40, mirror: false })).changed, true);
    assert.equal((await copy()).spec.http[0]!.priority, 10000);
    assert.deepEqual(await weights(), [["podinfo-primary", 60], ["podinfo-canary", 40]]);
  });

  it("copies a change to your route at the next reconcile", async () => {
    await kubectlOk(["patch", "apisixroutes.apisix.apache.org", "podinfo-route", "-n", ns.name, "--type=json", "-p",
      JSON.stringify([{ op: "replace", path: "/spec/http/0/match/paths", value: ["/v2/*"] }])]);
    assert.equal((await router.reconcile(canary, signal())).changed, true);
    assert.deepEqual((await copy()).spec.http[0]!.match.paths, ["/v2/*"]);
    assert.deepEqual(await weights(), [["podinfo-primary", 60], ["podinfo-canary", 40]]);
  });

  it("recreates a deleted canary route with the split it is handed", async () => {
    await kubectlOk(["delete", "apisixroutes.apisix.apache.org", "podinfo-route-podinfo-canary", "-n", ns.name]);
    const result = await router.reconcile(canary, signal(), { primary: 70, canary: 30, mirror: false });
    assert.deepEqual(result, { changed: true, split: { now: { primary: 70, canary: 30, mirror: false }, before: null } });
    assert.deepEqual(await weights(), [["podinfo-primary", 70], ["podinfo-canary", 30]]);
  });

  it("finalize deletes the canary route and leaves yours", async () => {
    await router.finalize(canary, signal());
    assert.notEqual((await kubectl(["get", "apisixroutes.apisix.apache.org", "podinfo-route-podinfo-canary", "-n", ns.name])).code, 0);
    assert.equal((await get("podinfo-route")).spec.http[0]!.backends[0]!.serviceName, "podinfo");
  });
});
