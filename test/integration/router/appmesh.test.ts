/**
 * The appmesh router against a real API server with the App Mesh v1beta2 CRDs of the
 * appmesh-controller chart: the walkthrough Canary from examples/appmesh produces
 * VirtualNodes, VirtualRouters and VirtualServices the CRD schemas accept, weights follow
 * a canary run and a rollback through the stored VirtualRouter, a second reconcile writes
 * nothing, hand edits are undone, A/B routes by header, a taken-over VirtualService is
 * given back, and a missing CRD is reported as such.
 */
import assert from "node:assert/strict";
import type { Canary } from "../../../src/api/types.ts";
import type { ClusterClient } from "../../../src/kube/client.ts";
import type { KubeObject } from "../../../src/kube/types.ts";
import { createAppMeshRouter } from "../../../src/router/appmesh.ts";
import type { Router } from "../../../src/router/types.ts";
import { kubectl, kubectlJson, kubectlOk } from "../../support/kubectl.ts";
import { apply, deployment } from "../../support/canary-fixtures.ts";
import { testLogger } from "../kube/support.ts";
import { assertCrdMissing, assertGivenBack, assertIdleReconcile, assertRunWrittenOnce, createCanary, loadExample, setUpRouterBench, tearDownRouterBench } from "./support.ts";
import type { CountingClient, RouterBench } from "./support.ts";

interface WeightedTarget { virtualNodeRef: { name: string }; weight: number }
interface RouteBody { match: Record<string, unknown>; action: { weightedTargets: WeightedTarget[] }; retryPolicy?: unknown; timeout?: unknown }
interface VirtualRouter extends KubeObject {
  spec: { listeners: unknown[]; routes: { name: string; priority?: number; httpRoute: RouteBody }[] };
}

/** Every object the router makes for a Canary, in creation order: plural, kind, name suffix. */
const KINDS = [
  ["virtualnodes", "VirtualNode", "primary"], ["virtualnodes", "VirtualNode", "canary"],
  ["virtualrouters", "VirtualRouter", ""], ["virtualrouters", "VirtualRouter", "canary"],
  ["virtualservices", "VirtualService", ""], ["virtualservices", "VirtualService", "canary"],
] as const;

