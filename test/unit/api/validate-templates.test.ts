import assert from "node:assert/strict";
import { errorsOf, formatProblem, validateAlertProvider, validateMetricTemplate, warningsOf } from "../../../src/api/validate.ts";
import type { AlertProvider, MetricTemplate } from "../../../src/api/types.ts";
import { METRIC_PROVIDER_TYPES } from "../../../src/api/types.ts";
import { edits } from "./edit.ts";

const errors = (problems: ReturnType<typeof validateMetricTemplate>): string[] => errorsOf(problems).map(formatProblem);
const warnings = (problems: ReturnType<typeof validateMetricTemplate>): string[] => warningsOf(problems).map(formatProblem);

const prometheusTemplate = (): MetricTemplate => ({
  apiVersion: "aviary.dev/v1beta1",
  kind: "MetricTemplate",
  metadata: { name: "not-found-percentage", namespace: "istio-system" },
  spec: {
    provider: { type: "prometheus", address: "http://prometheus.istio-system:9090" },
    query: `100 - sum(rate(istio_requests_total{reporter="{{ variables.reporter }}", destination_workload_namespace="{{ namespace }}", destination_workload="{{ target }}", response_code!="404"}[{{ interval }}])) / sum(rate(istio_requests_total{destination_workload_namespace="{{ namespace }}", destination_workload="{{ target }}"}[{{ interval }}])) * 100`,
  },
});

const cloudwatchTemplate = (): MetricTemplate => ({
  apiVersion: "aviary.dev/v1beta1",
  kind: "MetricTemplate",
  metadata: { name: "cloudwatch-error-rate", namespace: "test" },
  spec: {
    provider: { type: "cloudwatch", region: "ap-northeast-1" },
    query: JSON.stringify([
      { Id: "e1", Expression: "m1 / m2", Label: "ErrorRate" },
      { Id: "m1", MetricStat: { Metric: { Namespace: "MyKindOfApp", MetricName: "ErrorCount", Dimensions: [{ Name: "app", Value: "{{ target }}" }] }, Period: 60, Stat: "Sum" }, ReturnData: false },
    ]),
  },
});

const datadogTemplate = (): MetricTemplate => ({
  apiVersion: "aviary.dev/v1beta1",
  kind: "MetricTemplate",
  metadata: { name: "latency", namespace: "test" },
  spec: {
    provider: { type: "datadog", address: "https://api.datadoghq.eu", secretRef: { name: "datadog" } },
    query: "avg:trace.http.request.duration{service:{{ target }}}",
  },
});

const slack = (): AlertProvider => ({
  apiVersion: "aviary.dev/v1beta1",
  kind: "AlertProvider",
  metadata: { name: "on-call", namespace: "flagger" },
  spec: { type: "slack", channel: "on-call-alerts", username: "aviary", secretRef: { name: "on-call-url" } },
});

