import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import type { Canary } from "../../../src/api/types.ts";
import type { KubeObject } from "../../../src/kube/types.ts";
import { createLogger } from "../../../src/observability/logger.ts";
import { isSupportedBy, ROUTER_FEATURES } from "../../../src/api/features.ts";
import { validateCanary } from "../../../src/api/validate.ts";
import { createAppMeshRouter } from "../../../src/router/appmesh.ts";
import { createRouterRegistry } from "../../../src/router/registry.ts";
import { ANNOTATION_ORIGINAL } from "../../../src/router/route-objects.ts";
import { RouteStateError, RouterCrdMissingError, RouterSpecError } from "../../../src/router/types.ts";
import { FakeKube } from "../../support/fake-kube.ts";

const logger = createLogger({ write: () => {} });
const signal = new AbortController().signal;
const API = "appmesh.k8s.aws/v1beta2";
const ref = (kind: string, name: string) => ({ apiVersion: API, kind, namespace: "test", name });

function canary(service: Partial<Canary["spec"]["service"]> = {}, analysis?: Canary["spec"]["analysis"]): Canary {
  const c: Canary = {
    apiVersion: "aviary.dev/v1beta1",
    kind: "Canary",
    metadata: { name: "podinfo", namespace: "test", uid: "canary-uid" },
    spec: { provider: "appmesh", targetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "podinfo" }, service: { port: 80, timeout: "15s", ...service } },
  };
  if (analysis !== undefined) c.spec.analysis = analysis;
  return c;
}

function setup() {
  const kube = new FakeKube();
  kube.put({
    apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "podinfo", namespace: "test" },
    spec: { selector: { matchLabels: { "app.kubernetes.io/name": "podinfo" } }, template: {} },
  });
  return { kube, router: createAppMeshRouter({ kube, logger }) };
}

type RouterSpec = { routes: { name: string; httpRoute: { action: { weightedTargets: { virtualNodeRef: { name: string }; weight: number }[] } } }[] };
const weights = (kube: FakeKube) => (kube.peek(ref("VirtualRouter", "podinfo"))?.spec as RouterSpec).routes[0]!.httpRoute.action.weightedTargets.map((t) => [t.virtualNodeRef.name, t.weight]);

const ALL = [
  "apply VirtualNode podinfo-primary", "apply VirtualNode podinfo-canary",
  "apply VirtualRouter podinfo", "apply VirtualRouter podinfo-canary",
  "apply VirtualService podinfo", "apply VirtualService podinfo-canary",
];

