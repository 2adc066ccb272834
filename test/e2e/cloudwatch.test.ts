/**
 * End to end with CloudWatch (moto's server as the API): the simulated mesh publishes what
 * an Application Load Balancer would per target group (demo/mesh/cloudwatch.ts), and the
 * Canary holds the canary's HTTPCode_Target_5XX_Count, read with GetMetricData through a
 * MetricTemplate, to at most 5 per 10 s. A healthy version is promoted; one that answers
 * 20% of requests with 500 is rolled back when the count passes 5.
 */
import assert from "node:assert/strict";
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { appCanary, imageFor } from "../../demo/manifests.ts";
import { ALB_NAMESPACE, startCloudWatchPublisher } from "../../demo/mesh/cloudwatch.ts";
import type { CloudWatchPublisher } from "../../demo/mesh/cloudwatch.ts";
import { kubectlOk } from "../support/kubectl.ts";
import { apply, getDeployment, image, routeWeights } from "../support/canary-fixtures.ts";
import type { CanaryObject } from "../support/canary-fixtures.ts";
import { eventsWith, measured } from "../support/canary-metrics.ts";
import type { AnalysisEntry } from "../support/canary-metrics.ts";
import { runScript, startMoto } from "../support/peers.ts";
import type { Peer } from "../support/peers.ts";
import { reasonOf, startE2eEnvironment, waitForVerdict } from "./support.ts";
import type { E2eEnvironment } from "./support.ts";

const NAME = "orders";
const MAX_5XX = 5;
const OVER_LIMIT = /^target-5xx (\d+(?:\.\d+)?) > 5$/;
const analysisOf = (c: CanaryObject): AnalysisEntry[] => (c.status?.lastAnalysis ?? []) as AnalysisEntry[];

describe("e2e: CloudWatch 5xx count from moto (simulated mesh as the load balancer)", function () {
  this.timeout(180_000);
  let env: E2eEnvironment;
  let moto: Peer;
  let sdk: CloudWatchClient;
  let publisher: CloudWatchPublisher;

  before(async function () {
    this.timeout(700_000);
    await runScript("moto.sh", ["install"], 580_000);
    moto = await startMoto();
    sdk = new CloudWatchClient({ region: "us-east-1", endpoint: moto.url, credentials: { accessKeyId: "testing", secretAccessKey: "testing" } });
    env = await startE2eEnvironment("aviary-e2e-cw");
    publisher = startCloudWatchPublisher({ client: sdk, logger: env.logger });
    await kubectlOk(["create", "secret", "generic", "aws-creds", "-n", env.namespace,
      "--from-literal=aws_access_key_id=testing", "--from-literal=aws_secret_access_key=testing"]);
    await apply(env.namespace, {
      apiVersion: "aviary.dev/v1beta1",
      kind: "MetricTemplate",
      metadata: { name: "alb-target-5xx" },
      spec: {
        provider: { type: "cloudwatch", address: moto.url, region: "us-east-1", secretRef: { name: "aws-creds" } },
        query: JSON.stringify([{
          id: "errors",
          metricStat: {
            metric: { namespace: ALB_NAMESPACE, metricName: "HTTPCode_Target_5XX_Count", dimensions: [{ name: "TargetGroup", value: "{{ namespace }}/{{ target }}" }] },
            period: 10,
            stat: "Sum",
          },
        }], null, 2), // indented: a compact JSON's closing braces would read as "}}"
      },
    });
    const canary = appCanary(NAME, env.namespace, {
      interval: "2s", threshold: 2, stepWeight: 20, maxWeight: 60, metricInterval: "10s", successMin: 0, durationMaxMs: 0,
      metrics: [{ name: "target-5xx", templateRef: { name: "alb-target-5xx" }, interval: "10s", thresholdRange: { max: MAX_5XX } }],
    });
    await env.deployCanary(NAME, canary, { onResponse: (role, status, ms) => publisher.observe(role, status, ms) });
  });
  after(async () => {
    await env?.stop(); // stops the mesh before the publisher it feeds
    await publisher?.stop();
    sdk?.destroy();
    await moto?.stop();
  });

  it("promotes a version with no 5xx", async () => {
    await env.release(NAME, "2.0.0");
    const done = await waitForVerdict(env.namespace, NAME);
    assert.equal(done.status?.phase, "Succeeded", reasonOf(done));
    const [errors] = analysisOf(done);
    assert.equal(errors?.message, "target-5xx 0 <= 5");
    assert.match(errors?.query ?? "", new RegExp(`"value": "${env.namespace}/${NAME}"`), "the canary's own target group");
    assert.ok(publisher.puts() > 0);
    assert.equal(image(await getDeployment(env.namespace, `${NAME}-primary`)), imageFor("2.0.0"));
    assert.deepEqual(await routeWeights(env.namespace, NAME), { primary: 100, canary: 0 });
  });

  it("rolls back once the canary's 5xx count passes the limit", async () => {
    await env.release(NAME, "2.1.0-errors");
    const failed = await waitForVerdict(env.namespace, NAME);
    assert.equal(failed.status?.phase, "Failed", reasonOf(failed));
    assert.equal(failed.status?.failedChecks, 2);
    const [errors] = analysisOf(failed);
    assert.equal(errors?.verdict, "fail", errors?.message);
    assert.ok(measured(errors!.message, OVER_LIMIT) > MAX_5XX, errors!.message);
    const rolledBack = await eventsWith(env.namespace, NAME, "RolledBack");
    assert.equal(rolledBack.length, 1, rolledBack.join("\n"));
    assert.ok(rolledBack[0]!.includes(errors!.message), rolledBack[0]);
    assert.equal(image(await getDeployment(env.namespace, `${NAME}-primary`)), imageFor("2.0.0"));
    assert.deepEqual(await routeWeights(env.namespace, NAME), { primary: 100, canary: 0 });
  });
});
