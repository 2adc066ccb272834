import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import type { Canary } from "../../../src/api/types.ts";
import { validateCanary } from "../../../src/api/validate.ts";
import { builtinQueryTemplate } from "../../../src/metrics/builtins.ts";
import { createLogger } from "../../../src/observability/logger.ts";
import { buildTrafficRouteSpec, createKumaRouter, readTrafficRoute } from "../../../src/router/kuma.ts";
import { ANNOTATION_ORIGINAL } from "../../../src/router/route-objects.ts";
import { RouterSpecError } from "../../../src/router/types.ts";
import { FakeKube } from "../../support/fake-kube.ts";

const logger = createLogger({ write: () => {} });
const signal = new AbortController().signal;
const ref = { apiVersion: "kuma.io/v1alpha1", kind: "TrafficRoute", name: "podinfo" };

const canary = (namespace = "test", annotations?: Record<string, string>): Canary => ({
  apiVersion: "aviary.dev/v1beta1",
  kind: "Canary",
  metadata: { name: "podinfo", namespace, uid: `uid-${namespace}`, ...(annotations ? { annotations } : {}) },
  spec: { provider: "kuma", targetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "podinfo" }, service: { port: 9898 } },
});

describe("kuma router", () => {
  it("routes the apex Kuma service from any source, split between the primary's and the canary's", () => {
    assert.deepEqual(buildTrafficRouteSpec(canary(), { primary: 80, canary: 20, mirror: false }), {
      sources: [{ match: { "kuma.io/service": "*" } }],
      destinations: [{ match: { "kuma.io/service": "podinfo_test_svc_9898" } }],
      conf: {
        split: [
          { weight: 80, destination: { "kuma.io/service": "podinfo-primary_test_svc_9898" } },
          { weight: 20, destination: { "kuma.io/service": "podinfo-canary_test_svc_9898" } },
        ],
      },
    });
    assert.throws(() => buildTrafficRouteSpec(canary(), { primary: 100, canary: 0, mirror: true }), RouterSpecError);
  });

  it("reads relative weights back, and a split naming neither service as nothing", () => {
    const entry = (svc: string, weight: number) => ({ weight, destination: { "kuma.io/service": svc } });
    assert.deepEqual(readTrafficRoute({ conf: { split: [entry("podinfo-primary_test_svc_9898", 1), entry("podinfo-canary_test_svc_9898", 1)] } }, canary()), { primary: 50, canary: 50, mirror: false });
    assert.equal(readTrafficRoute({ conf: { split: [entry("podinfo-primary_other_svc_9898", 1)] } }, canary()), undefined);
  });

  it("writes a cluster-scoped TrafficRoute in the Canary's mesh, labelled instead of owned", async () => {
    const kube = new FakeKube();
    const router = createKumaRouter({ kube, logger });
    await router.reconcile(canary("test", { "kuma.io/mesh": "payments" }), signal, { primary: 90, canary: 10, mirror: false });
    const stored = kube.peek(ref)!;
    assert.equal(stored.metadata.namespace, undefined);
    assert.deepEqual(stored.metadata.ownerReferences ?? [], []);
    assert.equal((stored as unknown as { mesh: string }).mesh, "payments");
    assert.equal(stored.metadata.labels?.["aviary.dev/canary-namespace"], "test");
    // The mesh is part of what aviary owns: a change of the annotation is written.
    assert.deepEqual(await router.reconcile(canary(), signal), { changed: true });
    assert.equal((kube.peek(ref) as unknown as { mesh: string }).mesh, "default");
  });

  it("refuses a TrafficRoute another namespace's Canary of the same service made", async () => {
    const kube = new FakeKube([canary("team-a")]);
    const router = createKumaRouter({ kube, logger });
    await router.reconcile(canary("team-a"), signal);
    await assert.rejects(router.reconcile(canary("team-b"), signal),
      (err: unknown) => err instanceof RouterSpecError && err.field === "spec.service.name" && /TrafficRoute podinfo is managed by Canary team-a\/podinfo/.test(err.message));
    await router.finalize(canary("team-b"), signal);
    assert.ok(kube.peek(ref), "finalize of the other Canary leaves it alone");
    await router.finalize(canary("team-a"), signal);
    assert.equal(kube.peek(ref), undefined);
  });

  it("takes as its own a TrafficRoute whose Canary no longer exists", async () => {
    const kube = new FakeKube();
    const router = createKumaRouter({ kube, logger });
    await router.reconcile(canary("gone"), signal, { primary: 50, canary: 50, mirror: false });
    assert.deepEqual(await router.reconcile(canary("team-b"), signal), { changed: true });
    assert.equal(kube.peek(ref)!.metadata.labels?.["aviary.dev/canary-namespace"], "team-b");
    // Its split named the other namespace's services: this Canary's start at everything to the primary.
    assert.deepEqual(await router.getRoutes(canary("team-b"), signal), { primary: 100, canary: 0, mirror: false });
  });

  it("takes over a TrafficRoute of yours and gives it back, mesh included", async () => {
    const kube = new FakeKube([{ ...ref, metadata: { name: "podinfo", labels: { owner: "me" } }, mesh: "legacy", spec: { sources: [], destinations: [], conf: { destination: { "kuma.io/service": "x" } } } } as never]);
    const router = createKumaRouter({ kube, logger });
    await router.reconcile(canary(), signal);
    assert.deepEqual(JSON.parse(kube.peek(ref)!.metadata.annotations![ANNOTATION_ORIGINAL]!).top, { mesh: "legacy" });
    await router.finalize(canary(), signal);
    const back = kube.peek(ref) as unknown as { mesh: string; spec: unknown; metadata: { labels: unknown } };
    assert.equal(back.mesh, "legacy");
    assert.deepEqual(back.spec, { sources: [], destinations: [], conf: { destination: { "kuma.io/service": "x" } } });
    assert.deepEqual(back.metadata.labels, { owner: "me" });
  });

  it("measures the canary's Kuma service", () => {
    assert.match(builtinQueryTemplate("request-success-rate", "kuma"), /envoy_cluster_upstream_rq\{service=~"\{\{ service \}\}-canary_\{\{ namespace \}\}_svc_\[0-9\]\+", envoy_response_code=~"5\.\."\}/);
  });

  it("examples/kuma: the Canary passes validation", () => {
    const docs = parseAllDocuments(readFileSync("examples/kuma/canary.yaml", "utf8")).map((d) => d.toJS() as Canary);
    assert.deepEqual(validateCanary(docs.find((d) => d.kind === "Canary")!).filter((p) => p.severity === "error"), []);
  });
});