describe("appmesh router", () => {
  it("creates nodes, routers and services in dependency order, each owned by the Canary", async () => {
    const { kube, router } = setup();
    assert.deepEqual(await router.reconcile(canary(), signal), { changed: true });
    assert.deepEqual(kube.writes, ALL);
    const primary = kube.peek(ref("VirtualNode", "podinfo-primary"))!;
    assert.deepEqual((primary.spec as { podSelector: unknown }).podSelector, { matchLabels: { "app.kubernetes.io/name": "podinfo-primary" } });
    assert.deepEqual((kube.peek(ref("VirtualNode", "podinfo-canary"))!.spec as { podSelector: unknown }).podSelector, { matchLabels: { "app.kubernetes.io/name": "podinfo" } });
    for (const w of ALL) {
      const [, kind, name] = w.split(" ");
      const obj = kube.peek(ref(kind!, name!))!;
      assert.equal(obj.metadata.ownerReferences?.[0]?.uid, "canary-uid", `${kind} ${name} is owned`);
      assert.equal(obj.metadata.labels?.["aviary.dev/canary"], "podinfo");
    }
    assert.deepEqual(weights(kube), [["podinfo-primary", 100], ["podinfo-canary", 0]]);
  });

  it("writes nothing when reconciled again, and keeps the weights", async () => {
    const { kube, router } = setup();
    await router.reconcile(canary(), signal);
    await router.setRoutes(canary(), { primary: 70, canary: 30, mirror: false }, signal);
    kube.writes.length = 0;
    assert.deepEqual(await router.reconcile(canary(), signal), { changed: false });
    assert.deepEqual(kube.writes, []);
    assert.deepEqual(await router.getRoutes(canary(), signal), { primary: 70, canary: 30, mirror: false });
  });

  it("setRoutes writes the split router only, and only when the split changes", async () => {
    const { kube, router } = setup();
    await router.reconcile(canary(), signal);
    kube.writes.length = 0;
    for (const w of [10, 10, 20, 30, 30, 0]) await router.setRoutes(canary(), { primary: 100 - w, canary: w, mirror: false }, signal);
    assert.deepEqual(kube.writes, Array(4).fill("apply VirtualRouter podinfo"));
    assert.deepEqual(weights(kube), [["podinfo-primary", 100], ["podinfo-canary", 0]]);
  });

  it("brings a hand-edited object back and recreates a deleted one", async () => {
    const { kube, router } = setup();
    await router.reconcile(canary(), signal);
    await router.setRoutes(canary(), { primary: 60, canary: 40, mirror: false }, signal);
    const vs = kube.peek(ref("VirtualService", "podinfo"))!;
    kube.put({ ...vs, spec: { provider: { virtualNode: { virtualNodeRef: { name: "podinfo-canary" } } } } });
    await kube.delete(ref("VirtualNode", "podinfo-canary"));
    kube.writes.length = 0;
    assert.deepEqual(await router.reconcile(canary(), signal), { changed: true });
    assert.deepEqual(kube.writes, ["apply VirtualNode podinfo-canary", "apply VirtualService podinfo"]);
    assert.deepEqual(kube.peek(ref("VirtualService", "podinfo"))!.spec, { provider: { virtualRouter: { virtualRouterRef: { name: "podinfo" } } } });
    assert.deepEqual(await router.getRoutes(canary(), signal), { primary: 60, canary: 40, mirror: false });
  });

  it("getRoutes: missing router or a router that no longer targets aviary's nodes is retryable", async () => {
    const { kube, router } = setup();
    await assert.rejects(router.getRoutes(canary(), signal), (err: unknown) => err instanceof RouteStateError && /VirtualRouter test\/podinfo does not exist/.test(err.message));
    await router.reconcile(canary(), signal);
    const vr = kube.peek(ref("VirtualRouter", "podinfo"))!;
    kube.put({ ...vr, spec: { listeners: [], routes: [{ name: "x", httpRoute: { action: { weightedTargets: [{ virtualNodeRef: { name: "other" }, weight: 1 }] } } }] } });
    await assert.rejects(router.getRoutes(canary(), signal), (err: unknown) => err instanceof RouteStateError && err.retryable && /neither VirtualNode podinfo-primary nor podinfo-canary/.test(err.message));
  });

  it("needs the target to know the pods' labels; without it nothing is written", async () => {
    const kube = new FakeKube();
    const router = createAppMeshRouter({ kube, logger });
    await assert.rejects(router.reconcile(canary(), signal), (err: unknown) => err instanceof RouteStateError && /Deployment test\/podinfo does not exist/.test(err.message));
    assert.deepEqual(kube.writes, []);
  });

  it("a spec App Mesh cannot express writes nothing and names the field", async () => {
    const { kube, router } = setup();
    await assert.rejects(router.reconcile(canary({ match: [{ authority: { exact: "a" } }] }), signal), (err: unknown) =>
      err instanceof RouterSpecError && err.field === "spec.service.match[0].authority");
    assert.deepEqual(kube.writes, []);
  });

  it("reports missing App Mesh CRDs by the VirtualRouter's CRD on every call; finalize has nothing to do", async () => {
    const { kube, router } = setup();
    for (const kind of ["VirtualNode", "VirtualRouter", "VirtualService"]) kube.missingTypes.add(`${API}/${kind}`);
    const isCrdMissing = (err: unknown) => err instanceof RouterCrdMissingError && err.message === "the CRD virtualrouters.appmesh.k8s.aws is not installed";
    await assert.rejects(router.reconcile(canary(), signal), isCrdMissing);
    await assert.rejects(router.setRoutes(canary(), { primary: 90, canary: 10, mirror: false }, signal), isCrdMissing);
    await assert.rejects(router.getRoutes(canary(), signal), isCrdMissing);
    await router.finalize(canary(), signal);
    assert.deepEqual(kube.writes, []);
  });

  it("finalize deletes what it created, services first", async () => {
    const { kube, router } = setup();
    await router.reconcile(canary(), signal);
    kube.writes.length = 0;
    await router.finalize(canary(), signal);
    assert.deepEqual(kube.writes, [
      "delete VirtualService podinfo", "delete VirtualService podinfo-canary",
      "delete VirtualRouter podinfo", "delete VirtualRouter podinfo-canary",
      "delete VirtualNode podinfo-primary", "delete VirtualNode podinfo-canary",
    ]);
    await router.finalize(canary(), signal);
  });

  it("takes over a user's VirtualService and gives it back on finalize", async () => {
    const { kube, router } = setup();
    const provider = { virtualNode: { virtualNodeRef: { name: "podinfo" } } };
    const mine: KubeObject = { ...ref("VirtualService", "podinfo"), metadata: { name: "podinfo", namespace: "test", labels: { owner: "me" } }, spec: { provider } };
    kube.put(mine);
    await router.reconcile(canary(), signal);
    const taken = kube.peek(ref("VirtualService", "podinfo"))!;
    assert.equal(taken.metadata.ownerReferences?.length ?? 0, 0);
    assert.deepEqual(JSON.parse(taken.metadata.annotations![ANNOTATION_ORIGINAL]!), { labels: { owner: "me" }, spec: { provider } });
    await router.finalize(canary(), signal);
    const back = kube.peek(ref("VirtualService", "podinfo"))!;
    assert.deepEqual(back.spec, mine.spec);
    assert.deepEqual(back.metadata.labels, { owner: "me" });
    assert.equal(kube.peek(ref("VirtualRouter", "podinfo")), undefined);
  });

  it("A/B: the header route carries the split", async () => {
    const { router } = setup();
    const ab = canary({}, { iterations: 5, match: [{ headers: { "x-canary": { exact: "insider" } } }] });
    await router.reconcile(ab, signal);
    await router.setRoutes(ab, { primary: 0, canary: 100, mirror: false }, signal);
    assert.deepEqual(await router.getRoutes(ab, signal), { primary: 0, canary: 100, mirror: false });
    assert.deepEqual(router.supports, { weights: true, abMatch: true, mirroring: false, sessionAffinity: false });
  });

  it("uses the cluster domain it is given", async () => {
    const { kube } = setup();
    const router = createAppMeshRouter({ kube, logger }, { clusterDomain: "corp.internal" });
    await router.reconcile(canary(), signal);
    assert.deepEqual((kube.peek(ref("VirtualNode", "podinfo-canary"))!.spec as { serviceDiscovery: unknown }).serviceDiscovery, { dns: { hostname: "podinfo-canary.test.svc.corp.internal" } });
  });

  it("is registered as appmesh and appmesh:v1beta2, claiming exactly what api/features.ts allows it", () => {
    const registry = createRouterRegistry({ kube: new FakeKube(), logger });
    assert.equal(registry.get("appmesh:v1beta2"), registry.get("appmesh"));
    assert.equal(registry.get("appmesh").name, "appmesh");
    for (const name of ["appmesh", "appmesh:v1beta2"] as const) {
      for (const feature of ROUTER_FEATURES) assert.equal(registry.get(name).supports[feature], isSupportedBy(name, feature), `${name} ${feature}`);
    }
  });

  it("examples/appmesh: the Canary passes aviary's validation cleanly and the router builds its objects", async () => {
    const docs = parseAllDocuments(readFileSync("examples/appmesh/canary.yaml", "utf8")).map((d) => d.toJS() as Canary);
    assert.equal(docs.length, 1);
    const example = docs[0]!;
    assert.deepEqual(validateCanary(example), []);
    const { kube, router } = setup();
    const c: Canary = { ...example, metadata: { ...example.metadata, uid: "canary-uid" } };
    assert.deepEqual(await router.reconcile(c, signal), { changed: true });
    assert.deepEqual(kube.writes, ALL);
  });
});
