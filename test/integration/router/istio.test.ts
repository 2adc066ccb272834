/**
 * The istio router against a real API server with Istio's networking.istio.io CRDs: the
 * VirtualService and DestinationRules pass the CRDs' schema and CEL validation, weights
 * follow a canary run and a rollback through the stored object, A/B and mirroring read
 * back, a second reconcile writes nothing, hand edits to aviary's fields are undone while
 * the user's other fields stay, and a missing CRD is reported as such.
 */
import assert from "node:assert/strict";
import { errorsOf, validateCanary } from "../../../src/api/validate.ts";
import type { Canary } from "../../../src/api/types.ts";
import type { ClusterClient } from "../../../src/kube/client.ts";
import type { KubeObject } from "../../../src/kube/types.ts";
import { createIstioRouter } from "../../../src/router/istio.ts";
import { sessionCookie } from "../../../src/router/session-affinity.ts";
import type { Router } from "../../../src/router/types.ts";
import { kubectlJson, kubectlOk } from "../../support/kubectl.ts";
import { testLogger } from "../kube/support.ts";
import { assertCrdMissing, assertIdleReconcile, assertRunKeptByReconcile, createCanary, loadExample, setUpRouterBench, tearDownRouterBench } from "./support.ts";
import type { CountingClient, RouterBench } from "./support.ts";

interface Destination { destination: { host: string; port?: { number: number } }; weight: number; headers?: { response?: { add?: Record<string, string> } } }
interface VirtualService extends KubeObject {
  spec: {
    hosts: string[];
    gateways: string[];
    exportTo?: string[];
    http: {
      name: string;
      match?: { uri?: Record<string, string>; headers?: Record<string, Record<string, string>> }[];
      route: Destination[];
      timeout?: string;
      retries?: Record<string, unknown>;
      rewrite?: Record<string, unknown>;
      corsPolicy?: Record<string, unknown>;
      headers?: Record<string, unknown>;
      mirror?: { host: string };
      mirrorPercentage?: { value: number };
    }[];
  };
}
interface DestinationRule extends KubeObject {
  spec: { host: string; trafficPolicy?: Record<string, unknown>; subsets?: unknown[] };
}

