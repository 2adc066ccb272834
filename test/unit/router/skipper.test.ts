import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import { ROUTER_FEATURES, isSupportedBy } from "../../../src/api/features.ts";
import type { Canary, MetricTemplate } from "../../../src/api/types.ts";
import { validateCanary, validateMetricTemplate } from "../../../src/api/validate.ts";
import type { KubeObject } from "../../../src/kube/types.ts";
import { createLogger } from "../../../src/observability/logger.ts";
import { createSkipperRouter } from "../../../src/router/skipper.ts";
import { buildSkipperIngressSpec, copiedAnnotations, readSkipperRoutes, skipperAnnotations, withPredicate } from "../../../src/router/skipper-spec.ts";
import { RouteStateError, RouterSpecError } from "../../../src/router/types.ts";
import { FakeKube } from "../../support/fake-kube.ts";

const logger = createLogger({ write: () => {} });
const signal = new AbortController().signal;
const W = "zalando.org/backend-weights";
const PRED = "zalando.org/skipper-predicate";
const ingressRef = (name: string) => ({ apiVersion: "networking.k8s.io/v1", kind: "Ingress", namespace: "test", name });
const split = (canary: number) => ({ primary: 100 - canary, canary, mirror: false });

function canary(service: Partial<Canary["spec"]["service"]> = {}): Canary {
  return {
    apiVersion: "aviary.dev/v1beta1",
    kind: "Canary",
    metadata: { name: "podinfo", namespace: "test", uid: "canary-uid" },
    spec: { provider: "skipper", targetRef: { name: "podinfo" }, ingressRef: { name: "web" }, service: { port: 80, ...service }, analysis: { stepWeight: 10, maxWeight: 50 } },
  };
}

const backend = (name: string) => ({ service: { name, port: { number: 80 } } });
const userIngress: KubeObject = {
  ...ingressRef("web"),
  metadata: {
    name: "web", namespace: "test", labels: { team: "web" },
    annotations: { "kubernetes.io/ingress.class": "skipper", [PRED]: 'Header("X-Tier", "gold")', "zalando.org/skipper-filter": 'setRequestHeader("X-A", "1")', "argocd.argoproj.io/tracking-id": "x" },
  },
  spec: {
    defaultBackend: backend("podinfo"),
    rules: [{ host: "app.example.com", http: { paths: [{ path: "/", pathType: "Prefix", backend: backend("podinfo") }, { path: "/static", pathType: "Prefix", backend: backend("assets") }] } }],
  },
};

const isSpecError = (field: string) => (err: unknown) => err instanceof RouterSpecError && err.field === field;

describe("skipper canary Ingress spec", () => {
  it("lists each path of the apex Service for <svc>-primary, then <svc>-canary; other paths stay; no default backend", () => {
    const spec = buildSkipperIngressSpec(canary(), userIngress);
    assert.deepEqual(spec.rules![0]!.http!.paths.map((p) => [p.path, p.backend.service!.name]), [["/", "podinfo-primary"], ["/", "podinfo-canary"], ["/static", "assets"]]);
    assert.equal(spec.defaultBackend, undefined);
    assert.equal((userIngress.spec as { rules: { http: { paths: { backend: { service: { name: string } } }[] } }[] }).rules[0]!.http.paths[0]!.backend.service.name, "podinfo", "the source is not modified");
  });

  it("refuses an Ingress with no path for the apex Service", () => {
    assert.throws(() => buildSkipperIngressSpec(canary({ name: "other" }), userIngress), (err: unknown) =>
      isSpecError("spec.ingressRef")(err) && /Ingress test\/web has no path for Service other/.test((err as Error).message));
  });

  it("copies Skipper's settings and the class, never the weights, the predicate or other tools' annotations", () => {
    assert.deepEqual(copiedAnnotations({ ...userIngress.metadata.annotations, [W]: "{}" }), {
      "kubernetes.io/ingress.class": "skipper", "zalando.org/skipper-filter": 'setRequestHeader("X-A", "1")',
    });
  });

  it("puts Weight(100) first while the canary gets traffic and False() at 0, keeping the user's predicates", () => {
    assert.deepEqual(skipperAnnotations(canary(), split(30), 'Header("X-Tier", "gold")'), {
      [W]: '{"podinfo-primary":70,"podinfo-canary":30}',
      [PRED]: 'Weight(100) && Header("X-Tier", "gold")',
    });
    assert.deepEqual(skipperAnnotations(canary(), split(0), undefined), { [W]: '{"podinfo-primary":100,"podinfo-canary":0}', [PRED]: "False()" });
    assert.equal(withPredicate("False() && Weight(100) &&  Path(\"/x\")", "Weight(100)"), 'Weight(100) && Path("/x")');
    assert.throws(() => skipperAnnotations(canary(), split(101), undefined), RangeError);
  });

  it("reads the weights back as a ratio, all to the primary while switched off, undefined when unreadable", () => {
    assert.deepEqual(readSkipperRoutes(canary(), { [W]: '{"podinfo-primary":3,"podinfo-canary":1}', [PRED]: "Weight(100)" }), split(25));
    assert.deepEqual(readSkipperRoutes(canary(), { [W]: '{"podinfo-primary":50,"podinfo-canary":50}', [PRED]: "False() && Path(\"/\")" }), split(0));
    for (const bad of [undefined, "not json", '{"podinfo-primary":100}', '{"podinfo-primary":0,"podinfo-canary":0}', '{"podinfo-primary":"1","podinfo-canary":1}']) {
      assert.equal(readSkipperRoutes(canary(), bad === undefined ? {} : { [W]: bad }), undefined, String(bad));
    }
  });
});