describe("validateMetricTemplate", () => {
  it("accepts Flagger-shaped templates", () => {
    for (const t of [prometheusTemplate(), cloudwatchTemplate(), datadogTemplate()]) {
      assert.deepEqual(validateMetricTemplate(t).map(formatProblem), [], t.metadata.name);
    }
    const web = edits(prometheusTemplate(), { "spec.provider": { type: "web", address: "https://status.example.com/api" }, "spec.query": "$.latency.p99" });
    assert.deepEqual(validateMetricTemplate(web), []);
  });

  const invalid: Array<[string, () => MetricTemplate, Record<string, unknown>, string[]]> = [
    ["unknown provider type", prometheusTemplate, { "spec.provider.type": "skywalking" }, [`spec.provider.type: must be one of: ${METRIC_PROVIDER_TYPES.join(", ")}`]],
    ["prometheus without an address", prometheusTemplate, { "spec.provider.address": undefined }, ["spec.provider.address: is required"]],
    ["web without an address", prometheusTemplate, { "spec.provider": { type: "web" } }, ["spec.provider.address: is required"]],
    ["address that is not a URL", prometheusTemplate, { "spec.provider.address": "prometheus:9090" }, ["spec.provider.address: must be an http or https URL"]],
    ["missing query", prometheusTemplate, { "spec.query": undefined }, ["spec.query: is required"]],
    ["empty query", prometheusTemplate, { "spec.query": "" }, ["spec.query: must not be empty"]],
    ["missing provider", prometheusTemplate, { "spec.provider": undefined }, ["spec.provider: is required"]],
    ["datadog without credentials", datadogTemplate, { "spec.provider.secretRef": undefined }, ["spec.provider.secretRef: is required"]],
    ["secretRef without a name", datadogTemplate, { "spec.provider.secretRef": {} }, ["spec.provider.secretRef.name: is required"]],
    ["unbalanced braces", prometheusTemplate, { "spec.query": "up{namespace=\"{{ namespace \"}" }, ["spec.query: has a {{ without a matching }}"]],
    [
      "unknown template variable",
      prometheusTemplate,
      { "spec.query": "up{pod=\"{{ pod }}\"}" },
      ["spec.query: uses {{ pod }}, which is not a template variable (use name, namespace, target, service, ingress, interval or variables.<name>)"],
    ],
    ["cloudwatch query that is not JSON", cloudwatchTemplate, { "spec.query": "SELECT AVG(CPUUtilization)" }, ["spec.query: must be a JSON list of CloudWatch MetricDataQueries for provider cloudwatch"]],
    ["empty region", cloudwatchTemplate, { "spec.provider.region": "" }, ["spec.provider.region: must not be empty"]],
    ["insecureSkipVerify as a string", prometheusTemplate, { "spec.provider.insecureSkipVerify": "true" }, ["spec.provider.insecureSkipVerify: must be true or false"]],
    ["wrong kind", prometheusTemplate, { kind: "Canary" }, ["kind: must be MetricTemplate"]],
  ];
  for (const [name, base, changes, expected] of invalid) {
    it(`rejects ${name}`, () => {
      assert.deepEqual(errors(validateMetricTemplate(edits(base(), changes))), expected);
    });
  }

  it("accepts compact CloudWatch JSON, whose nested objects end in }}", () => {
    const compact = '[{"id":"e","returnData":true,"metricStat":{"period":60,"stat":"Sum","metric":{"namespace":"AWS/ApplicationELB","metricName":"HTTPCode_Target_5XX_Count","dimensions":[{"name":"LoadBalancer","value":"{{ variables.lb }}"}]}}}]';
    assert.deepEqual(errors(validateMetricTemplate(edits(cloudwatchTemplate(), { "spec.query": compact }))), []);
  });

  it("accepts Go template constructs Flagger renders: trim markers, comments, printf pipelines, {{ name }}", () => {
    const query = '{{- /* canary only */ -}} up{app="{{ target | printf "%s-canary" }}", id="{{ name }}.{{ namespace }}", x="{{ index variables "x" }}"}';
    assert.deepEqual(errors(validateMetricTemplate(edits(prometheusTemplate(), { "spec.query": query }))), []);
  });

  it("rejects template data references and unsupported actions, naming them", () => {
    assert.deepEqual(errors(validateMetricTemplate(edits(prometheusTemplate(), { "spec.query": "up{ns=\"{{ .Namespace }}\"}" }))), [
      "spec.query: uses {{ .Namespace }}, which is not a template variable (use name, namespace, target, service, ingress, interval or variables.<name>)",
    ]);
    assert.deepEqual(errors(validateMetricTemplate(edits(prometheusTemplate(), { "spec.query": "{{ if true }}up{{ end }}" }))), [
      "spec.query: is not a valid template: {{ if }} actions are not supported in query templates (at character 3)",
    ]);
  });

  it("warns when a region is set for a provider that ignores it", () => {
    const t = edits(prometheusTemplate(), { "spec.provider.region": "eu-west-1" });
    assert.deepEqual(errors(validateMetricTemplate(t)), []);
    assert.deepEqual(warnings(validateMetricTemplate(t)), ["spec.provider.region: is only used by provider cloudwatch"]);
  });

  it("rejects non-objects without throwing", () => {
    for (const v of [null, 1, "x", []]) assert.deepEqual(errors(validateMetricTemplate(v)), ["must be a MetricTemplate object"]);
    assert.deepEqual(errors(validateMetricTemplate({ spec: { provider: "prometheus", query: 5 } })), ["spec.provider: must be an object", "spec.query: must be a string"]);
  });
});

describe("validateAlertProvider", () => {
  it("accepts an address or a secretRef", () => {
    assert.deepEqual(validateAlertProvider(slack()), []);
    assert.deepEqual(validateAlertProvider(edits(slack(), { "spec.secretRef": undefined, "spec.address": "https://hooks.slack.com/services/T/B/X" })), []);
    for (const type of ["msteams", "discord", "webhook"]) assert.deepEqual(validateAlertProvider(edits(slack(), { "spec.type": type })), []);
  });

  const invalid: Array<[string, Record<string, unknown>, string[]]> = [
    ["unknown type", { "spec.type": "pagerduty" }, ["spec.type: must be one of: slack, msteams, discord, webhook"]],
    ["missing type", { "spec.type": undefined }, ["spec.type: is required"]],
    ["neither address nor secretRef", { "spec.secretRef": undefined }, ["spec.address: is required unless secretRef names a Secret with an address key"]],
    ["address that is not a URL", { "spec.address": "hooks.slack.com" }, ["spec.address: must be an http or https URL"]],
    ["proxy that is not a URL", { "spec.proxy": "socks" }, ["spec.proxy: must be an http or https URL"]],
    ["secretRef without a name", { "spec.secretRef": { key: "address" } }, ["spec.secretRef.name: is required"]],
    ["channel of the wrong type", { "spec.channel": ["a"] }, ["spec.channel: must be a string"]],
  ];
  for (const [name, changes, expected] of invalid) {
    it(`rejects ${name}`, () => {
      assert.deepEqual(errors(validateAlertProvider(edits(slack(), changes))), expected);
    });
  }

  it("rejects non-objects without throwing", () => {
    for (const v of [null, 1, "x", []]) assert.deepEqual(errors(validateAlertProvider(v)), ["must be an AlertProvider object"]);
  });
});
