import assert from "node:assert/strict";
import { ROUTER_FEATURES, isSupportedBy } from "../../../src/api/features.ts";
import type { Canary } from "../../../src/api/types.ts";
import type { KubeObject } from "../../../src/kube/types.ts";
import { createLogger } from "../../../src/observability/logger.ts";
import { createIstioRouter } from "../../../src/router/istio.ts";
import { ANNOTATION_ORIGINAL } from "../../../src/router/route-objects.ts";
import { RouteStateError, RouterCrdMissingError, RouterSpecError } from "../../../src/router/types.ts";
import { FakeKube } from "../../support/fake-kube.ts";

const logger = createLogger({ write: () => {} });
const signal = new AbortController().signal;
const istio = "networking.istio.io/v1";
const vsRef = { apiVersion: istio, kind: "VirtualService", namespace: "test", name: "podinfo" };
const drRef = (name: string) => ({ apiVersion: istio, kind: "DestinationRule", namespace: "test", name });

function canary(service: Partial<Canary["spec"]["service"]> = {}, analysis: Canary["spec"]["analysis"] = {}): Canary {
  return {
    apiVersion: "aviary.dev/v1beta1",
    kind: "Canary",
    metadata: { name: "podinfo", namespace: "test", uid: "canary-uid" },
    spec: { provider: "istio", targetRef: { name: "podinfo" }, service: { port: 9898, hosts: ["app.example.com"], gateways: ["public"], ...service }, analysis },
  };
}

function setup() {
  const kube = new FakeKube();
  return { kube, router: createIstioRouter({ kube, logger }) };
}

type VsSpec = { hosts: string[]; gateways: string[]; exportTo?: string[]; http: { name: string; route: { destination: { host: string }; weight: number }[] }[] };
const vsSpec = (obj: KubeObject | undefined) => obj?.spec as VsSpec;

