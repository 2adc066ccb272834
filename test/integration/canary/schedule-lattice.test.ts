/**
 * The converted Amazon VPC Lattice example (examples/argo/gatewayapi-lattice) on the real
 * control plane, its CloudWatch Synthetics SuccessPercent read from moto: a step schedule
 * whose metrics are bound to their steps with an initialDelay and a count, minutes scaled
 * to seconds. All 100% promotes after every step's metrics have taken their count; a step
 * whose SuccessPercent drops fails on its second failed measurement (failureLimit 1).
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { parseAllDocuments } from "yaml";
import { startAviary, type AviaryProcess } from "../../support/aviary.ts";
import { kubectlOk, tempNamespace } from "../../support/kubectl.ts";
import type { Peer } from "../../support/peers.ts";
import { runScript, startMoto } from "../../support/peers.ts";
import { apply, deployment, getCanary, getDeployment, image, waitForPhase } from "../../support/canary-fixtures.ts";
import { promotedMessage, startSyntheticsFeed, waitForVerdict } from "../../support/canary-metrics.ts";
import type { SyntheticsFeed } from "../../support/canary-metrics.ts";

const NAME = "checkout";
interface Manifest { apiVersion?: string; kind: string; metadata: { name: string; namespace?: string }; spec: Record<string, unknown> }
interface Metric { name: string; interval?: string; initialDelay?: string; count?: number; steps?: number[] }
interface Analysis { interval: string; steps: { weight: number; pause: string }[]; metrics: Metric[] }

/** 1m → 1s, 3m → 3s. */
const scaled = (d: string | undefined): string | undefined => (d === undefined ? undefined : d.replace(/^(\d+)m$/, "$1s"));

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
    const docs = parseAllDocuments(await readFile("examples/argo/gatewayapi-lattice/aviary.yaml", "utf8")).map((d) => d.toJS() as Manifest);
    const template = docs.find((d) => d.kind === "MetricTemplate")!;
    template.metadata.namespace = ns.name;
    template.spec.provider = { type: "cloudwatch", address: moto.url, region: "us-east-1", secretRef: { name: "aws-creds" } };
    template.spec.query = (template.spec.query as string).replace('"period": 60', '"period": 10');
    const canary = docs.find((d) => d.kind === "Canary")!;
    canary.metadata.namespace = ns.name;
    analysis = canary.spec.analysis as Analysis;
    analysis.interval = "1s";
    analysis.steps = analysis.steps.map((s) => ({ ...s, pause: scaled(s.pause)! }));
    for (const m of analysis.metrics) {
      m.interval = "1s";
      m.initialDelay = scaled(m.initialDelay);
    }
    for (const s of analysis.steps) feeds.set(`weight-${s.weight}`, startSyntheticsFeed(sdk, `${NAME}-synthetics`, `weight-${s.weight}`, 100, 250));
    await apply(ns.name, template);
    await apply(ns.name, deployment(NAME, `${NAME}:1`, { replicas: 1 }));
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
    await kubectlOk(["set", "image", `deployment/${NAME}`, `app=${NAME}:2`, "-n", ns.name]);
    const done = await waitForVerdict(ns.name, NAME, "Succeeded", 200_000);
    assert.equal(image(await getDeployment(ns.name, `${NAME}-primary`)), `${NAME}:2`);
    // The last step's metrics: 3 and 10 measurements, none failed.
    const last = analysis.steps.length - 1;
    const tallies = ((done.status as Record<string, unknown> | undefined)?.metricStates ?? []) as { name: string; measurements: number; failures: number; step?: number }[];
    assert.deepEqual(tallies.filter((t) => t.step === last).map((t) => [t.name, t.measurements, t.failures]), [
      [`success-percent-step-${last}`, 3, 0],
      [`success-percent-sustained-step-${last}`, 10, 0],
    ]);
  });

  it("fails a step whose SuccessPercent drops, on the second failed measurement (failureLimit 1)", async () => {
    feeds.get(`weight-${analysis.steps[0]!.weight}`)!.value = 90;
    await kubectlOk(["set", "image", `deployment/${NAME}`, `app=${NAME}:3`, "-n", ns.name]);
    const failed = await waitForVerdict(ns.name, NAME, "Failed", 120_000);
    assert.match(promotedMessage(failed), /success-percent-step-0: 2 failed measurements exceed failureLimit 1/);
    assert.equal(image(await getDeployment(ns.name, `${NAME}-primary`)), `${NAME}:2`);
  });
});
