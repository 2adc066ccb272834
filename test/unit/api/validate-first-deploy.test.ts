import assert from "node:assert/strict";
import { errorsOf, formatProblem, validateCanary, warningsOf } from "../../../src/api/validate.ts";
import { edits } from "./edit.ts";
import { istioCanary } from "./fixtures.ts";

const errors = (obj: unknown): string[] => errorsOf(validateCanary(obj)).map(formatProblem);
const warnings = (obj: unknown): string[] => warningsOf(validateCanary(obj)).map(formatProblem);

describe("validate: spec.analysis.firstDeploy", () => {
  it("accepts true and false; a Flagger manifest without it is unchanged", () => {
    for (const value of [true, false]) assert.deepEqual(errors(edits(istioCanary(), { "spec.analysis.firstDeploy": value })), []);
    assert.deepEqual(warnings(istioCanary()).filter((w) => w.includes("firstDeploy")), []);
  });

  it("must be a boolean", () => {
    assert.deepEqual(errors(edits(istioCanary(), { "spec.analysis.firstDeploy": "yes" })), ["spec.analysis.firstDeploy: must be true or false"]);
  });

  it("warns when skipAnalysis makes it meaningless", () => {
    const doc = edits(istioCanary(), { "spec.analysis.firstDeploy": true, "spec.skipAnalysis": true });
    assert.ok(warnings(doc).some((w) => w.startsWith("spec.analysis.firstDeploy: is ignored when skipAnalysis is true")), warnings(doc).join("\n"));
  });

  it("warns when there is nothing to check", () => {
    const doc = edits(istioCanary(), { "spec.analysis.firstDeploy": true, "spec.analysis.metrics": [], "spec.analysis.webhooks": [] });
    assert.ok(warnings(doc).some((w) => w.startsWith("spec.analysis.firstDeploy: has nothing to check")), warnings(doc).join("\n"));
  });
});