describe("istio router", () => {
  it("claims exactly the features api/features.ts lists for istio", () => {
    const { router } = setup();
    for (const feature of ROUTER_FEATURES) assert.equal(router.supports[feature], isSupportedBy("istio", feature), feature);
  });

  it("creates both DestinationRules and the VirtualService, owned by the Canary, at 100/0", async () => {
    const { kube, router } = setup();
    assert.deepEqual(await router.reconcile(canary({ trafficPolicy: { tls: { mode: "ISTIO_MUTUAL" } } }), signal), { changed: true });
    assert.deepEqual(kube.writes, ["apply DestinationRule podinfo-primary", "apply DestinationRule podinfo-canary", "apply VirtualService podinfo"]);
    for (const host of ["podinfo-primary", "podinfo-canary"]) {
      const dr = kube.peek(drRef(host))!;
      assert.deepEqual(dr.spec, { host, trafficPolicy: { tls: { mode: "ISTIO_MUTUAL" } } });
      assert.equal(dr.metadata.ownerReferences?.[0]?.uid, "canary-uid");
    }
    const vs = kube.peek(vsRef)!;
    assert.deepEqual(vsSpec(vs).hosts, ["app.example.com", "podinfo"]);
    assert.equal(vs.metadata.labels?.["aviary.dev/canary"], "podinfo");
    assert.deepEqual(await router.getRoutes(canary(), signal), { primary: 100, canary: 0, mirror: false });
  });

  it("writes nothing when reconciled again without a change", async () => {
    const { kube, router } = setup();
    await router.reconcile(canary(), signal);
    kube.writes.length = 0;
    assert.deepEqual(await router.reconcile(canary(), signal), { changed: false });
    assert.deepEqual(kube.writes, []);
  });

  it("setRoutes writes only a changed split; reconcile keeps the weights and undoes hand edits", async () => {
    const { kube, router } = setup();
    await router.reconcile(canary(), signal);
    kube.writes.length = 0;
    await router.setRoutes(canary(), { primary: 70, canary: 30, mirror: false }, signal);
    await router.setRoutes(canary(), { primary: 70, canary: 30, mirror: false }, signal);
    assert.deepEqual(kube.writes, ["apply VirtualService podinfo"]);
    const edited = kube.peek(vsRef)!;
    vsSpec(edited).gateways = ["hijacked"];
    kube.put(edited);
    assert.deepEqual(await router.reconcile(canary(), signal), { changed: true });
    assert.deepEqual(vsSpec(kube.peek(vsRef)).gateways, ["public"]);
    assert.deepEqual(await router.getRoutes(canary(), signal), { primary: 70, canary: 30, mirror: false });
  });

  it("keeps what the user added outside the fields aviary manages", async () => {
    const { kube, router } = setup();
    await router.reconcile(canary(), signal);
    const edited = kube.peek(vsRef)!;
    (edited.spec as VsSpec).exportTo = ["."];
    edited.metadata.annotations = { note: "mine" };
    kube.put(edited);
    assert.deepEqual(await router.reconcile(canary(), signal), { changed: false }, "not aviary's fields: no write");
    assert.deepEqual(vsSpec(kube.peek(vsRef)).exportTo, ["."]);
    assert.equal(kube.peek(vsRef)!.metadata.annotations?.note, "mine");
  });

  it("reads mirroring back", async () => {
    const { router } = setup();
    const c = canary({}, { mirror: true, mirrorWeight: 50 });
    await router.reconcile(c, signal);
    await router.setRoutes(c, { primary: 100, canary: 0, mirror: true }, signal);
    assert.deepEqual(await router.getRoutes(c, signal), { primary: 100, canary: 0, mirror: true });
  });

  it("reports a missing Istio CRD by the VirtualService CRD's name on every call", async () => {
    const { kube, router } = setup();
    kube.missingTypes.add(`${istio}/VirtualService`);
    kube.missingTypes.add(`${istio}/DestinationRule`);
    const isCrdMissing = (err: unknown) => err instanceof RouterCrdMissingError && err.message === "the CRD virtualservices.networking.istio.io is not installed";
    await assert.rejects(router.reconcile(canary(), signal), isCrdMissing);
    await assert.rejects(router.setRoutes(canary(), { primary: 90, canary: 10, mirror: false }, signal), isCrdMissing);
    await assert.rejects(router.getRoutes(canary(), signal), isCrdMissing);
    await router.finalize(canary(), signal);
    assert.deepEqual(kube.writes, []);
  });

  it("writes nothing when the Canary asks for something Istio cannot take", async () => {
    const { kube, router } = setup();
    await assert.rejects(router.reconcile(canary({ retries: { attempts: 2, tries: 3 } }), signal), (err: unknown) => err instanceof RouterSpecError && err.field === "spec.service.retries.tries");
    assert.deepEqual(kube.writes, []);
  });

  it("getRoutes before the first reconcile is a retryable RouteStateError", async () => {
    const { router } = setup();
    await assert.rejects(router.getRoutes(canary(), signal), (err: unknown) => err instanceof RouteStateError && err.retryable);
  });

  it("finalize deletes what it created and gives a taken-over VirtualService back", async () => {
    const { kube, router } = setup();
    const userVs: KubeObject = { ...vsRef, metadata: { name: "podinfo", namespace: "test", labels: { owner: "me" } }, spec: { hosts: ["podinfo"], http: [{ route: [{ destination: { host: "podinfo" } }] }] } };
    kube.put(userVs);
    await router.reconcile(canary(), signal);
    const taken = kube.peek(vsRef)!;
    assert.equal(taken.metadata.ownerReferences?.length ?? 0, 0);
    assert.deepEqual(JSON.parse(taken.metadata.annotations![ANNOTATION_ORIGINAL]!), { labels: { owner: "me" }, spec: userVs.spec });
    await router.finalize(canary(), signal);
    assert.deepEqual(kube.peek(vsRef)!.spec, userVs.spec);
    assert.deepEqual(kube.peek(vsRef)!.metadata.labels, { owner: "me" });
    assert.equal(kube.peek(drRef("podinfo-primary")), undefined);
    assert.equal(kube.peek(drRef("podinfo-canary")), undefined);
  });
});
