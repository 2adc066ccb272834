import assert from "node:assert/strict";
import { ROUTER_FEATURES, isSupportedBy } from "../../../src/api/features.ts";
import type { Canary } from "../../../src/api/types.ts";
import type { KubeObject } from "../../../src/kube/types.ts";
import { createLogger } from "../../../src/observability/logger.ts";
import { createNginxRouter } from "../../../src/router/nginx.ts";
import { RouteStateError, RouterSpecError } from "../../../src/router/types.ts";
import { FakeKube } from "../../support/fake-kube.ts";

const logger = createLogger({ write: () => {} });
const signal = new AbortController().signal;
const P = "nginx.ingress.kubernetes.io";
const ingressRef = (name: string) => ({ apiVersion: "networking.k8s.io/v1", kind: "Ingress", namespace: "test", name });

function canary(analysis: Canary["spec"]["analysis"] = {}): Canary {
  return {
    apiVersion: "aviary.dev/v1beta1",
    kind: "Canary",
    metadata: { name: "podinfo", namespace: "test", uid: "canary-uid" },
    spec: { provider: "nginx", targetRef: { name: "podinfo" }, ingressRef: { name: "web" }, service: { port: 80 }, analysis },
  };
}

const userIngress: KubeObject = {
  ...ingressRef("web"),
  metadata: { name: "web", namespace: "test", labels: { team: "web" }, annotations: { [`${P}/proxy-body-size`]: "8m", "argocd.argoproj.io/tracking-id": "x" } },
  spec: { ingressClassName: "nginx", rules: [{ host: "app.example.com", http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "podinfo", port: { number: 80 } } } }] } }] },
};

function setup(opts = {}) {
  const kube = new FakeKube();
  kube.put(userIngress);
  return { kube, router: createNginxRouter({ kube, logger }, opts) };
}

const canaryAnnotationsOf = (kube: FakeKube, prefix = P) =>
  Object.fromEntries(Object.entries(kube.peek(ingressRef("web-canary"))?.metadata.annotations ?? {}).filter(([k]) => k.startsWith(`${prefix}/canary`)));

