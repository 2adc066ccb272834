import assert from "node:assert/strict";
import type { GetMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import type { Canary, CanaryMetric, CanaryStatus, MetricTemplate } from "../../../src/api/types.ts";
import { runAnalysisMetrics } from "../../../src/metrics/compare.ts";
import type { MetricCheckDeps } from "../../../src/metrics/evaluate.ts";
import { createMetricProviderRegistry } from "../../../src/metrics/registry.ts";
import type { CloudWatchPort } from "../../../src/metrics/cloudwatch.ts";
import type { LocalServer, RecordedRequest } from "../../support/local-server.ts";
import { startLocalServer } from "../../support/local-server.ts";

const T0 = Date.parse("2026-05-01T12:00:00Z");
const at = (seconds: number) => new Date(T0 + seconds * 1000);

interface Arm {
  requests: number;
  bad: number;
  /** Cumulative counts by `le` in seconds; +Inf is `requests`. */
  buckets?: Record<string, number>;
}

/** A Prometheus that answers the judge's count queries from per-arm figures, telling arms apart by workload. */
function prometheusFor(arms: () => { canary: Arm; primary: Arm }, fail?: () => boolean) {
  return (req: RecordedRequest) => {
    if (fail?.()) return { status: 503, body: { status: "error", errorType: "unavailable", error: "down" } };
    const q = req.url.searchParams.get("query") ?? "";
    const arm = /(pod=~"|deployment=")podinfo-primary|canary=""/.test(q) ? arms().primary : arms().canary;
    const vector = (result: unknown[]) => ({ body: { status: "success", data: { resultType: "vector", result } } });
    if (q.includes("sum by (le)")) {
      const buckets = { ...arm.buckets, "+Inf": arm.requests };
      return vector(Object.entries(buckets).map(([le, v]) => ({ metric: { le }, value: [0, String(v)] })));
    }
    // The fixed-threshold success rate (the canary's own, over its interval).
    if (q.startsWith("100 * (1 -")) return vector([{ metric: {}, value: [0, "95"] }]);
    const value = q.includes('status=~"5.."') || q.includes("bad") ? arm.bad : arm.requests;
    return value === 0 ? vector([]) : vector([{ metric: {}, value: [0, String(value)] }]);
  };
}

function canaryWith(metrics: CanaryMetric[], status: CanaryStatus, address: string, provider = "kubernetes"): Canary {
  return {
    apiVersion: "aviary.dev/v1beta1",
    kind: "Canary",
    metadata: { name: "podinfo", namespace: "test" },
    spec: {
      provider,
      metricsServer: address,
      targetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "podinfo" },
      service: { port: 80 },
      analysis: { interval: "30s", threshold: 2, stepWeight: 10, maxWeight: 50, metrics },
    },
    status,
  };
}

function deps(now: Date, templates: Record<string, MetricTemplate> = {}): MetricCheckDeps {
  return {
    registry: createMetricProviderRegistry({ timeoutMs: 2000 }),
    getTemplate: async (_ns, name) => templates[name],
    getSecret: async () => undefined,
    now: () => now,
    timeoutMs: 2000,
  };
}

const SR: CanaryMetric = { name: "request-success-rate", compare: {} };
const started: CanaryStatus = { canaryRevision: "rev1", lastCheckTime: at(0).toISOString() };

