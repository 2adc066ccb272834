import assert from "node:assert/strict";
import { describe, it } from "mocha";
import { analysisTemplate, canarySpec, convertYaml, entryAt, output, promMetric, rollout, yamlOf } from "./helpers.ts";
import type { Loose } from "./helpers.ts";

const T = "AnalysisTemplate/rate";

/** A Rollout with one background analysis of template `rate` holding `metrics`. */
function withMetrics(metrics: unknown[], args: unknown[] = [{ name: "service", value: "shop-canary" }], templateArgs: unknown[] = [{ name: "service" }]) {
  return convertYaml(
    yamlOf(rollout({ steps: [{ setWeight: 50 }], analysis: { templates: [{ templateName: "rate" }], args } }), analysisTemplate("rate", metrics, templateArgs)),
  );
}

describe("convert: analysis templates → MetricTemplates and Canary metrics", () => {
  it("carries a Prometheus metric with Argo's limits, defaults written out", () => {
    const c = withMetrics([promMetric({ initialDelay: "30s" })]);
    assert.deepEqual(output(c, "MetricTemplate", "rate").spec, {
      provider: { type: "prometheus", address: "http://prometheus:9090" },
      query: 'sum(rate(x{svc="{{ variables.service }}"}[1m]))',
    });
    assert.deepEqual(canarySpec(c).analysis.metrics, [
      {
        name: "success-rate",
        templateRef: { name: "rate" },
        templateVariables: { service: "shop-canary" },
        interval: "1m",
        initialDelay: "30s",
        thresholdRange: { min: 0.95 },
        failureLimit: 0,
        consecutiveErrorLimit: 4,
      },
    ]);
    assert.equal(canarySpec(c).analysis.interval, "1m");
  });

  it("keeps failureLimit, consecutiveErrorLimit and count as given", () => {
    const c = withMetrics([promMetric({ failureLimit: 3, consecutiveErrorLimit: "2", count: 5 })]);
    const [m] = canarySpec(c).analysis.metrics;
    assert.deepEqual([m.failureLimit, m.consecutiveErrorLimit, m.count], [3, 2, 5]);
  });

  it("reports a limit that is not a whole number of 0 or more", () => {
    const c = withMetrics([promMetric({ failureLimit: -1 })]);
    assert.equal(canarySpec(c).analysis.metrics, undefined);
    assert.match(entryAt(c, T, "spec.metrics[0].failureLimit", "lossy").message, /"-1" is not a whole number of 0 or more/);
  });

  it("measures once when Argo has neither interval nor count", () => {
    const c = withMetrics([promMetric({ interval: undefined })]);
    assert.equal(canarySpec(c).analysis.metrics[0].count, 1);
    assert.equal(canarySpec(c).analysis.metrics[0].interval, undefined);
  });

  it("takes argument defaults from the template and overrides from the Rollout", () => {
    const c = withMetrics([promMetric()], [], [{ name: "service", value: "fallback" }]);
    assert.deepEqual(canarySpec(c).analysis.metrics[0].templateVariables, { service: "fallback" });
  });

  it("reports arguments aviary cannot supply, and drops their metric", () => {
    const c = withMetrics([promMetric()], [{ name: "service", valueFrom: { podTemplateHashValue: "Latest" } }]);
    assert.equal(canarySpec(c).analysis.metrics, undefined);
    assert.match(entryAt(c, T, "spec.metrics[0].provider.prometheus.query", "lossy").message, /args.service is the Latest pod-template hash \(spec.strategy.canary.analysis.args\[0\].valueFrom.podTemplateHashValue\)/);
    const missing = withMetrics([promMetric()], []);
    assert.match(entryAt(missing, T, "spec.metrics[0].provider.prometheus.query", "lossy").message, /args.service has no value \(spec.args\[0\]\)/);
  });

  it("resolves a fieldRef argument from the Rollout now, and says so", () => {
    const c = withMetrics([promMetric()], [{ name: "service", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }]);
    assert.deepEqual(canarySpec(c).analysis.metrics[0].templateVariables, { service: "shop" });
    assert.match(entryAt(c, "Rollout/shop", "spec.strategy.canary.analysis.args[0].valueFrom.fieldRef", "changed").message, /read from the Rollout now/);
  });

  it("renames an argument naming the Rollout's canary or stable Service to aviary's Service with the same pods", () => {
    const c = convertYaml(
      yamlOf(
        rollout({
          canaryService: "shop-preview",
          stableService: "shop-stable",
          steps: [{ setWeight: 50 }],
          analysis: { templates: [{ templateName: "rate" }], args: [{ name: "service", value: "shop-preview.web.svc.cluster.local" }, { name: "baseline", value: "shop-stable" }, { name: "other", value: "shop-previewer" }] },
        }),
        analysisTemplate("rate", [promMetric({ provider: { prometheus: { address: "http://p", query: '{{args.service}} {{args.baseline}} {{args.other}}' } } })], [{ name: "service" }, { name: "baseline" }, { name: "other" }]),
      ),
    );
    assert.deepEqual(canarySpec(c).analysis.metrics[0].templateVariables, { service: "shop-canary.web.svc.cluster.local", baseline: "shop-primary", other: "shop-previewer" });
    const renames = c.report.entries.filter((e) => e.field === "spec.strategy.canary.analysis.args").map((e) => e.message);
    assert.deepEqual(renames, [
      'args.service: "shop-preview.web.svc.cluster.local" → "shop-canary.web.svc.cluster.local": the Service the Rollout measured has this name under aviary',
      'args.baseline: "shop-stable" → "shop-primary": the Service the Rollout measured has this name under aviary',
    ]);
  });

  it("names template variables the way aviary's templates allow", () => {
    const metric = promMetric({ provider: { prometheus: { address: "http://p", query: "x{a=\"{{ args.svc.name }}\"}" } } });
    const c = withMetrics([metric], [{ name: "svc.name", value: "shop" }], [{ name: "svc.name" }]);
    assert.equal((output(c, "MetricTemplate").spec as Loose).query, 'x{a="{{ variables.svc_name }}"}');
    assert.deepEqual(canarySpec(c).analysis.metrics[0].templateVariables, { svc_name: "shop" });
  });

  it("writes arguments into fields aviary does not template", () => {
    const metric = promMetric({ provider: { prometheus: { address: "http://{{args.service}}:9090", query: "up" } }, successCondition: "result >= {{args.min}}" });
    const c = withMetrics([metric], [{ name: "service", value: "prom" }, { name: "min", value: "3" }], [{ name: "service" }, { name: "min" }]);
    assert.equal((output(c, "MetricTemplate").spec as Loose).provider.address, "http://prom:9090");
    assert.deepEqual(canarySpec(c).analysis.metrics[0].thresholdRange, { min: 3 });
  });

  it("drops a metric whose condition is not a range, naming the condition", () => {
    const c = withMetrics([promMetric({ successCondition: "result[0] != 3" })]);
    assert.equal(canarySpec(c).analysis.metrics, undefined);
    assert.match(entryAt(c, T, "spec.metrics[0].successCondition", "lossy").message, /^successCondition "result\[0\] != 3": the passing values .* are not one range; the metric is not converted$/);
  });

  it("converts a dry-run metric without a thresholdRange, and says so", () => {
    const c = convertYaml(
      yamlOf(rollout({ steps: [{ setWeight: 50 }], analysis: { templates: [{ templateName: "rate" }], args: [{ name: "service", value: "x" }], dryRun: [{ metricName: "success-rate" }] } }), analysisTemplate("rate", [promMetric()], [{ name: "service" }])),
    );
    assert.equal(canarySpec(c).analysis.metrics[0].thresholdRange, undefined);
    assert.match(entryAt(c, T, "spec.metrics[0]", "changed").message, /dry-run/);
  });

  it("carries CloudWatch metricDataQueries as the query, with the look-back window and region", () => {
    const cw = {
      name: "synthetics",
      interval: "1m",
      count: 3,
      successCondition: "result[0].Values[0] == 100",
      provider: { cloudWatch: { interval: "10m", metricDataQueries: [{ id: "s", metricStat: { metric: { namespace: "CloudWatchSynthetics", metricName: "SuccessPercent", dimensions: [{ name: "CanaryName", value: "{{args.service}}" }] }, period: 60, stat: "Average" } }] } },
    };
    const c = convertYaml(
      yamlOf(rollout({ steps: [{ setWeight: 50 }], analysis: { templates: [{ templateName: "rate" }], args: [{ name: "service", value: "syn" }] } }), analysisTemplate("rate", [cw], [{ name: "service" }])),
      { awsRegion: "eu-west-1" },
    );
    const spec = output(c, "MetricTemplate").spec as Loose;
    assert.deepEqual(spec.provider, { type: "cloudwatch", window: "10m", region: "eu-west-1" });
    assert.deepEqual(JSON.parse(spec.query.replace("{{ variables.service }}", "syn")), cw.provider.cloudWatch.metricDataQueries.map((q) => ({ ...q, metricStat: { ...q.metricStat, metric: { ...q.metricStat.metric, dimensions: [{ name: "CanaryName", value: "syn" }] } } })));
    assert.deepEqual(canarySpec(c).analysis.metrics[0].thresholdRange, { min: 100, max: 100 });
  });

  it("refuses CloudWatch queries that return several results", () => {
    const cw = { name: "two", successCondition: "result[0].Values[0] > 1", provider: { cloudWatch: { metricDataQueries: [{ id: "a", expression: "1" }, { id: "b", expression: "2" }] } } };
    const c = withMetrics([cw]);
    assert.match(entryAt(c, T, "spec.metrics[0].provider.cloudWatch.metricDataQueries", "lossy").message, /2 queries return data/);
  });

  it("carries web, datadog and newrelic metrics", () => {
    const web = { name: "web", successCondition: "asFloat(result) >= 0.9", provider: { web: { url: "http://api/{{args.service}}", method: "POST", headers: [{ key: "X-Env", value: "prod" }], jsonBody: { q: 1 }, jsonPath: "{$.results.ok}" } } };
    const dd = { name: "dd", successCondition: "result < 5", provider: { datadog: { query: "avg:errors{svc:{{args.service}}}", interval: "2m" } } };
    const nr = { name: "nr", successCondition: "result.percentage >= 99", provider: { newRelic: { profile: "nr-secret", query: "SELECT percentage(count(*), WHERE error IS false) FROM Transaction" } } };
    const c = withMetrics([web, dd, nr]);
    assert.deepEqual(output(c, "MetricTemplate", "rate-web").spec, {
      provider: { type: "web", address: "http://api/shop-canary", method: "POST", headers: { "X-Env": "prod" }, body: '{"q":1}' },
      query: "$.results.ok",
    });
    assert.deepEqual(output(c, "MetricTemplate", "rate-dd").spec, {
      provider: { type: "datadog", secretRef: { name: "datadog" }, window: "2m" },
      query: "avg:errors{svc:{{ variables.service }}}",
    });
    assert.deepEqual((output(c, "MetricTemplate", "rate-nr").spec as Loose).provider, { type: "newrelic", secretRef: { name: "nr-secret" } });
    assert.deepEqual(
      canarySpec(c).analysis.metrics.map((m: Loose) => m.thresholdRange),
      [{ min: 0.9 }, { max: 5 }, { min: 99 }],
    );
    assert.match(entryAt(c, T, "spec.metrics[2].provider.newRelic", "action").message, /create Secret nr-secret with newrelic_account_id and newrelic_query_key/);
  });

  it("reports providers aviary does not have, naming the provider field", () => {
    const c = withMetrics([
      { name: "job", provider: { job: { spec: {} } } },
      { name: "kayenta", provider: { kayenta: {} } },
      { name: "call", provider: { web: { url: "http://start" } } },
      { name: "two", provider: { prometheus: {}, datadog: {} } },
    ]);
    assert.match(entryAt(c, T, "spec.metrics[0].provider.job", "lossy").message, /aviary does not run Jobs as checks; run the Job from a webhook/);
    assert.match(entryAt(c, T, "spec.metrics[1].provider.kayenta", "lossy").message, /no Kayenta provider/);
    assert.match(entryAt(c, T, "spec.metrics[2]", "lossy").message, /call made for its effect belongs in a webhook/);
    assert.match(entryAt(c, T, "spec.metrics[3].provider", "lossy").message, /exactly one provider, found prometheus, datadog/);
  });

  it("reports a template missing from the input", () => {
    const c = convertYaml(yamlOf(rollout({ steps: [{ setWeight: 50 }], analysis: { templates: [{ templateName: "gone" }, { templateName: "cluster", clusterScope: true }] } })));
    assert.match(entryAt(c, "Rollout/shop", "spec.strategy.canary.analysis.templates[0]", "lossy").message, /AnalysisTemplate gone is not in the input/);
    assert.match(entryAt(c, "Rollout/shop", "spec.strategy.canary.analysis.templates[1]", "lossy").message, /ClusterAnalysisTemplate cluster is not in the input/);
  });

  it("writes a ClusterAnalysisTemplate's metric as a MetricTemplate beside the Canary", () => {
    const cluster = { ...analysisTemplate("rate", [promMetric()], [{ name: "service" }]), kind: "ClusterAnalysisTemplate", metadata: { name: "rate" } };
    const c = convertYaml(yamlOf(rollout({ steps: [{ setWeight: 50 }], analysis: { templates: [{ templateName: "rate", clusterScope: true }], args: [{ name: "service", value: "x" }] } }), cluster));
    assert.equal(output(c, "MetricTemplate", "rate").metadata.namespace, "web");
  });

  it("binds step analyses to their steps and background analyses from startingStep", () => {
    const c = convertYaml(
      yamlOf(
        rollout({
          steps: [{ setWeight: 10 }, { pause: { duration: "1m" } }, { setWeight: 30 }, { pause: { duration: "2m" } }, { analysis: { templates: [{ templateName: "rate" }], args: [{ name: "service", value: "a" }] } }],
          analysis: { startingStep: 3, templates: [{ templateName: "rate" }], args: [{ name: "service", value: "b" }] },
        }),
        analysisTemplate("rate", [promMetric({ count: 2 })], [{ name: "service" }]),
      ),
    );
    const metrics = canarySpec(c).analysis.metrics.map((m: Loose) => ({ name: m.name, initialDelay: m.initialDelay, steps: m.steps, fromStep: m.fromStep }));
    assert.deepEqual(metrics, [
      { name: "success-rate-step-1", initialDelay: "2m", steps: [1], fromStep: undefined },
      { name: "success-rate", initialDelay: undefined, fromStep: 1, steps: undefined },
    ]);
  });

  it("writes a second MetricTemplate when arguments written into the provider make the specs differ", () => {
    const metric = promMetric({ provider: { prometheus: { address: "http://{{args.prom}}:9090", query: "up" } } });
    const step = (prom: string) => ({ analysis: { templates: [{ templateName: "rate" }], args: [{ name: "prom", value: prom }] } });
    const c = convertYaml(yamlOf(rollout({ steps: [{ setWeight: 10 }, step("eu"), { setWeight: 30 }, step("us"), { setWeight: 60 }, step("eu")] }), analysisTemplate("rate", [metric], [{ name: "prom" }])));
    assert.deepEqual(
      c.outputs.filter((o) => o.manifest.kind === "MetricTemplate").map((o) => [o.manifest.metadata.name, (o.manifest.spec as Loose).provider.address]),
      [["rate", "http://eu:9090"], ["rate-2", "http://us:9090"]],
    );
    assert.deepEqual(canarySpec(c).analysis.metrics.map((m: Loose) => [m.templateRef.name, m.steps]), [["rate", [0, 2]], ["rate-2", [1]]]);
  });

  it("merges one metric run with the same arguments at several steps", () => {
    const step = { analysis: { templates: [{ templateName: "rate" }], args: [{ name: "service", value: "a" }] } };
    const c = convertYaml(yamlOf(rollout({ steps: [{ setWeight: 10 }, step, { setWeight: 30 }, step] }), analysisTemplate("rate", [promMetric({ count: 2 })], [{ name: "service" }])));
    assert.deepEqual(canarySpec(c).analysis.metrics.map((m: Loose) => [m.name, m.steps]), [["success-rate", [0, 1]]]);
  });
});
