import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import type { Canary } from "../../../src/api/types.ts";
import type { KubeObject } from "../../../src/kube/types.ts";
import { isSupportedBy, ROUTER_FEATURES } from "../../../src/api/features.ts";
import { validateCanary, validateMetricTemplate } from "../../../src/api/validate.ts";
import { createLogger } from "../../../src/observability/logger.ts";
import { createRouterRegistry } from "../../../src/router/registry.ts";
import { ANNOTATION_ORIGINAL } from "../../../src/router/route-objects.ts";
import { buildTrafficSplitSpec, createSmiRouter, readTrafficSplit } from "../../../src/router/smi.ts";
import { RouteStateError, RouterCrdMissingError, RouterSpecError } from "../../../src/router/types.ts";
import { FakeKube } from "../../support/fake-kube.ts";

const logger = createLogger({ write: () => {} });
const signal = new AbortController().signal;
const ref = { apiVersion: "split.smi-spec.io/v1alpha2", kind: "TrafficSplit", namespace: "test", name: "podinfo" };

function canary(name?: string): Canary {
  const service: Canary["spec"]["service"] = { port: 9898 };
  if (name !== undefined) service.name = name;
  return {
    apiVersion: "aviary.dev/v1beta1",
    kind: "Canary",
    metadata: { name: "podinfo", namespace: "test", uid: "canary-uid" },
    spec: { provider: "linkerd", targetRef: { name: "podinfo" }, service },
  };
}

function setup() {
  const kube = new FakeKube();
  return { kube, router: createSmiRouter({ kube, logger }) };
}

describe("smi TrafficSplit spec", () => {
  it("splits the apex Service between the primary and canary Services by integer weight", () => {
    assert.deepEqual(buildTrafficSplitSpec(canary("web"), { primary: 90, canary: 10, mirror: false }), {
      service: "web",
      backends: [{ service: "web-primary", weight: 90 }, { service: "web-canary", weight: 10 }],
    });
    assert.throws(() => buildTrafficSplitSpec(canary(), { primary: 50, canary: 50, mirror: true }), (err: unknown) => err instanceof RouterSpecError && err.field === "spec.analysis.mirror");
    assert.throws(() => buildTrafficSplitSpec(canary(), { primary: 100.5, canary: -0.5, mirror: false }), RangeError);
  });

  it("reads relative weights back, and nothing when neither Service is a backend", () => {
    assert.deepEqual(readTrafficSplit({ backends: [{ service: "podinfo-primary", weight: 1 }, { service: "podinfo-canary", weight: 1 }] }, canary()), { primary: 50, canary: 50, mirror: false });
    assert.deepEqual(readTrafficSplit({ backends: [{ service: "podinfo-canary", weight: 1 }, { service: "podinfo-primary", weight: 3 }] }, canary()), { primary: 75, canary: 25, mirror: false });
    assert.equal(readTrafficSplit({ backends: [{ service: "legacy", weight: 100 }] }, canary()), undefined);
    assert.equal(readTrafficSplit(undefined, canary()), undefined);
  });
});