describe("metrics/compare: the judge in an analysis round", () => {
  let prom: LocalServer;
  let figures: { canary: Arm; primary: Arm };
  let down = false;
  before(async () => {
    prom = await startLocalServer(prometheusFor(() => figures, () => down));
  });
  after(() => prom.close());
  beforeEach(() => {
    prom.requests.length = 0;
    down = false;
  });

  it("reads each arm over the window since the last check, ending at this check, and fails a regression with the sentence", async () => {
    figures = { canary: { requests: 1000, bad: 50 }, primary: { requests: 9000, bad: 45 } };
    const round = await runAnalysisMetrics(canaryWith([SR], started, prom.url), deps(at(30.7)));
    const queries = prom.requests.map((r) => r.url.searchParams.get("query")!);
    assert.equal(queries.length, 4);
    const end = T0 / 1000 + 30;
    assert.ok(queries.every((q) => q.includes(`[30s] @ ${end}))`)), queries.join("\n"));
    assert.ok(queries.some((q) => q.includes('pod=~"podinfo-[0-9a-zA-Z]+-[0-9a-zA-Z]+"')));
    assert.ok(queries.some((q) => q.includes('pod=~"podinfo-primary-[0-9a-zA-Z]+-[0-9a-zA-Z]+"')));
    const [r] = round.results;
    assert.equal(r!.verdict, "fail");
    assert.match(r!.message, /^request-success-rate: 5xx: canary 5% vs primary 0\.5% \(ratio 10, 99% CI .*\) > tolerance 1\.2 \(e-value .* ≥ 100\)$/);
    assert.equal(r!.judge?.outcome, "regression");
    assert.equal(r!.judge?.canaryRequests, 1000);
    assert.equal(r!.judge?.ratio, 10);
    const entry = round.judge?.metrics["request-success-rate"];
    assert.equal(entry?.windowEnd, at(30).toISOString());
    assert.equal(entry?.windows, 1);
    assert.equal(round.judge?.revision, "rev1");
  });

  it("continues the saved test: the next window starts exactly where the last ended and the counts add up", async () => {
    figures = { canary: { requests: 500, bad: 2 }, primary: { requests: 4500, bad: 20 } };
    const first = await runAnalysisMetrics(canaryWith([SR], started, prom.url), deps(at(30)));
    prom.requests.length = 0;
    const status: CanaryStatus = { ...started, lastCheckTime: at(31).toISOString(), judge: first.judge! };
    const second = await runAnalysisMetrics(canaryWith([SR], status, prom.url), deps(at(75.2)));
    const queries = prom.requests.map((r) => r.url.searchParams.get("query")!);
    assert.ok(queries.every((q) => q.includes(`[45s] @ ${T0 / 1000 + 75}))`)), queries.join("\n"));
    const r = second.results[0]!;
    assert.equal(r.verdict, "pass");
    assert.match(r.message, /within tolerance 1\.2 so far/);
    assert.deepEqual([r.judge?.canaryRequests, r.judge?.canaryBad, r.judge?.primaryRequests, r.judge?.primaryBad], [1000, 4, 9000, 40]);
    assert.equal(second.judge?.metrics["request-success-rate"]?.windows, 2);

    // A state of another revision is not resumed.
    prom.requests.length = 0;
    const other = await runAnalysisMetrics(canaryWith([SR], { ...status, canaryRevision: "rev2" }, prom.url), deps(at(75)));
    assert.equal(other.results[0]!.judge?.canaryRequests, 500);
  });

  it("reports not enough data and follows onNoData: fail counts it, skip does not, and it is never a plain pass", async () => {
    figures = { canary: { requests: 40, bad: 0 }, primary: { requests: 360, bad: 2 } };
    const failing = await runAnalysisMetrics(canaryWith([SR], started, prom.url), deps(at(30)));
    assert.equal(failing.results[0]!.verdict, "nodata");
    assert.equal(
      failing.results[0]!.message,
      "request-success-rate: 5xx: not enough data (the canary has served 40 of the 100 requests needed): canary 0 of 40 vs primary 2 of 360 (onNoData=fail)",
    );
    const skipping = await runAnalysisMetrics(canaryWith([{ ...SR, onNoData: "skip" }], started, prom.url), deps(at(30)));
    assert.equal(skipping.results[0]!.verdict, "skip");
    assert.equal(skipping.judge?.metrics["request-success-rate"]?.windows, 1, "the counts are kept all the same");
  });

  it("keeps the saved test unchanged when the counts cannot be read, so the next window covers the gap", async () => {
    figures = { canary: { requests: 1000, bad: 5 }, primary: { requests: 9000, bad: 45 } };
    const first = await runAnalysisMetrics(canaryWith([SR], started, prom.url), deps(at(30)));
    down = true;
    const status: CanaryStatus = { ...started, judge: first.judge! };
    const failed = await runAnalysisMetrics(canaryWith([SR], status, prom.url), deps(at(60)));
    assert.equal(failed.results[0]!.verdict, "error");
    assert.match(failed.results[0]!.message, /^request-success-rate: per-arm counts: prometheus query failed \(HTTP 503/);
    assert.deepEqual(failed.judge, first.judge);
    down = false;
    prom.requests.length = 0;
    await runAnalysisMetrics(canaryWith([SR], status, prom.url), deps(at(90)));
    assert.ok(prom.requests.every((r) => r.url.searchParams.get("query")!.includes(`[60s] @ ${T0 / 1000 + 90}`)));
  });

  it("judges latency per histogram boundary from one per-le query per arm", async () => {
    // Seconds buckets; the canary is much slower above 250ms.
    figures = {
      canary: { requests: 2000, bad: 0, buckets: { "0.05": 200, "0.1": 600, "0.25": 1000, "0.5": 1400, "1": 1800 } },
      primary: { requests: 18000, bad: 0, buckets: { "0.05": 3000, "0.1": 9000, "0.25": 15000, "0.5": 17100, "1": 17900 } },
    };
    const round = await runAnalysisMetrics(canaryWith([{ name: "request-duration", compare: {} }], started, prom.url, "gatewayapi"), deps(at(30)));
    const queries = prom.requests.map((r) => r.url.searchParams.get("query")!);
    assert.equal(queries.length, 2);
    assert.ok(queries.every((q) => q.startsWith("sum by (le) (increase(http_request_duration_seconds_bucket{")));
    const r = round.results[0]!;
    assert.equal(r.verdict, "fail");
    assert.match(r.message, /^request-duration: slower than \S+: canary .* > tolerance 1\.2 .*weighted mean over 5 boundaries\)$/);
    const state = round.judge?.metrics["request-duration"]?.state as { boundariesMs: number[] };
    assert.deepEqual(state.boundariesMs, [50, 100, 250, 500, 1000]);
  });

  it("with thresholdRange and compare, both must pass and both sentences are given", async () => {
    figures = { canary: { requests: 1000, bad: 50 }, primary: { requests: 9000, bad: 45 } };
    const metric: CanaryMetric = { name: "request-success-rate", thresholdRange: { min: 90 }, compare: {} };
    const round = await runAnalysisMetrics(canaryWith([metric], started, prom.url), deps(at(30)));
    const r = round.results[0]!;
    assert.equal(r.verdict, "fail");
    assert.equal(typeof r.value, "number");
    assert.match(r.message, /^request-success-rate 95% >= 90%; request-success-rate: 5xx: canary 5% vs primary 0\.5%/);
    assert.match(r.judge?.sentence ?? "", /^5xx: canary 5% vs primary 0\.5% \(ratio 10, 99% CI .*\) > tolerance 1\.2 \(e-value .* ≥ 100\)$/, "the judge's sentence alone");
  });

  it("renders a MetricTemplate's count pair once per arm with the arm's variables", async () => {
    figures = { canary: { requests: 1000, bad: 5 }, primary: { requests: 9000, bad: 45 } };
    const template: MetricTemplate = {
      apiVersion: "aviary.dev/v1beta1",
      kind: "MetricTemplate",
      metadata: { name: "errors", namespace: "test" },
      spec: {
        provider: { type: "prometheus", address: prom.url },
        query: "sum(up)",
        compare: {
          bad: 'sum(increase(app_bad{deployment="{{ workload }}", arm="{{ arm }}", primary="{{ primary }}"}[{{ window }}] @ {{ windowEnd }}))',
          total: 'sum(increase(app_total{deployment="{{ workload }}"}[{{ window }}] @ {{ windowEnd }}))',
        },
      },
    };
    const round = await runAnalysisMetrics(
      canaryWith([{ name: "errors", templateRef: { name: "errors" }, compare: {} }], started, prom.url),
      deps(at(30), { errors: template }),
    );
    const queries = prom.requests.map((r) => r.url.searchParams.get("query")!).sort();
    assert.deepEqual(queries, [
      `sum(increase(app_bad{deployment="podinfo", arm="canary", primary="podinfo-primary"}[30s] @ ${T0 / 1000 + 30}))`,
      `sum(increase(app_bad{deployment="podinfo-primary", arm="primary", primary="podinfo-primary"}[30s] @ ${T0 / 1000 + 30}))`,
      `sum(increase(app_total{deployment="podinfo"}[30s] @ ${T0 / 1000 + 30}))`,
      `sum(increase(app_total{deployment="podinfo-primary"}[30s] @ ${T0 / 1000 + 30}))`,
    ]);
    assert.equal(round.results[0]!.verdict, "pass");
    assert.equal(round.results[0]!.judge?.primaryBad, 45);
  });

  it("leaves a Canary without compare exactly as before: no judge in the round", async () => {
    figures = { canary: { requests: 1000, bad: 5 }, primary: { requests: 9000, bad: 45 } };
    const round = await runAnalysisMetrics(canaryWith([{ name: "request-success-rate", thresholdRange: { min: 99 } }], started, prom.url), deps(at(30)));
    assert.equal(round.judge, undefined);
    assert.equal(round.results[0]!.judge, undefined);
  });

  it("sums a CloudWatch count pair over whole periods that are over, so abutting windows count each data point once", async () => {
    // Data points per minute of each arm's target group: requests 600, 5xx 3 (canary) or 6 (primary).
    const asked: Array<{ start: number; end: number }> = [];
    const send = async (command: GetMetricDataCommand) => {
      const { MetricDataQueries: queries = [], StartTime, EndTime } = command.input;
      asked.push({ start: StartTime!.getTime(), end: EndTime!.getTime() });
      const q = queries[0]!.MetricStat!;
      const group = q.Metric!.Dimensions![0]!.Value!;
      const perMinute = q.Metric!.MetricName === "RequestCount" ? 600 : group.endsWith("-primary") ? 6 : 3;
      const stamps: Date[] = [];
      for (let t = StartTime!.getTime(); t < EndTime!.getTime(); t += 60_000) stamps.push(new Date(t));
      return { $metadata: {}, MetricDataResults: [{ Id: "m", Values: stamps.map(() => perMinute), Timestamps: stamps }] };
    };
    const metricOf = (name: string) =>
      JSON.stringify([{ Id: "m", MetricStat: { Metric: { Namespace: "AWS/ApplicationELB", MetricName: name, Dimensions: [{ Name: "TargetGroup", Value: "{{ namespace }}/{{ workload }}" }] }, Period: 60, Stat: "Sum" } }]);
    const template: MetricTemplate = {
      apiVersion: "aviary.dev/v1beta1",
      kind: "MetricTemplate",
      metadata: { name: "alb-5xx", namespace: "test" },
      spec: { provider: { type: "cloudwatch", region: "us-east-1" }, query: metricOf("HTTPCode_Target_5XX_Count"), compare: { bad: metricOf("HTTPCode_Target_5XX_Count"), total: metricOf("RequestCount") } },
    };
    const cwDeps = (now: Date): MetricCheckDeps => ({
      ...deps(now, { "alb-5xx": template }),
      registry: createMetricProviderRegistry({ timeoutMs: 2000, now: () => now, createCloudWatchClient: () => ({ send }) as unknown as CloudWatchPort }),
    });
    const metric: CanaryMetric = { name: "alb-5xx", templateRef: { name: "alb-5xx" }, compare: {} };
    const begun: CanaryStatus = { canaryRevision: "rev1", lastCheckTime: at(10).toISOString() };

    // 80 s after the run began at 12:00:10 no whole minute is over and published: nothing is counted, the window stays open.
    const early = await runAnalysisMetrics(canaryWith([metric], begun, "http://unused"), cwDeps(at(90)));
    assert.equal(asked.length, 0);
    assert.equal(early.results[0]!.verdict, "nodata");
    assert.equal(early.judge?.metrics["alb-5xx"], undefined);

    // At 12:04:10 the minutes 12:01 and 12:02 are over and have had a minute to be published
    // (12:00 began before the run, 12:03 is too recent).
    const first = await runAnalysisMetrics(canaryWith([metric], begun, "http://unused"), cwDeps(at(250)));
    assert.deepEqual(new Set(asked.map((a) => `${a.start - T0}-${a.end - T0}`)), new Set(["60000-180000"]));
    assert.equal(asked.length, 4, "two queries per arm");
    assert.deepEqual([first.results[0]!.judge?.canaryRequests, first.results[0]!.judge?.canaryBad, first.results[0]!.judge?.primaryBad], [1200, 6, 12]);
    assert.equal(first.judge?.metrics["alb-5xx"]?.windowEnd, at(180).toISOString());

    // The next check starts where that window ended: 12:03 only, counted once.
    asked.length = 0;
    const next = await runAnalysisMetrics(canaryWith([metric], { ...begun, judge: first.judge! }, "http://unused"), cwDeps(at(310)));
    assert.deepEqual(new Set(asked.map((a) => `${a.start - T0}-${a.end - T0}`)), new Set(["180000-240000"]));
    assert.equal(next.results[0]!.judge?.canaryRequests, 1800);
    assert.equal(next.judge?.metrics["alb-5xx"]?.windows, 2);
  });
});
