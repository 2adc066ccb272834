/**
 * The setups of examples/argo/ converted end to end: the checked-in output is exactly what
 * the converter writes today (so the examples never drift), and it says what each setup needs.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "mocha";
import { parseAllDocuments } from "yaml";
import { errorsOf, validateCanary, validateMetricTemplate } from "../../../src/api/validate.ts";
import { convert } from "../../../src/convert/convert.ts";
import { toYaml } from "../../../src/convert/emit.ts";
import { formatReport } from "../../../src/convert/report.ts";
import type { Loose } from "./helpers.ts";

const dir = (setup: string) => new URL(`../../../examples/argo/${setup}/`, import.meta.url);
const read = (setup: string, file: string) => readFileSync(new URL(file, dir(setup)), "utf8");
const REGENERATE = (setup: string) =>
  `regenerate with: node src/cli/main.ts convert examples/argo/${setup}/argo.yaml --allow-lossy > examples/argo/${setup}/aviary.yaml 2> examples/argo/${setup}/report.txt`;

function converted(setup: string) {
  const c = convert([{ name: "argo.yaml", text: read(setup, "argo.yaml") }]);
  const objects = parseAllDocuments(toYaml(c.outputs)).map((d) => d.toJS() as Loose);
  const find = (kind: string, name?: string) => {
    const o = objects.find((x) => x.kind === kind && (name === undefined || x.metadata.name === name));
    assert.ok(o, `${kind}/${name ?? "*"} in the output`);
    return o;
  };
  return { c, objects, find };
}

const cloudwatchStep = (step: string, index: number, kind: "strict" | "sustained") => ({
  name: kind === "strict" ? `success-percent-step-${index}` : `success-percent-sustained-step-${index}`,
  templateRef: { name: "synthetics-step-success-percent" },
  templateVariables: { "canary-name": "checkout-synthetics", "step-name": step },
  interval: "1m",
  initialDelay: "3m",
  count: kind === "strict" ? 3 : 10,
  thresholdRange: kind === "strict" ? { min: 100, max: 100 } : { min: 80 },
  failureLimit: kind === "strict" ? 1 : 10,
  consecutiveErrorLimit: 4,
  steps: [index],
});

const SETUPS = ["gatewayapi-lattice", "nginx", "alb"];

describe("convert: examples/argo", () => {
  for (const setup of SETUPS) {
    it(`${setup}: the checked-in output is what the converter writes`, () => {
      const c = convert([{ name: "argo.yaml", text: read(setup, "argo.yaml") }]);
      assert.equal(toYaml(c.outputs), read(setup, "aviary.yaml"), REGENERATE(setup));
      assert.equal(formatReport(c.report.entries), read(setup, "report.txt"), REGENERATE(setup));
    });
  }

  it("gatewayapi-lattice: five weights held 3m each, two CloudWatch checks per step, the Deployment's replicas restored", () => {
    const { c, objects, find } = converted("gatewayapi-lattice");
    assert.deepEqual(
      objects.map((o) => `${o.kind}/${o.metadata.name}`),
      ["Deployment/checkout", "MetricTemplate/synthetics-step-success-percent", "Canary/checkout"],
    );
    assert.equal(find("Deployment").spec.replicas, 4);
    const template = find("MetricTemplate").spec;
    assert.deepEqual(template.provider, { type: "cloudwatch" });
    const query = JSON.parse(template.query);
    assert.deepEqual(query[0].metricStat.metric.dimensions, [
      { name: "CanaryName", value: "{{ variables.canary-name }}" },
      { name: "StepName", value: "{{ variables.step-name }}" },
    ]);
    const canary = find("Canary");
    assert.equal(canary.apiVersion, "aviary.dev/v1beta1");
    assert.deepEqual(canary.spec.provider, "gatewayapi");
    assert.deepEqual(canary.spec.service, {
      name: "checkout",
      port: 80,
      targetPort: 8080,
      portName: "http",
      gatewayRefs: [{ name: "shop-network", namespace: "lattice-gateways", sectionName: "http" }],
      hosts: ["checkout.shop.internal"],
    });
    assert.deepEqual(canary.spec.analysis.interval, "1m");
    assert.deepEqual(canary.spec.analysis.steps, [20, 40, 60, 80, 100].map((weight) => ({ weight, pause: "3m" })));
    assert.deepEqual(
      canary.spec.analysis.metrics,
      ["weight-20", "weight-40", "weight-60", "weight-80", "weight-100"].flatMap((step, i) => [cloudwatchStep(step, i, "strict"), cloudwatchStep(step, i, "sustained")]),
    );
    // The Jobs that start and stop the synthetic canary are reported with what replaces them.
    const lossy = c.report.entries.filter((e) => e.severity === "lossy").map((e) => `${e.object} ${e.field}`);
    assert.deepEqual(lossy, [
      "AnalysisTemplate/synthetics-start spec.metrics[0].provider.job",
      "AnalysisTemplate/synthetics-stop spec.metrics[0].provider.job",
      "Rollout/checkout spec.strategy.canary.steps[0].analysis",
      "Rollout/checkout spec.strategy.canary.steps[16].analysis",
    ]);
    assert.match(c.report.entries.find((e) => e.field === "spec.strategy.canary.steps[0].analysis")!.message, /pre-rollout webhook/);
    assert.match(c.report.entries.find((e) => e.field === "spec.strategy.canary.steps[16].analysis")!.message, /post-rollout webhook/);
  });

  it("nginx: 10 → 25 → 50 → 75 → 100 with the Argo pauses, background Prometheus checks from the first pause", () => {
    const { c, objects, find } = converted("nginx");
    assert.deepEqual(
      objects.map((o) => `${o.kind}/${o.metadata.name}`),
      ["Deployment/storefront", "Ingress/storefront", "MetricTemplate/success-rate", "MetricTemplate/latency-p99", "Canary/storefront"],
    );
    assert.equal(find("Ingress").spec.rules[0].http.paths[0].backend.service.name, "storefront");
    const canary = find("Canary");
    assert.equal(canary.spec.provider, "nginx");
    assert.deepEqual(canary.spec.ingressRef, { apiVersion: "networking.k8s.io/v1", kind: "Ingress", name: "storefront" });
    assert.deepEqual(canary.spec.analysis.steps, [
      { weight: 10, pause: "30s" },
      { weight: 25, pause: "1m" },
      { weight: 50, pause: "1m" },
      { weight: 75, pause: "30s" },
      { weight: 100, pause: "0s" },
    ]);
    assert.equal(canary.spec.analysis.interval, "30s");
    const common = { templateVariables: { service: "storefront-canary" }, interval: "30s", failureLimit: 1, consecutiveErrorLimit: 4, fromStep: 0 };
    assert.deepEqual(canary.spec.analysis.metrics, [
      { name: "success-rate", templateRef: { name: "success-rate" }, ...common, thresholdRange: { min: 95 } },
      { name: "latency-p99", templateRef: { name: "latency-p99" }, ...common, thresholdRange: { max: 500 } },
    ]);
    assert.equal(find("MetricTemplate", "success-rate").spec.provider.address, "http://prometheus.monitoring:9090");
    assert.equal(c.report.isLossy, false);
    assert.ok(c.report.entries.some((e) => e.severity === "changed" && e.field === "spec.metrics[0].successCondition" && /exactly 500/.test(e.message)));
  });

  it("alb: provider alb on the same Ingress, its rule renamed to the apex Service, Argo's runtime annotations dropped", () => {
    const { c, objects, find } = converted("alb");
    assert.deepEqual(
      objects.map((o) => `${o.kind}/${o.metadata.name}`),
      ["Deployment/checkout", "Ingress/checkout", "MetricTemplate/target-5xx", "Canary/checkout"],
    );
    const ingress = find("Ingress");
    assert.deepEqual(ingress.spec.rules[0].http.paths[0].backend, { service: { name: "checkout", port: { name: "use-annotation" } } });
    assert.deepEqual(ingress.metadata.annotations, { "alb.ingress.kubernetes.io/scheme": "internet-facing", "alb.ingress.kubernetes.io/target-type": "ip" });
    const canary = find("Canary");
    assert.equal(canary.spec.provider, "alb");
    assert.deepEqual(canary.spec.ingressRef, { apiVersion: "networking.k8s.io/v1", kind: "Ingress", name: "checkout" });
    assert.deepEqual(canary.spec.service, { name: "checkout", port: 80, targetPort: "http", portName: "http" });
    assert.deepEqual(canary.spec.analysis.steps, [{ weight: 20, pause: "5m" }, { weight: 50, pause: "5m" }, { weight: 100, pause: "0s" }]);
    assert.deepEqual(canary.spec.analysis.metrics.map((m: Loose) => [m.name, m.thresholdRange, m.steps]), [["target-5xx", { max: 5 }, [0, 1]]]);
    assert.equal(c.report.isLossy, false);
  });

  it("writes MetricTemplates and Canaries aviary's validation accepts, the step schedule included", () => {
    for (const setup of SETUPS) {
      const { objects } = converted(setup);
      for (const t of objects.filter((o) => o.kind === "MetricTemplate")) assert.deepEqual(errorsOf(validateMetricTemplate(t)), [], `${setup} ${t.metadata.name}`);
      for (const c of objects.filter((o) => o.kind === "Canary")) assert.deepEqual(errorsOf(validateCanary(c)), [], setup);
    }
  });

  it("every report line names its source object and, unless it is about the whole object, the field", () => {
    for (const setup of SETUPS) {
      const lines = read(setup, "report.txt").split("\n").filter((l) => l.startsWith("  "));
      assert.ok(lines.length > 0);
      for (const line of lines) assert.match(line, /^ {2}(Rollout|AnalysisTemplate|Deployment|Ingress|HTTPRoute|Service)\/[a-z0-9-]+( (spec|metadata)(\.[A-Za-z]+|\[\d+\]|\["[^"]+"\])*)?: \S/, `${setup}: ${line}`);
    }
  });
});
