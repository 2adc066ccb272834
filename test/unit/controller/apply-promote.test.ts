/**
 * The promote and restorePrimary actions against the one in-memory client: the promotion
 * invariant at the copy step, and the snapshot every written primary leaves behind.
 */
import assert from "node:assert/strict";
import type { Canary } from "../../../src/api/types.ts";
import { applyActions, RevisionMovedError } from "../../../src/controller/canary/apply.ts";
import type { ApplyContext } from "../../../src/controller/canary/apply.ts";
import type { Deployment } from "../../../src/ground/workloads.ts";
import { createLogger } from "../../../src/observability/logger.ts";
import { FakeKube } from "../../support/fake-kube.ts";

const canary: Canary = {
  apiVersion: "aviary.dev/v1beta1",
  kind: "Canary",
  metadata: { name: "podinfo", namespace: "test", uid: "uid-1" },
  spec: { targetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "podinfo" }, service: { port: 9898 } },
};

const target: Deployment = {
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "podinfo", namespace: "test" },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: "podinfo" } },
    template: { metadata: { labels: { app: "podinfo" } }, spec: { containers: [{ name: "app", image: "podinfo:2", envFrom: [{ secretRef: { name: "podinfo-secret" } }] }] } },
  },
};

const secret = { apiVersion: "v1", kind: "Secret", metadata: { name: "podinfo-secret", namespace: "test" }, data: { TOKEN: "eHl6" } };

function context(kube: FakeKube): ApplyContext {
  return {
    kube, canary, target, revision: "rev2", nextStatus: {}, signal: new AbortController().signal,
    logger: createLogger({ write: () => {} }),
    // promote and restorePrimary neither route, check nor record events.
    router: {} as ApplyContext["router"], checks: {} as ApplyContext["checks"], events: {} as ApplyContext["events"],
  };
}

const primaryRef = { apiVersion: "apps/v1", kind: "Deployment", namespace: "test", name: "podinfo-primary" };
const promote = { type: "promote" as const, revision: "rev2", replicas: 2, configs: ["Secret/podinfo-secret"] };

describe("apply: promote and restorePrimary", () => {
  it("promotes a primary that points at the -primary copy, and snapshots it", async () => {
    const kube = new FakeKube([target, secret]);
    await applyActions([promote], context(kube));
    const primary = kube.peek(primaryRef) as Deployment | undefined;
    assert.match(JSON.stringify(primary?.spec.template), /"secretRef":\{"name":"podinfo-secret-primary"\}/);
    assert.ok(kube.peek({ apiVersion: "v1", kind: "Secret", namespace: "test", name: "podinfo-secret-primary" }), "the copy");
    const snapshot = kube.peek({ apiVersion: "apps/v1", kind: "ControllerRevision", namespace: "test", name: "podinfo-primary" });
    assert.equal(snapshot?.metadata.annotations?.["aviary.dev/revision"], "rev2");
  });

  it("applies the Services without reading them first, unless they are headless (a stored one keeps its address)", async () => {
    const serviceGets = (kube: FakeKube) => kube.gets.filter((r) => r.kind === "Service").map((r) => r.name).sort();
    const plain = new FakeKube([target, secret]);
    await applyActions([promote], context(plain));
    assert.ok(plain.peek({ apiVersion: "v1", kind: "Service", namespace: "test", name: "podinfo-canary" }), "the Services are applied");
    assert.deepEqual(serviceGets(plain), []);
    const headless = new FakeKube([target, secret]);
    const ctx = { ...context(headless), canary: { ...canary, spec: { ...canary.spec, service: { port: 9898, headless: true } } } };
    await applyActions([promote], ctx);
    assert.deepEqual(serviceGets(headless), ["podinfo", "podinfo-canary", "podinfo-primary"]);
  });

  it("initializes without reading the primary again when the reconcile saw whether it exists", async () => {
    const initialize = { type: "initialize" as const, revision: "rev2", replicas: 1 };
    const router = { reconcile: async () => ({ changed: false }) } as unknown as ApplyContext["router"];
    const fresh = new FakeKube([target, secret]);
    await applyActions([initialize], { ...context(fresh), router, primaryExists: false });
    assert.ok(fresh.peek(primaryRef), "the primary is created");
    assert.deepEqual(fresh.gets.filter((r) => r.kind === "Deployment"), [], "not read again");
    const serving = new FakeKube([target, secret]);
    await applyActions([initialize], { ...context(serving), router, primaryExists: true });
    assert.equal(serving.peek(primaryRef), undefined, "a primary that exists is never overwritten by initialize");
  });

  it("fails the promotion, writing no primary, when a config the run analysed is gone", async () => {
    const kube = new FakeKube([target]);
    await assert.rejects(applyActions([promote], context(kube)), (err: unknown) => err instanceof RevisionMovedError && /Secret\/podinfo-secret disappeared/.test(err.message));
    assert.equal(kube.peek(primaryRef), undefined, "the primary never points at an original");
  });

  it("rebuilds a deleted primary from the snapshot, without reading the target", async () => {
    const kube = new FakeKube([target, secret]);
    await applyActions([promote], context(kube));
    const promoted = structuredClone(kube.peek(primaryRef) as Deployment);
    await kube.delete(primaryRef);
    await kube.delete({ apiVersion: "apps/v1", kind: "Deployment", namespace: "test", name: "podinfo" });
    kube.calls.length = 0;
    await applyActions([{ type: "restorePrimary", revision: "rev2", replicas: 3 }], { ...context(kube), target: null, revision: "" });
    const restored = kube.peek(primaryRef) as Deployment | undefined;
    assert.deepEqual(restored?.spec.template, promoted.spec.template);
    assert.equal(restored?.spec.replicas, 3);
    assert.deepEqual(restored?.metadata.ownerReferences, promoted.metadata.ownerReferences);
    assert.deepEqual(kube.calls.map((c) => `${c.verb} ${c.key.split("/").slice(-3).join("/")}`), ["get ControllerRevision/test/podinfo-primary", "apply Deployment/test/podinfo-primary"]);
  });
});
