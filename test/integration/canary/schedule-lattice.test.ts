/**
 * The Amazon VPC Lattice setup of examples/argo/gatewayapi-lattice on the real control plane:
 * `aviary convert` runs on its Argo Rollouts manifests, and the MetricTemplate and Canary it
 * writes are applied, their CloudWatch Synthetics SuccessPercent read from moto. What the test
 * changes in the converted objects: durations only (minutes become seconds: every interval 1s,
 * pauses and initial delays 3m → 3s, the queries' 60 s period → 10 s), plus where the
 * CloudWatch API is (moto's address and its test credentials).
 *
 * All 100% promotes after every step's bound metrics have taken their count (3 and 10); the
 * sustained metric's failureLimit 10 tolerates its failed measurements once the step metric
 * has its 3; a step whose SuccessPercent drops below 100 fails on its second failed
 * measurement (failureLimit 1).
 */
import assert from "node:assert/strict";
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { startAviary, type AviaryProcess } from "../../support/aviary.ts";
import { kubectlOk, tempNamespace } from "../../support/kubectl.ts";
import type { Peer } from "../../support/peers.ts";
import { runScript, startMoto } from "../../support/peers.ts";
import { apply, getCanary, getDeployment, image, waitForPhase } from "../../support/canary-fixtures.ts";
import { promotedMessage, startSyntheticsFeed, waitForCanary, waitForVerdict } from "../../support/canary-metrics.ts";
import { pick, runConvert, scaleDuration } from "../../support/convert.ts";
import type { SyntheticsFeed } from "../../support/canary-metrics.ts";

const NAME = "checkout";
const REPOSITORY = "registry.example.com/shop/checkout";
/** `kubectl set image` on the converted Deployment's container. */
const release = (ns: string, version: string) => kubectlOk(["set", "image", `deployment/${NAME}`, `${NAME}=${REPOSITORY}:${version}`, "-n", ns]);
interface Metric { name: string; interval?: string; initialDelay?: string; count?: number; steps?: number[] }
interface Analysis { interval: string; steps: { weight: number; pause: string }[]; metrics: Metric[] }
interface Tally { name: string; measurements: number; failures: number; step?: number }
const tallies = (c: { status?: Record<string, unknown> }): Tally[] => (c.status?.metricStates ?? []) as Tally[];

/** Minutes become seconds: 1m → 1s, 3m → 3s. */
const scaled = (d: string | undefined): string | undefined => (d === undefined ? undefined : scaleDuration(d, 60));

