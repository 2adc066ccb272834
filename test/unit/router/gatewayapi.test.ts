import assert from "node:assert/strict";
import type { Canary } from "../../../src/api/types.ts";
import { createLogger } from "../../../src/observability/logger.ts";
import { createGatewayApiRouter } from "../../../src/router/gatewayapi.ts";
import { ANNOTATION_ORIGINAL } from "../../../src/router/route-objects.ts";
import { RouteStateError, RouterCrdMissingError, RouterSpecError } from "../../../src/router/types.ts";
import type { KubeObject } from "../../../src/kube/types.ts";
import { FakeKube } from "../../support/fake-kube.ts";

const logger = createLogger({ write: () => {} });
const signal = new AbortController().signal;
const ref = { apiVersion: "gateway.networking.k8s.io/v1", kind: "HTTPRoute", namespace: "test", name: "podinfo" };

function canary(overrides: Partial<Canary["spec"]["service"]> = {}): Canary {
  return {
    apiVersion: "aviary.dev/v1beta1",
    kind: "Canary",
    metadata: { name: "podinfo", namespace: "test", uid: "canary-uid" },
    spec: { targetRef: { name: "podinfo" }, service: { port: 9898, hosts: ["app.example.com"], gatewayRefs: [{ name: "gw" }], ...overrides } },
  };
}

function setup() {
  const kube = new FakeKube();
  const router = createGatewayApiRouter({ kube, logger });
  return { kube, router };
}

type RouteSpec = { hostnames?: string[]; rules: { backendRefs: { name: string; weight: number }[] }[] };
const specOf = (obj: KubeObject | undefined) => obj?.spec as RouteSpec;

