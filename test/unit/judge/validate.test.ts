import assert from "node:assert/strict";
import { DEFAULT_COMPARE, parseCompareSpec, validateCompareSpec } from "../../../src/judge/index.ts";

const PATH = "spec.analysis.metrics[0].compare";
const errors = (value: unknown) => validateCompareSpec(value, PATH).filter((p) => p.severity === "error").map((p) => `${p.path}: ${p.rule}`);

describe("judge: the compare spec", () => {
  it("fills in tolerance 1.2, confidence 0.99 and minRequests 100", () => {
    assert.deepEqual(parseCompareSpec({}, PATH), { spec: DEFAULT_COMPARE, problems: [] });
    assert.deepEqual(parseCompareSpec({ tolerance: 1, confidence: 0.95, minRequests: 0 }, PATH).spec, { tolerance: 1, confidence: 0.95, minRequests: 0 });
  });

  it("names the field and the rule of every problem, all in one pass", () => {
    assert.deepEqual(errors({ tolerance: 0.9, confidence: 1, minRequests: 1.5 }), [
      `${PATH}.tolerance: must be a number ≥ 1`,
      `${PATH}.confidence: must be a number between 0.5 and 0.9999`,
      `${PATH}.minRequests: must be an integer ≥ 0`,
    ]);
    assert.deepEqual(errors({ tolerance: "1.2" }), [`${PATH}.tolerance: must be a number ≥ 1`]);
    assert.deepEqual(errors({ tolerance: 1000 }), [`${PATH}.tolerance: must be at most 100`]);
    assert.deepEqual(errors({ confidence: "99%" }), [`${PATH}.confidence: must be a number between 0.5 and 0.9999`]);
    assert.deepEqual(errors({ minRequests: -1 }), [`${PATH}.minRequests: must be an integer ≥ 0`]);
    assert.deepEqual(errors([1.2]), [`${PATH}: must be an object`]);
    assert.deepEqual(errors("1.2"), [`${PATH}: must be an object`]);
    assert.equal(parseCompareSpec({ tolerance: 0 }, PATH).spec, undefined);
  });

  it("warns about a field it does not know, and keeps the rest", () => {
    const { spec, problems } = parseCompareSpec({ tolerance: 1.5, tolerence: 2 }, PATH);
    assert.equal(spec?.tolerance, 1.5);
    assert.deepEqual(problems, [{ path: `${PATH}.tolerence`, rule: "is not a field of compare (tolerance, confidence, minRequests)", severity: "warning" }]);
  });
});
