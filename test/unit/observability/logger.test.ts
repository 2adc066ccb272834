import assert from "node:assert/strict";
import { createLogger } from "../../../src/observability/logger.ts";

describe("logger", () => {
  it("writes JSON lines carrying the fields of every parent", () => {
    const lines: string[] = [];
    const log = createLogger({ write: (l) => lines.push(l), now: () => new Date(0) }).child({ namespace: "ns", name: "podinfo" });
    log.info("weight advanced", { weight: 20 });
    assert.deepEqual(JSON.parse(lines[0]!), {
      time: "1970-01-01T00:00:00.000Z", level: "info", msg: "weight advanced", namespace: "ns", name: "podinfo", weight: 20,
    });
  });

  it("drops entries below the configured level and serialises errors", () => {
    const lines: string[] = [];
    const log = createLogger({ level: "warn", write: (l) => lines.push(l) });
    log.info("hidden");
    log.error("failed", { err: new Error("boom") });
    assert.equal(lines.length, 1);
    assert.deepEqual(JSON.parse(lines[0]!).err, { name: "Error", message: "boom" });
  });
});
