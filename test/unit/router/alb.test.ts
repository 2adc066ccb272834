import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import { ROUTER_FEATURES, isSupportedBy } from "../../../src/api/features.ts";
import type { Canary, MetricTemplate } from "../../../src/api/types.ts";
import { validateCanary, validateMetricTemplate } from "../../../src/api/validate.ts";
import type { KubeObject } from "../../../src/kube/types.ts";
import { createLogger } from "../../../src/observability/logger.ts";
import { ANNOTATION_ORIGINAL_ACTION, createAlbRouter } from "../../../src/router/alb.ts";
import { checkActionBackend, forwardAction, readForwardAction } from "../../../src/router/alb-spec.ts";
import { RouteStateError, RouterSpecError } from "../../../src/router/types.ts";
import { FakeKube } from "../../support/fake-kube.ts";

const logger = createLogger({ write: () => {} });
const signal = new AbortController().signal;
const ACTION = "alb.ingress.kubernetes.io/actions.podinfo";
const ref = { apiVersion: "networking.k8s.io/v1", kind: "Ingress", namespace: "test", name: "web" };
const split = (canary: number) => ({ primary: 100 - canary, canary, mirror: false });
const action = (primary: number, canary: number, port = "80") =>
  JSON.stringify({ type: "forward", forwardConfig: { targetGroups: [{ serviceName: "podinfo-primary", servicePort: port, weight: primary }, { serviceName: "podinfo-canary", servicePort: port, weight: canary }] } });

function canary(name = "podinfo", service: Partial<Canary["spec"]["service"]> = {}): Canary {
  return {
    apiVersion: "aviary.dev/v1beta1",
    kind: "Canary",
    metadata: { name, namespace: "test", uid: `${name}-uid` },
    spec: { provider: "alb", targetRef: { name: "podinfo" }, ingressRef: { name: "web" }, service: { port: 80, ...service }, analysis: { stepWeight: 10, maxWeight: 50 } },
  };
}

const useAnnotation = (name: string) => ({ service: { name, port: { name: "use-annotation" } } });
function userIngress(annotations: Record<string, string> = {}): KubeObject {
  return {
    ...ref,
    metadata: { name: "web", namespace: "test", labels: { team: "web" }, annotations: { "alb.ingress.kubernetes.io/scheme": "internet-facing", ...annotations } },
    spec: {
      ingressClassName: "alb",
      rules: [{ http: { paths: [{ path: "/", pathType: "Prefix", backend: useAnnotation("podinfo") }, { path: "/static", pathType: "Prefix", backend: { service: { name: "assets", port: { number: 80 } } } }] } }],
    },
  };
}

const isSpecError = (field: string) => (err: unknown) => err instanceof RouterSpecError && err.field === field;

describe("alb forward action", () => {
  it("forwards to <svc>-primary and <svc>-canary on the service port, weights summing to 100", () => {
    assert.equal(forwardAction(canary(), split(30)), action(70, 30));
    assert.equal(forwardAction(canary("podinfo", { port: 9898 }), split(0)), action(100, 0, "9898"));
    assert.throws(() => forwardAction(canary(), split(-1)), RangeError);
  });

  it("reads a forward action back in either spelling, as a ratio; undefined when it is not aviary's", () => {
    assert.deepEqual(readForwardAction(canary(), action(75, 25)), split(25));
    const pascal = JSON.stringify({ Type: "forward", ForwardConfig: { TargetGroups: [{ ServiceName: "podinfo-canary", ServicePort: "80", Weight: 1 }, { ServiceName: "podinfo-primary", ServicePort: "80", Weight: 3 }] } });
    assert.deepEqual(readForwardAction(canary(), pascal), split(25));
    const argo = JSON.stringify({ type: "forward", forwardConfig: { targetGroups: [{ serviceName: "stable", servicePort: "80", weight: 100 }] } });
    for (const bad of [undefined, "{", argo, JSON.stringify({ type: "fixed-response" }), action(0, 0)]) assert.equal(readForwardAction(canary(), bad), undefined, String(bad));
  });

  it("needs a backend <svc> with port name use-annotation, and says what to write", () => {
    checkActionBackend(canary(), userIngress());
    const direct = { metadata: { name: "web", namespace: "test" }, spec: { rules: [{ http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "podinfo", port: { number: 80 } } } }] } }] } };
    assert.throws(() => checkActionBackend(canary(), direct), (err: unknown) => isSpecError("spec.ingressRef")(err) && /sends traffic to Service podinfo directly; give that backend service \{name: podinfo, port: \{name: use-annotation\}\}/.test((err as Error).message));
    assert.throws(() => checkActionBackend(canary("podinfo", { name: "front" }), userIngress()), (err: unknown) => isSpecError("spec.ingressRef")(err) && /has no backend service \{name: front/.test((err as Error).message));
  });
});

