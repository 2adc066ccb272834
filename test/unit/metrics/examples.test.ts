/**
 * The MetricTemplate examples: each passes aviary's validation with no error or warning,
 * names a registered provider that builds from the example's Secret, and its query
 * renders for a sample canary. (test/integration/metrics/examples.test.ts checks them
 * against the CRD's schema on a real API server.)
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import type { MetricTemplate } from "../../../src/api/types.ts";
import { errorsOf, formatProblem, validateMetricTemplate, warningsOf } from "../../../src/api/validate.ts";
import type { KubeObject } from "../../../src/kube/types.ts";
import { createMetricProviderRegistry } from "../../../src/metrics/registry.ts";
import { renderTemplate } from "../../../src/metrics/template.ts";
import type { MetricProviderSpec } from "../../../src/metrics/types.ts";
import { memoryClient } from "../kube/fake-client.ts";

const DIR = "examples/metric-templates";

describe("examples/metric-templates", () => {
  const registry = createMetricProviderRegistry({ kube: memoryClient(), externalMetrics: { list: async () => ({ items: [] }) } });
  const files = readdirSync(DIR).filter((f) => f.endsWith(".yaml"));

  it("covers graphite, influxdb, dynatrace, splunk, stackdriver, keptn and externalmetrics", () => {
    assert.deepEqual(files.map((f) => f.replace(/\.yaml$/, "")).sort(), ["dynatrace", "externalmetrics", "graphite", "influxdb", "keptn", "splunk", "stackdriver"]);
  });

  for (const file of files) {
    it(`${file}: valid, buildable, and renders`, () => {
      const docs = parseAllDocuments(readFileSync(`${DIR}/${file}`, "utf8")).map((d) => d.toJS() as KubeObject);
      const secrets = new Map(docs.filter((d) => d.kind === "Secret").map((d) => [d.metadata.name, (d as { stringData?: Record<string, string> }).stringData ?? {}]));
      const templates = docs.filter((d): d is MetricTemplate & KubeObject => d.kind === "MetricTemplate");
      assert.ok(templates.length > 0);
      for (const t of templates) {
        const problems = validateMetricTemplate(t);
        assert.deepEqual([...errorsOf(problems), ...warningsOf(problems)].map(formatProblem), [], t.metadata.name);
        const spec = t.spec.provider as MetricProviderSpec;
        const secret = spec.secretRef ? secrets.get(spec.secretRef.name) : {};
        assert.ok(secret, `${t.metadata.name}: the Secret ${spec.secretRef?.name} is in the same file`);
        assert.equal(registry.create({ spec, secret, intervalMs: 60_000 }).type, spec.type);
        const query = renderTemplate(t.spec.query, {
          name: "podinfo",
          namespace: "test",
          target: "podinfo",
          service: "podinfo",
          interval: "1m",
          variables: { service: "SERVICE-ABCDEFG0123456789" },
        });
        assert.doesNotMatch(query, /\{\{|\}\}/, `${t.metadata.name}: ${query}`);
      }
    });
  }
});
