/**
 * The gatewayapi router against a real API server with the Gateway API v1.4.0 CRDs: the
 * HTTPRoute passes the CRD's schema and CEL validation, weights round-trip through the
 * stored object, a second reconcile writes nothing, hand edits are undone, a taken-over
 * route is given back, and a missing CRD is reported as such.
 */
import assert from "node:assert/strict";
import type { Canary } from "../../../src/api/types.ts";
import type { ClusterClient } from "../../../src/kube/client.ts";
import type { KubeObject } from "../../../src/kube/types.ts";
import { createGatewayApiRouter } from "../../../src/router/gatewayapi.ts";
import type { Router } from "../../../src/router/types.ts";
import { kubectlJson, kubectlOk } from "../../support/kubectl.ts";
import { testLogger } from "../kube/support.ts";
import { assertCrdMissing, assertGivenBack, assertIdleReconcile, createCanary, setUpRouterBench, tearDownRouterBench } from "./support.ts";
import type { CountingClient, RouterBench } from "./support.ts";

interface HTTPRoute extends KubeObject {
  spec: {
    parentRefs?: { group: string; kind: string; name: string; namespace?: string }[];
    hostnames?: string[];
    rules: {
      matches: { path: { type: string; value: string }; headers?: { type: string; name: string; value: string }[] }[];
      filters?: { type: string; requestMirror?: { backendRef: { name: string; port: number }; percent?: number } }[];
      backendRefs: { group: string; kind: string; name: string; port: number; weight: number }[];
      timeouts?: { request: string };
    }[];
  };
}

