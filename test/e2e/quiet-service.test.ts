/**
 * End to end for a quiet service: the simulated mesh sends it no traffic at all, so the only
 * requests its canary gets come from the load tester, called by the Canary's `rollout`
 * webhook as in Flagger's tutorials (`hey -z 1m -q 10 -c 2 http://<svc>-canary.<ns>:80/`).
 * The load tester runs in-process; its address map sends `<svc>-canary.<ns>:80` to the
 * mesh's local stand-in for that Service. Prometheus measures those requests; a healthy
 * version is promoted, one answering 20% errors is rolled back, and a `type: bash` hook is
 * refused with the reason in the Canary's events.
 */
import assert from "node:assert/strict";
import type { SimulatedMesh } from "../../demo/mesh.ts";
import { appCanary, imageFor } from "../../demo/manifests.ts";
import { startLoadTester } from "../../src/loadtester/server.ts";
import type { LoadTester } from "../../src/loadtester/server.ts";
import { createLogger } from "../../src/observability/logger.ts";
import { analysisOf, eventsWith, promotedMessage } from "../support/canary-metrics.ts";
import { getDeployment, image, routeWeights } from "../support/canary-fixtures.ts";
import { kubectlOk } from "../support/kubectl.ts";
import { reasonOf, startE2eEnvironment, waitForVerdict } from "./support.ts";
import type { E2eEnvironment } from "./support.ts";

const NAME = "quiet";

describe("e2e: a quiet service analysed on load-tester traffic (simulated mesh)", function () {
  this.timeout(180_000);
  let env: E2eEnvironment;
  let mesh: SimulatedMesh;
  let tester: LoadTester;
  /** Filled once the mesh is up: the load tester reads it at every run. */
  const addressMap: Record<string, string> = {};

  before(async function () {
    this.timeout(400_000);
    env = await startE2eEnvironment("aviary-e2e-quiet");
    tester = await startLoadTester({
      host: "127.0.0.1", port: 0, addressMap,
      logger: createLogger({ level: process.env.AVIARY_TEST_LOGS ? "info" : "warn", write: (line) => process.stderr.write(`  [loadtester] ${line}\n`) }),
    });
    const service = `${NAME}-canary.${env.namespace}:80`;
    const loadTest = { name: "load-test", type: "rollout", url: `${tester.url}/`, timeout: "5s", metadata: { cmd: `hey -z 1m -q 10 -c 2 http://${service}/` } };
    const canary = appCanary(NAME, env.namespace, {
      interval: "2s", threshold: 3, stepWeight: 20, maxWeight: 60,
      metricInterval: "4s", successMin: 95, durationMaxMs: 500, webhooks: [loadTest],
    });
    mesh = await env.deployCanary(NAME, canary, { requestsPerSecond: 0 });
    addressMap[service] = mesh.services.canary;
  });
  after(async () => {
    await tester?.close();
    await env?.stop();
  });

  it("promotes a healthy version measured on load-tester traffic alone", async () => {
    const before = mesh.stats();
    await env.release(NAME, "2.0.0");
    const done = await waitForVerdict(env.namespace, NAME);
    assert.equal(done.status?.phase, "Succeeded", reasonOf(done));
    const [rate, duration] = analysisOf(done);
    assert.equal(rate?.message, "request-success-rate 100% >= 95%");
    assert.equal(duration?.verdict, "pass", duration?.message);
    // The first check can precede the first scrape of the load (the hook starts it): at most one "no data".
    assert.deepEqual(await eventsWith(env.namespace, NAME, "CheckFailed"), []);
    assert.ok((await eventsWith(env.namespace, NAME, "NoData")).length <= 1);
    const after = mesh.stats();
    assert.ok(after.canary.requests - before.canary.requests > 40, `the load tester's requests reached the canary: ${after.canary.requests - before.canary.requests}`);
    assert.equal(after.canary.errors - before.canary.errors, 0);
    assert.equal(image(await getDeployment(env.namespace, `${NAME}-primary`)), imageFor("2.0.0"));
  });

  it("rolls back a version answering 20% errors, measured on load-tester traffic alone", async () => {
    await env.release(NAME, "2.1.0-errors");
    const failed = await waitForVerdict(env.namespace, NAME);
    assert.equal(failed.status?.phase, "Failed", reasonOf(failed));
    const [rate] = analysisOf(failed);
    assert.equal(rate?.verdict, "fail", rate?.message);
    assert.ok((rate?.value ?? 100) < 95 && (rate?.value ?? 0) > 60, rate?.message);
    assert.match(promotedMessage(failed), /request-success-rate/);
    assert.equal(image(await getDeployment(env.namespace, `${NAME}-primary`)), imageFor("2.0.0"));
    assert.deepEqual(await routeWeights(env.namespace, NAME), { primary: 100, canary: 0 });
    assert.equal(mesh.stats().primary.requests, 0, "the mesh itself sent nothing: the service is quiet");
  });

  it("refuses a type: bash webhook, with the reason in the Canary's events", async () => {
    const smoke = { name: "smoke", type: "pre-rollout", url: `${tester.url}/`, timeout: "5s", metadata: { type: "bash", cmd: `curl -s http://${NAME}-canary.${env.namespace}/ | grep ok` } };
    const patch = [{ op: "add", path: "/spec/analysis/webhooks/-", value: smoke }];
    await kubectlOk(["-n", env.namespace, "patch", "canaries.aviary.dev", NAME, "--type", "json", "-p", JSON.stringify(patch)]);
    await env.release(NAME, "3.0.0");
    const failed = await waitForVerdict(env.namespace, NAME);
    assert.equal(failed.status?.phase, "Failed", reasonOf(failed));
    const refused = (await eventsWith(env.namespace, NAME, "CheckFailed")).filter((m) => m.includes("smoke"));
    assert.ok(refused.length > 0, "a CheckFailed event for the smoke hook");
    assert.match(refused[0]!, /answered 400.*metadata\.type \\?"bash\\?" is not supported.*runs no program/, refused[0]);
    assert.equal(image(await getDeployment(env.namespace, `${NAME}-primary`)), imageFor("2.0.0"));
  });
});