describe("alb router", () => {
  function setup(annotations: Record<string, string> = {}, opts = {}) {
    const kube = new FakeKube();
    kube.put(userIngress(annotations));
    return { kube, router: createAlbRouter({ kube, logger }, opts) };
  }
  const stored = (kube: FakeKube) => kube.peek(ref)!;

  it("claims exactly the features api/features.ts lists for alb, and asks to finalize on every deletion", () => {
    const { router } = setup();
    for (const feature of ROUTER_FEATURES) assert.equal(router.supports[feature], isSupportedBy("alb", feature), feature);
    assert.equal(router.restoresOnDeletion, true);
  });

  it("writes the action, the record of what was there and its label on the user's Ingress in one patch; the rest stays the user's", async () => {
    const { kube, router } = setup();
    assert.deepEqual(await router.reconcile(canary(), signal), { changed: true });
    assert.deepEqual(kube.writes, ["patch Ingress web"]);
    const ingress = stored(kube);
    assert.deepEqual(ingress.metadata.annotations, {
      "alb.ingress.kubernetes.io/scheme": "internet-facing",
      [ACTION]: action(100, 0),
      [ANNOTATION_ORIGINAL_ACTION]: JSON.stringify({ annotation: ACTION, value: null }),
    });
    assert.deepEqual(ingress.metadata.labels, { team: "web", "aviary.dev/canary": "podinfo" });
    assert.deepEqual(ingress.spec, userIngress().spec);
    assert.equal(ingress.metadata.ownerReferences, undefined, "the Ingress stays the user's");
    assert.deepEqual(await router.getRoutes(canary(), signal), split(0));
    assert.deepEqual(await router.reconcile(canary(), signal), { changed: false });
  });

  it("moves the weights step by step, one patch each, and restores a hand edit in one patch", async () => {
    const { kube, router } = setup();
    await router.reconcile(canary(), signal, split(0));
    for (const w of [10, 20, 30]) {
      const before = kube.writes.length;
      await router.setRoutes(canary(), split(w), signal);
      assert.equal(kube.writes.length - before, 1);
      assert.equal(stored(kube).metadata.annotations![ACTION], action(100 - w, w));
    }
    const edited = stored(kube);
    kube.put({ ...edited, metadata: { ...edited.metadata, annotations: { ...edited.metadata.annotations, [ACTION]: action(0, 100) } } });
    const before = kube.writes.length;
    assert.deepEqual(await router.reconcile(canary(), signal, split(30)), { changed: true, split: { now: split(30), before: split(100) } });
    assert.deepEqual(kube.writes.slice(before), ["patch Ingress web"]);
    assert.equal(stored(kube).metadata.annotations![ACTION], action(70, 30));
  });

  it("finalize gives the user's original action back and drops the record and the label", async () => {
    const argo = JSON.stringify({ Type: "forward", ForwardConfig: { TargetGroups: [{ ServiceName: "stable", ServicePort: "80", Weight: 100 }] } });
    const { kube, router } = setup({ [ACTION]: argo });
    await router.reconcile(canary(), signal, split(40));
    assert.equal(JSON.parse(stored(kube).metadata.annotations![ANNOTATION_ORIGINAL_ACTION]!).value, argo);
    await router.reconcile(canary(), signal, split(50));
    assert.equal(JSON.parse(stored(kube).metadata.annotations![ANNOTATION_ORIGINAL_ACTION]!).value, argo, "the record keeps the first original");
    await router.finalize(canary(), signal);
    const back = stored(kube);
    assert.deepEqual(back.metadata.annotations, userIngress({ [ACTION]: argo }).metadata.annotations);
    assert.deepEqual(back.metadata.labels, { team: "web" });
  });

  it("finalize removes aviary's action when there was none, and leaves an Ingress it does not hold alone", async () => {
    const { kube, router } = setup();
    await router.finalize(canary(), signal);
    assert.deepEqual(kube.writes, [], "nothing held: nothing written");
    await router.reconcile(canary(), signal, split(10));
    await router.finalize(canary(), signal);
    assert.deepEqual(stored(kube).metadata.annotations, userIngress().metadata.annotations);
  });

  it("gives the old action back when the apex Service is renamed", async () => {
    const { kube, router } = setup();
    const ingress = userIngress();
    (ingress.spec as { rules: { http: { paths: unknown[] } }[] }).rules[0]!.http.paths.push({ path: "/v2", pathType: "Prefix", backend: useAnnotation("front") });
    kube.put(ingress);
    await router.reconcile(canary(), signal, split(10));
    await router.reconcile(canary("podinfo", { name: "front" }), signal, split(10));
    const a = stored(kube).metadata.annotations!;
    assert.equal(a[ACTION], undefined);
    assert.ok(a["alb.ingress.kubernetes.io/actions.front"]!.includes("front-canary"));
    assert.deepEqual(JSON.parse(a[ANNOTATION_ORIGINAL_ACTION]!), { annotation: "alb.ingress.kubernetes.io/actions.front", value: null });
  });

  it("refuses an Ingress another Canary holds, a missing Ingress, and an unreadable action", async () => {
    const { kube, router } = setup();
    await router.reconcile(canary(), signal);
    await assert.rejects(router.reconcile(canary("other"), signal), (err: unknown) => isSpecError("spec.ingressRef")(err) && /weighted action of Canary podinfo/.test((err as Error).message));
    const edited = stored(kube);
    kube.put({ ...edited, metadata: { ...edited.metadata, annotations: { ...edited.metadata.annotations, [ACTION]: "{" } } });
    await assert.rejects(router.getRoutes(canary(), signal), RouteStateError);
    await kube.delete(ref);
    await assert.rejects(router.reconcile(canary(), signal), (err: unknown) => err instanceof RouteStateError && /Ingress test\/web named by spec.ingressRef does not exist/.test((err as Error).message));
  });

  it("writes under another annotation prefix", async () => {
    const { kube, router } = setup({}, { annotationPrefix: "ingress.example.com" });
    await router.reconcile(canary(), signal, split(20));
    assert.equal(stored(kube).metadata.annotations!["ingress.example.com/actions.podinfo"], action(80, 20));
  });

  it("examples/alb: every Canary and MetricTemplate passes validation with no warning", () => {
    const docs = parseAllDocuments(readFileSync("examples/alb/canary.yaml", "utf8")).map((d) => d.toJS() as Canary | MetricTemplate);
    assert.ok(docs.some((d) => d.kind === "Canary"));
    for (const d of docs) {
      const problems = d.kind === "Canary" ? validateCanary(d) : validateMetricTemplate(d);
      assert.deepEqual(problems.map((p) => `${p.path}: ${p.rule}`), [], d.metadata.name);
    }
  });
});
