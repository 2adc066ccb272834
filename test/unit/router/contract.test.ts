/**
 * The contract every weighted router keeps, run against each of them: the status owns the
 * weights (ground/split.ts), so `reconcile` with a split writes it together with the rest of
 * the route objects, reports what it found there (drift), writes nothing when all is in
 * place, and keeps the split it finds when given none; `setRoutes` and `getRoutes` agree;
 * `finalize` removes what it created. The kubernetes router, which cannot split traffic,
 * has its own clause at the end.
 */
import assert from "node:assert/strict";
import type { Canary } from "../../../src/api/types.ts";
import type { Split } from "../../../src/ground/split.ts";
import type { KubeObject } from "../../../src/kube/types.ts";
import { createLogger } from "../../../src/observability/logger.ts";
import { createAlbRouter } from "../../../src/router/alb.ts";
import { createApisixRouter } from "../../../src/router/apisix.ts";
import { createAppMeshRouter } from "../../../src/router/appmesh.ts";
import { createGlooRouter } from "../../../src/router/gloo.ts";
import { createKumaRouter } from "../../../src/router/kuma.ts";
import { createGatewayApiRouter } from "../../../src/router/gatewayapi.ts";
import { createIstioRouter } from "../../../src/router/istio.ts";
import { createKubernetesRouter } from "../../../src/router/kubernetes.ts";
import { createNginxRouter } from "../../../src/router/nginx.ts";
import { createSkipperRouter } from "../../../src/router/skipper.ts";
import { createSmiRouter } from "../../../src/router/smi.ts";
import type { Router, RouterDeps } from "../../../src/router/types.ts";
import { FakeKube } from "../../support/fake-kube.ts";

const logger = createLogger({ write: () => {} });
const signal = new AbortController().signal;
const meta = { name: "podinfo", namespace: "test", uid: "canary-uid" };

interface RouterCase {
  name: string;
  create: (deps: RouterDeps) => Router;
  spec: Canary["spec"];
  /** Objects the router reads but does not own (the user's Ingress, the target Deployment). */
  seed: KubeObject[];
  /** The router writes into a seeded object instead of creating its own (alb): finalize must give it back as seeded. */
  writesIntoSeed?: boolean;
}

const ingress = (name: string, className: string, port: { number: number } | { name: string }): KubeObject => ({
  apiVersion: "networking.k8s.io/v1", kind: "Ingress", metadata: { name, namespace: "test" },
  spec: { ingressClassName: className, rules: [{ host: "app.example.com", http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "podinfo", port } } }] } }] },
});

const CASES: RouterCase[] = [
  {
    name: "gatewayapi",
    create: (deps) => createGatewayApiRouter(deps),
    spec: { provider: "gatewayapi", targetRef: { name: "podinfo" }, service: { port: 9898, hosts: ["app.example.com"], gatewayRefs: [{ name: "gw" }] } },
    seed: [],
  },
  {
    name: "istio",
    create: (deps) => createIstioRouter(deps),
    spec: { provider: "istio", targetRef: { name: "podinfo" }, service: { port: 9898, hosts: ["app.example.com"], gateways: ["public"] } },
    seed: [],
  },
  {
    name: "appmesh",
    create: (deps) => createAppMeshRouter(deps),
    spec: { provider: "appmesh", targetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "podinfo" }, service: { port: 80 } },
    seed: [{
      apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "podinfo", namespace: "test" },
      spec: { selector: { matchLabels: { "app.kubernetes.io/name": "podinfo" } }, template: {} },
    }],
  },
  {
    name: "nginx",
    create: (deps) => createNginxRouter(deps),
    spec: { provider: "nginx", targetRef: { name: "podinfo" }, ingressRef: { name: "web" }, service: { port: 80 } },
    seed: [{
      apiVersion: "networking.k8s.io/v1", kind: "Ingress", metadata: { name: "web", namespace: "test" },
      spec: { ingressClassName: "nginx", rules: [{ host: "app.example.com", http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "podinfo", port: { number: 80 } } } }] } }] },
    }],
  },
  {
    name: "skipper",
    create: (deps) => createSkipperRouter(deps),
    spec: { provider: "skipper", targetRef: { name: "podinfo" }, ingressRef: { name: "web" }, service: { port: 80 } },
    seed: [ingress("web", "skipper", { number: 80 })],
  },
  {
    name: "alb",
    create: (deps) => createAlbRouter(deps),
    spec: { provider: "alb", targetRef: { name: "podinfo" }, ingressRef: { name: "web" }, service: { port: 80 } },
    seed: [ingress("web", "alb", { name: "use-annotation" })],
    writesIntoSeed: true,
  },
  {
    name: "smi",
    create: (deps) => createSmiRouter(deps),
    spec: { provider: "smi", targetRef: { name: "podinfo" }, service: { port: 9898 } },
    seed: [],
  },
  {
    name: "linkerd",
    create: (deps) => createSmiRouter(deps, { name: "linkerd" }),
    spec: { provider: "linkerd", targetRef: { name: "podinfo" }, service: { port: 9898 } },
    seed: [],
  },
  {
    name: "gloo",
    create: (deps) => createGlooRouter(deps),
    spec: { provider: "gloo", targetRef: { name: "podinfo" }, service: { port: 9898 } },
    seed: [],
  },
  {
    name: "kuma",
    create: (deps) => createKumaRouter(deps),
    spec: { provider: "kuma", targetRef: { name: "podinfo" }, service: { port: 9898 } },
    seed: [],
  },
  {
    name: "apisix",
    create: (deps) => createApisixRouter(deps),
    spec: { provider: "apisix", targetRef: { name: "podinfo" }, routeRef: { name: "web" }, service: { port: 80 } },
    seed: [{
      apiVersion: "apisix.apache.org/v2", kind: "ApisixRoute", metadata: { name: "web", namespace: "test" },
      spec: { http: [{ name: "rule1", match: { paths: ["/*"] }, backends: [{ serviceName: "podinfo", servicePort: 80 }] }] },
    }],
  },
];

