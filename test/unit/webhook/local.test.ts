import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { localConfigurations, WEBHOOKS_MANIFEST } from "../../../src/webhook/local.ts";

const manifest = readFileSync(WEBHOOKS_MANIFEST, "utf8");
const groupsOf = (configs: ReturnType<typeof localConfigurations>) =>
  configs.flatMap((c) => (c.webhooks ?? []).flatMap((w) => (w.rules ?? []).flatMap((r) => r.apiGroups ?? [])));

describe("local webhook registration", () => {
  it("calls this process by URL and lets its user through", () => {
    const configs = localConfigurations(manifest, "https://127.0.0.1:9443/", "me");
    const hooks = configs.flatMap((c) => c.webhooks ?? []);
    assert.ok(hooks.length > 0);
    for (const w of hooks) assert.match(w.clientConfig?.url ?? "", /^https:\/\/127\.0\.0\.1:9443\/(mutate|validate)\//);
    assert.ok(JSON.stringify(hooks).includes("request.userInfo.username != 'me'"));
  });

  it("names the group served in place of aviary.dev, and leaves the other groups alone", () => {
    const plain = groupsOf(localConfigurations(manifest, "https://x", "me"));
    const flagger = groupsOf(localConfigurations(manifest, "https://x", "me", "flagger.app"));
    assert.ok(plain.includes("aviary.dev"));
    assert.ok(!flagger.includes("aviary.dev"));
    assert.deepEqual(flagger, plain.map((g) => (g === "aviary.dev" ? "flagger.app" : g)));
  });
});
