import assert from "node:assert/strict";
import { createNotifierRegistry, notifierRegistryOf } from "../../../src/notifier/registry.ts";
import { NotifierError, UnknownAlertProviderError } from "../../../src/notifier/types.ts";
import type { Notifier, NotifierInit } from "../../../src/notifier/types.ts";

describe("notifier/registry", () => {
  it("serves every AlertProvider type aviary ships", () => {
    const registry = createNotifierRegistry();
    assert.deepEqual(registry.types(), ["discord", "msteams", "slack", "webhook"]);
    for (const type of registry.types()) {
      assert.equal(registry.create(type, { target: { address: "https://example.com/x" } }).type, type);
    }
  });

  it("throws for an unknown type, naming the known ones", () => {
    const registry = createNotifierRegistry();
    assert.equal(registry.has("gchat"), false);
    assert.throws(
      () => registry.create("gchat", { target: { address: "https://example.com/x" } }),
      (err: unknown) =>
        err instanceof UnknownAlertProviderError &&
        err instanceof NotifierError &&
        err.kind === "Config" &&
        err.message === 'unknown alert provider type "gchat"; expected one of discord, msteams, slack, webhook',
    );
  });

  it("gives notifiers the registry's timeout unless their init sets one", () => {
    const seen: Array<number | undefined> = [];
    const fake = (init: NotifierInit): Notifier => {
      seen.push(init.timeoutMs);
      return { type: "webhook", send: () => Promise.resolve() };
    };
    const registry = notifierRegistryOf({ webhook: fake }, { timeoutMs: 1234 });
    registry.create("webhook", { target: { address: "http://x" } });
    registry.create("webhook", { target: { address: "http://x" }, timeoutMs: 50 });
    assert.deepEqual(seen, [1234, 50]);
  });
});
