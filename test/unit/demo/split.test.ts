import assert from "node:assert/strict";
import { dueRequests, INITIAL_SPLIT, pickBackend } from "../../../demo/mesh/split.ts";
import type { Weights } from "../../../demo/mesh/split.ts";

function run(weights: Weights, n: number) {
  let state = INITIAL_SPLIT;
  const picks = [];
  for (let i = 0; i < n; i++) {
    const p = pickBackend(weights, state);
    state = p.state;
    picks.push(p);
  }
  return picks;
}
const canaryShare = (w: Weights, n: number) => run(w, n).filter((p) => p.backend === "canary").length;

describe("simulated mesh: splitting requests by the route's weights", () => {
  it("sends exactly the canary's share, evenly (one in five at 20%)", () => {
    const picks = run({ primary: 80, canary: 20, mirror: false }, 100);
    assert.equal(picks.filter((p) => p.backend === "canary").length, 20);
    assert.deepEqual(picks.slice(0, 10).map((p) => p.backend[0]).join(""), "ppppcppppc");
  });

  it("follows every step of a run", () => {
    for (const canary of [0, 10, 20, 40, 50, 60, 100]) {
      assert.equal(canaryShare({ primary: 100 - canary, canary, mirror: false }, 1000), canary * 10, `canary ${canary}%`);
    }
  });

  it("treats weights as relative, as Gateway API does", () => {
    assert.equal(canaryShare({ primary: 4, canary: 1, mirror: false }, 100), 20);
    assert.equal(canaryShare({ primary: 800, canary: 200, mirror: false }, 100), 20);
  });

  it("sends everything to the primary when there is no weight at all", () => {
    assert.equal(canaryShare({ primary: 0, canary: 0, mirror: false }, 50), 0);
    assert.equal(canaryShare({ primary: Number.NaN, canary: -5, mirror: false }, 50), 0);
  });

  it("mirrors primary requests to the canary when the route mirrors", () => {
    const picks = run({ primary: 100, canary: 0, mirror: true }, 10);
    assert.ok(picks.every((p) => p.backend === "primary" && p.mirror));
    assert.ok(run({ primary: 100, canary: 0, mirror: false }, 10).every((p) => !p.mirror));
  });

  it("keeps a steady rate and drops what a stall would burst", () => {
    assert.deepEqual(dueRequests(1000, 50, 0), { send: 50, skipped: 0 });
    assert.deepEqual(dueRequests(1010, 50, 50), { send: 0, skipped: 0 });
    assert.deepEqual(dueRequests(1020, 50, 50), { send: 1, skipped: 0 });
    assert.deepEqual(dueRequests(10_000, 50, 50), { send: 50, skipped: 400 });
    assert.deepEqual(dueRequests(-5, 50, 0), { send: 0, skipped: 0 });
  });
});
