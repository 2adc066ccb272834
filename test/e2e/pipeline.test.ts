/**
 * End to end with the pipeline example (examples/pipeline/canary.yaml): an App Mesh canary
 * stepped 10% at a time, each step checked against the CloudWatch 5xx count over a window
 * (moto's server as the API; the simulated mesh publishes what a load balancer would per
 * target group). Minutes become seconds: wait_time 60 s → 2 s, the 600 s window → 20 s. A
 * healthy version walks 10 → 100 and is promoted; one that answers 5xx is rolled back on
 * its first check, as the pipeline did with failure_threshold_value 0.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { parseAllDocuments } from "yaml";
import { imageFor } from "../../demo/manifests.ts";
import type { SimulatedMesh } from "../../demo/mesh.ts";
import { startCloudWatchPublisher } from "../../demo/mesh/cloudwatch.ts";
import type { CloudWatchPublisher } from "../../demo/mesh/cloudwatch.ts";
import type { KubeObject } from "../../src/kube/types.ts";
import { kubectlOk } from "../support/kubectl.ts";
import { apply, getDeployment, image } from "../support/canary-fixtures.ts";
import { runScript, startMoto } from "../support/peers.ts";
import type { Peer } from "../support/peers.ts";
import { reasonOf, startE2eEnvironment, waitForVerdict } from "./support.ts";
import type { E2eEnvironment } from "./support.ts";

const NAME = "orders";
type Doc = KubeObject & { kind: string; spec: Record<string, unknown> };
interface Analysis { interval: string; metrics: { interval: string }[] }

describe("e2e: a pipeline's App Mesh canary with a CloudWatch 5xx window (moto)", function () {
  this.timeout(180_000);
  let env: E2eEnvironment;
  let moto: Peer;
  let sdk: CloudWatchClient;
  let publisher: CloudWatchPublisher;
  let mesh: SimulatedMesh;

  before(async function () {
    this.timeout(700_000);
    await runScript("moto.sh", ["install"], 580_000);
    moto = await startMoto();
    sdk = new CloudWatchClient({ region: "us-east-1", endpoint: moto.url, credentials: { accessKeyId: "testing", secretAccessKey: "testing" } });
    env = await startE2eEnvironment("aviary-e2e-pipeline");
    publisher = startCloudWatchPublisher({ client: sdk, logger: env.logger });
    await kubectlOk(["create", "secret", "generic", "aws-creds", "-n", env.namespace, "--from-literal=aws_access_key_id=testing", "--from-literal=aws_secret_access_key=testing"]);
    const docs = parseAllDocuments(await readFile("examples/pipeline/canary.yaml", "utf8")).map((d) => d.toJS() as Doc);
    const template = docs.find((d) => d.kind === "MetricTemplate")!;
    template.metadata.namespace = env.namespace;
    template.spec.provider = { type: "cloudwatch", address: moto.url, region: "us-east-1", secretRef: { name: "aws-creds" }, window: "20s" };
    template.spec.query = (template.spec.query as string).replace('"period": 600', '"period": 10');
    await apply(env.namespace, template);
    const canary = docs.find((d) => d.kind === "Canary")!;
    canary.metadata.namespace = env.namespace;
    (canary.spec.service as Record<string, unknown>).targetPort = 8080;
    const analysis = canary.spec.analysis as Analysis;
    analysis.interval = "2s";
    for (const m of analysis.metrics) m.interval = "2s";
    mesh = await env.deployCanary(NAME, canary, { onResponse: (role, status, ms) => publisher.observe(role, status, ms) });
  });

  after(async () => {
    await env?.stop();
    await publisher?.stop();
    sdk?.destroy();
    await moto?.stop();
  });

  it("walks a healthy version 10% at a time to 100% and promotes it", async () => {
    const seen: number[] = [];
    const watching = setInterval(() => {
      const w = mesh.stats().weights.canary;
      if (seen.at(-1) !== w) seen.push(w);
    }, 50);
    await env.release(NAME, "2.0.0");
    const done = await waitForVerdict(env.namespace, NAME, 150_000);
    clearInterval(watching);
    assert.equal(done.status?.phase, "Succeeded", reasonOf(done));
    assert.deepEqual(seen.filter((w) => w > 0), [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
    assert.equal(image(await getDeployment(env.namespace, `${NAME}-primary`)), imageFor("2.0.0"));
  });

  it("rolls back a version that answers 5xx on its first check (no 5xx allowed in the window)", async () => {
    await env.release(NAME, "2.1.0-errors");
    const failed = await waitForVerdict(env.namespace, NAME);
    assert.equal(failed.status?.phase, "Failed", reasonOf(failed));
    assert.equal(failed.status?.failedChecks, 1);
    assert.match(reasonOf(failed), /http-5xx \d+(\.\d+)? > 0/);
    assert.equal(image(await getDeployment(env.namespace, `${NAME}-primary`)), imageFor("2.0.0"));
  });
});
