import assert from "node:assert/strict";
import { caughtUp } from "../../../src/kube/cached-reads.ts";

describe("cached reads", () => {
  it("uses a cached copy only once the watch has reached aviary's own last write", () => {
    assert.equal(caughtUp("41", "42"), false, "the cache still holds the object from before the write");
    assert.equal(caughtUp("42", "42"), true);
    assert.equal(caughtUp("43", "42"), true, "someone wrote after aviary: the cache is newer still");
    assert.equal(caughtUp("100", "99"), true, "compared as numbers, not as text");
    assert.equal(caughtUp(undefined, "42"), false, "not in the cache yet");
    assert.equal(caughtUp("abc", "abd"), false, "opaque versions count only when equal");
    assert.equal(caughtUp("abc", "abc"), true);
  });
});
