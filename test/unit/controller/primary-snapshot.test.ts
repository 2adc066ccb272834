import assert from "node:assert/strict";
import type { Canary } from "../../../src/api/types.ts";
import { buildPrimaryWorkload } from "../../../src/controller/canary/objects.ts";
import { primaryFromSnapshot, readPrimarySnapshot, SnapshotMovedError, snapshotRef, writePrimarySnapshot } from "../../../src/controller/canary/primary-snapshot.ts";
import type { PrimarySnapshot } from "../../../src/controller/canary/primary-snapshot.ts";
import type { Deployment } from "../../../src/ground/workloads.ts";
import { FakeKube } from "../../support/fake-kube.ts";

const signal = new AbortController().signal;

const canary: Canary = {
  apiVersion: "aviary.dev/v1beta1",
  kind: "Canary",
  metadata: { name: "podinfo", namespace: "test", uid: "uid-1" },
  spec: { targetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "podinfo" }, service: { port: 9898 } },
};

function primaryOf(image: string, revision: string): Deployment {
  const target: Deployment = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "podinfo", namespace: "test" },
    spec: {
      replicas: 0,
      selector: { matchLabels: { app: "podinfo" } },
      template: { metadata: { labels: { app: "podinfo" } }, spec: { containers: [{ name: "app", image, envFrom: [{ secretRef: { name: "podinfo-secret" } }] }] } },
    },
  };
  const primary = buildPrimaryWorkload({ target, canary, replicas: 3, copiedConfigs: [{ kind: "Secret", name: "podinfo-secret" }] });
  primary.metadata.annotations = { "aviary.dev/revision": revision };
  return primary;
}

describe("primary snapshot (ControllerRevision <target>-primary)", () => {
  it("holds the promoted primary whole: rebuilt with its template, config copies and revision, owned by the Canary", async () => {
    const kube = new FakeKube();
    const primary = primaryOf("podinfo:1", "rev1");
    await writePrimarySnapshot(kube, canary, primary, "rev1", signal);
    const stored = await kube.get<PrimarySnapshot>(snapshotRef(canary));
    assert.equal(stored?.metadata.name, "podinfo-primary");
    assert.deepEqual(stored?.metadata.ownerReferences?.map((o) => `${o.kind}/${o.name}`), ["Canary/podinfo"]);
    assert.equal(stored?.metadata.labels?.["app.kubernetes.io/managed-by"], "aviary");
    assert.equal(stored?.revision, 1);
    assert.deepEqual(await readPrimarySnapshot(kube, canary, signal), { revision: "rev1", replicas: 3 });

    const rebuilt = await primaryFromSnapshot(kube, canary, "rev1", 5, signal);
    assert.deepEqual(rebuilt.metadata.ownerReferences, primary.metadata.ownerReferences);
    assert.equal(rebuilt.metadata.annotations?.["aviary.dev/revision"], "rev1");
    assert.equal(rebuilt.metadata.namespace, "test");
    assert.deepEqual(rebuilt.spec.template, primary.spec.template);
    assert.match(JSON.stringify(rebuilt.spec.template), /"secretRef":\{"name":"podinfo-secret-primary"\}/, "the -primary copy, not the original");
    assert.equal(rebuilt.spec.replicas, 5);
    assert.equal("replicas" in (await primaryFromSnapshot(kube, canary, "rev1", null, signal)).spec, false, "left to the autoscaler");
  });

  it("is replaced at a promotion (its data is immutable) and left alone when unchanged", async () => {
    const kube = new FakeKube();
    await writePrimarySnapshot(kube, canary, primaryOf("podinfo:1", "rev1"), "rev1", signal);
    kube.calls.length = 0;
    await writePrimarySnapshot(kube, canary, primaryOf("podinfo:1", "rev1"), "rev1", signal);
    assert.deepEqual(kube.calls.map((c) => c.verb), ["get"], "nothing written for the same snapshot");
    await writePrimarySnapshot(kube, canary, primaryOf("podinfo:2", "rev2"), "rev2", signal);
    assert.deepEqual(kube.calls.slice(1).map((c) => c.verb), ["get", "delete", "create"]);
    const stored = await kube.get<PrimarySnapshot>(snapshotRef(canary));
    assert.equal(stored?.revision, 2);
    assert.equal((await primaryFromSnapshot(kube, canary, "rev2", 1, signal)).spec.template.spec?.containers?.[0]?.image, "podinfo:2");
  });

  it("is created without a read for a new primary, and still compared and replaced when one exists after all", async () => {
    const kube = new FakeKube();
    await writePrimarySnapshot(kube, canary, primaryOf("podinfo:1", "rev1"), "rev1", signal, { firstSnapshot: true });
    assert.deepEqual(kube.calls.map((c) => c.verb), ["create"], "one request");
    kube.calls.length = 0;
    await writePrimarySnapshot(kube, canary, primaryOf("podinfo:2", "rev2"), "rev2", signal, { firstSnapshot: true });
    assert.deepEqual(kube.calls.map((c) => c.verb), ["create", "get", "delete", "create"], "AlreadyExists: compared and replaced");
    const stored = await kube.get<PrimarySnapshot>(snapshotRef(canary));
    assert.equal(stored?.revision, 2);
    assert.equal(stored?.metadata.annotations?.["aviary.dev/revision"], "rev2");
  });

  it("refuses to rebuild a revision it does not hold", async () => {
    const kube = new FakeKube();
    await assert.rejects(primaryFromSnapshot(kube, canary, "rev1", 1, signal), (err: unknown) => err instanceof SnapshotMovedError && /holds nothing, not the promoted rev1/.test(err.message));
    assert.equal(await readPrimarySnapshot(kube, canary, signal), null);
    await writePrimarySnapshot(kube, canary, primaryOf("podinfo:2", "rev2"), "rev2", signal);
    await assert.rejects(primaryFromSnapshot(kube, canary, "rev1", 1, signal), (err: unknown) => err instanceof SnapshotMovedError && /holds revision rev2, not the promoted rev1/.test(err.message));
  });
});
