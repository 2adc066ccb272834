import assert from "node:assert/strict";
import type { AnalysisResult, Canary, CanaryMetric, MetricTemplate } from "../../../src/api/types.ts";
import {
  countsAsFailedCheck,
  elideSecrets,
  evaluateMetric,
  formatNumber,
  runMetricChecks,
  summarizeAnalysis,
} from "../../../src/metrics/evaluate.ts";
import type { MetricCheckDeps } from "../../../src/metrics/evaluate.ts";
import { registryOf } from "../../../src/metrics/registry.ts";
import { TemplateError } from "../../../src/metrics/template.ts";
import type { MetricProvider, ProviderInit } from "../../../src/metrics/types.ts";
import { MultipleValuesError, NoValuesError, ProviderError } from "../../../src/metrics/types.ts";

const TIME = new Date("2025-01-01T00:00:00Z");
const sr: CanaryMetric = { name: "request-success-rate", interval: "1m", thresholdRange: { min: 99 } };
const dur: CanaryMetric = { name: "request-duration", interval: "30s", thresholdRange: { max: 500 } };

function verdictOf(metric: CanaryMetric, outcome: { value: number } | { error: unknown }, unit?: string): AnalysisResult {
  return evaluateMetric({ metric, outcome, unit, time: TIME, query: "q" });
}

describe("metrics/evaluate: verdicts", () => {
  it("fails below the minimum with the explainable sentence", () => {
    const r = verdictOf(sr, { value: 93.1 }, "%");
    assert.deepEqual(r, {
      name: "request-success-rate",
      kind: "metric",
      query: "q",
      value: 93.1,
      min: 99,
      verdict: "fail",
      message: "request-success-rate 93.1% < 99%",
      time: "2025-01-01T00:00:00.000Z",
    });
  });

  it("fails above the maximum", () => {
    const r = verdictOf(dur, { value: 612.4567 }, "ms");
    assert.equal(r.verdict, "fail");
    assert.equal(r.message, "request-duration 612.457ms > 500ms");
    assert.equal(r.max, 500);
  });

  it("passes inside the range and says against what", () => {
    assert.equal(verdictOf(sr, { value: 99.5 }, "%").message, "request-success-rate 99.5% >= 99%");
    assert.equal(verdictOf(dur, { value: 120 }, "ms").message, "request-duration 120ms <= 500ms");
    const both = verdictOf({ name: "cpu", thresholdRange: { min: 1, max: 10 } }, { value: 5 });
    assert.equal(both.verdict, "pass");
    assert.equal(both.message, "cpu 5 within [1, 10]");
    assert.equal(verdictOf(sr, { value: 99 }, "%").verdict, "pass", "the bound itself passes");
  });

  it("uses Flagger's legacy threshold", () => {
    assert.equal(verdictOf({ name: "request-success-rate", threshold: 99 }, { value: 98 }, "%").verdict, "fail");
    assert.equal(verdictOf({ name: "request-duration", threshold: 500 }, { value: 501 }, "ms").verdict, "fail");
  });

  it("never prints a failing value equal to its bound", () => {
    assert.equal(verdictOf(sr, { value: 98.99991 }, "%").message, "request-success-rate 98.99991% < 99%");
    assert.equal(formatNumber(0.1 + 0.2), "0.3");
  });

  it("applies onNoData", () => {
    const none = new NoValuesError("prometheus query returned an empty vector");
    const fail = verdictOf(sr, { error: none });
    assert.equal(fail.verdict, "nodata");
    assert.match(fail.message, /^no data for request-success-rate \(onNoData=fail\)/);
    assert.equal(fail.value, undefined);
    assert.equal(countsAsFailedCheck(fail), true);

    const pass = verdictOf({ ...sr, onNoData: "pass" }, { error: none });
    assert.equal(pass.verdict, "pass");
    assert.equal(countsAsFailedCheck(pass), false);

    const skip = verdictOf({ ...sr, onNoData: "skip" }, { error: none });
    assert.equal(skip.verdict, "skip");
    assert.equal(countsAsFailedCheck(skip), false);
  });

  it("makes provider, query and template problems an error verdict, not a failed check", () => {
    const errors = [
      new ProviderError("GET http://prometheus:9090/api/v1/query: connect ECONNREFUSED", { retryable: true }),
      new MultipleValuesError("prometheus query returned 3 series", 3),
      new TemplateError("variables.app", 'template variable "app" is not set'),
    ];
    for (const error of errors) {
      const r = verdictOf(sr, { error });
      assert.equal(r.verdict, "error");
      assert.ok(r.message.startsWith("request-success-rate: "), r.message);
      assert.ok(r.message.includes(error.message));
      assert.equal(countsAsFailedCheck(r), false);
    }
  });

  it("summarizes a round: errors halt, then failures count, no data has its own reason", () => {
    const pass = verdictOf(sr, { value: 100 }, "%");
    const fail = verdictOf(dur, { value: 900 }, "ms");
    const nodata = verdictOf(sr, { error: new NoValuesError("empty") });
    const error = verdictOf(dur, { error: new ProviderError("down", { retryable: true }) });
    assert.deepEqual(summarizeAnalysis([pass, fail, error]), { outcome: "error", reason: "MetricsProviderError", message: error.message });
    assert.deepEqual(summarizeAnalysis([pass, fail]), { outcome: "fail", reason: "MetricsFailed", message: "request-duration 900ms > 500ms" });
    assert.equal(summarizeAnalysis([pass, nodata]).reason, "NoData");
    assert.equal(summarizeAnalysis([pass]).outcome, "pass");
    assert.equal(summarizeAnalysis([]).outcome, "pass");
  });

  it("elides secret values from queries", () => {
    assert.equal(elideSecrets("key=abcd1234&x=1", { token: "abcd1234", short: "1" }), "key=***&x=1");
  });
});