describe("the step schedule on the converted VPC Lattice example (CloudWatch in moto)", function () {
  this.timeout(240_000);
  let ns: Awaited<ReturnType<typeof tempNamespace>>;
  let moto: Peer;
  let sdk: CloudWatchClient;
  let aviary: AviaryProcess;
  const feeds = new Map<string, SyntheticsFeed>();
  let analysis: Analysis;

  before(async function () {
    this.timeout(700_000);
    await runScript("moto.sh", ["install"], 580_000);
    moto = await startMoto();
    sdk = new CloudWatchClient({ region: "us-east-1", endpoint: moto.url, credentials: { accessKeyId: "testing", secretAccessKey: "testing" } });
    ns = await tempNamespace("aviary-lattice");
    await kubectlOk(["create", "secret", "generic", "aws-creds", "-n", ns.name, "--from-literal=aws_access_key_id=testing", "--from-literal=aws_secret_access_key=testing"]);
    const conversion = await runConvert(["examples/argo/gatewayapi-lattice/argo.yaml", "--aws-region", "us-east-1"]);
    assert.equal(conversion.exitCode, 5, "the Jobs that start and stop the synthetic canary are reported, not converted");
    const template = pick(conversion.objects, "MetricTemplate");
    template.metadata.namespace = ns.name;
    assert.deepEqual(template.spec.provider, { type: "cloudwatch", region: "us-east-1" });
    template.spec.provider = { type: "cloudwatch", address: moto.url, region: "us-east-1", secretRef: { name: "aws-creds" } };
    template.spec.query = (template.spec.query as string).replace('"period": 60', '"period": 10');
    const canary = pick(conversion.objects, "Canary", NAME);
    canary.metadata.namespace = ns.name;
    analysis = canary.spec.analysis as Analysis;
    analysis.interval = scaled(analysis.interval)!;
    analysis.steps = analysis.steps.map((s) => ({ ...s, pause: scaled(s.pause)! }));
    for (const m of analysis.metrics) {
      m.interval = scaled(m.interval);
      m.initialDelay = scaled(m.initialDelay);
    }
    for (const s of analysis.steps) feeds.set(`weight-${s.weight}`, startSyntheticsFeed(sdk, `${NAME}-synthetics`, `weight-${s.weight}`, 100, 250));
    await apply(ns.name, template);
    const target = pick(conversion.objects, "Deployment", NAME);
    assert.equal(target.spec.replicas, 4, "the Rollout's replicas, restored");
    await apply(ns.name, { ...target, metadata: { ...target.metadata, namespace: ns.name } });
    // The CRDs are cluster-wide: apply this tree's again right before the Canary that needs them.
    await kubectlOk(["apply", "--server-side", "--force-conflicts", "-f", "manifests/crds/canaries.yaml"]);
    await apply(ns.name, canary);
    aviary = startAviary(["--no-webhook", "--namespace", ns.name]);
    await waitForPhase(ns.name, NAME, "Initialized", 60_000);
  });

  afterEach(async function () {
    if (this.currentTest?.state === "failed") console.log(JSON.stringify((await getCanary(ns.name, NAME).catch(() => undefined))?.status, null, 1));
  });

  after(async () => {
    await aviary?.stop();
    for (const f of feeds.values()) await f.stop();
    sdk?.destroy();
    await moto?.stop();
    await ns?.remove();
  });

  it("promotes at 100% SuccessPercent once each step's bound metrics have taken their count", async () => {
    await release(ns.name, "1.9.0");
    const done = await waitForVerdict(ns.name, NAME, "Succeeded", 200_000);
    assert.equal(image(await getDeployment(ns.name, `${NAME}-primary`)), `${REPOSITORY}:1.9.0`);
    // The last step's metrics: 3 and 10 measurements, none failed.
    const last = analysis.steps.length - 1;
    assert.deepEqual(tallies(done).filter((t) => t.step === last).map((t) => [t.name, t.measurements, t.failures]), [
      [`success-percent-step-${last}`, 3, 0],
      [`success-percent-sustained-step-${last}`, 10, 0],
    ]);
  });

  it("tolerates the sustained metric's failed measurements up to its failureLimit 10, after the step metric has its 3", async () => {
    const feed = feeds.get(`weight-${analysis.steps[0]!.weight}`)!;
    try {
      await release(ns.name, "1.10.0");
      // Once success-percent-step-0 has its 3 passing measurements, SuccessPercent drops to 0:
      // only success-percent-sustained-step-0 (>= 80, 10 measurements) still measures step 0.
      await waitForCanary(ns.name, NAME, "the run under way", (c) => c.status?.phase === "Progressing", 60_000);
      const counted = await waitForCanary(ns.name, NAME, "success-percent-step-0 to have its count", (c) => c.status?.phase !== "Progressing"
        || tallies(c).some((t) => t.name === "success-percent-step-0" && t.measurements >= 3), 120_000);
      assert.equal((counted.status as Record<string, unknown> | undefined)?.stepIndex, 0, `still at step 0: ${promotedMessage(counted)}`);
      feed.value = 0;
      let tolerated = 0;
      const done = await waitForCanary(ns.name, NAME, "the verdict", (c) => {
        const sustained = tallies(c).find((t) => t.name === "success-percent-sustained-step-0" && t.step === 0);
        if (c.status?.phase === "Progressing" && sustained !== undefined) tolerated = Math.max(tolerated, sustained.failures);
        // Past step 0, its SuccessPercent is 100 again: the steps still to run leave its newest
        // 10 s period clean for the next test.
        if (((c.status as Record<string, unknown> | undefined)?.stepIndex as number | undefined ?? 0) >= 1) feed.value = 100;
        return c.status?.phase === "Succeeded" || c.status?.phase === "Failed";
      }, 200_000);
      assert.equal(done.status?.phase, "Succeeded", promotedMessage(done));
      assert.ok(tolerated >= 1 && tolerated <= 10, `failed sustained measurements at step 0 were tolerated (seen ${tolerated})`);
      assert.equal(image(await getDeployment(ns.name, `${NAME}-primary`)), `${REPOSITORY}:1.10.0`);
    } finally {
      feed.value = 100;
    }
  });

  it("fails a step whose SuccessPercent drops, on the second failed measurement (failureLimit 1)", async () => {
    const feed = feeds.get(`weight-${analysis.steps[0]!.weight}`)!;
    feed.value = 90;
    try {
      await release(ns.name, "1.11.0");
      // The last run ended Succeeded: wait for this one to be under way before its verdict.
      await waitForCanary(ns.name, NAME, "the run under way", (c) => c.status?.phase === "Progressing", 60_000);
      const failed = await waitForVerdict(ns.name, NAME, "Failed", 120_000);
      assert.match(promotedMessage(failed), /success-percent-step-0: 2 failed measurements exceed failureLimit 1/);
      assert.equal(tallies(failed).find((t) => t.name === "success-percent-sustained-step-0")?.failures, 0, "90 passes the sustained metric (>= 80)");
      assert.equal(image(await getDeployment(ns.name, `${NAME}-primary`)), `${REPOSITORY}:1.10.0`);
    } finally {
      feed.value = 100;
    }
  });
});
