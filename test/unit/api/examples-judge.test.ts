import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { formatProblem, validateCanary, validateMetricTemplate } from "../../../src/api/validate.ts";
import type { Canary } from "../../../src/api/types.ts";

describe("examples/judge", () => {
  it("the Canary and its MetricTemplates (Prometheus and CloudWatch) pass validation without a problem, and every metric is compared", () => {
    const canary = parse(readFileSync("examples/judge/canary.yaml", "utf8")) as Canary;
    assert.deepEqual(validateCanary(canary).map(formatProblem), []);
    assert.ok(canary.spec.analysis!.metrics!.every((m) => m.compare !== undefined));
    for (const file of ["metric-template.yaml", "cloudwatch-template.yaml"]) {
      const template: unknown = parse(readFileSync(`examples/judge/${file}`, "utf8"));
      assert.deepEqual(validateMetricTemplate(template).map(formatProblem), [], file);
    }
  });
});
