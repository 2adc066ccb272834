import assert from "node:assert/strict";
import { describe, it } from "mocha";
import { ageOf, formatAge, formatClock, formatFields, formatTable, weightBar } from "../../../src/cli/format.ts";

describe("cli format", () => {
  it("prints the local wall-clock time with seconds", () => {
    assert.equal(formatClock(new Date(2026, 0, 2, 9, 5, 7)), "09:05:07");
    assert.equal(formatClock(new Date(2026, 0, 2, 12, 0, 31)), "12:00:31");
  });

  it("fills the bar in proportion to the canary weight", () => {
    assert.equal(weightBar(0), "[░░░░░░░░░░]");
    assert.equal(weightBar(20), "[██░░░░░░░░]");
    assert.equal(weightBar(45), "[█████░░░░░]");
    assert.equal(weightBar(100), "[██████████]");
    assert.equal(weightBar(50, 4), "[██░░]");
  });

  it("keeps the bar inside its frame for weights out of range", () => {
    assert.equal(weightBar(150), "[██████████]");
    assert.equal(weightBar(-5), "[░░░░░░░░░░]");
    assert.equal(weightBar(Number.NaN), "[░░░░░░░░░░]");
  });

  it("aligns table columns three spaces apart without trailing spaces", () => {
    const table = formatTable(["NAME", "STATUS", "WEIGHT"], [["podinfo", "Progressing", "20"], ["api", "", ""]]);
    assert.equal(table, ["NAME      STATUS        WEIGHT", "podinfo   Progressing   20", "api"].join("\n") + "\n");
  });

  it("prints ages like kubectl", () => {
    const s = 1000;
    const m = 60 * s;
    const h = 60 * m;
    const d = 24 * h;
    const cases: [number, string][] = [
      [0, "0s"],
      [45 * s, "45s"],
      [119 * s, "119s"],
      [3 * m + 20 * s, "3m20s"],
      [5 * m, "5m"],
      [25 * m, "25m"],
      [5 * h + 10 * m, "5h10m"],
      [20 * h, "20h"],
      [2 * d + 3 * h, "2d3h"],
      [40 * d, "40d"],
      [3 * 365 * d, "3y"],
      [-5, "0s"],
    ];
    for (const [ms, want] of cases) assert.equal(formatAge(ms), want, `${ms}ms`);
  });

  it("ages a timestamp, and leaves a missing or unreadable one blank", () => {
    const now = new Date("2026-01-02T12:00:00Z");
    assert.equal(ageOf("2026-01-02T11:55:00Z", now), "5m");
    assert.equal(ageOf(undefined, now), "");
    assert.equal(ageOf("yesterday", now), "");
  });

  it("aligns field values", () => {
    assert.deepEqual(formatFields([["Name", "web"], ["Failed checks", "0/5"]]), ["Name:           web", "Failed checks:  0/5"]);
  });
});
