/**
 * examples/pipeline: the Canary and MetricTemplate that express a pipeline's App Mesh canary
 * (percentage_step, wait_time, failure_threshold_value, failure_threshold_time) pass
 * validation with no error or warning and carry the pipeline's settings.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import type { Canary, MetricTemplate } from "../../../src/api/types.ts";
import { errorsOf, formatProblem, validateCanary, validateMetricTemplate, warningsOf } from "../../../src/api/validate.ts";

const docs = parseAllDocuments(readFileSync("examples/pipeline/canary.yaml", "utf8")).map((d) => d.toJS() as { kind: string });

describe("examples/pipeline", () => {
  const canary = docs.find((d) => d.kind === "Canary") as Canary;
  const template = docs.find((d) => d.kind === "MetricTemplate") as MetricTemplate;

  it("passes validation with no error or warning", () => {
    for (const problems of [validateCanary(canary), validateMetricTemplate(template)]) {
      assert.deepEqual([...errorsOf(problems), ...warningsOf(problems)].map(formatProblem), []);
    }
  });

  it("steps 10% every 60 s, allows no 5xx over a 600 s window, and rolls back on the first breach", () => {
    const a = canary.spec.analysis!;
    assert.deepEqual([a.stepWeight, a.maxWeight, a.interval, a.threshold], [10, 100, "60s", 1]);
    assert.deepEqual(a.metrics![0]!.thresholdRange, { max: 0 });
    assert.equal(template.spec.provider.window, "10m");
    assert.match(template.spec.query, /"period": 600,\s+"stat": "Sum"/);
  });
});
