import assert from "node:assert/strict";
import { describe, it } from "mocha";
import { parseCondition, translateConditions } from "../../../src/convert/conditions.ts";
import type { ValueForm } from "../../../src/convert/conditions.ts";
import { compare, complement, describe as describeSet, intersect, union } from "../../../src/convert/intervals.ts";

const prometheus: ValueForm = (a) => a === "result" || a === "result[0]";
const cloudwatch: ValueForm = (a) => a === "result[0].Values[0]";

function range(success: string | undefined, failure?: string, form: ValueForm = prometheus) {
  const t = translateConditions(success, failure, form);
  assert.ok(t.ok, t.ok ? "" : t.reason);
  return t;
}

function refused(success: string | undefined, failure?: string, form: ValueForm = prometheus): string {
  const t = translateConditions(success, failure, form);
  assert.ok(!t.ok, `translated ${success} / ${failure} to ${JSON.stringify(t)}`);
  return t.reason;
}

describe("convert: Argo conditions → thresholdRange", () => {
  it("translates one-sided bounds, with the value written either side", () => {
    assert.deepEqual(range("result[0] >= 0.95").range, { min: 0.95 });
    assert.deepEqual(range("result >= 95").range, { min: 95 });
    assert.deepEqual(range("0.95 <= result[0]").range, { min: 0.95 });
    assert.deepEqual(range("result[0] <= 500").range, { max: 500 });
    assert.deepEqual(range("result > -1.5e2").range, { min: -150 });
    assert.deepEqual(range("result[0].Values[0] >= 80", undefined, cloudwatch).range, { min: 80 });
  });

  it("translates equality as a one-point range", () => {
    assert.deepEqual(range("result[0].Values[0] == 100", undefined, cloudwatch).range, { min: 100, max: 100 });
  });

  it("translates conjunctions and parentheses to the intersection", () => {
    assert.deepEqual(range("result >= 90 && result <= 110").range, { min: 90, max: 110 });
    assert.deepEqual(range("(result >= 90) and not (result > 110)").range, { min: 90, max: 110 });
  });

  it("says when a strict bound became inclusive", () => {
    const t = range("result[0] < 500");
    assert.deepEqual(t.range, { max: 500 });
    assert.match(t.notes[0]!, /exactly 500 failed in Argo .* passes thresholdRange.max/);
    assert.deepEqual(range("result[0] <= 500").notes, []);
  });

  it("turns a failureCondition alone into the complement", () => {
    assert.deepEqual(range(undefined, "result[0] < 0.95").range, { min: 0.95 });
    assert.deepEqual(range(undefined, "result >= 10").range, { max: 10 });
    assert.deepEqual(range(undefined, "result < 90 || result > 110").range, { min: 90, max: 110 });
  });

  it("accepts both conditions when together they leave nothing inconclusive", () => {
    assert.deepEqual(range("result >= 0.95", "result < 0.95").range, { min: 0.95 });
    // Overlap: Argo checks the failure first, so 0.9..0.95 fails.
    assert.deepEqual(range("result >= 0.9", "result < 0.95").range, { min: 0.95 });
  });

  it("refuses an inconclusive band, naming it", () => {
    assert.match(refused("result >= 0.90", "result < 0.50"), /^successCondition "result >= 0.90" with failureCondition "result < 0.50": values in \[0.5, 0.9\) meet neither .* aviary has no inconclusive outcome/);
  });

  it("turns `len(result) == 0 ||` into onNoData: pass", () => {
    const t = range("len(result) == 0 || result[0] <= 0.5");
    assert.deepEqual(t.range, { max: 0.5 });
    assert.equal(t.onNoData, "pass");
    assert.equal(range("result[0] <= 0.5").onNoData, undefined);
  });

  it("refuses what is not one range of the measured value", () => {
    assert.match(refused("result != 5"), /not one range/);
    assert.match(refused("result < 10 || result > 20"), /not one range/);
    assert.match(refused("result > 5 && result < 1"), /: no value can pass/);
    assert.match(refused("all(result[0].Values, {# <= 0.01})", undefined, cloudwatch), /the function all\(\) is not translated/);
    assert.match(refused("isNaN(result)"), /isNaN\(\) is not translated/);
    assert.match(refused("result == 'true'"), /does not compare the measured value with a number/);
    assert.match(refused("result.count > 3"), /"result.count" is not the single value/);
    assert.match(refused("result[0] >= 0.95", undefined, cloudwatch), /"result\[0\]" is not the single value/);
    assert.match(refused("result * 100 > 5"), /unexpected "\*"|expected a comparison/);
    assert.match(refused("result >="), /ends too early/);
    assert.match(refused("len(result) > 3"), /only len\(result\) == 0/);
  });

  it("names the condition it refused", () => {
    assert.match(refused("result != 5"), /^successCondition "result != 5"/);
    assert.match(refused(undefined, "result[0] ~ 5"), /^failureCondition "result\[0\] ~ 5" is not a range aviary can check: unexpected "~"/);
  });

  it("has no range when there are no conditions (every measurement passes in Argo)", () => {
    assert.deepEqual(translateConditions(undefined, undefined, prometheus), { ok: true, range: undefined, notes: [] });
  });

  it("parses to the set of accepted values", () => {
    assert.equal(describeSet(parseCondition("result > 1 && result <= 3 || result == 7", prometheus).set), "(1, 3] ∪ [7, 7]");
    assert.equal(describeSet(complement(compare(">=", 2))), "(-∞, 2)");
    assert.equal(describeSet(union(compare("<", 2), compare(">=", 2))), "(-∞, ∞)");
    assert.equal(describeSet(intersect(compare("<", 2), compare(">", 2))), "no value");
  });
});