const split = (canary: number): Split => ({ primary: 100 - canary, canary, mirror: false });

for (const c of CASES) {
  describe(`router contract: ${c.name}`, () => {
    const canary: Canary = { apiVersion: "aviary.dev/v1beta1", kind: "Canary", metadata: meta, spec: c.spec };
    function setup() {
      const kube = new FakeKube();
      for (const obj of c.seed) kube.put(obj);
      return { kube, router: c.create({ kube, logger }) };
    }
    // Owned through the owner reference, or (cluster-scoped objects, which a Canary cannot own) through the labels.
    const ownObjects = (kube: FakeKube) => [...kube.objects.values()].filter((o) =>
      o.metadata.ownerReferences?.some((r) => r.uid === meta.uid) ||
      (o.metadata.namespace === undefined && o.metadata.labels?.["aviary.dev/canary"] === meta.name && o.metadata.labels["aviary.dev/canary-namespace"] === meta.namespace));

    it("reconcile with a split creates the route objects carrying it, and reports that none was there", async () => {
      const { router } = setup();
      const result = await router.reconcile(canary, signal, split(20));
      assert.deepEqual(result, { changed: true, split: { now: split(20), before: null } });
      assert.deepEqual(await router.getRoutes(canary, signal), split(20));
    });

    it("reconcile corrects drifted weights to the split given, in one write, and reports what it found", async () => {
      const { kube, router } = setup();
      await router.reconcile(canary, signal, split(20));
      await router.setRoutes(canary, split(50), signal); // someone moved the weights
      const writesBefore = kube.writes.length;
      const result = await router.reconcile(canary, signal, split(20));
      assert.deepEqual(result, { changed: true, split: { now: split(20), before: split(50) } });
      assert.equal(kube.writes.length - writesBefore, 1, `one write: ${kube.writes.slice(writesBefore).join(", ")}`);
      assert.deepEqual(await router.getRoutes(canary, signal), split(20));
    });

    it("reconcile writes nothing when the route objects already carry everything", async () => {
      const { kube, router } = setup();
      await router.reconcile(canary, signal, split(40));
      const writesBefore = kube.writes.length;
      assert.deepEqual(await router.reconcile(canary, signal, split(40)), { changed: false, split: { now: split(40), before: split(40) } });
      assert.equal(kube.writes.length, writesBefore);
    });

    it("reconcile without a split keeps the split it finds", async () => {
      const { router } = setup();
      await router.reconcile(canary, signal, split(60));
      assert.deepEqual(await router.reconcile(canary, signal), { changed: false });
      assert.deepEqual(await router.getRoutes(canary, signal), split(60));
    });

    it("setRoutes writes only a different split, and getRoutes reads it back", async () => {
      const { kube, router } = setup();
      await router.reconcile(canary, signal, split(0));
      await router.setRoutes(canary, split(30), signal);
      const writesBefore = kube.writes.length;
      await router.setRoutes(canary, split(30), signal);
      assert.equal(kube.writes.length, writesBefore, "the same split twice is one write");
      assert.deepEqual(await router.getRoutes(canary, signal), split(30));
    });

    if (c.writesIntoSeed) {
      it("finalize gives the objects it wrote into back as they were", async () => {
        const { kube, router } = setup();
        await router.reconcile(canary, signal, split(10));
        await router.finalize(canary, signal);
        for (const seeded of c.seed) {
          const ref = { apiVersion: seeded.apiVersion, kind: seeded.kind, namespace: seeded.metadata.namespace!, name: seeded.metadata.name };
          const { resourceVersion: _rv, uid: _uid, ...metadata } = kube.peek(ref)!.metadata;
          assert.deepEqual({ ...kube.peek(ref)!, metadata: { ...metadata, labels: metadata.labels ?? {}, annotations: metadata.annotations ?? {} } }, { ...seeded, metadata: { ...seeded.metadata, labels: {}, annotations: {} } });
        }
      });
      return;
    }

    it("finalize removes every object it created", async () => {
      const { kube, router } = setup();
      await router.reconcile(canary, signal, split(10));
      assert.ok(ownObjects(kube).length > 0);
      await router.finalize(canary, signal);
      assert.deepEqual(ownObjects(kube).map((o) => `${o.kind}/${o.metadata.name}`), []);
    });
  });
}

describe("router contract: kubernetes (no traffic split)", () => {
  const canary: Canary = { apiVersion: "aviary.dev/v1beta1", kind: "Canary", metadata: meta, spec: { targetRef: { name: "podinfo" }, service: { port: 9898 } } };
  const service = (name: string, app: string): KubeObject => ({ apiVersion: "v1", kind: "Service", metadata: { name, namespace: "test" }, spec: { selector: { app } } });

  it("reconcile with a split writes nothing and reports where the apex Service sends traffic", async () => {
    const kube = new FakeKube();
    kube.put(service("podinfo", "podinfo-primary"));
    kube.put(service("podinfo-canary", "podinfo"));
    const router = createKubernetesRouter({ kube, logger });
    assert.deepEqual(await router.reconcile(canary, signal, split(20)), { changed: false, split: { now: split(0), before: split(0) } });
    assert.deepEqual(kube.writes, []);
  });

  it("reports no split when the apex Service is missing", async () => {
    const router = createKubernetesRouter({ kube: new FakeKube(), logger });
    assert.deepEqual(await router.reconcile(canary, signal, split(0)), { changed: false, split: { now: null, before: null } });
  });
});
