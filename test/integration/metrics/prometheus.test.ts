/**
 * Built-in metrics against a real Prometheus (Debian's package) that scrapes a simulated
 * workload every second: every router's two queries return the canary's values (never the
 * primary's), verdicts follow a mid-run error/latency rise, traffic that stops is no data,
 * and a Prometheus that is gone is a provider error, not a failed check.
 */
import assert from "node:assert/strict";
import type { AnalysisResult, Canary, CanaryMetric, MetricTemplate } from "../../../src/api/types.ts";
import { runMetricChecks } from "../../../src/metrics/evaluate.ts";
import type { MetricCheckDeps } from "../../../src/metrics/evaluate.ts";
import { createMetricProviderRegistry } from "../../../src/metrics/registry.ts";
import { NoValuesError } from "../../../src/metrics/types.ts";
import type { Peer } from "../../support/peers.ts";
import { runScript, startPrometheus, waitFor } from "../../support/peers.ts";
import type { TrafficExporter } from "../../support/traffic-exporter.ts";
import { CANARY_POD, INGRESS, NAMESPACE, PRIMARY_POD, TARGET, startTrafficExporter } from "../../support/traffic-exporter.ts";

const HEALTHY = { requestsPerTick: 100, errorRatio: 0, latencyMs: 150 };
const DEGRADED = { requestsPerTick: 100, errorRatio: 0.2, latencyMs: 700 };
/** All observations in one bucket, so histogram_quantile interpolates to an exact value. */
const HEALTHY_P99 = 100 + 0.99 * 100; // bucket (100, 200] ms
const DEGRADED_P99 = 500 + 0.99 * 500; // bucket (500, 1000] ms

const ROUTERS = ["kubernetes", "gatewayapi", "istio", "appmesh:v1beta2", "nginx", "linkerd", "smi"];

const METRICS: CanaryMetric[] = [
  { name: "request-success-rate", interval: "5s", thresholdRange: { min: 99 } },
  { name: "request-duration", interval: "5s", thresholdRange: { max: 500 } },
];

function scrapeConfig(exporter: TrafficExporter): string {
  const host = new URL(exporter.url).host;
  const appJob = (pod: string) => `
  - job_name: app-${pod}
    metrics_path: /metrics/app/${pod}
    static_configs:
      - targets: ["${host}"]
        labels: { namespace: "${NAMESPACE}", pod: "${pod}" }`;
  return `global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:${appJob(CANARY_POD)}${appJob(PRIMARY_POD)}
  - job_name: mesh
    metrics_path: /metrics/mesh
    static_configs:
      - targets: ["${host}"]
`;
}

function canary(provider: string, metricsServer: string, metrics = METRICS): Canary {
  return {
    apiVersion: "aviary.dev/v1beta1",
    kind: "Canary",
    metadata: { name: TARGET, namespace: NAMESPACE },
    spec: {
      provider,
      metricsServer,
      targetRef: { apiVersion: "apps/v1", kind: "Deployment", name: TARGET },
      ingressRef: { apiVersion: "networking.k8s.io/v1", kind: "Ingress", name: INGRESS },
      service: { port: 9898 },
      analysis: { interval: "5s", threshold: 2, metrics },
    },
  };
}