describe("appmesh router (real API server)", function () {
  this.timeout(60_000);
  let ns: RouterBench["ns"];
  let client: ClusterClient;
  let kube: CountingClient;
  let router: Router;
  const signal = () => AbortSignal.timeout(30_000);
  const get = <T extends KubeObject = KubeObject>(plural: string, name: string) => kubectlJson<T>(["get", `${plural}.appmesh.k8s.aws`, name, "-n", ns.name]);
  const exists = async (plural: string, name: string) => (await kubectl(["get", `${plural}.appmesh.k8s.aws`, name, "-n", ns.name])).code === 0;
  const split = async (name: string, route = 0) =>
    (await get<VirtualRouter>("virtualrouters", name)).spec.routes[route]!.httpRoute.action.weightedTargets.map((t) => [t.virtualNodeRef.name, t.weight]);
  const objectName = (svc: string, suffix: string) => (suffix === "" ? svc : `${svc}-${suffix}`);

  before(async () => {
    ({ ns, client, kube, router } = await setUpRouterBench((kube) => createAppMeshRouter({ kube, logger: testLogger() })));
  });

  after(() => tearDownRouterBench({ ns, client }));

  describe("the App Mesh walkthrough Canary (examples/appmesh)", () => {
    let canary: Canary;

    before(async () => {
      for (const obj of await loadExample("examples/appmesh/podinfo.yaml")) await apply(ns.name, obj);
      const [example] = await loadExample("examples/appmesh/canary.yaml");
      const spec = example!.spec as Canary["spec"];
      assert.deepEqual(
        [spec.provider, spec.service.port, spec.service.targetPort, spec.service.timeout, spec.service.retries, spec.service.match],
        ["appmesh", 80, 80, "15s", { attempts: 3, perTryTimeout: "5s" }, [{ uri: { prefix: "/" } }]],
      );
      assert.deepEqual([spec.analysis?.interval, spec.analysis?.threshold, spec.analysis?.maxWeight, spec.analysis?.stepWeight], ["1m", 5, 50, 10]);
      canary = await createCanary(client, ns.name, "podinfo", spec);
    });

    it("creates the VirtualNodes, VirtualRouters and VirtualServices, accepted by the CRD schemas", async () => {
      kube.writes.length = 0;
      assert.deepEqual(await router.reconcile(canary, signal()), { changed: true });
      assert.deepEqual(kube.writes, KINDS.map(([, kind, suffix]) => `apply ${kind} ${objectName("podinfo", suffix)}`));
      const timeout = { unit: "s", value: 15 };
      for (const [role, label] of [["primary", "podinfo-primary"], ["canary", "podinfo"]] as const) {
        const node = await get("virtualnodes", `podinfo-${role}`);
        assert.deepEqual(node.spec, {
          podSelector: { matchLabels: { app: label } },
          listeners: [{ portMapping: { port: 80, protocol: "http" }, timeout: { http: { perRequest: timeout } } }],
          serviceDiscovery: { dns: { hostname: `podinfo-${role}.${ns.name}.svc.cluster.local` } },
        });
        assert.deepEqual(node.metadata.ownerReferences?.map((o) => [o.kind, o.name, o.uid]), [["Canary", "podinfo", canary.metadata.uid]]);
        assert.equal(node.metadata.labels?.["app.kubernetes.io/managed-by"], "aviary");
      }
      const retryPolicy = { maxRetries: 3, perRetryTimeout: { unit: "s", value: 5 }, httpRetryEvents: ["server-error", "gateway-error"], tcpRetryEvents: ["connection-error"] };
      const vr = await get<VirtualRouter>("virtualrouters", "podinfo");
      assert.deepEqual(vr.spec, {
        listeners: [{ portMapping: { port: 80, protocol: "http" } }],
        routes: [{
          name: "podinfo",
          httpRoute: {
            match: { prefix: "/" },
            action: { weightedTargets: [{ virtualNodeRef: { name: "podinfo-primary" }, weight: 100 }, { virtualNodeRef: { name: "podinfo-canary" }, weight: 0 }] },
            retryPolicy, timeout: { perRequest: timeout },
          },
        }],
      });
      assert.deepEqual((await get<VirtualRouter>("virtualrouters", "podinfo-canary")).spec.routes[0]!.httpRoute.action.weightedTargets, [{ virtualNodeRef: { name: "podinfo-canary" }, weight: 100 }]);
      assert.deepEqual((await get("virtualservices", "podinfo")).spec, { provider: { virtualRouter: { virtualRouterRef: { name: "podinfo" } } } });
      assert.deepEqual((await get("virtualservices", "podinfo-canary")).spec, { provider: { virtualRouter: { virtualRouterRef: { name: "podinfo-canary" } } } });
      assert.deepEqual(await router.getRoutes(canary, signal()), { primary: 100, canary: 0, mirror: false });
    });

    it("the API server does enforce those schemas (so the acceptance above means something)", async () => {
      const bad = { apiVersion: "appmesh.k8s.aws/v1beta2", kind: "VirtualRouter", metadata: { name: "invalid", namespace: ns.name },
        spec: { listeners: [{ portMapping: { port: 80, protocol: "https" } }], routes: [{ name: "r", httpRoute: { match: { prefix: "/" }, action: { weightedTargets: [{ virtualNodeRef: { name: "x" }, weight: 101 }] } } }] } };
      const r = await kubectl(["apply", "-f", "-"], JSON.stringify(bad));
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /protocol: Unsupported value: "https"/);
      assert.match(r.stderr, /weight: Invalid value: 101/);
    });

    it("writes nothing when reconciled again: no request, resourceVersions unchanged", async () => {
      const versions = async () => Promise.all(KINDS.map(async ([plural, , suffix]) => (await get(plural, objectName("podinfo", suffix))).metadata.resourceVersion));
      await assertIdleReconcile({ kube, router }, canary, versions, signal());
    });

    it("follows a full canary run 10 → 20 → 30 → 40 → 50, then promotion to 100/0", async () => {
      await assertRunWrittenOnce({ kube, router }, canary, ["podinfo-primary", "podinfo-canary"], [10, 20, 30, 40, 50, 0], () => split("podinfo"), signal);
    });

    it("rolls back from mid-run to 100/0, and a reconcile mid-run keeps the weights", async () => {
      await router.setRoutes(canary, { primary: 80, canary: 20, mirror: false }, signal());
      assert.deepEqual(await router.reconcile(canary, signal()), { changed: false });
      assert.deepEqual(await router.getRoutes(canary, signal()), { primary: 80, canary: 20, mirror: false });
      await router.setRoutes(canary, { primary: 100, canary: 0, mirror: false }, signal());
      assert.deepEqual(await split("podinfo"), [["podinfo-primary", 100], ["podinfo-canary", 0]]);
    });

    it("brings hand-edited objects back at the next reconcile, keeping the split", async () => {
      await router.setRoutes(canary, { primary: 60, canary: 40, mirror: false }, signal());
      await kubectlOk(["patch", "virtualnodes.appmesh.k8s.aws", "podinfo-canary", "-n", ns.name, "--type=merge",
        "-p", JSON.stringify({ spec: { podSelector: { matchLabels: { app: "hijacked" } }, backends: [{ virtualService: { virtualServiceRef: { name: "evil" } } }] } })]);
      await kubectlOk(["patch", "virtualrouters.appmesh.k8s.aws", "podinfo", "-n", ns.name, "--type=json",
        "-p", JSON.stringify([{ op: "replace", path: "/spec/routes/0/httpRoute/retryPolicy/maxRetries", value: 9 }, { op: "remove", path: "/spec/routes/0/httpRoute/timeout" }])]);
      await kubectlOk(["patch", "virtualservices.appmesh.k8s.aws", "podinfo", "-n", ns.name, "--type=merge",
        "-p", JSON.stringify({ metadata: { labels: { "aviary.dev/canary": "hijacked" } }, spec: { provider: { virtualRouter: { virtualRouterRef: { name: "elsewhere" } } } } })]);
      assert.deepEqual(await router.reconcile(canary, signal()), { changed: true });
      const node = await get("virtualnodes", "podinfo-canary");
      assert.deepEqual((node.spec as { podSelector: unknown }).podSelector, { matchLabels: { app: "podinfo" } });
      assert.equal((node.spec as { backends?: unknown }).backends, undefined);
      const vr = await get<VirtualRouter>("virtualrouters", "podinfo");
      assert.deepEqual(vr.spec.routes[0]!.httpRoute.retryPolicy, { maxRetries: 3, perRetryTimeout: { unit: "s", value: 5 }, httpRetryEvents: ["server-error", "gateway-error"], tcpRetryEvents: ["connection-error"] });
      assert.deepEqual(vr.spec.routes[0]!.httpRoute.timeout, { perRequest: { unit: "s", value: 15 } });
      const vs = await get("virtualservices", "podinfo");
      assert.deepEqual(vs.spec, { provider: { virtualRouter: { virtualRouterRef: { name: "podinfo" } } } });
      assert.equal(vs.metadata.labels?.["aviary.dev/canary"], "podinfo");
      assert.deepEqual(await router.getRoutes(canary, signal()), { primary: 60, canary: 40, mirror: false });
      assert.deepEqual(await router.reconcile(canary, signal()), { changed: false });
    });

    it("recreates a deleted VirtualRouter at 100/0", async () => {
      await kubectlOk(["delete", "virtualrouters.appmesh.k8s.aws", "podinfo", "-n", ns.name]);
      await assert.rejects(router.getRoutes(canary, signal()), /does not exist/);
      assert.deepEqual(await router.reconcile(canary, signal()), { changed: true });
      assert.deepEqual(await router.getRoutes(canary, signal()), { primary: 100, canary: 0, mirror: false });
    });

    it("finalize deletes every object it created", async () => {
      await router.finalize(canary, signal());
      for (const [plural, , suffix] of KINDS) assert.equal(await exists(plural, objectName("podinfo", suffix)), false, `${plural} ${suffix}`);
    });
  });

  it("examples/appmesh/mesh.yaml (Namespace and Mesh) is accepted by the API server (server-side dry run)", async () => {
    const out = await kubectlOk(["apply", "--dry-run=server", "-f", "examples/appmesh/mesh.yaml"]);
    assert.match(out, /namespace\/test (created|configured|unchanged) \(server dry run\)/);
    assert.match(out, /mesh.appmesh.k8s.aws\/global (created|configured|unchanged) \(server dry run\)/);
  });

  it("A/B: header and cookie routes carry the split, everything else stays on the primary", async () => {
    await apply(ns.name, deployment("abtest", "abtest:1"));
    const canary = await createCanary(client, ns.name, "abtest", {
      provider: "appmesh",
      service: { port: 9898, match: [{ uri: { prefix: "/" } }] },
      analysis: { interval: "1m", iterations: 10, threshold: 2, match: [{ headers: { "x-canary": { exact: "insider" } } }, { headers: { cookie: { regex: "^(.*?;)?(canary=always)(;.*)?$" } } }] },
    });
    await router.reconcile(canary, signal());
    await router.setRoutes(canary, { primary: 0, canary: 100, mirror: false }, signal());
    const vr = await get<VirtualRouter>("virtualrouters", "abtest");
    assert.deepEqual(vr.spec.routes.map((r) => [r.name, r.priority, r.httpRoute.match, r.httpRoute.action.weightedTargets.map((t) => t.weight)]), [
      ["abtest-ab", 1, { prefix: "/", headers: [{ name: "x-canary", match: { exact: "insider" } }] }, [0, 100]],
      ["abtest-ab-2", 2, { prefix: "/", headers: [{ name: "cookie", match: { regex: "^(.*?;)?(canary=always)(;.*)?$" } }] }, [0, 100]],
      ["abtest", 3, { prefix: "/" }, [100, 0]],
    ]);
    assert.deepEqual(await router.getRoutes(canary, signal()), { primary: 0, canary: 100, mirror: false });
    assert.deepEqual(await router.reconcile(canary, signal()), { changed: false });
    await router.setRoutes(canary, { primary: 100, canary: 0, mirror: false }, signal());
    assert.deepEqual(await split("abtest", 0), [["abtest-primary", 100], ["abtest-canary", 0]]);
    assert.deepEqual(await split("abtest", 2), [["abtest-primary", 100], ["abtest-canary", 0]]);
  });

  it("takes over an existing VirtualService and gives it back on finalize, awsName untouched", async () => {
    await apply(ns.name, deployment("legacy", "legacy:1"));
    const userVs = {
      apiVersion: "appmesh.k8s.aws/v1beta2", kind: "VirtualService",
      metadata: { name: "legacy", namespace: ns.name, labels: { owner: "platform" } },
      spec: { awsName: `legacy.${ns.name}`, provider: { virtualNode: { virtualNodeRef: { name: "legacy" } } } },
    };
    await kubectlOk(["apply", "-f", "-"], JSON.stringify(userVs));
    const original = await get("virtualservices", "legacy");
    const canary = await createCanary(client, ns.name, "legacy", { provider: "appmesh", service: { port: 80 } });
    await router.reconcile(canary, signal());
    const taken = await get("virtualservices", "legacy");
    assert.deepEqual(taken.spec, { awsName: `legacy.${ns.name}`, provider: { virtualRouter: { virtualRouterRef: { name: "legacy" } } } });
    assert.equal(taken.metadata.ownerReferences, undefined);
    assert.deepEqual(await router.reconcile(canary, signal()), { changed: false });

    await router.finalize(canary, signal());
    assertGivenBack(await get("virtualservices", "legacy"), original, { owner: "platform" });
    assert.equal(await exists("virtualrouters", "legacy"), false);
    assert.equal(await exists("virtualnodes", "legacy-primary"), false);
  });

  it("reports a missing CRD as RouterCrdMissingError naming the VirtualRouter CRD", async () => {
    await apply(ns.name, deployment("nocrd", "nocrd:1"));
    const canary = await createCanary(client, ns.name, "nocrd", { provider: "appmesh", service: { port: 80 } });
    const missing = createAppMeshRouter({ kube: client, logger: testLogger() }, { apiVersion: "appmesh.aviary-missing.example/v1beta2" });
    await assertCrdMissing(missing, canary, "virtualrouters.appmesh.aviary-missing.example", signal);
  });
});