describe("skipper router", () => {
  function setup() {
    const kube = new FakeKube();
    kube.put(userIngress);
    return { kube, router: createSkipperRouter({ kube, logger }) };
  }

  it("claims exactly the features api/features.ts lists for skipper", () => {
    const { router } = setup();
    for (const feature of ROUTER_FEATURES) assert.equal(router.supports[feature], isSupportedBy("skipper", feature), feature);
  });

  it("creates <ingress>-canary owned by the Canary, switched off at 100/0, and leaves the user's Ingress alone", async () => {
    const { kube, router } = setup();
    assert.deepEqual(await router.reconcile(canary(), signal), { changed: true });
    const copy = kube.peek(ingressRef("web-canary"))!;
    assert.equal(copy.metadata.ownerReferences?.[0]?.uid, "canary-uid");
    assert.deepEqual(copy.metadata.labels, { "app.kubernetes.io/managed-by": "aviary", "aviary.dev/canary": "podinfo" });
    assert.deepEqual(copy.metadata.annotations, {
      "kubernetes.io/ingress.class": "skipper",
      "zalando.org/skipper-filter": 'setRequestHeader("X-A", "1")',
      [W]: '{"podinfo-primary":100,"podinfo-canary":0}',
      [PRED]: 'False() && Header("X-Tier", "gold")',
    });
    const stored = kube.peek(ingressRef("web"))!;
    assert.deepEqual(stored, { ...userIngress, metadata: { ...userIngress.metadata, resourceVersion: stored.metadata.resourceVersion, uid: stored.metadata.uid } });
    assert.deepEqual(await router.getRoutes(canary(), signal), split(0));
  });

  it("moves the weights, and puts a hand-edited predicate back in one write", async () => {
    const { kube, router } = setup();
    await router.reconcile(canary(), signal, split(20));
    assert.equal(kube.peek(ingressRef("web-canary"))!.metadata.annotations![PRED], 'Weight(100) && Header("X-Tier", "gold")');
    const edit = (annotations: Record<string, string>) => {
      const copy = kube.peek(ingressRef("web-canary"))!;
      kube.put({ ...copy, metadata: { ...copy.metadata, annotations: { ...copy.metadata.annotations, ...annotations } } });
    };
    edit({ [PRED]: "False()" });
    let before = kube.writes.length;
    assert.deepEqual(await router.reconcile(canary(), signal, split(20)), { changed: true, split: { now: split(20), before: split(0) } });
    assert.deepEqual(kube.writes.slice(before), ["apply Ingress web-canary"]);
    assert.equal(kube.peek(ingressRef("web-canary"))!.metadata.annotations![PRED], 'Weight(100) && Header("X-Tier", "gold")');

    // A Skipper annotation added by hand is not aviary's field: apply keeps it, a guarded replace removes it.
    edit({ "zalando.org/skipper-routes": "x: * -> status(500) -> <shunt>", "example.com/note": "kept" });
    before = kube.writes.length;
    assert.deepEqual(await router.reconcile(canary(), signal, split(20)), { changed: true, split: { now: split(20), before: split(20) } });
    assert.deepEqual(kube.writes.slice(before), ["apply Ingress web-canary", "replace Ingress web-canary"]);
    const fixed = kube.peek(ingressRef("web-canary"))!.metadata.annotations!;
    assert.equal(fixed["zalando.org/skipper-routes"], undefined);
    assert.equal(fixed["example.com/note"], "kept");
    assert.deepEqual(await router.reconcile(canary(), signal, split(20)), { changed: false, split: { now: split(20), before: split(20) } });
  });

  it("getRoutes: RouteStateError before the copy exists; finalize deletes only the copy", async () => {
    const { kube, router } = setup();
    await assert.rejects(router.getRoutes(canary(), signal), RouteStateError);
    await router.reconcile(canary(), signal);
    await router.finalize(canary(), signal);
    assert.equal(kube.peek(ingressRef("web-canary")), undefined);
    assert.notEqual(kube.peek(ingressRef("web")), undefined);
  });

  it("needs spec.ingressRef, naming the provider", async () => {
    const c = canary();
    delete c.spec.ingressRef;
    await assert.rejects(setup().router.reconcile(c, signal), (err: unknown) => isSpecError("spec.ingressRef")(err) && /provider skipper/.test((err as Error).message));
  });

  it("examples/skipper: every Canary and MetricTemplate passes validation with no warning", () => {
    const docs = parseAllDocuments(readFileSync("examples/skipper/canary.yaml", "utf8")).map((d) => d.toJS() as Canary | MetricTemplate);
    assert.ok(docs.some((d) => d.kind === "Canary"));
    for (const d of docs) {
      const problems = d.kind === "Canary" ? validateCanary(d) : validateMetricTemplate(d);
      assert.deepEqual(problems.map((p) => `${p.path}: ${p.rule}`), [], d.metadata.name);
    }
  });
});
