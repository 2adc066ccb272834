/**
 * Canary runs decided by real metrics: aviary runs as its own process against the local
 * control plane, Prometheus (Debian's package) scrapes simulated workloads every second,
 * and moto plays CloudWatch. Each run ends on aviary's own verdict: promoted on healthy
 * data, rolled back on bad data with the measured values in status and events, halted
 * (not failed) while Prometheus is gone, and no data handled as each onNoData says.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { startAviary, type AviaryProcess } from "../../support/aviary.ts";
import { kubectlOk, tempNamespace } from "../../support/kubectl.ts";
import type { Peer } from "../../support/peers.ts";
import { runScript, sleep, startMoto, startPrometheus } from "../../support/peers.ts";
import type { TrafficExporter, TrafficShape } from "../../support/traffic-exporter.ts";
import { startTrafficExporter } from "../../support/traffic-exporter.ts";
import { apply, getCanary, getDeployment, image, routeWeights, watchWeights } from "../../support/canary-fixtures.ts";
import {
  analysisOf,
  canaryPod,
  eventsWith,
  measured,
  promotedMessage,
  scrapeConfig,
  startRun,
  startSyntheticsFeed,
  waitForCanary,
  waitForSample,
  waitForVerdict,
  waitForWeight,
} from "../../support/canary-metrics.ts";
import type { SyntheticsFeed } from "../../support/canary-metrics.ts";

const HEALTHY: TrafficShape = { requestsPerTick: 100, errorRatio: 0, latencyMs: 150 };
const DEGRADED: TrafficShape = { requestsPerTick: 100, errorRatio: 0.2, latencyMs: 700 };

/** The built-ins over a window of a few scrapes, held to Flagger's usual bounds. */
const builtins = (interval: string, extra: Record<string, unknown> = {}) => [
  { name: "request-success-rate", interval, thresholdRange: { min: 99 }, ...extra },
  { name: "request-duration", interval, thresholdRange: { max: 500 }, ...extra },
];

const SUCCESS_RATE = /^request-success-rate (\d+(?:\.\d+)?)% < 99%$/;
const DURATION = /^request-duration (\d+(?:\.\d+)?)ms > 500ms$/;

