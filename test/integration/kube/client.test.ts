/**
 * The KubeClient against a real API server: server-side apply, merge patches on the object
 * and its scale subresource, optimistic concurrency, deletes, lists, discovery of CRDs
 * installed after the client was built, and errors that name the object.
 */
import assert from "node:assert/strict";
import type { ClusterClient } from "../../../src/kube/client.ts";
import { isNoKindMatch } from "../../../src/kube/errors.ts";
import { KubeApiError } from "../../../src/kube/types.ts";
import type { KubeObject } from "../../../src/kube/types.ts";
import { kubectlJson, kubectlOk, tempNamespace } from "../../support/kubectl.ts";
import { clusterClient, installScratchCrd, suffix } from "./support.ts";

interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

interface Deployment extends KubeObject {
  spec: { replicas: number };
}

const configMap = (namespace: string, name: string, data: Record<string, string>, labels: Record<string, string> = {}): ConfigMap => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, namespace, labels },
  data,
});

const deployment = (namespace: string, name: string, replicas: number): Deployment => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name, namespace },
  spec: {
    replicas,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: "app", image: "registry.example/app:1" }] } },
  } as Deployment["spec"],
});

describe("kube client (real API server)", () => {
  let ns: Awaited<ReturnType<typeof tempNamespace>>;
  let client: ClusterClient;

  before(async () => {
    ns = await tempNamespace();
    client = clusterClient();
  });

  after(async () => {
    await ns?.remove();
    await client?.close();
  });

  describe("server-side apply", () => {
    it("creates, then a second identical apply leaves the object untouched", async () => {
      const desired = configMap(ns.name, "ssa-idempotent", { weight: "0" });
      const created = await client.apply<ConfigMap>(desired);
      assert.equal(created.data?.weight, "0");
      const again = await client.apply<ConfigMap>(desired);
      assert.equal(again.metadata.resourceVersion, created.metadata.resourceVersion, "a no-op apply must not bump resourceVersion");
      const managers = (again.metadata.managedFields as Array<{ manager: string; operation: string }>).map((m) => `${m.manager}/${m.operation}`);
      assert.deepEqual(managers, ["aviary/Apply"]);
    });

    it("updates the fields it owns and removes the ones it stops applying", async () => {
      await client.apply(configMap(ns.name, "ssa-update", { a: "1", b: "2" }));
      const updated = await client.apply<ConfigMap>(configMap(ns.name, "ssa-update", { a: "10" }));
      assert.deepEqual(updated.data, { a: "10" });
    });

    it("reports a conflict with another manager's field, and takes it over with force", async () => {
      await kubectlOk(["create", "configmap", "ssa-conflict", "-n", ns.name, "--from-literal=owner=kubectl"]);
      await assert.rejects(client.apply(configMap(ns.name, "ssa-conflict", { owner: "aviary" })), (err: unknown) => {
        assert.ok(err instanceof KubeApiError);
        assert.equal(err.status, 409);
        assert.equal(err.reason, "Conflict");
        assert.match(err.message, /apply ConfigMap v1 .*\/ssa-conflict/);
        return true;
      });
      const forced = await client.apply<ConfigMap>(configMap(ns.name, "ssa-conflict", { owner: "aviary" }), { force: true });
      assert.equal(forced.data?.owner, "aviary");
    });
  });

  it("returns null for a missing object and the object when it exists", async () => {
    assert.equal(await client.get({ apiVersion: "v1", kind: "ConfigMap", namespace: ns.name, name: "absent" }), null);
    await client.create(configMap(ns.name, "present", { x: "1" }));
    const got = await client.get<ConfigMap>({ apiVersion: "v1", kind: "ConfigMap", namespace: ns.name, name: "present" });
    assert.equal(got?.data?.x, "1");
    assert.equal(got?.kind, "ConfigMap");
    assert.equal(typeof got?.metadata.creationTimestamp, "string", "timestamps stay strings, as on the wire");
  });

  it("lists with a label selector, across pages", async () => {
    // A page size of 1 forces three round trips with continue tokens.
    const paged = clusterClient({ pageSize: 1 });
    try {
      for (const i of [1, 2, 3]) await client.create(configMap(ns.name, `listed-${i}`, {}, { tier: "listed" }));
      await client.create(configMap(ns.name, "unlisted", {}, { tier: "other" }));
      const { items, resourceVersion } = await paged.listWithVersion<ConfigMap>("v1", "ConfigMap", ns.name, { labelSelector: "tier=listed" });
      assert.match(resourceVersion, /^\d+$/);
      assert.deepEqual(items.map((i) => i.metadata.name).sort(), ["listed-1", "listed-2", "listed-3"]);
      assert.ok(items.every((i) => i.apiVersion === "v1" && i.kind === "ConfigMap"), "list items carry apiVersion and kind");
    } finally {
      await paged.close();
    }
  });

  it("merge-patches the object, and the scale subresource of a Deployment", async () => {
    await client.create(deployment(ns.name, "scaled", 1));
    const ref = { apiVersion: "apps/v1", kind: "Deployment", namespace: ns.name, name: "scaled" };
    const patched = await client.mergePatch<Deployment>(ref, { metadata: { annotations: { "aviary.dev/test": "yes" } } });
    assert.equal(patched.metadata.annotations?.["aviary.dev/test"], "yes");
    const scale = await client.mergePatch<KubeObject & { spec: { replicas: number } }>(ref, { spec: { replicas: 3 } }, { subresource: "scale" });
    assert.equal(scale.kind, "Scale");
    assert.equal(scale.spec.replicas, 3);
    const seen = await kubectlJson<{ spec: { replicas: number } }>(["get", "deployment", "scaled", "-n", ns.name]);
    assert.equal(seen.spec.replicas, 3);
  });

  it("fails a merge patch or a replace that carries a stale resourceVersion with 409", async () => {
    const first = await client.create<ConfigMap>(configMap(ns.name, "optimistic", { n: "1" }));
    const ref = { apiVersion: "v1", kind: "ConfigMap", namespace: ns.name, name: "optimistic" };
    await client.mergePatch(ref, { data: { n: "2" } }, { resourceVersion: first.metadata.resourceVersion! });
    await assert.rejects(client.mergePatch(ref, { data: { n: "3" } }, { resourceVersion: first.metadata.resourceVersion! }), (err: unknown) => {
      assert.ok(err instanceof KubeApiError && err.status === 409 && err.retryable);
      return true;
    });
    await assert.rejects(client.replace({ ...first, data: { n: "4" } }), (err: unknown) => err instanceof KubeApiError && err.status === 409);
    const current = await client.get<ConfigMap>(ref);
    assert.equal(current?.data?.n, "2");
    const replaced = await client.replace<ConfigMap>({ ...current!, data: { n: "5" } });
    assert.equal(replaced.data?.n, "5");
  });

  it("deletes, and says false when the object was already gone", async () => {
    await client.create(configMap(ns.name, "doomed", {}));
    const ref = { apiVersion: "v1", kind: "ConfigMap", namespace: ns.name, name: "doomed" };
    assert.equal(await client.delete(ref, { propagationPolicy: "Background" }), true);
    assert.equal(await client.get(ref), null);
    assert.equal(await client.delete(ref), false);
  });

  it("names the object and the server's reason in errors", async () => {
    await assert.rejects(client.create(configMap(ns.name, "Not_A_Name", {})), (err: unknown) => {
      assert.ok(err instanceof KubeApiError);
      assert.equal(err.status, 422);
      assert.equal(err.reason, "Invalid");
      assert.equal(err.retryable, false);
      assert.match(err.message, /^create ConfigMap v1 .*\/Not_A_Name: .*metadata\.name/);
      return true;
    });
    await assert.rejects(client.get({ apiVersion: "v1", kind: "ConfigMap", name: "no-namespace" }), /namespaced but no namespace/);
  });

  it("finds a CRD installed after the client was built, and reports kinds that are not served", async () => {
    const group = "it.aviary.dev";
    await assert.rejects(client.get({ apiVersion: `${group}/v1`, kind: `Missing${suffix()}`, namespace: ns.name, name: "x" }), (err: unknown) => {
      assert.ok(isNoKindMatch(err));
      assert.match(String(err), /no matches for kind "Missing\w+" in version "it\.aviary\.dev\/v1"/);
      return true;
    });
    // The client has already cached this group version (or its absence); the new kind must still be found.
    const crd = await installScratchCrd(client);
    try {
      assert.equal(await client.crdInstalled(crd.group, crd.plural), true);
      const made = await client.apply({ apiVersion: crd.apiVersion, kind: crd.kind, metadata: { name: "w", namespace: ns.name }, spec: { size: 1 } });
      assert.equal(made.kind, crd.kind);
      assert.equal((await client.list(crd.apiVersion, crd.kind, ns.name)).length, 1);
    } finally {
      await crd.remove();
    }
    assert.equal(await client.crdInstalled("absent.aviary.dev", "things"), false);
  });
});
