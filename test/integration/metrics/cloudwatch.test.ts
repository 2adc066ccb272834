/**
 * The CloudWatch provider against moto's server: metric data is put with the real SDK and
 * read back through GetMetricData, in the two shapes the walkthroughs use (Synthetics
 * SuccessPercent per canary step with a minimum; a 5xx count over a failure window with a
 * maximum), through the same runMetricChecks seam the engine calls; and an ALB 5xx/request
 * count pair per target group through the judge's windows.
 */
import assert from "node:assert/strict";
import type { MetricDatum } from "@aws-sdk/client-cloudwatch";
import { CloudWatchClient, PutMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import type { AnalysisResult, Canary, CanaryMetric, CanaryStatus, MetricTemplate } from "../../../src/api/types.ts";
import { runAnalysisMetrics } from "../../../src/metrics/compare.ts";
import { runMetricChecks } from "../../../src/metrics/evaluate.ts";
import type { MetricCheckDeps } from "../../../src/metrics/evaluate.ts";
import { createMetricProviderRegistry } from "../../../src/metrics/registry.ts";
import { NoValuesError } from "../../../src/metrics/types.ts";
import type { Peer } from "../../support/peers.ts";
import { runScript, startMoto } from "../../support/peers.ts";

const REGION = "us-east-1";
const SECRET = { aws_access_key_id: "testing", aws_secret_access_key: "testing", aws_session_token: "testing" };
const NAMESPACE = "test";

/** The Synthetics step template, written in camelCase the way Flagger users write it. */
const SYNTHETICS_QUERY = JSON.stringify([
  {
    id: "step",
    metricStat: {
      metric: {
        namespace: "CloudWatchSynthetics",
        metricName: "SuccessPercent",
        dimensions: [
          { name: "CanaryName", value: "{{ target }}-synthetics" },
          { name: "StepName", value: "{{ variables.step }}" },
        ],
      },
      period: 60,
      stat: "Average",
    },
  },
]);

/** The 5xx count over `failure_threshold_time` seconds, PascalCase as in Flagger's docs. */
const FIVE_XX_QUERY = `[{
  "Id": "errors",
  "MetricStat": {
    "Metric": {
      "Namespace": "AWS/ApplicationELB",
      "MetricName": "HTTPCode_Target_5XX_Count",
      "Dimensions": [{ "Name": "TargetGroup", "Value": "targetgroup/{{ target }}-canary/0123456789abcdef" }]
    },
    "Period": {{ variables.failure_threshold_time }},
    "Stat": "Sum",
    "Unit": "Count"
  },
  "ReturnData": true
}]`;

describe("metrics against CloudWatch (moto)", function () {
  this.timeout(120_000);
  let moto: Peer;
  let sdk: CloudWatchClient;
  let deps: MetricCheckDeps;
  const templates = new Map<string, MetricTemplate>();

  const template = (name: string, query: string): MetricTemplate => ({
    apiVersion: "aviary.dev/v1beta1",
    kind: "MetricTemplate",
    metadata: { name, namespace: NAMESPACE },
    spec: { provider: { type: "cloudwatch", region: REGION, address: moto.url, secretRef: { name: "aws-creds" } }, query },
  });

  const canary = (metrics: CanaryMetric[]): Canary => ({
    apiVersion: "aviary.dev/v1beta1",
    kind: "Canary",
    metadata: { name: "podinfo", namespace: NAMESPACE },
    spec: {
      provider: "gatewayapi",
      targetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "podinfo" },
      service: { port: 9898 },
      analysis: { interval: "10s", threshold: 2, metrics },
    },
  });

  const put = (namespace: string, data: MetricDatum[]) => sdk.send(new PutMetricDataCommand({ Namespace: namespace, MetricData: data }));
  const secondsAgo = (s: number) => new Date(Date.now() - s * 1000);
  const step = (name: string, value: number, at: Date): MetricDatum => ({
    MetricName: "SuccessPercent",
    Dimensions: [
      { Name: "CanaryName", Value: "podinfo-synthetics" },
      { Name: "StepName", Value: name },
    ],
    Value: value,
    Unit: "Percent",
    Timestamp: at,
  });
  const fiveXx = (count: number, at: Date): MetricDatum => ({
    MetricName: "HTTPCode_Target_5XX_Count",
    Dimensions: [{ Name: "TargetGroup", Value: "targetgroup/podinfo-canary/0123456789abcdef" }],
    Value: count,
    Unit: "Count",
    Timestamp: at,
  });

  const navigate: CanaryMetric = {
    name: "navigate-success",
    interval: "1m",
    templateRef: { name: "synthetics-step" },
    templateVariables: { step: "navigateToUrl" },
    thresholdRange: { min: 100 },
  };
  const verify: CanaryMetric = { ...navigate, name: "verify-success", templateVariables: { step: "verifyText" }, thresholdRange: { min: 80 } };
  const errors: CanaryMetric = {
    name: "5xx-count",
    interval: "1m",
    templateRef: { name: "target-5xx" },
    templateVariables: { failure_threshold_time: "300" },
    thresholdRange: { max: 5 },
  };
  const verdicts = (results: AnalysisResult[]) => results.map((r) => [r.name, r.verdict, r.message]);

  before(async function () {
    this.timeout(600_000);
    await runScript("moto.sh", ["install"], 580_000);
    moto = await startMoto();
    sdk = new CloudWatchClient({
      region: REGION,
      endpoint: moto.url,
      credentials: { accessKeyId: SECRET.aws_access_key_id, secretAccessKey: SECRET.aws_secret_access_key },
    });
    templates.set(`${NAMESPACE}/synthetics-step`, template("synthetics-step", SYNTHETICS_QUERY));
    templates.set(`${NAMESPACE}/target-5xx`, template("target-5xx", FIVE_XX_QUERY));
    deps = {
      registry: createMetricProviderRegistry({ timeoutMs: 5000 }),
      getTemplate: async (ns, name) => templates.get(`${ns}/${name}`),
      getSecret: async (ns, name) => (ns === NAMESPACE && name === "aws-creds" ? { ...SECRET } : undefined),
      timeoutMs: 10_000,
    };
  });

  after(async () => {
    sdk?.destroy();
    await moto?.stop();
  });

  it("reports metrics nobody has put as no data", async () => {
    const results = await runMetricChecks(canary([navigate, errors]), deps);
    assert.deepEqual(results.map((r) => r.verdict), ["nodata", "nodata"], JSON.stringify(verdicts(results)));
    assert.match(results[0]!.message, /^no data for navigate-success \(onNoData=fail\): cloudwatch query "step" returned no data points/);
  });

  it("passes healthy Synthetics steps and a 5xx count under the maximum", async () => {
    await put("CloudWatchSynthetics", [step("navigateToUrl", 100, secondsAgo(20)), step("verifyText", 100, secondsAgo(20))]);
    await put("AWS/ApplicationELB", [fiveXx(1, secondsAgo(90)), fiveXx(2, secondsAgo(30))]);
    const results = await runMetricChecks(canary([navigate, verify, errors]), deps);
    assert.deepEqual(verdicts(results), [
      ["navigate-success", "pass", "navigate-success 100 >= 100"],
      ["verify-success", "pass", "verify-success 100 >= 80"],
      ["5xx-count", "pass", "5xx-count 3 <= 5"],
    ]);
    assert.match(results[2]!.query ?? "", /"Period": 300,/);
  });

  it("reads the newest data point: a step that dropped fails, with its value", async () => {
    // A healthy point four minutes back stays in the window, in an older period; ScanBy
    // TimestampDescending puts the newest period first. That period holds the previous
    // test's 100 and this drop to 50: its Average is 75.
    await put("CloudWatchSynthetics", [step("verifyText", 100, secondsAgo(240)), step("verifyText", 50, secondsAgo(5))]);
    const results = await runMetricChecks(canary([navigate, verify]), deps);
    assert.deepEqual(verdicts(results), [
      ["navigate-success", "pass", "navigate-success 100 >= 100"],
      ["verify-success", "fail", "verify-success 75 < 80"],
    ]);
  });

  it("fails once the 5xx count in the window passes the maximum", async () => {
    await put("AWS/ApplicationELB", [fiveXx(4, secondsAgo(10))]);
    const [r] = await runMetricChecks(canary([errors]), deps);
    assert.equal(r!.verdict, "fail", r!.message);
    assert.equal(r!.message, "5xx-count 7 > 5");
  });

  it("reads through the provider directly, with the SDK's credentials from the secret", async () => {
    const provider = deps.registry.create({
      spec: { type: "cloudwatch", region: REGION, address: moto.url },
      secret: SECRET,
      intervalMs: 60_000,
    });
    const query = JSON.stringify([
      { Id: "m", MetricStat: { Metric: { Namespace: "CloudWatchSynthetics", MetricName: "SuccessPercent", Dimensions: [{ Name: "CanaryName", Value: "podinfo-synthetics" }, { Name: "StepName", Value: "navigateToUrl" }] }, Period: 60, Stat: "Minimum" } },
    ]);
    assert.equal(await provider.runQuery(query), 100);
    const none = query.replace("navigateToUrl", "checkout");
    await assert.rejects(provider.runQuery(none), NoValuesError);
  });

  it("judges an ALB count pair per target group, every minute counted in exactly one window", async () => {
    // Seven minutes of both arms' target groups, stamped inside each minute: the canary served
    // 100 requests a minute with 1 5xx, the primary 900 with 4.
    const minuteMs = 60_000;
    const base = Math.floor(Date.now() / minuteMs) * minuteMs - 8 * minuteMs;
    const datum = (name: string, group: string, value: number, minute: number): MetricDatum => ({
      MetricName: name,
      Dimensions: [{ Name: "TargetGroup", Value: `${NAMESPACE}/${group}` }],
      Value: value,
      Unit: "Count",
      Timestamp: new Date(base + minute * minuteMs + 5_000),
    });
    const minutes = [0, 1, 2, 3, 4, 5, 6];
    await put("AWS/ApplicationELB", [
      ...minutes.flatMap((m) => [datum("RequestCount", "podinfo", 100, m), datum("HTTPCode_Target_5XX_Count", "podinfo", 1, m)]),
      ...minutes.flatMap((m) => [datum("RequestCount", "podinfo-primary", 900, m), datum("HTTPCode_Target_5XX_Count", "podinfo-primary", 4, m)]),
    ]);
    const countOf = (metric: string) =>
      JSON.stringify([{ Id: "n", MetricStat: { Metric: { Namespace: "AWS/ApplicationELB", MetricName: metric, Dimensions: [{ Name: "TargetGroup", Value: "{{ namespace }}/{{ workload }}" }] }, Period: 60, Stat: "Sum" } }]);
    const albTemplate: MetricTemplate = {
      ...template("alb-5xx", countOf("HTTPCode_Target_5XX_Count")),
      spec: { ...template("alb-5xx", "").spec, query: countOf("HTTPCode_Target_5XX_Count"), compare: { bad: countOf("HTTPCode_Target_5XX_Count"), total: countOf("RequestCount") } },
    };
    templates.set(`${NAMESPACE}/alb-5xx`, albTemplate);
    const judged: CanaryMetric = { name: "alb-5xx", templateRef: { name: "alb-5xx" }, compare: { minRequests: 100 } };
    const withStatus = (status: CanaryStatus): Canary => ({ ...canary([judged]), status });
    const at = (ms: number): MetricCheckDeps => ({ ...deps, now: () => new Date(ms) });
    const begun: CanaryStatus = { canaryRevision: "rev1", lastCheckTime: new Date(base).toISOString() };

    // At 4.5 minutes the minutes 0-2 are over and published.
    const first = await runAnalysisMetrics(withStatus(begun), at(base + 4.5 * minuteMs));
    const e1 = first.results[0]!.judge!;
    assert.deepEqual([e1.canaryRequests, e1.canaryBad, e1.primaryRequests, e1.primaryBad], [300, 3, 2700, 12], first.results[0]!.message);
    assert.equal(first.judge?.metrics["alb-5xx"]?.windowEnd, new Date(base + 3 * minuteMs).toISOString());

    // Now: minutes 3-6 join, none of 0-2 again.
    const second = await runAnalysisMetrics(withStatus({ ...begun, judge: first.judge! }), deps);
    const e2 = second.results[0]!.judge!;
    assert.deepEqual([e2.canaryRequests, e2.canaryBad, e2.primaryRequests, e2.primaryBad], [700, 7, 6300, 28], second.results[0]!.message);
    assert.equal(second.results[0]!.verdict, "pass", second.results[0]!.message);
    assert.match(second.results[0]!.message, /^alb-5xx: 5xx: canary 1% vs primary 0\.44%/);
  });

  it("reports a CloudWatch endpoint that is gone as a provider error", async () => {
    await moto.stop();
    const results = await runMetricChecks(canary([navigate]), deps);
    assert.equal(results[0]!.verdict, "error", results[0]!.message);
    assert.match(results[0]!.message, /^navigate-success: query failed: cloudwatch: /);
  });
});
