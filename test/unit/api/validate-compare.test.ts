import assert from "node:assert/strict";
import { errorsOf, formatProblem, validateCanary, validateMetricTemplate, warningsOf } from "../../../src/api/validate.ts";
import type { Canary, CanaryMetric, MetricTemplate } from "../../../src/api/types.ts";
import { appMeshCanary } from "./fixtures.ts";

const withMetrics = (metrics: unknown[]): Canary => {
  const c = appMeshCanary();
  c.spec.analysis!.metrics = metrics as CanaryMetric[];
  return c;
};
const errors = (obj: unknown) => errorsOf(validateCanary(obj)).map(formatProblem);
const warnings = (obj: unknown) => warningsOf(validateCanary(obj)).map(formatProblem);

describe("validation of a metric's compare", () => {
  it("accepts compare on a built-in, alone or beside a thresholdRange, without the 'never fails' warning", () => {
    const c = withMetrics([
      { name: "request-success-rate", compare: { tolerance: 1.2, confidence: 0.99, minRequests: 100 } },
      { name: "request-duration", thresholdRange: { max: 500 }, compare: {} },
    ]);
    assert.deepEqual(errors(c), []);
    assert.deepEqual(warnings(c).filter((w) => w.includes("metrics")), []);
  });

  it("names the field and the rule of each bad setting", () => {
    const c = withMetrics([{ name: "request-success-rate", compare: { tolerance: 0.5, confidence: 1, minRequests: -1, extra: 1 } }]);
    assert.deepEqual(errors(c), [
      "spec.analysis.metrics[0].compare.tolerance: must be a number ≥ 1",
      "spec.analysis.metrics[0].compare.confidence: must be a number between 0.5 and 0.9999",
      "spec.analysis.metrics[0].compare.minRequests: must be an integer ≥ 0",
    ]);
    assert.ok(warnings(c).some((w) => w.startsWith("spec.analysis.metrics[0].compare.extra: is not a field of compare")));
  });

  it("rejects compare that is not an object, and on an inline query whose arms cannot be told apart", () => {
    assert.deepEqual(errors(withMetrics([{ name: "request-success-rate", compare: "yes" }])), ["spec.analysis.metrics[0].compare: must be an object"]);
    const inline = errors(withMetrics([{ name: "custom", query: "sum(up)", thresholdRange: { min: 1 }, compare: {} }]));
    assert.equal(inline.length, 1);
    assert.match(inline[0]!, /^spec\.analysis\.metrics\[0\]\.compare: needs a built-in metric/);
  });

  it("accepts compare on a templateRef metric", () => {
    assert.deepEqual(errors(withMetrics([{ name: "errors", templateRef: { name: "t" }, compare: { tolerance: 2 } }])), []);
  });
});

describe("validation of a MetricTemplate's compare", () => {
  const template = (compare: unknown): MetricTemplate =>
    ({
      apiVersion: "aviary.dev/v1beta1",
      kind: "MetricTemplate",
      metadata: { name: "t", namespace: "test" },
      spec: { provider: { type: "prometheus", address: "http://prometheus:9090" }, query: "sum(up)", compare },
    }) as MetricTemplate;

  it("accepts the per-arm variables in bad and total", () => {
    const t = template({
      bad: `sum(increase(http_requests_total{pod=~"{{ workload }}-.*", status=~"5.."}[{{ window }}] @ {{ windowEnd }}))`,
      total: `sum(increase(http_requests_total{pod=~"{{ workload }}-.*", arm="{{ arm }}", primary="{{ primary }}"}[{{ window }}] @ {{ windowEnd }}))`,
    });
    assert.deepEqual(errorsOf(validateMetricTemplate(t)).map(formatProblem), []);
  });

  it("requires both queries and names unknown variables", () => {
    const problems = errorsOf(validateMetricTemplate(template({ bad: "sum({{ nope }})" }))).map(formatProblem);
    assert.equal(problems.length, 2);
    assert.match(problems[0]!, /^spec\.compare\.bad: uses \{\{ nope \}\}, which is not a template variable/);
    assert.equal(problems[1], "spec.compare.total: is required");
  });

  it("keeps the per-arm variables out of the main query", () => {
    const t = template(undefined);
    t.spec.query = "sum(x{w=\"{{ workload }}\"})";
    assert.match(errorsOf(validateMetricTemplate(t)).map(formatProblem)[0]!, /^spec\.query: uses \{\{ workload \}\}/);
  });
});
