/**
 * The gloo router against a real API server with the Upstream and RouteTable CRDs of
 * hack/crds/gloo.yaml: both generated Upstreams and the RouteTable pass the schema, the
 * settings of an Upstream in another namespace named by upstreamRef are copied, weights
 * round-trip through the RouteTable, a second reconcile writes nothing, hand edits and
 * deletions are undone, and finalize removes all three.
 */
import assert from "node:assert/strict";
import type { Canary } from "../../../src/api/types.ts";
import type { ClusterClient } from "../../../src/kube/client.ts";
import type { KubeObject } from "../../../src/kube/types.ts";
import { createGlooRouter } from "../../../src/router/gloo.ts";
import type { Router } from "../../../src/router/types.ts";
import { kubectl, kubectlJson, kubectlOk, tempNamespace } from "../../support/kubectl.ts";
import { testLogger } from "../kube/support.ts";
import { assertIdleReconcile, assertRunWrittenOnce, createCanary, setUpRouterBench, tearDownRouterBench } from "./support.ts";
import type { CountingClient, RouterBench } from "./support.ts";

interface RouteTable extends KubeObject {
  spec: { routes: { inheritablePathMatchers?: boolean; routeAction: { multi: { destinations: { destination: { upstream: { name: string; namespace: string } }; weight: number }[] } } }[] };
}
interface Upstream extends KubeObject {
  spec: Record<string, unknown> & { kube: { serviceName: string; serviceNamespace: string; servicePort: number } };
}

describe("gloo router (real API server)", function () {
  this.timeout(60_000);
  let ns: RouterBench["ns"];
  let configNs: Awaited<ReturnType<typeof tempNamespace>>;
  let client: ClusterClient;
  let kube: CountingClient;
  let router: Router;
  let canary: Canary;
  const signal = () => AbortSignal.timeout(30_000);
  const table = () => kubectlJson<RouteTable>(["get", "routetables.gateway.solo.io", "podinfo", "-n", ns.name]);
  const upstream = (arm: string) => kubectlJson<Upstream>(["get", "upstreams.gloo.solo.io", `${ns.name}-podinfo-${arm}upstream-9898`, "-n", ns.name]);
  const weights = async () => (await table()).spec.routes[0]!.routeAction.multi.destinations.map((d) => [d.destination.upstream.name.replace(`${ns.name}-`, ""), d.weight]);

  before(async () => {
    ({ ns, client, kube, router } = await setUpRouterBench((kube) => createGlooRouter({ kube, logger: testLogger() })));
    configNs = await tempNamespace("aviary-gloo-config");
    await kubectlOk(["apply", "-n", configNs.name, "-f", "-"], JSON.stringify({
      apiVersion: "gloo.solo.io/v1", kind: "Upstream", metadata: { name: "settings" },
      spec: { kube: { serviceName: "whatever", servicePort: 80 }, useHttp2: true, circuitBreakers: { maxConnections: 64 } },
    }));
    canary = await createCanary(client, ns.name, "podinfo", { provider: "gloo", upstreamRef: { name: "settings", namespace: configNs.name }, service: { port: 9898 } });
  });
  after(async () => {
    await configNs?.remove();
    await tearDownRouterBench({ ns, client });
  });

  it("creates both Upstreams with upstreamRef's settings and the RouteTable at 100/0, all owned by the Canary", async () => {
    kube.writes.length = 0;
    assert.deepEqual(await router.reconcile(canary, signal()), { changed: true });
    assert.deepEqual(kube.writes, [
      `apply Upstream ${ns.name}-podinfo-primaryupstream-9898`, `apply Upstream ${ns.name}-podinfo-canaryupstream-9898`, "apply RouteTable podinfo",
    ]);
    const canaryUpstream = await upstream("canary");
    assert.deepEqual(canaryUpstream.spec, { useHttp2: true, circuitBreakers: { maxConnections: 64 }, kube: { serviceName: "podinfo-canary", serviceNamespace: ns.name, servicePort: 9898 } });
    assert.equal((await upstream("primary")).spec.kube.serviceName, "podinfo-primary");
    const rt = await table();
    assert.equal(rt.spec.routes[0]!.inheritablePathMatchers, true);
    assert.deepEqual(await weights(), [["podinfo-primaryupstream-9898", 100], ["podinfo-canaryupstream-9898", 0]]);
    for (const obj of [rt, canaryUpstream]) assert.deepEqual(obj.metadata.ownerReferences?.map((o) => [o.kind, o.uid]), [["Canary", canary.metadata.uid]]);
  });

  it("writes nothing when reconciled again: no request, resourceVersions unchanged", async () => {
    await assertIdleReconcile({ kube, router }, canary, async () =>
      [(await table()).metadata.resourceVersion, (await upstream("primary")).metadata.resourceVersion, (await upstream("canary")).metadata.resourceVersion], signal());
  });

  it("follows a full canary run 10 → 20 → 30, then promotion to 100/0", async () => {
    await assertRunWrittenOnce({ kube, router }, canary, ["podinfo-primaryupstream-9898", "podinfo-canaryupstream-9898"], [10, 20, 30, 0], weights, signal);
  });

  it("brings a hand-edited RouteTable and Upstream back, dropping an added route, keeping the split", async () => {
    await router.setRoutes(canary, { primary: 60, canary: 40, mirror: false }, signal());
    const rt = await table();
    await kubectlOk(["patch", "routetables.gateway.solo.io", "podinfo", "-n", ns.name, "--type=merge", "-p",
      JSON.stringify({ spec: { routes: [...rt.spec.routes, { routeAction: { multi: { destinations: [{ destination: { upstream: { name: "elsewhere", namespace: "x" } }, weight: 1 }] } } }] } })]);
    await kubectlOk(["patch", "upstreams.gloo.solo.io", `${ns.name}-podinfo-canaryupstream-9898`, "-n", ns.name, "--type=merge", "-p", JSON.stringify({ spec: { kube: { servicePort: 80 } } })]);
    assert.deepEqual(await router.reconcile(canary, signal()), { changed: true });
    assert.equal((await table()).spec.routes.length, 1);
    assert.deepEqual(await weights(), [["podinfo-primaryupstream-9898", 60], ["podinfo-canaryupstream-9898", 40]]);
    assert.equal((await upstream("canary")).spec.kube.servicePort, 9898);
  });

  it("recreates a deleted RouteTable with the split it is handed", async () => {
    await kubectlOk(["delete", "routetables.gateway.solo.io", "podinfo", "-n", ns.name]);
    const result = await router.reconcile(canary, signal(), { primary: 70, canary: 30, mirror: false });
    assert.deepEqual(result, { changed: true, split: { now: { primary: 70, canary: 30, mirror: false }, before: null } });
    assert.deepEqual(await weights(), [["podinfo-primaryupstream-9898", 70], ["podinfo-canaryupstream-9898", 30]]);
  });

  it("finalize deletes the RouteTable and both Upstreams, and leaves upstreamRef's alone", async () => {
    await router.finalize(canary, signal());
    assert.notEqual((await kubectl(["get", "routetables.gateway.solo.io", "podinfo", "-n", ns.name])).code, 0);
    for (const arm of ["primary", "canary"]) assert.notEqual((await kubectl(["get", "upstreams.gloo.solo.io", `${ns.name}-podinfo-${arm}upstream-9898`, "-n", ns.name])).code, 0);
    assert.equal((await kubectl(["get", "upstreams.gloo.solo.io", "settings", "-n", configNs.name])).code, 0);
  });
});