describe("istio router (real API server)", function () {
  this.timeout(60_000);
  let ns: RouterBench["ns"];
  let client: ClusterClient;
  let kube: CountingClient;
  let router: Router;
  const signal = () => AbortSignal.timeout(30_000);
  const getVs = (name: string) => kubectlJson<VirtualService>(["get", "virtualservices.networking.istio.io", name, "-n", ns.name]);
  const getDr = (name: string) => kubectlJson<DestinationRule>(["get", "destinationrules.networking.istio.io", name, "-n", ns.name]);
  const weights = async (name: string) => (await getVs(name)).spec.http.find((r) => r.name === "aviary-weighted")!.route.map((d) => [d.destination.host, d.weight]);

  before(async () => {
    ({ ns, client, kube, router } = await setUpRouterBench((kube) => createIstioRouter({ kube, logger: testLogger() })));
  });

  after(() => tearDownRouterBench({ ns, client }));

  describe("a weighted canary", () => {
    let canary: Canary;

    before(async () => {
      canary = await createCanary(client, ns.name, "podinfo", {
        provider: "istio",
        service: {
          port: 9898,
          hosts: ["app.example.com"],
          gateways: ["istio-system/public-gateway"],
          timeout: "15s",
          retries: { attempts: 3, perTryTimeout: "5s", retryOn: "gateway-error,connect-failure,refused-stream" },
          match: [{ uri: { prefix: "/api" } }],
          rewrite: { uri: "/" },
          headers: { request: { set: { "x-served-by": "aviary" } }, response: { remove: ["x-envoy-upstream-service-time"] } },
          corsPolicy: { allowOrigins: [{ exact: "https://example.com" }], allowMethods: ["GET", "POST"], maxAge: "24h" },
          trafficPolicy: { tls: { mode: "ISTIO_MUTUAL" }, connectionPool: { http: { http1MaxPendingRequests: 100 } } },
          apex: { labels: { team: "web" } },
        },
        analysis: { interval: "1m", threshold: 5, maxWeight: 30, stepWeight: 10 },
      });
    });

    it("creates DestinationRules and a VirtualService that the API server accepts", async () => {
      assert.deepEqual(await router.reconcile(canary, signal()), { changed: true });
      for (const host of ["podinfo-primary", "podinfo-canary"]) {
        const dr = await getDr(host);
        assert.deepEqual(dr.spec, { host, trafficPolicy: { tls: { mode: "ISTIO_MUTUAL" }, connectionPool: { http: { http1MaxPendingRequests: 100 } } } });
        assert.deepEqual(dr.metadata.ownerReferences?.map((o) => [o.kind, o.name, o.uid]), [["Canary", "podinfo", canary.metadata.uid]]);
      }
      const vs = await getVs("podinfo");
      assert.equal(vs.metadata.labels?.team, "web");
      assert.equal(vs.metadata.labels?.["app.kubernetes.io/managed-by"], "aviary");
      assert.deepEqual(vs.spec.hosts, ["app.example.com", "podinfo"]);
      assert.deepEqual(vs.spec.gateways, ["istio-system/public-gateway"]);
      assert.equal(vs.spec.http.length, 1);
      const route = vs.spec.http[0]!;
      assert.deepEqual(route.match, [{ uri: { prefix: "/api" } }]);
      assert.equal(route.timeout, "15s");
      assert.deepEqual(route.retries, { attempts: 3, perTryTimeout: "5s", retryOn: "gateway-error,connect-failure,refused-stream" });
      assert.deepEqual(route.rewrite, { uri: "/" });
      assert.deepEqual(route.corsPolicy, { allowOrigins: [{ exact: "https://example.com" }], allowMethods: ["GET", "POST"], maxAge: "24h" });
      assert.deepEqual(route.route, [{ destination: { host: "podinfo-primary" }, weight: 100 }, { destination: { host: "podinfo-canary" }, weight: 0 }]);
    });

    it("writes nothing when reconciled again: no request, resourceVersions unchanged", async () => {
      const versions = async () => [(await getVs("podinfo")).metadata.resourceVersion, (await getDr("podinfo-primary")).metadata.resourceVersion];
      await assertIdleReconcile({ kube, router }, canary, versions, signal());
    });

    it("follows a canary run 10 → 20 → 30 → promotion → 100/0 through the stored object", async () => {
      await assertRunKeptByReconcile(router, canary, [[90, 10], [80, 20], [70, 30], [0, 100], [100, 0]], async (p, c) => {
        assert.deepEqual(await weights("podinfo"), [["podinfo-primary", p], ["podinfo-canary", c]]);
      }, signal);
    });

    it("rolls back from 20% to the primary", async () => {
      await router.setRoutes(canary, { primary: 80, canary: 20, mirror: false }, signal());
      await router.setRoutes(canary, { primary: 100, canary: 0, mirror: false }, signal());
      assert.deepEqual(await router.getRoutes(canary, signal()), { primary: 100, canary: 0, mirror: false });
    });

    it("undoes hand edits to aviary's fields and keeps the user's other fields", async () => {
      await router.setRoutes(canary, { primary: 60, canary: 40, mirror: false }, signal());
      await kubectlOk(["patch", "virtualservices.networking.istio.io", "podinfo", "-n", ns.name, "--type=merge",
        "-p", JSON.stringify({ metadata: { annotations: { "example.com/note": "mine" } }, spec: { gateways: ["mesh"], exportTo: ["."] } })]);
      await kubectlOk(["patch", "destinationrules.networking.istio.io", "podinfo-canary", "-n", ns.name, "--type=merge",
        "-p", JSON.stringify({ spec: { trafficPolicy: { tls: { mode: "DISABLE" } }, subsets: [{ name: "v1", labels: { version: "v1" } }] } })]);
      assert.deepEqual(await router.reconcile(canary, signal()), { changed: true });
      const vs = await getVs("podinfo");
      assert.deepEqual(vs.spec.gateways, ["istio-system/public-gateway"]);
      assert.deepEqual(vs.spec.exportTo, ["."], "a field aviary does not manage is kept");
      assert.equal(vs.metadata.annotations?.["example.com/note"], "mine");
      const dr = await getDr("podinfo-canary");
      assert.deepEqual(dr.spec.trafficPolicy, { tls: { mode: "ISTIO_MUTUAL" }, connectionPool: { http: { http1MaxPendingRequests: 100 } } });
      assert.deepEqual(dr.spec.subsets, [{ name: "v1", labels: { version: "v1" } }]);
      assert.deepEqual(await router.getRoutes(canary, signal()), { primary: 60, canary: 40, mirror: false });
      assert.deepEqual(await router.reconcile(canary, signal()), { changed: false });
    });

    it("finalize deletes what it created", async () => {
      await router.finalize(canary, signal());
      const left = async (kind: string, name: string) =>
        (await kubectlJson<{ items: unknown[] }>(["get", `${kind}.networking.istio.io`, "-n", ns.name, "--field-selector", `metadata.name=${name}`])).items.length;
      assert.equal(await left("virtualservices", "podinfo"), 0);
      assert.equal(await left("destinationrules", "podinfo-primary"), 0);
      assert.equal(await left("destinationrules", "podinfo-canary"), 0);
    });
  });

  it("A/B routes matching requests to the canary and mirrors, as the CRD accepts them", async () => {
    const canary = await createCanary(client, ns.name, "abtest", {
      provider: "istio",
      service: { port: 80 },
      analysis: {
        interval: "1m", iterations: 5, mirror: true, mirrorWeight: 50,
        match: [{ headers: { "x-canary": { exact: "insider" } } }, { headers: { cookie: { regex: "^(.*?;)?(canary=always)(;.*)?$" } } }],
      },
    });
    await router.reconcile(canary, signal());
    await router.setRoutes(canary, { primary: 0, canary: 100, mirror: true }, signal());
    const vs = await getVs("abtest");
    assert.deepEqual(vs.spec.gateways, ["mesh"]);
    const [ab, rest] = vs.spec.http;
    assert.deepEqual(ab!.match, [{ headers: { "x-canary": { exact: "insider" } } }, { headers: { cookie: { regex: "^(.*?;)?(canary=always)(;.*)?$" } } }]);
    assert.deepEqual(ab!.route.map((d) => [d.destination.host, d.weight]), [["abtest-primary", 0], ["abtest-canary", 100]]);
    assert.deepEqual(ab!.mirror, { host: "abtest-canary" });
    assert.deepEqual(ab!.mirrorPercentage, { value: 50 });
    assert.deepEqual(rest!.route, [{ destination: { host: "abtest-primary" }, weight: 100 }]);
    assert.deepEqual(await router.getRoutes(canary, signal()), { primary: 0, canary: 100, mirror: true });
    assert.deepEqual(await router.reconcile(canary, signal()), { changed: false });
    await router.setRoutes(canary, { primary: 100, canary: 0, mirror: false }, signal());
    assert.deepEqual(await router.getRoutes(canary, signal()), { primary: 100, canary: 0, mirror: false });
    assert.equal((await getVs("abtest")).spec.http[0]!.mirror, undefined);
  });

  it("session affinity: the sticky route and the canary's Set-Cookie pass the CRD's validation", async () => {
    const created = await createCanary(client, ns.name, "sticky", {
      provider: "istio",
      service: { port: 80 },
      analysis: { interval: "1m", maxWeight: 50, stepWeight: 10, sessionAffinity: { cookieName: "canary-session", maxAge: 3600 } },
    });
    const canary: Canary = { ...created, status: { canaryRevision: "5d8f7c9b4" } };
    const cookie = sessionCookie(canary)!;
    await router.reconcile(canary, signal());
    await router.setRoutes(canary, { primary: 90, canary: 10, mirror: false }, signal());
    const vs = await getVs("sticky");
    assert.deepEqual(vs.spec.http.map((r) => r.name), ["aviary-sticky", "aviary-weighted"]);
    assert.deepEqual(vs.spec.http[0]!.match, [{ headers: { cookie: { regex: cookie.cookieHeaderRegex } } }]);
    assert.deepEqual(vs.spec.http[1]!.route[1]!.headers, { response: { add: { "Set-Cookie": cookie.setCookie } } });
    assert.deepEqual(await router.getRoutes(canary, signal()), { primary: 90, canary: 10, mirror: false });
    assert.deepEqual(await router.reconcile(canary, signal()), { changed: false });
  });

  it("takes over an existing VirtualService and restores it on finalize", async () => {
    const userVs = {
      apiVersion: "networking.istio.io/v1", kind: "VirtualService",
      metadata: { name: "legacy", namespace: ns.name, labels: { owner: "platform" } },
      spec: { hosts: ["legacy.example.com"], http: [{ route: [{ destination: { host: "legacy" } }] }] },
    };
    await kubectlOk(["apply", "-f", "-"], JSON.stringify(userVs));
    const original = await getVs("legacy");
    const canary = await createCanary(client, ns.name, "legacy", { provider: "istio", service: { port: 80 } });
    await router.reconcile(canary, signal());
    const taken = await getVs("legacy");
    assert.deepEqual(taken.spec.hosts, ["legacy"]);
    assert.equal(taken.metadata.ownerReferences, undefined);
    await router.finalize(canary, signal());
    const back = await getVs("legacy");
    assert.deepEqual(back.spec, original.spec);
    assert.deepEqual(back.metadata.labels, { owner: "platform" });
  });

  for (const file of ["canary.yaml", "ab-testing.yaml"]) {
    it(`the example examples/istio/${file} is valid and produces objects the CRDs accept`, async () => {
      const [example] = await loadExample(`examples/istio/${file}`);
      assert.deepEqual(errorsOf(validateCanary(example)), []);
      for (const obj of await loadExample("examples/istio/gateway.yaml")) await kubectlOk(["apply", "-n", ns.name, "-f", "-"], JSON.stringify(obj));
      const name = `example-${file.split(".")[0]}`;
      const spec = example!.spec as Canary["spec"];
      const created = await createCanary(client, ns.name, name, { ...spec, targetRef: { ...spec.targetRef, name } });
      const canary: Canary = { ...created, status: { canaryRevision: "6b7c8d9f" } };
      await router.reconcile(canary, signal());
      await router.setRoutes(canary, { primary: 50, canary: 50, mirror: false }, signal());
      const vs = await getVs(name);
      assert.deepEqual(vs.spec.gateways, spec.service.gateways);
      assert.deepEqual(vs.spec.hosts, ["app.example.com", name]);
      assert.deepEqual(await router.getRoutes(canary, signal()), { primary: 50, canary: 50, mirror: false });
      assert.deepEqual(await router.reconcile(canary, signal()), { changed: false });
    });
  }

  it("reports a missing CRD as RouterCrdMissingError", async () => {
    const canary = await createCanary(client, ns.name, "nocrd", { provider: "istio", service: { port: 80 } });
    const missing = createIstioRouter({ kube: client, logger: testLogger() }, { apiVersion: "networking.aviary-missing.example/v1" });
    await assertCrdMissing(missing, canary, "virtualservices.networking.aviary-missing.example", signal);
  });
});