describe("smi router", () => {
  it("creates the TrafficSplit at 100/0, owned by the Canary; a second reconcile writes nothing", async () => {
    const { kube, router } = setup();
    assert.deepEqual(await router.reconcile(canary(), signal), { changed: true });
    const ts = kube.peek(ref)!;
    assert.equal(ts.metadata.ownerReferences?.[0]?.uid, "canary-uid");
    assert.deepEqual(ts.spec, { service: "podinfo", backends: [{ service: "podinfo-primary", weight: 100 }, { service: "podinfo-canary", weight: 0 }] });
    assert.deepEqual(await router.reconcile(canary(), signal), { changed: false });
    assert.deepEqual(kube.writes, ["apply TrafficSplit podinfo"]);
  });

  it("follows a canary run, writing each step once, and keeps the weights across reconciles", async () => {
    const { kube, router } = setup();
    await router.reconcile(canary(), signal);
    kube.writes.length = 0;
    const seen: number[] = [];
    for (const w of [10, 20, 20, 30, 0]) {
      await router.setRoutes(canary(), { primary: 100 - w, canary: w, mirror: false }, signal);
      assert.deepEqual(await router.reconcile(canary(), signal), { changed: false });
      seen.push((await router.getRoutes(canary(), signal)).canary);
    }
    assert.deepEqual(seen, [10, 20, 20, 30, 0]);
    assert.equal(kube.writes.length, 4);
  });

  it("undoes a hand edit, dropping a `matches` restriction, but keeps the weights", async () => {
    const { kube, router } = setup();
    await router.reconcile(canary(), signal);
    await router.setRoutes(canary(), { primary: 80, canary: 20, mirror: false }, signal);
    const ts = kube.peek(ref)!;
    kube.put({ ...ts, spec: { service: "elsewhere", backends: (ts.spec as { backends: unknown }).backends, matches: [{ kind: "HTTPRouteGroup", name: "only-api" }] } });
    assert.deepEqual(await router.reconcile(canary(), signal), { changed: true });
    assert.deepEqual(kube.peek(ref)!.spec, { service: "podinfo", backends: [{ service: "podinfo-primary", weight: 80 }, { service: "podinfo-canary", weight: 20 }] });
  });

  it("getRoutes before the first reconcile is a retryable RouteStateError", async () => {
    const { router } = setup();
    await assert.rejects(router.getRoutes(canary(), signal), (err: unknown) => err instanceof RouteStateError && err.retryable && /TrafficSplit test\/podinfo does not exist/.test(err.message));
  });

  it("reports the missing CRD on every call; finalize has nothing to clean up", async () => {
    const { kube, router } = setup();
    kube.missingTypes.add("split.smi-spec.io/v1alpha2/TrafficSplit");
    const isCrdMissing = (err: unknown) => err instanceof RouterCrdMissingError && err.message === "the CRD trafficsplits.split.smi-spec.io is not installed";
    await assert.rejects(router.reconcile(canary(), signal), isCrdMissing);
    await assert.rejects(router.setRoutes(canary(), { primary: 90, canary: 10, mirror: false }, signal), isCrdMissing);
    await assert.rejects(router.getRoutes(canary(), signal), isCrdMissing);
    await router.finalize(canary(), signal);
  });

  it("takes over a user's TrafficSplit and restores it on finalize; deletes its own", async () => {
    const { kube, router } = setup();
    const mine: KubeObject = {
      ...ref, metadata: { name: "podinfo", namespace: "test", labels: { owner: "me" } },
      spec: { service: "podinfo", backends: [{ service: "podinfo-v1", weight: 100 }], matches: [{ kind: "HTTPRouteGroup", name: "api" }] },
    };
    kube.put(mine);
    await router.reconcile(canary(), signal);
    assert.deepEqual(JSON.parse(kube.peek(ref)!.metadata.annotations![ANNOTATION_ORIGINAL]!).spec, mine.spec);
    assert.equal((kube.peek(ref)!.spec as { matches?: unknown }).matches, undefined);
    await router.finalize(canary(), signal);
    assert.deepEqual(kube.peek(ref)!.spec, mine.spec);
    assert.deepEqual(kube.peek(ref)!.metadata.labels, { owner: "me" });

    const other = setup();
    await other.router.reconcile(canary(), signal);
    await other.router.finalize(canary(), signal);
    assert.equal(other.kube.peek(ref), undefined);
  });

  it("serves linkerd under its own name and v1alpha3 on request; refuses other versions", async () => {
    const kube = new FakeKube();
    const linkerd = createSmiRouter({ kube, logger }, { name: "linkerd", apiVersion: "split.smi-spec.io/v1alpha3" });
    assert.equal(linkerd.name, "linkerd");
    assert.deepEqual(linkerd.supports, { weights: true, abMatch: false, mirroring: false, sessionAffinity: false });
    await linkerd.reconcile(canary(), signal);
    assert.ok(kube.peek({ ...ref, apiVersion: "split.smi-spec.io/v1alpha3" }));
    assert.throws(() => createSmiRouter({ kube, logger }, { apiVersion: "split.smi-spec.io/v1alpha1" }), /v1alpha1 is not supported: its weights are not integers/);
  });

  it("is registered as smi and linkerd, each under its own name, claiming exactly what api/features.ts allows", () => {
    const registry = createRouterRegistry({ kube: new FakeKube(), logger });
    for (const name of ["smi", "linkerd"] as const) {
      assert.equal(registry.get(name).name, name);
      for (const feature of ROUTER_FEATURES) assert.equal(registry.get(name).supports[feature], isSupportedBy(name, feature), `${name} ${feature}`);
    }
  });

  it("examples/linkerd: the Canary and MetricTemplate pass aviary's validation cleanly", async () => {
    const load = (file: string) => parseAllDocuments(readFileSync(`examples/linkerd/${file}`, "utf8")).map((d) => d.toJS() as KubeObject);
    const [example] = load("canary.yaml") as Canary[];
    assert.deepEqual(validateCanary(example), []);
    assert.deepEqual(load("metric-template.yaml").map((t) => validateMetricTemplate(t)), [[]]);
    assert.deepEqual(load("podinfo.yaml").map((o) => o.kind), ["Namespace", "Deployment"]);
    const { kube } = setup();
    const router = createSmiRouter({ kube, logger }, { name: "linkerd" });
    await router.reconcile({ ...example!, metadata: { ...example!.metadata, uid: "canary-uid" } }, signal);
    assert.deepEqual(kube.writes, ["apply TrafficSplit podinfo"]);
  });
});