// ---------------------------------------------------------------------------------------

function canary(metrics: CanaryMetric[], spec: Partial<Canary["spec"]> = {}): Canary {
  return {
    apiVersion: "aviary.dev/v1beta1",
    kind: "Canary",
    metadata: { name: "podinfo", namespace: "test" },
    spec: {
      targetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "podinfo" },
      service: { port: 9898 },
      metricsServer: "http://prometheus:9090",
      analysis: { interval: "1m", metrics },
      ...spec,
    },
  };
}

interface Call {
  init: ProviderInit;
  query: string;
}

/** A registry whose providers answer from `answer` and record what they were built with and asked. */
function fakeRegistry(answer: (query: string, init: ProviderInit, signal?: AbortSignal) => Promise<number>) {
  const calls: Call[] = [];
  const factory = (init: ProviderInit): MetricProvider => ({
    type: init.spec.type,
    runQuery: (query, opts) => {
      calls.push({ init, query });
      return answer(query, init, opts?.signal);
    },
  });
  return { registry: registryOf({ prometheus: factory, web: factory, cloudwatch: factory }), calls };
}

function template(name: string, spec: MetricTemplate["spec"]): MetricTemplate {
  return { apiVersion: "aviary.dev/v1beta1", kind: "MetricTemplate", metadata: { name, namespace: "test" }, spec };
}

function deps(registry: MetricCheckDeps["registry"], extra: Partial<MetricCheckDeps> = {}): MetricCheckDeps {
  const templates = new Map<string, MetricTemplate>();
  const secrets = new Map<string, Record<string, string>>();
  templates.set(
    "test/slo-api",
    template("slo-api", {
      provider: { type: "web", address: "https://slo.example/{{ namespace }}/{{ target }}", secretRef: { name: "slo-creds" }, body: '{"w":"{{ interval }}"}' } as MetricTemplate["spec"]["provider"],
      query: '$.services["{{ target }}"].apiKeyEcho',
    }),
  );
  templates.set("shared/error-count", template("error-count", {
    provider: { type: "cloudwatch", region: "eu-west-1" },
    query: '[{"Id":"e","MetricStat":{"Metric":{"Namespace":"App","MetricName":"5xx","Dimensions":[{"Name":"Service","Value":"{{ service }}"}]},"Period":{{ variables.failure_threshold_time }},"Stat":"Sum"}}]',
  }));
  secrets.set("test/slo-creds", { token: "tok-secret-9" });
  return {
    registry,
    getTemplate: async (ns, name) => templates.get(`${ns}/${name}`),
    getSecret: async (ns, name) => secrets.get(`${ns}/${name}`),
    now: () => TIME,
    ...extra,
  };
}

