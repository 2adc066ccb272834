import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openSession } from "../../../src/cli/session.ts";
import { UsageError } from "../../../src/cli/exit.ts";

/** A kubeconfig pointing nowhere: opening a session makes no request. */
function kubeconfig(): string {
  const dir = mkdtempSync(join(tmpdir(), "aviary-session-"));
  const path = join(dir, "config");
  writeFileSync(path, [
    "apiVersion: v1", "kind: Config", "current-context: c",
    "clusters: [{name: k, cluster: {server: 'https://127.0.0.1:1'}}]",
    "users: [{name: u, user: {token: t}}]",
    "contexts: [{name: c, context: {cluster: k, user: u, namespace: shop}}]",
  ].join("\n"));
  return path;
}

describe("cli session: the API group", () => {
  const base = { kubeconfig: kubeconfig(), requestTimeoutMs: 1000 };

  it("is aviary.dev unless --api-group or AVIARY_API_GROUP says flagger.app, the flag first", async () => {
    const cases: [Record<string, string>, string | undefined, string][] = [
      [{}, undefined, "aviary.dev/v1beta1"],
      [{ AVIARY_API_GROUP: "flagger.app" }, undefined, "flagger.app/v1beta1"],
      [{ AVIARY_API_GROUP: "flagger.app" }, "aviary.dev", "aviary.dev/v1beta1"],
      [{}, "flagger.app", "flagger.app/v1beta1"],
    ];
    for (const [env, flag, apiVersion] of cases) {
      const session = openSession({ ...base, ...(flag !== undefined ? { apiGroup: flag } : {}) }, env);
      assert.equal(session.api.canary.apiVersion, apiVersion, JSON.stringify([env, flag]));
      assert.equal(session.namespace, "shop");
      await session.close();
    }
  });

  it("refuses another group as a usage error naming where it came from", () => {
    assert.throws(() => openSession({ ...base, apiGroup: "flagger.io" }, {}), (err: unknown) => err instanceof UsageError && /^--api-group: must be one of aviary\.dev, flagger\.app/.test(err.message));
    assert.throws(() => openSession(base, { AVIARY_API_GROUP: "x" }), (err: unknown) => err instanceof UsageError && /^AVIARY_API_GROUP: /.test(err.message));
  });
});