describe("canary runs driven by real metrics", function () {
  this.timeout(180_000);
  let ns: Awaited<ReturnType<typeof tempNamespace>>;
  let shop: TrafficExporter;
  let cart: TrafficExporter;
  let prometheusDir: string;
  let prometheusConfig: string;
  let prometheus: Peer | undefined;
  let moto: Peer;
  let sdk: CloudWatchClient;
  let feed: SyntheticsFeed | undefined;
  let aviary: AviaryProcess;

  before(async function () {
    this.timeout(600_000);
    await Promise.all([runScript("prometheus.sh", ["install"], 280_000), runScript("moto.sh", ["install"], 580_000)]);
    await kubectlOk(["apply", "--server-side", "-k", "manifests/crds"]);
    ns = await tempNamespace("aviary-metrics");
    shop = await startTrafficExporter(HEALTHY);
    cart = await startTrafficExporter(HEALTHY);
    prometheusDir = await mkdtemp(path.join(tmpdir(), "aviary-canary-prometheus-"));
    prometheusConfig = scrapeConfig([
      { exporter: shop, namespace: ns.name, target: "shop" },
      { exporter: cart, namespace: ns.name, target: "cart" },
    ]);
    [prometheus, moto] = await Promise.all([startPrometheus(prometheusConfig, { dir: prometheusDir }), startMoto()]);
    for (const target of ["shop", "cart"]) {
      await waitForSample(prometheus.url, `sum(rate(http_requests_total{namespace="${ns.name}", pod="${canaryPod(target)}"}[5s]))`);
    }
    sdk = new CloudWatchClient({ region: "us-east-1", endpoint: moto.url, credentials: { accessKeyId: "testing", secretAccessKey: "testing" } });
    aviary = startAviary(["--no-webhook", "--namespace", ns.name, "--metrics-server", prometheus.url]);
  });

  after(async () => {
    await aviary?.stop();
    await feed?.stop();
    sdk?.destroy();
    await moto?.stop();
    await prometheus?.stop();
    await shop?.close();
    await cart?.close();
    if (prometheusDir) await rm(prometheusDir, { recursive: true, force: true });
    await ns?.remove();
  });

  describe("Prometheus built-ins (gatewayapi router)", () => {
    const analysis = { interval: "2s", threshold: 2, stepWeight: 20, maxWeight: 80, metrics: builtins("5s") };

    it("promotes a revision whose success rate and p99 latency are healthy", async () => {
      await startRun(ns.name, "shop", { analysis });
      const weights = watchWeights(ns.name, "shop");
      const done = await waitForVerdict(ns.name, "shop", "Succeeded").finally(() => weights.stop());
      const seen = weights.seen.filter((w) => w > 0);
      assert.deepEqual(seen, [20, 40, 60, 80], `every step was checked: ${seen.join(" → ")}`);
      // The canary's own series, exact: 0 errors, every request in the (100, 200] ms bucket.
      // The primary (50% errors, 2.5 s) is scraped too, so a query that read it would show.
      assert.deepEqual(analysisOf(done).map((r) => [r.verdict, r.message]), [
        ["pass", "request-success-rate 100% >= 99%"],
        ["pass", "request-duration 199ms <= 500ms"],
      ]);
      assert.equal(done.status?.failedChecks ?? 0, 0, (await eventsWith(ns.name, "shop", "CheckFailed")).join("\n"));
      assert.equal(image(await getDeployment(ns.name, "shop-primary")), "shop:2");
      assert.deepEqual(await eventsWith(ns.name, "shop", "CheckFailed"), []);
    });

    it("rolls back when the error rate rises mid-run, with the measured values in status and events", async () => {
      await kubectlOk(["set", "image", "deployment/shop", "app=shop:3", "-n", ns.name]);
      await waitForWeight(ns.name, "shop", 40); // one check passed on healthy data
      const before = await getCanary(ns.name, "shop");
      assert.deepEqual(analysisOf(before).map((r) => r.verdict), ["pass", "pass"], JSON.stringify(analysisOf(before)));
      shop.setCanary(DEGRADED);

      const failed = await waitForVerdict(ns.name, "shop", "Failed");
      assert.equal(failed.status?.failedChecks, 2);
      const [rate, duration] = analysisOf(failed);
      assert.equal(rate?.verdict, "fail", rate?.message);
      assert.equal(duration?.verdict, "fail", duration?.message);
      // 20% errors: the window mixes healthy and degraded scrapes, never the primary's 50%.
      const percent = measured(rate!.message, SUCCESS_RATE);
      assert.ok(percent >= 79.99 && percent < 99, rate!.message);
      assert.ok(Math.abs((rate!.value ?? -1) - percent) < 0.001, `status value ${rate!.value} is the one printed`);
      const p99 = measured(duration!.message, DURATION);
      assert.ok(p99 > 500 && p99 <= 1000, duration!.message);
      assert.match(rate!.query ?? "", new RegExp(`namespace="${ns.name}", pod=~"shop-\\[0-9a-zA-Z\\]\\+-`));

      const checkFailed = await eventsWith(ns.name, "shop", "CheckFailed");
      assert.ok(checkFailed.some((m) => /request-success-rate \d+(\.\d+)?% < 99%/.test(m)), checkFailed.join("\n"));
      const rolledBack = await eventsWith(ns.name, "shop", "RolledBack");
      assert.equal(rolledBack.length, 1, rolledBack.join("\n"));
      assert.ok(rolledBack[0]!.includes(rate!.message), `${rolledBack[0]} names ${rate!.message}`);
      assert.deepEqual(await routeWeights(ns.name, "shop"), { primary: 100, canary: 0 });
      assert.equal(image(await getDeployment(ns.name, "shop-primary")), "shop:2");
    });

    it("halts without counting while Prometheus is down, and finishes once it is back", async () => {
      const halting = { interval: "1s", threshold: 1, stepWeight: 20, maxWeight: 80, metrics: builtins("30s") };
      await startRun(ns.name, "cart", { analysis: halting });
      await waitForWeight(ns.name, "cart", 40);
      const port = prometheus!.port;
      await prometheus!.stop();
      prometheus = undefined;

      const halted = await waitForCanary(ns.name, "cart", "a halted check", (c) => analysisOf(c).some((r) => r.verdict === "error"), 20_000);
      const weight = (await routeWeights(ns.name, "cart"))?.canary;
      await sleep(4000); // four intervals
      const held = await getCanary(ns.name, "cart");
      assert.equal(held.status?.phase, "Progressing", "no promotion while nothing can be measured");
      assert.equal((await routeWeights(ns.name, "cart"))?.canary, weight, "no step forward either");
      assert.equal(held.status?.failedChecks ?? 0, 0, "provider errors are not failed checks");
      assert.deepEqual(analysisOf(held).map((r) => r.verdict), ["error", "error"]);
      assert.match(analysisOf(held)[0]!.message, /^request-success-rate: query failed: .*ECONNREFUSED/);
      assert.match(promotedMessage(held), /^analysis halted \(\d+\/\d+ before rollback\), not counted as failed: request-success-rate: query failed/);
      assert.ok(((held.status as { providerErrors?: number } | undefined)?.providerErrors ?? 0) >= 2, JSON.stringify(held.status));
      const haltedEvents = await eventsWith(ns.name, "cart", "CheckHalted");
      assert.ok(haltedEvents.some((m) => /not counted as failed: request-success-rate: query failed/.test(m)), haltedEvents.join("\n"));
      assert.equal(halted.status?.failedChecks ?? 0, 0);

      prometheus = await startPrometheus(prometheusConfig, { dir: prometheusDir, port });
      const done = await waitForVerdict(ns.name, "cart", "Succeeded");
      assert.deepEqual(analysisOf(done).map((r) => r.verdict), ["pass", "pass"], JSON.stringify(analysisOf(done)));
      assert.equal(done.status?.failedChecks ?? 0, 0);
      assert.deepEqual(await eventsWith(ns.name, "cart", "CheckFailed"), [], "threshold 1: any counted check would have rolled back");
      assert.equal(image(await getDeployment(ns.name, "cart-primary")), "cart:2");
    });
  });

  describe("no data and template problems (gatewayapi router, no series at all)", () => {
    const run = (threshold: number, metrics: unknown[]) => ({ analysis: { interval: "1s", threshold, stepWeight: 20, maxWeight: 60, metrics } });

    before(async () => {
      await apply(ns.name, {
        apiVersion: "aviary.dev/v1beta1",
        kind: "MetricTemplate",
        metadata: { name: "route-rps" },
        spec: {
          provider: { type: "prometheus", address: prometheus!.url },
          query: 'sum(rate(http_requests_total{namespace="{{ namespace }}", route="{{ variables.route }}"}[{{ interval }}]))',
        },
      });
      const rate = { name: "request-success-rate", interval: "5s", thresholdRange: { min: 99 } };
      await Promise.all([
        startRun(ns.name, "nd-fail", run(2, [{ ...rate, onNoData: "fail" }])),
        startRun(ns.name, "nd-pass", run(1, [{ ...rate, onNoData: "pass" }])),
        startRun(ns.name, "nd-skip", run(1, [{ ...rate, onNoData: "skip" }])),
        startRun(ns.name, "nd-var", run(1, [{ name: "route-rps", interval: "5s", templateRef: { name: "route-rps" }, templateVariables: { path: "/api" }, thresholdRange: { min: 1 }, onNoData: "pass" }])),
      ]);
    });

    it("onNoData=fail counts each empty result as a failed check and rolls back", async () => {
      const failed = await waitForVerdict(ns.name, "nd-fail", "Failed");
      assert.equal(failed.status?.failedChecks, 2);
      const [r] = analysisOf(failed);
      assert.equal(r?.verdict, "nodata");
      assert.match(r!.message, /^no data for request-success-rate \(onNoData=fail\): prometheus query returned/);
      // Counted as failed checks, under their own reason.
      const noData = await eventsWith(ns.name, "nd-fail", "NoData");
      assert.equal(noData.length, 2, noData.join("\n"));
      assert.ok(noData.every((m) => m.includes("no data for request-success-rate (onNoData=fail)")), noData.join("\n"));
      assert.equal((await eventsWith(ns.name, "nd-fail", "RolledBack")).length, 1);
      assert.equal(image(await getDeployment(ns.name, "nd-fail-primary")), "nd-fail:1");
    });

    it("onNoData=pass passes empty results and promotes", async () => {
      const done = await waitForVerdict(ns.name, "nd-pass", "Succeeded");
      assert.deepEqual(analysisOf(done).map((r) => [r.verdict, r.message.replace(/\): .*/, ")")]), [["pass", "no data for request-success-rate (onNoData=pass)"]]);
      assert.equal(done.status?.failedChecks ?? 0, 0);
      assert.equal(image(await getDeployment(ns.name, "nd-pass-primary")), "nd-pass:2");
    });

    it("onNoData=skip counts empty results neither way (threshold 1 is never reached)", async () => {
      const done = await waitForVerdict(ns.name, "nd-skip", "Succeeded");
      const [r] = analysisOf(done);
      assert.equal(r?.verdict, "skip");
      assert.match(r!.message, /^no data for request-success-rate \(onNoData=skip, not counted\)/);
      assert.equal(done.status?.failedChecks ?? 0, 0);
      assert.deepEqual(await eventsWith(ns.name, "nd-skip", "CheckFailed"), []);
    });

    it("halts on a template variable the metric does not set, naming it, and resumes once it is set", async () => {
      const halted = await waitForCanary(ns.name, "nd-var", "a halted check", (c) => analysisOf(c).some((r) => r.verdict === "error"), 30_000);
      const [r] = analysisOf(halted);
      assert.equal(r?.message, 'route-rps: query template: template variable "route" is not set: add it to the metric\'s templateVariables (used as {{ variables.route }})');
      assert.equal(halted.status?.phase, "Progressing");
      assert.equal(halted.status?.failedChecks ?? 0, 0, "a broken template is not a failed check (threshold 1)");
      assert.match(promotedMessage(halted), /halted .*not counted as failed: route-rps: query template: template variable "route" is not set/);
      assert.ok((await eventsWith(ns.name, "nd-var", "CheckHalted")).some((m) => m.includes('template variable "route"')));
      await sleep(2000);
      assert.equal((await getCanary(ns.name, "nd-var")).status?.phase, "Progressing", "no promotion past a halted check");

      await kubectlOk(["patch", "canaries.aviary.dev", "nd-var", "-n", ns.name, "--type=json", "-p",
        JSON.stringify([{ op: "add", path: "/spec/analysis/metrics/0/templateVariables/route", value: "/api" }])]);
      const done = await waitForVerdict(ns.name, "nd-var", "Succeeded");
      const [after] = analysisOf(done);
      assert.equal(after?.verdict, "pass", after?.message);
      assert.match(after?.query ?? "", /route="\/api"/);
    });
  });

  describe("CloudWatch Synthetics in moto (MetricTemplate with secretRef)", () => {
    const analysis = {
      interval: "2s",
      threshold: 2,
      stepWeight: 20,
      maxWeight: 80,
      metrics: [{
        name: "navigate-success",
        interval: "1m",
        templateRef: { name: "synthetics-step" },
        templateVariables: { step: "navigateToUrl" },
        thresholdRange: { min: 95 },
      }],
    };
    const STEP = /^navigate-success (\d+(?:\.\d+)?) < 95$/;

    before(async () => {
      await kubectlOk(["create", "secret", "generic", "aws-creds", "-n", ns.name,
        "--from-literal=aws_access_key_id=testing", "--from-literal=aws_secret_access_key=testing"]);
      await apply(ns.name, {
        apiVersion: "aviary.dev/v1beta1",
        kind: "MetricTemplate",
        metadata: { name: "synthetics-step" },
        spec: {
          provider: { type: "cloudwatch", address: moto.url, region: "us-east-1", secretRef: { name: "aws-creds" } },
          query: JSON.stringify([{
            id: "step",
            metricStat: {
              metric: {
                namespace: "CloudWatchSynthetics",
                metricName: "SuccessPercent",
                dimensions: [{ name: "CanaryName", value: "{{ target }}-synthetics" }, { name: "StepName", value: "{{ variables.step }}" }],
              },
              period: 10,
              stat: "Average",
            },
          }]),
        },
      });
      feed = startSyntheticsFeed(sdk, "synth-synthetics", "navigateToUrl", 100);
    });

    it("promotes while SuccessPercent is 100", async () => {
      await startRun(ns.name, "synth", { analysis });
      const done = await waitForVerdict(ns.name, "synth", "Succeeded");
      assert.deepEqual(analysisOf(done).map((r) => [r.verdict, r.message]), [["pass", "navigate-success 100 >= 95"]]);
      assert.ok(feed!.puts > 0);
      assert.equal(image(await getDeployment(ns.name, "synth-primary")), "synth:2");
    });

    it("rolls back once SuccessPercent drops below thresholdRange.min mid-run", async () => {
      await kubectlOk(["set", "image", "deployment/synth", "app=synth:3", "-n", ns.name]);
      await waitForWeight(ns.name, "synth", 40);
      feed!.value = 50;
      const failed = await waitForVerdict(ns.name, "synth", "Failed");
      assert.equal(failed.status?.failedChecks, 2);
      const [r] = analysisOf(failed);
      assert.equal(r?.verdict, "fail", r?.message);
      const value = measured(r!.message, STEP);
      assert.ok(value >= 50 && value < 95, r!.message);
      assert.match(r!.query ?? "", /"value":"synth-synthetics"/);
      const rolledBack = await eventsWith(ns.name, "synth", "RolledBack");
      assert.ok(rolledBack.some((m) => m.includes(r!.message)), rolledBack.join("\n"));
      assert.equal(image(await getDeployment(ns.name, "synth-primary")), "synth:2");
    });
  });
});
