import assert from "node:assert/strict";
import { applyDigest, applyWouldChangeNothing } from "../../../src/kube/apply-skip.ts";
import type { AppliedRecord } from "../../../src/kube/apply-skip.ts";
import { createRequestCounter, requestsBetween, verbKindOf } from "../../../src/kube/request-counter.ts";

const service = (port: number, extra: Record<string, unknown> = {}) => ({
  apiVersion: "v1", kind: "Service", metadata: { name: "web", namespace: "ns", ...extra }, spec: { ports: [{ port }] },
});

describe("apply skip", () => {
  const record = (digest: string, resourceVersion: string | undefined): AppliedRecord => ({ digest, resourceVersion });

  it("skips only the same body, applied by aviary, on an object nobody has written since", () => {
    const d = applyDigest(service(80), true);
    assert.equal(applyWouldChangeNothing(record(d, "5"), d, "5"), true);
    assert.equal(applyWouldChangeNothing(record(d, "5"), d, "6"), false, "someone wrote after aviary's apply: apply again to correct the drift");
    assert.equal(applyWouldChangeNothing(record(d, "5"), applyDigest(service(81), true), "5"), false, "a different desired object is sent");
    assert.equal(applyWouldChangeNothing(undefined, d, "5"), false, "nothing applied yet in this process");
    assert.equal(applyWouldChangeNothing(record(d, "5"), d, undefined), false, "the watch has not seen the object (yet)");
    assert.equal(applyWouldChangeNothing(record(d, undefined), d, undefined), false);
  });

  it("digests what is sent: the body without managedFields, and whether ownership is forced", () => {
    assert.equal(applyDigest(service(80), true), applyDigest(service(80, { managedFields: [{ manager: "x" }] }), true));
    assert.notEqual(applyDigest(service(80), true), applyDigest(service(80), false));
    assert.notEqual(applyDigest(service(80), true), applyDigest(service(80, { labels: { a: "b" } }), true));
  });
});

describe("request counter", () => {
  it("counts by verb and kind, with the subresource", () => {
    assert.equal(verbKindOf("get Deployment apps/v1 ns/web"), "get Deployment");
    assert.equal(verbKindOf("patch Canary aviary.dev/v1beta1 ns/x (status)"), "patch Canary/status");
    assert.equal(verbKindOf("discover API apps/v1"), "discover API");
    const c = createRequestCounter();
    c.record("get Deployment apps/v1 ns/web");
    const before = c.snapshot();
    c.record("get Deployment apps/v1 ns/web");
    c.record("apply Service v1 ns/web");
    assert.deepEqual(requestsBetween(before, c.snapshot()), { total: 2, byVerbKind: { "get Deployment": 1, "apply Service": 1 } });
    assert.deepEqual(c.snapshot().byVerbKind, { "get Deployment": 2, "apply Service": 1 });
  });
});