describe("nginx router", () => {
  it("claims exactly the features api/features.ts lists for nginx", () => {
    const { router } = setup();
    for (const feature of ROUTER_FEATURES) assert.equal(router.supports[feature], isSupportedBy("nginx", feature), feature);
  });

  it("creates <ingress>-canary owned by the Canary, pointing at <svc>-canary, at weight 0", async () => {
    const { kube, router } = setup();
    assert.deepEqual(await router.reconcile(canary(), signal), { changed: true });
    const copy = kube.peek(ingressRef("web-canary"))!;
    assert.equal(copy.metadata.ownerReferences?.[0]?.uid, "canary-uid");
    assert.deepEqual(copy.metadata.labels, { "app.kubernetes.io/managed-by": "aviary", "aviary.dev/canary": "podinfo" });
    assert.deepEqual(copy.metadata.annotations, { [`${P}/proxy-body-size`]: "8m", [`${P}/canary`]: "true", [`${P}/canary-weight`]: "0" });
    assert.equal((copy.spec as { rules: { http: { paths: { backend: { service: { name: string } } }[] } }[] }).rules[0]!.http.paths[0]!.backend.service.name, "podinfo-canary");
    const stored = kube.peek(ingressRef("web"))!;
    assert.deepEqual(stored, { ...userIngress, metadata: { ...userIngress.metadata, resourceVersion: stored.metadata.resourceVersion, uid: stored.metadata.uid } }, "the user's Ingress is untouched");
    assert.deepEqual(await router.getRoutes(canary(), signal), { primary: 100, canary: 0, mirror: false });
  });

  it("is idempotent and writes only a changed weight", async () => {
    const { kube, router } = setup();
    await router.reconcile(canary(), signal);
    assert.deepEqual(await router.reconcile(canary(), signal), { changed: false });
    await router.setRoutes(canary(), { primary: 90, canary: 10, mirror: false }, signal);
    await router.setRoutes(canary(), { primary: 90, canary: 10, mirror: false }, signal);
    assert.deepEqual(kube.writes, ["apply Ingress web-canary", "apply Ingress web-canary"]);
    assert.deepEqual(await router.getRoutes(canary(), signal), { primary: 90, canary: 10, mirror: false });
    assert.deepEqual(await router.reconcile(canary(), signal), { changed: false }, "reconcile keeps the weight");
  });

  it("routes an A/B run by header and cookie, and drops the conditions when the run ends", async () => {
    const { kube, router } = setup();
    const ab = canary({ iterations: 5, match: [{ headers: { "x-canary": { exact: "insider" } } }, { headers: { cookie: { exact: "canary" } } }] });
    await router.reconcile(ab, signal);
    await router.setRoutes(ab, { primary: 0, canary: 100, mirror: false }, signal);
    assert.deepEqual(canaryAnnotationsOf(kube), {
      [`${P}/canary`]: "true", [`${P}/canary-weight`]: "0",
      [`${P}/canary-by-header`]: "x-canary", [`${P}/canary-by-header-value`]: "insider", [`${P}/canary-by-cookie`]: "canary",
    });
    assert.deepEqual(await router.getRoutes(ab, signal), { primary: 0, canary: 100, mirror: false });
    await router.setRoutes(ab, { primary: 100, canary: 0, mirror: false }, signal);
    assert.deepEqual(canaryAnnotationsOf(kube), { [`${P}/canary`]: "true", [`${P}/canary-weight`]: "0" }, "stale conditions are removed, not left behind");
    assert.deepEqual(await router.getRoutes(ab, signal), { primary: 100, canary: 0, mirror: false });
  });

  it("removes a canary annotation added by hand", async () => {
    const { kube, router } = setup();
    await router.reconcile(canary(), signal);
    const edited = kube.peek(ingressRef("web-canary"))!;
    edited.metadata.annotations = { ...edited.metadata.annotations, [`${P}/canary-by-header`]: "x-sneaky", "example.com/keep": "yes" };
    kube.put(edited);
    assert.deepEqual(await router.reconcile(canary(), signal), { changed: true });
    assert.deepEqual(canaryAnnotationsOf(kube), { [`${P}/canary`]: "true", [`${P}/canary-weight`]: "0" });
    assert.equal(kube.peek(ingressRef("web-canary"))!.metadata.annotations?.["example.com/keep"], "yes", "annotations outside ingress-nginx's are left alone");
    assert.deepEqual(await router.reconcile(canary(), signal), { changed: false });
  });

  it("uses the configured annotation prefix", async () => {
    const { kube, router } = setup({ annotationPrefix: "custom.ingress.example" });
    await router.reconcile(canary(), signal);
    await router.setRoutes(canary(), { primary: 60, canary: 40, mirror: false }, signal);
    assert.deepEqual(canaryAnnotationsOf(kube, "custom.ingress.example"), { "custom.ingress.example/canary": "true", "custom.ingress.example/canary-weight": "40" });
    assert.deepEqual(await router.getRoutes(canary(), signal), { primary: 60, canary: 40, mirror: false });
  });

  it("never takes over an Ingress it did not make", async () => {
    const { kube, router } = setup();
    kube.put({ ...ingressRef("web-canary"), metadata: { name: "web-canary", namespace: "test" }, spec: {} });
    await assert.rejects(router.reconcile(canary(), signal), (err: unknown) => err instanceof RouterSpecError && /web-canary exists and was not made by aviary/.test(err.message));
    assert.deepEqual(kube.writes, []);
  });

  it("a missing user Ingress is a retryable RouteStateError", async () => {
    const kube = new FakeKube();
    const router = createNginxRouter({ kube, logger });
    await assert.rejects(router.reconcile(canary(), signal), (err: unknown) => err instanceof RouteStateError && err.retryable && /Ingress test\/web named by spec\.ingressRef does not exist/.test(err.message));
    await assert.rejects(router.getRoutes(canary(), signal), RouteStateError);
  });

  it("finalize deletes the canary Ingress and leaves the user's alone", async () => {
    const { kube, router } = setup();
    await router.reconcile(canary(), signal);
    await router.finalize(canary(), signal);
    assert.equal(kube.peek(ingressRef("web-canary")), undefined);
    assert.ok(kube.peek(ingressRef("web")));
    await router.finalize(canary(), signal);
  });
});