describe("gatewayapi router (real API server)", function () {
  this.timeout(60_000);
  let ns: RouterBench["ns"];
  let client: ClusterClient;
  let kube: CountingClient;
  let router: Router;
  const signal = () => AbortSignal.timeout(30_000);
  const getRoute = (name: string) => kubectlJson<HTTPRoute>(["get", "httproutes.gateway.networking.k8s.io", name, "-n", ns.name]);

  before(async () => {
    ({ ns, client, kube, router } = await setUpRouterBench((kube) => createGatewayApiRouter({ kube, logger: testLogger() })));
  });

  after(() => tearDownRouterBench({ ns, client }));

  describe("a weighted canary", () => {
    let canary: Canary;

    before(async () => {
      canary = await createCanary(client, ns.name, "podinfo", {
        provider: "gatewayapi",
        service: {
          port: 9898,
          hosts: ["app.example.com"],
          gatewayRefs: [{ name: "public", namespace: "gateways" }],
          timeout: "15s",
          match: [{ uri: { prefix: "/api" } }],
          headers: { request: { set: { "x-served-by": "aviary" } } },
          apex: { labels: { team: "web" } },
        },
      });
    });

    it("creates an HTTPRoute that the API server accepts, in the expected shape", async () => {
      assert.deepEqual(await router.reconcile(canary, signal()), { changed: true });
      const route = await getRoute("podinfo");
      assert.equal(route.metadata.labels?.["app.kubernetes.io/managed-by"], "aviary");
      assert.equal(route.metadata.labels?.["aviary.dev/canary"], "podinfo");
      assert.equal(route.metadata.labels?.team, "web");
      assert.deepEqual(route.metadata.ownerReferences?.map((o) => [o.kind, o.name, o.uid]), [["Canary", "podinfo", canary.metadata.uid]]);
      assert.deepEqual(route.spec.parentRefs, [{ group: "gateway.networking.k8s.io", kind: "Gateway", name: "public", namespace: "gateways" }]);
      assert.deepEqual(route.spec.hostnames, ["app.example.com"]);
      assert.equal(route.spec.rules.length, 1);
      const rule = route.spec.rules[0]!;
      assert.deepEqual(rule.matches, [{ path: { type: "PathPrefix", value: "/api" } }]);
      assert.deepEqual(rule.backendRefs, [
        { group: "", kind: "Service", name: "podinfo-primary", port: 9898, weight: 100 },
        { group: "", kind: "Service", name: "podinfo-canary", port: 9898, weight: 0 },
      ]);
      assert.deepEqual(rule.timeouts, { request: "15s" });
      assert.deepEqual(rule.filters?.map((f) => f.type), ["RequestHeaderModifier"]);
    });

    it("writes nothing when reconciled again: no request, resourceVersion unchanged", async () => {
      await assertIdleReconcile({ kube, router }, canary, async () => (await getRoute("podinfo")).metadata.resourceVersion, signal());
    });

    it("round-trips weights through the route object", async () => {
      await router.setRoutes(canary, { primary: 80, canary: 20, mirror: false }, signal());
      assert.deepEqual(await router.getRoutes(canary, signal()), { primary: 80, canary: 20, mirror: false });
      assert.deepEqual((await getRoute("podinfo")).spec.rules[0]!.backendRefs.map((b) => b.weight), [80, 20]);
      const rv = (await getRoute("podinfo")).metadata.resourceVersion;
      kube.writes.length = 0;
      await router.setRoutes(canary, { primary: 80, canary: 20, mirror: false }, signal());
      assert.deepEqual(kube.writes, [], "the same split again is not written");
      assert.deepEqual(await router.reconcile(canary, signal()), { changed: false }, "reconcile keeps the weights");
      assert.equal((await getRoute("podinfo")).metadata.resourceVersion, rv);
      await router.setRoutes(canary, { primary: 100, canary: 0, mirror: false }, signal());
      assert.deepEqual(await router.getRoutes(canary, signal()), { primary: 100, canary: 0, mirror: false });
    });

    it("brings a hand-edited route back at the next reconcile", async () => {
      await router.setRoutes(canary, { primary: 60, canary: 40, mirror: false }, signal());
      await kubectlOk(["patch", "httproutes.gateway.networking.k8s.io", "podinfo", "-n", ns.name, "--type=merge",
        "-p", JSON.stringify({ metadata: { labels: { "aviary.dev/canary": "hijacked" } }, spec: { hostnames: ["evil.example.com"], parentRefs: [{ name: "other" }] } })]);
      assert.deepEqual(await router.reconcile(canary, signal()), { changed: true });
      const route = await getRoute("podinfo");
      assert.deepEqual(route.spec.hostnames, ["app.example.com"]);
      assert.deepEqual(route.spec.parentRefs?.map((p) => p.name), ["public"]);
      assert.equal(route.metadata.labels?.["aviary.dev/canary"], "podinfo");
      assert.deepEqual(await router.getRoutes(canary, signal()), { primary: 60, canary: 40, mirror: false });
      assert.deepEqual(await router.reconcile(canary, signal()), { changed: false });
    });

    it("recreates a deleted route", async () => {
      await kubectlOk(["delete", "httproutes.gateway.networking.k8s.io", "podinfo", "-n", ns.name]);
      await assert.rejects(router.getRoutes(canary, signal()), /does not exist/);
      assert.deepEqual(await router.reconcile(canary, signal()), { changed: true });
      assert.deepEqual(await router.getRoutes(canary, signal()), { primary: 100, canary: 0, mirror: false });
    });

    it("finalize deletes the route it created", async () => {
      await router.finalize(canary, signal());
      const r = await kubectlJson<{ items: unknown[] }>(["get", "httproutes.gateway.networking.k8s.io", "-n", ns.name, "--field-selector", "metadata.name=podinfo"]);
      assert.equal(r.items.length, 0);
    });
  });

  it("A/B with a cookie match and mirroring passes the CRD's validation and reads back", async () => {
    const canary = await createCanary(client, ns.name, "abtest", {
      provider: "gatewayapi",
      service: { port: 80, gatewayRefs: [{ name: "public" }] },
      analysis: {
        interval: "1m", iterations: 5, mirror: true, mirrorWeight: 50,
        match: [{ headers: { "x-canary": { exact: "insider" } } }, { headers: { cookie: { regex: "^(.*?;)?(canary=always)(;.*)?$" } } }],
      },
    });
    await router.reconcile(canary, signal());
    await router.setRoutes(canary, { primary: 0, canary: 100, mirror: true }, signal());
    const route = await getRoute("abtest");
    assert.equal(route.spec.rules.length, 2);
    const [ab, rest] = route.spec.rules;
    assert.deepEqual(ab!.matches.map((m) => m.headers), [
      [{ type: "Exact", name: "x-canary", value: "insider" }],
      [{ type: "RegularExpression", name: "Cookie", value: "^(.*?;)?(canary=always)(;.*)?$" }],
    ]);
    assert.deepEqual(ab!.backendRefs.map((b) => [b.name, b.weight]), [["abtest-primary", 0], ["abtest-canary", 100]]);
    assert.deepEqual(ab!.filters, [{ type: "RequestMirror", requestMirror: { backendRef: { group: "", kind: "Service", name: "abtest-canary", port: 80 }, percent: 50 } }]);
    assert.deepEqual(rest!.backendRefs.map((b) => [b.name, b.weight]), [["abtest-primary", 100]]);
    assert.deepEqual(await router.getRoutes(canary, signal()), { primary: 0, canary: 100, mirror: true });
    assert.deepEqual(await router.reconcile(canary, signal()), { changed: false });

    // A field aviary never set, added by hand: server-side apply alone cannot remove it.
    await kubectlOk(["patch", "httproutes.gateway.networking.k8s.io", "abtest", "-n", ns.name, "--type=merge", "-p", '{"spec":{"hostnames":["sneaky.example.com"]}}']);
    assert.deepEqual(await router.reconcile(canary, signal()), { changed: true });
    assert.equal((await getRoute("abtest")).spec.hostnames, undefined);
    assert.deepEqual(await router.getRoutes(canary, signal()), { primary: 0, canary: 100, mirror: true });
    assert.deepEqual(await router.reconcile(canary, signal()), { changed: false });
  });

  it("takes over an existing HTTPRoute and restores it on finalize", async () => {
    const userRoute = {
      apiVersion: "gateway.networking.k8s.io/v1", kind: "HTTPRoute",
      metadata: { name: "legacy", namespace: ns.name, labels: { owner: "platform" } },
      spec: { parentRefs: [{ name: "public" }], hostnames: ["legacy.example.com"], rules: [{ backendRefs: [{ name: "legacy", port: 80 }] }] },
    };
    await kubectlOk(["apply", "-f", "-"], JSON.stringify(userRoute));
    const original = await getRoute("legacy");
    const canary = await createCanary(client, ns.name, "legacy", { provider: "gatewayapi", service: { port: 80, gatewayRefs: [{ name: "public" }] } });
    await router.reconcile(canary, signal());
    const taken = await getRoute("legacy");
    assert.deepEqual(taken.spec.rules[0]!.backendRefs.map((b) => b.name), ["legacy-primary", "legacy-canary"]);
    assert.equal(taken.spec.hostnames, undefined, "hostnames not in the Canary are removed while aviary owns the route");
    assert.equal(taken.metadata.ownerReferences, undefined);

    await router.finalize(canary, signal());
    assertGivenBack(await getRoute("legacy"), original, { owner: "platform" });
  });

  it("reports a missing CRD as RouterCrdMissingError", async () => {
    const canary = await createCanary(client, ns.name, "nocrd", { provider: "gatewayapi", service: { port: 80 } });
    const missing = createGatewayApiRouter({ kube: client, logger: testLogger() }, { apiVersion: "gateway.aviary-missing.example/v1" });
    await assertCrdMissing(missing, canary, "httproutes.gateway.aviary-missing.example", signal);
  });
});