describe("gatewayapi router", () => {
  it("creates the HTTPRoute with aviary's labels and an owner reference, at 100/0", async () => {
    const { kube, router } = setup();
    assert.deepEqual(await router.reconcile(canary({ apex: { labels: { team: "web" } } }), signal), { changed: true });
    const route = kube.peek(ref)!;
    assert.deepEqual(route.metadata.labels, { team: "web", "app.kubernetes.io/managed-by": "aviary", "aviary.dev/canary": "podinfo" });
    assert.equal(route.metadata.ownerReferences?.[0]?.uid, "canary-uid");
    assert.deepEqual(await router.getRoutes(canary(), signal), { primary: 100, canary: 0, mirror: false });
  });

  it("writes nothing when reconciled again without a change", async () => {
    const { kube, router } = setup();
    await router.reconcile(canary(), signal);
    assert.deepEqual(await router.reconcile(canary(), signal), { changed: false });
    assert.deepEqual(kube.writes, ["apply HTTPRoute podinfo"]);
  });

  it("keeps the weights in the route object across reconciles and restores hand edits to the rest", async () => {
    const { kube, router } = setup();
    await router.reconcile(canary(), signal);
    await router.setRoutes(canary(), { primary: 60, canary: 40, mirror: false }, signal);
    const edited = kube.peek(ref)!;
    specOf(edited).hostnames = ["hijacked.example.com"];
    kube.put(edited);
    assert.deepEqual(await router.reconcile(canary(), signal), { changed: true });
    assert.deepEqual(specOf(kube.peek(ref)).hostnames, ["app.example.com"]);
    assert.deepEqual(await router.getRoutes(canary(), signal), { primary: 60, canary: 40, mirror: false });
  });

  it("setRoutes writes only when the split changes", async () => {
    const { kube, router } = setup();
    await router.reconcile(canary(), signal);
    await router.setRoutes(canary(), { primary: 80, canary: 20, mirror: false }, signal);
    await router.setRoutes(canary(), { primary: 80, canary: 20, mirror: false }, signal);
    await router.setRoutes(canary(), { primary: 80, canary: 20, mirror: true }, signal);
    assert.equal(kube.writes.length, 3);
    assert.deepEqual(await router.getRoutes(canary(), signal), { primary: 80, canary: 20, mirror: true });
  });

  it("getRoutes says the route is missing (retryable) before the first reconcile", async () => {
    const { router } = setup();
    await assert.rejects(router.getRoutes(canary(), signal), (err: unknown) => err instanceof RouteStateError && err.retryable && /does not exist/.test(err.message));
  });

  it("maps a 404 on the resource type to RouterCrdMissingError on every call", async () => {
    const { kube, router } = setup();
    kube.missingTypes.add("gateway.networking.k8s.io/v1/HTTPRoute");
    const isCrdMissing = (err: unknown) =>
      err instanceof RouterCrdMissingError && err.message === "the CRD httproutes.gateway.networking.k8s.io is not installed" && !err.retryable;
    await assert.rejects(router.reconcile(canary(), signal), isCrdMissing);
    await assert.rejects(router.setRoutes(canary(), { primary: 50, canary: 50, mirror: false }, signal), isCrdMissing);
    await assert.rejects(router.getRoutes(canary(), signal), isCrdMissing);
    await router.finalize(canary(), signal);
  });

  it("surfaces a Canary field it cannot express as RouterSpecError", async () => {
    const { kube, router } = setup();
    await assert.rejects(router.reconcile(canary({ match: [{ scheme: { exact: "https" } }] }), signal), (err: unknown) =>
      err instanceof RouterSpecError && err.field === "spec.service.match[0].scheme");
    assert.deepEqual(kube.writes, []);
  });

  it("finalize deletes a route it created", async () => {
    const { kube, router } = setup();
    await router.reconcile(canary(), signal);
    await router.finalize(canary(), signal);
    assert.equal(kube.peek(ref), undefined);
    await router.finalize(canary(), signal);
  });

  it("takes over a user's HTTPRoute and gives it back as it was on finalize", async () => {
    const { kube, router } = setup();
    const userRoute: KubeObject = {
      ...ref,
      metadata: { name: "podinfo", namespace: "test", labels: { owner: "me" }, annotations: { note: "mine" } },
      spec: { parentRefs: [{ name: "gw" }], rules: [{ backendRefs: [{ name: "podinfo", port: 9898 }] }] },
    };
    kube.put(userRoute);
    await router.reconcile(canary(), signal);
    const taken = kube.peek(ref)!;
    assert.equal(taken.metadata.ownerReferences?.length ?? 0, 0, "no owner reference: deleting the Canary must not delete the user's route");
    assert.deepEqual(JSON.parse(taken.metadata.annotations![ANNOTATION_ORIGINAL]!), { labels: { owner: "me" }, spec: userRoute.spec });
    assert.deepEqual(specOf(taken).rules[0]!.backendRefs.map((b) => b.name), ["podinfo-primary", "podinfo-canary"]);
    assert.deepEqual(await router.reconcile(canary(), signal), { changed: false }, "the saved original is kept, not re-taken");

    await router.finalize(canary(), signal);
    const back = kube.peek(ref)!;
    assert.deepEqual(back.spec, userRoute.spec);
    assert.deepEqual(back.metadata.labels, { owner: "me" });
    assert.deepEqual(back.metadata.annotations, { note: "mine" });
  });

  it("refuses a route that another Canary manages", async () => {
    const { kube, router } = setup();
    kube.put({ ...ref, metadata: { name: "podinfo", namespace: "test", labels: { "app.kubernetes.io/managed-by": "aviary", "aviary.dev/canary": "other" } }, spec: {} });
    await assert.rejects(router.reconcile(canary(), signal), /HTTPRoute test\/podinfo is managed by Canary other/);
  });

  it("uses the apiVersion it is given, and names that group's CRD when it is missing", async () => {
    const kube = new FakeKube();
    kube.missingTypes.add("gateway.example.com/v1/HTTPRoute");
    const router = createGatewayApiRouter({ kube, logger }, { apiVersion: "gateway.example.com/v1" });
    await assert.rejects(router.reconcile(canary(), signal), /^RouterCrdMissingError: the CRD httproutes\.gateway\.example\.com is not installed$/);
  });
});