describe("metrics against a real Prometheus", function () {
  this.timeout(120_000);
  let exporter: TrafficExporter;
  let prometheus: Peer;
  const templates = new Map<string, MetricTemplate>();
  const deps: MetricCheckDeps = {
    registry: createMetricProviderRegistry({ timeoutMs: 3000 }),
    getTemplate: async (ns, name) => templates.get(`${ns}/${name}`),
    getSecret: async () => undefined,
    timeoutMs: 5000,
  };
  const check = (provider: string, metrics?: CanaryMetric[]) => runMetricChecks(canary(provider, prometheus.url, metrics), deps);
  const summary = (results: AnalysisResult[]) => results.map((r) => `${r.verdict}: ${r.message}`).join(" | ");

  before(async function () {
    this.timeout(300_000);
    await runScript("prometheus.sh", ["install"], 280_000);
    exporter = await startTrafficExporter(HEALTHY);
    prometheus = await startPrometheus(scrapeConfig(exporter));
  });

  after(async () => {
    await prometheus?.stop();
    await exporter?.close();
  });

  it("reports no data before the workload's series exist in a window", async () => {
    // Right after start nothing has been scraped twice yet: rate() has nothing to work with.
    const results = await check("kubernetes", [{ ...METRICS[0]!, interval: "1s" }]);
    assert.equal(results[0]!.verdict, "nodata", summary(results));
  });

  it("measures the healthy canary, and only the canary, for every router", async () => {
    for (const router of ROUTERS) {
      const results = await waitFor(`healthy values for ${router}`, 20_000, async () => {
        const r = await check(router);
        return r.every((x) => x.verdict === "pass") ? r : undefined;
      });
      const [sr, p99] = results as [AnalysisResult, AnalysisResult];
      assert.equal(sr.value, 100, `${router}: ${summary(results)}`);
      assert.ok(Math.abs((p99.value ?? 0) - HEALTHY_P99) < 0.01, `${router}: ${summary(results)}`);
      assert.equal(sr.message, "request-success-rate 100% >= 99%");
      assert.equal(p99.message, "request-duration 199ms <= 500ms");
    }
  });

  it("runs a MetricTemplate query with variables against the same Prometheus", async () => {
    templates.set(`${NAMESPACE}/rps`, {
      apiVersion: "aviary.dev/v1beta1",
      kind: "MetricTemplate",
      metadata: { name: "rps", namespace: NAMESPACE },
      spec: {
        provider: { type: "prometheus", address: prometheus.url },
        query: 'sum(rate(http_requests_total{namespace="{{ namespace }}", pod=~"{{ target }}-{{ variables.hash }}-.*"}[{{ interval }}]))',
      },
    });
    const metric: CanaryMetric = { name: "rps", interval: "5s", templateRef: { name: "rps" }, templateVariables: { hash: "5f7b9c6d8" }, thresholdRange: { min: 1 } };
    const [r] = await check("kubernetes", [metric]);
    // Up to 500 requests per second (100 per 200 ms tick, fewer when the machine is busy).
    assert.equal(r!.verdict, "pass", r!.message);
    assert.ok((r!.value ?? 0) <= 550, r!.message);
    assert.match(r!.query ?? "", /pod=~"podinfo-5f7b9c6d8-\.\*"\}\[5s\]/);
  });

  it("fails both checks with the measured values once errors and latency rise", async () => {
    exporter.setCanary(DEGRADED);
    for (const router of ["kubernetes", "appmesh", "istio", "nginx", "linkerd"]) {
      const results = await waitFor(`degraded values for ${router}`, 20_000, async () => {
        const r = await check(router);
        const sr = r[0]?.value ?? 0;
        return Math.abs(sr - 80) < 0.01 && Math.abs((r[1]?.value ?? 0) - DEGRADED_P99) < 0.01 ? r : undefined;
      });
      assert.deepEqual(
        results.map((r) => [r.verdict, r.message]),
        [
          ["fail", "request-success-rate 80% < 99%"],
          ["fail", "request-duration 995ms > 500ms"],
        ],
        router,
      );
    }
  });

  it("turns traffic that stopped into no data, decided by onNoData", async () => {
    exporter.setCanary(undefined);
    const results = await waitFor("no data after traffic stopped", 20_000, async () => {
      const r = await check("kubernetes");
      return r.every((x) => x.verdict === "nodata") ? r : undefined;
    });
    assert.match(results[0]!.message, /^no data for request-success-rate \(onNoData=fail\): prometheus query returned NaN/);
    const skipped = await check("kubernetes", METRICS.map((m) => ({ ...m, onNoData: "skip" as const })));
    assert.deepEqual(skipped.map((r) => r.verdict), ["skip", "skip"]);
    const provider = deps.registry.create({ spec: { type: "prometheus", address: prometheus.url }, secret: {} });
    await assert.rejects(provider.runQuery('sum(rate(http_requests_total{namespace="nowhere"}[5s]))'), NoValuesError);
  });

  it("reports a Prometheus that is gone as a provider error, not a failed check", async () => {
    const provider = deps.registry.create({ spec: { type: "prometheus", address: prometheus.url }, secret: {} });
    assert.equal(await provider.runQuery("vector(1)"), 1, "answers while it runs");
    await prometheus.stop();
    const results = await check("kubernetes");
    assert.deepEqual(results.map((r) => r.verdict), ["error", "error"]);
    assert.match(results[0]!.message, /^request-success-rate: query failed: GET http:\/\/127\.0\.0\.1:\d+\/api\/v1\/query.*ECONNREFUSED/);
  });
});
