import { ROUTER_PROVIDERS } from "../../../src/api/types.ts";
import assert from "node:assert/strict";
import { isSupportedBy, ROUTER_FEATURES } from "../../../src/api/features.ts";
import type { Canary } from "../../../src/api/types.ts";
import { buildServices } from "../../../src/controller/canary/objects.ts";
import type { Deployment } from "../../../src/ground/workloads.ts";
import { createLogger } from "../../../src/observability/logger.ts";
import { createKubernetesRouter } from "../../../src/router/kubernetes.ts";
import { createRouterRegistry } from "../../../src/router/registry.ts";
import { RouteStateError, UnknownRouterError } from "../../../src/router/types.ts";
import { FakeKube } from "../../support/fake-kube.ts";

const logger = createLogger({ write: () => {} });
const signal = new AbortController().signal;

const canary: Canary = {
  apiVersion: "aviary.dev/v1beta1",
  kind: "Canary",
  metadata: { name: "podinfo", namespace: "test", uid: "canary-uid" },
  spec: { targetRef: { name: "podinfo" }, service: { port: 9898 } },
};
const target: Deployment = {
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "podinfo", namespace: "test" },
  spec: { selector: { matchLabels: { app: "podinfo" } }, template: {} },
};

describe("router registry", () => {
  it("returns the router registered under a name, once per name", () => {
    const registry = createRouterRegistry({ kube: new FakeKube(), logger });
    assert.equal(registry.get("gatewayapi").name, "gatewayapi");
    assert.equal(registry.get("kubernetes").name, "kubernetes");
    assert.equal(registry.get("gatewayapi"), registry.get("gatewayapi"));
  });

  it("hands the alb router its annotation prefix", async () => {
    const kube = new FakeKube();
    const ref = { apiVersion: "networking.k8s.io/v1", kind: "Ingress", namespace: "test", name: "web" };
    kube.put({ ...ref, metadata: { name: "web", namespace: "test" }, spec: { rules: [{ http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "podinfo", port: { name: "use-annotation" } } } }] } }] } });
    const registry = createRouterRegistry({ kube, logger }, { alb: { annotationPrefix: "lb.example.com" } });
    await registry.get("alb").reconcile({ ...canary, spec: { ...canary.spec, provider: "alb", ingressRef: { name: "web" } } }, signal);
    assert.ok(kube.peek(ref)!.metadata.annotations?.["lb.example.com/actions.podinfo"]?.includes("podinfo-canary"));
  });

  it("accepts gatewayapi:v1 as an alias of gatewayapi", () => {
    const registry = createRouterRegistry({ kube: new FakeKube(), logger });
    assert.equal(registry.get("gatewayapi:v1"), registry.get("gatewayapi"));
    assert.notEqual(registry.get("gatewayapi:v1beta1"), registry.get("gatewayapi"), "v1beta1 is its own instance, pinned to HTTPRoute v1beta1");
    // Every provider name validation accepts has a router, and no other name does.
    assert.deepEqual([...registry.names].sort(), [...ROUTER_PROVIDERS].sort());
  });

  it("uses the default provider for an empty name, kubernetes unless configured", () => {
    assert.equal(createRouterRegistry({ kube: new FakeKube(), logger }).get(undefined).name, "kubernetes");
    assert.equal(createRouterRegistry({ kube: new FakeKube(), logger }, { defaultProvider: "gatewayapi" }).get("").name, "gatewayapi");
  });

  it("throws on an unknown name instead of falling back", () => {
    const registry = createRouterRegistry({ kube: new FakeKube(), logger });
    for (const name of ["istio-typo", "Kubernetes", "toString", "constructor"]) {
      assert.throws(() => registry.get(name), (err: unknown) =>
        err instanceof UnknownRouterError && err.provider === name && !err.retryable && /available: kubernetes, gatewayapi, gatewayapi:v1, gatewayapi:v1beta1, appmesh, appmesh:v1beta2, istio, nginx, smi, linkerd, contour, traefik, skipper, alb, gloo, kuma, apisix$/.test(err.message));
    }
    assert.throws(() => createRouterRegistry({ kube: new FakeKube(), logger }, { defaultProvider: "linkerd2" }), UnknownRouterError);
  });

  it("no router claims a feature that api/features.ts denies it", () => {
    const registry = createRouterRegistry({ kube: new FakeKube(), logger });
    for (const name of ["kubernetes", "gatewayapi"] as const) {
      for (const feature of ROUTER_FEATURES) {
        if (registry.get(name).supports[feature]) assert.ok(isSupportedBy(name, feature), `${name} claims ${feature}`);
      }
    }
  });
});

describe("kubernetes router", () => {
  const seedServices = (kube: FakeKube) => {
    const svcs = buildServices(canary, target);
    for (const s of [svcs.apex, svcs.primary, svcs.canary]) kube.put(s);
    return svcs;
  };

  it("owns no objects: reconcile, setRoutes and finalize write nothing", async () => {
    const kube = new FakeKube();
    seedServices(kube);
    const router = createKubernetesRouter({ kube, logger });
    assert.deepEqual(await router.reconcile(canary, signal), { changed: false });
    await router.setRoutes(canary, { primary: 0, canary: 100, mirror: false }, signal);
    await router.finalize(canary, signal);
    assert.deepEqual(kube.writes, []);
    assert.deepEqual(router.supports, { weights: false, abMatch: false, mirroring: false, sessionAffinity: false });
  });

  it("reports primary 100 while the apex selects the primary, canary 100 once it selects the canary", async () => {
    const kube = new FakeKube();
    const svcs = seedServices(kube);
    const router = createKubernetesRouter({ kube, logger });
    assert.deepEqual(await router.getRoutes(canary, signal), { primary: 100, canary: 0, mirror: false });
    kube.put({ ...svcs.apex, spec: { ...svcs.apex.spec, selector: { app: "podinfo" } } });
    assert.deepEqual(await router.getRoutes(canary, signal), { primary: 0, canary: 100, mirror: false });
  });

  it("getRoutes without an apex Service is a retryable error", async () => {
    const router = createKubernetesRouter({ kube: new FakeKube(), logger });
    await assert.rejects(router.getRoutes(canary, signal), (err: unknown) => err instanceof RouteStateError && err.retryable);
  });
});