describe("metrics/evaluate: runMetricChecks", () => {
  it("runs built-ins against the canary's Prometheus with the router's rendered query", async () => {
    const { registry, calls } = fakeRegistry(async (q) => (q.includes("histogram_quantile") ? 210 : 99.9));
    const results = await runMetricChecks(canary([sr, dur], { provider: "istio" }), deps(registry));
    assert.deepEqual(results.map((r) => [r.verdict, r.message]), [
      ["pass", "request-success-rate 99.9% >= 99%"],
      ["pass", "request-duration 210ms <= 500ms"],
    ]);
    assert.equal(calls[0]!.init.spec.address, "http://prometheus:9090");
    assert.equal(calls[0]!.init.intervalMs, 60_000);
    assert.match(calls[0]!.query, /istio_requests_total\{reporter="destination", destination_workload_namespace="test", destination_workload="podinfo"/);
    assert.match(calls[1]!.query, /\[30s\]/);
    assert.equal(results[0]!.query, calls[0]!.query);
  });

  it("renders skipper built-ins with the names in Skipper's spelling", async () => {
    const { registry, calls } = fakeRegistry(async () => 100);
    const c = canary([sr], { provider: "skipper" });
    c.metadata.namespace = "team-a";
    c.spec.ingressRef = { name: "web.front" };
    await runMetricChecks(c, deps(registry));
    assert.match(calls[0]!.query, /route=~"kube\(ew\)\?_team_a__web_front_canary__\.\*__podinfo_canary\(_\[0-9\]\+\)\?"/);
  });

  it("falls back to the controller's default metrics server, and errors without any", async () => {
    const { registry, calls } = fakeRegistry(async () => 100);
    await runMetricChecks(canary([sr], { metricsServer: "" }), deps(registry, { defaultMetricsServer: "http://prom.monitoring:9090" }));
    assert.equal(calls[0]!.init.spec.address, "http://prom.monitoring:9090");
    const [r] = await runMetricChecks(canary([sr], { metricsServer: undefined }), deps(registry));
    assert.equal(r!.verdict, "error");
    assert.match(r!.message, /set spec\.metricsServer/);
  });

  it("runs an inline query as PromQL, rendered", async () => {
    const { registry, calls } = fakeRegistry(async () => 2);
    const [r] = await runMetricChecks(
      canary([{ name: "queue", query: 'max(queue_depth{ns="{{ namespace }}"})', thresholdRange: { max: 5 } }]),
      deps(registry),
    );
    assert.equal(calls[0]!.query, 'max(queue_depth{ns="test"})');
    assert.equal(r!.verdict, "pass");
  });

  it("resolves a templateRef with its secret, renders the request, and elides the secret from status", async () => {
    const { registry, calls } = fakeRegistry(async () => 42);
    const metric: CanaryMetric = { name: "slo", templateRef: { name: "slo-api" }, thresholdRange: { min: 40 } };
    const [r] = await runMetricChecks(canary([metric], { targetRef: { name: "tok-secret-9" } }), deps(registry));
    const call = calls[0]!;
    assert.equal(call.init.spec.type, "web");
    assert.equal(call.init.spec.address, "https://slo.example/test/tok-secret-9");
    assert.equal(call.init.spec.body, '{"w":"1m"}');
    assert.deepEqual(call.init.secret, { token: "tok-secret-9" });
    assert.equal(call.query, '$.services["tok-secret-9"].apiKeyEcho');
    assert.equal(r!.query, '$.services["***"].apiKeyEcho');
    assert.equal(r!.message, "slo 42 >= 40");
  });

  it("renders template variables, and names a missing one", async () => {
    const { registry, calls } = fakeRegistry(async () => 3);
    const ok: CanaryMetric = {
      name: "5xx",
      templateRef: { name: "error-count", namespace: "shared" },
      templateVariables: { failure_threshold_time: "300" },
      thresholdRange: { max: 5 },
    };
    const [r1] = await runMetricChecks(canary([ok]), deps(registry));
    assert.equal(r1!.verdict, "pass");
    assert.match(calls[0]!.query, /"Period":300/);
    assert.match(calls[0]!.query, /"Value":"podinfo"/);

    const [r2] = await runMetricChecks(canary([{ ...ok, templateVariables: {} }]), deps(registry));
    assert.equal(r2!.verdict, "error");
    assert.match(r2!.message, /template variable "failure_threshold_time" is not set/);
    assert.equal(calls.length, 1, "nothing queried with a broken template");
  });

  it("reports a missing template or secret by name", async () => {
    const { registry } = fakeRegistry(async () => 1);
    const [r1] = await runMetricChecks(canary([{ name: "x", templateRef: { name: "nope" } }]), deps(registry));
    assert.equal(r1!.verdict, "error");
    assert.match(r1!.message, /MetricTemplate test\/nope not found/);
    const d = deps(registry, { getSecret: async () => undefined });
    const [r2] = await runMetricChecks(canary([{ name: "slo", templateRef: { name: "slo-api" } }]), d);
    assert.match(r2!.message, /Secret test\/slo-creds of MetricTemplate test\/slo-api not found/);
  });

  it("turns no data, provider errors and unknown metric names into verdicts, keeping order", async () => {
    const { registry } = fakeRegistry(async (q) => {
      if (q.includes("histogram_quantile")) throw new ProviderError("connect ECONNREFUSED", { retryable: true });
      throw new NoValuesError("prometheus query returned an empty vector");
    });
    const results = await runMetricChecks(canary([sr, dur, { name: "mystery" }]), deps(registry));
    assert.deepEqual(results.map((r) => [r.name, r.verdict]), [
      ["request-success-rate", "nodata"],
      ["request-duration", "error"],
      ["mystery", "error"],
    ]);
    assert.match(results[2]!.message, /not a built-in/);
  });

  it("times out each metric on its own and runs them in parallel", async () => {
    const { registry } = fakeRegistry((q, _init, signal) =>
      q.includes("histogram_quantile")
        ? new Promise<number>(() => undefined) // ignores its signal: the check must still end
        : new Promise<number>((resolve, reject) => {
            const t = setTimeout(() => resolve(100), 50);
            signal?.addEventListener("abort", () => (clearTimeout(t), reject(new Error("aborted"))));
          }),
    );
    const started = Date.now();
    const results = await runMetricChecks(canary([sr, dur]), deps(registry, { timeoutMs: 200 }));
    const took = Date.now() - started;
    assert.equal(results[0]!.verdict, "pass");
    assert.equal(results[1]!.verdict, "error");
    assert.match(results[1]!.message, /timed out after 200ms/);
    assert.ok(took < 1000, `took ${took}ms`);
  });

  it("stops when the caller aborts", async () => {
    const { registry } = fakeRegistry(() => new Promise<number>(() => undefined));
    const ctrl = new AbortController();
    setTimeout(() => ctrl.abort(), 30);
    const [r] = await runMetricChecks(canary([sr]), deps(registry, { timeoutMs: 10_000 }), ctrl.signal);
    assert.equal(r!.verdict, "error");
    assert.match(r!.message, /aborted/);
  });

  it("returns nothing for a canary without metrics", async () => {
    const { registry } = fakeRegistry(async () => 1);
    assert.deepEqual(await runMetricChecks(canary([], { analysis: undefined }), deps(registry)), []);
  });
});
