/** The hash key Secret against the real API server: created once, then read back. */
import assert from "node:assert/strict";
import { loadHashKeys } from "../../../src/kube/hash-key.ts";
import type { KubeObject } from "../../../src/kube/types.ts";
import { tempNamespace } from "../../support/kubectl.ts";
import { clusterClient, suffix, testLogger } from "./support.ts";

describe("hash key Secret", () => {
  it("is created with random bytes on first start, and the same key is read by every later start", async () => {
    const ns = await tempNamespace("aviary-hashkey");
    const client = clusterClient();
    try {
      const first = await loadHashKeys(client, ns.name, "aviary-config-hash-key", testLogger());
      // Two replicas starting together end up with one key.
      const [a, b] = await Promise.all([0, 1].map(() => loadHashKeys(client, ns.name, "aviary-config-hash-key", testLogger())));
      assert.deepEqual(a, first);
      assert.deepEqual(b, first);
      assert.equal(Buffer.from(first.current.key, "base64").length, 32);
      const stored = await client.get<KubeObject & { data: Record<string, string> }>({ apiVersion: "v1", kind: "Secret", namespace: ns.name, name: "aviary-config-hash-key" });
      assert.equal(stored?.data.key, first.current.key);
    } finally {
      await client.close();
      await ns.remove();
    }
  });

  it("falls back to a key held in memory when aviary's namespace does not exist", async () => {
    const client = clusterClient();
    try {
      const log = testLogger();
      const keys = await loadHashKeys(client, `aviary-absent-${suffix()}`, "aviary-config-hash-key", log);
      assert.equal(Buffer.from(keys.current.key, "base64").length, 32);
      assert.ok(log.lines.some((l) => l.includes("held in memory")), log.lines.join("\n"));
    } finally {
      await client.close();
    }
  });
});
