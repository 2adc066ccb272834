/**
 * End to end with Prometheus and the kubernetes/gatewayapi built-ins: the demo application
 * runs in the simulated mesh, Prometheus scrapes it every second, aviary decides. p99 must
 * stay under 500 ms and the success rate at or above 95%. A healthy version is promoted step
 * by step; a version with an injected 200–800 ms delay (and no errors) is rolled back on
 * latency alone, with the measured p99 in status and events.
 */
import assert from "node:assert/strict";
import type { SimulatedMesh } from "../../demo/mesh.ts";
import { imageFor } from "../../demo/manifests.ts";
import { eventsWith, measured, promotedMessage } from "../support/canary-metrics.ts";
import type { AnalysisEntry } from "../support/canary-metrics.ts";
import { getCanary, getDeployment, image, routeWeights, watchWeights } from "../support/canary-fixtures.ts";
import type { CanaryObject } from "../support/canary-fixtures.ts";
import { reasonOf, startE2eEnvironment, waitForVerdict } from "./support.ts";
import type { E2eEnvironment } from "./support.ts";

const NAME = "checkout";
const DURATION_FAIL = /^request-duration (\d+(?:\.\d+)?)ms > 500ms$/;
const analysisOf = (c: CanaryObject): AnalysisEntry[] => (c.status?.lastAnalysis ?? []) as AnalysisEntry[];

describe("e2e: Prometheus built-ins on the gatewayapi router (simulated mesh)", function () {
  this.timeout(180_000);
  let env: E2eEnvironment;
  let mesh: SimulatedMesh;

  before(async function () {
    this.timeout(400_000);
    env = await startE2eEnvironment("aviary-e2e-prom");
    mesh = await env.deploy(NAME, {
      interval: "2s", threshold: 2, stepWeight: 20, maxWeight: 60,
      metricInterval: "4s", successMin: 95, durationMaxMs: 500,
    });
  });
  after(async () => {
    await env?.stop();
  });

  it("promotes a healthy version step by step on measured success rate and p99", async () => {
    const weights = watchWeights(env.namespace, NAME);
    const before = mesh.stats();
    await env.release(NAME, "2.0.0");
    const done = await waitForVerdict(env.namespace, NAME);
    assert.equal(done.status?.phase, "Succeeded", reasonOf(done));
    const seen = (await weights.stop()).filter((w) => w > 0);
    assert.deepEqual(seen, [20, 40, 60], `every step was taken: ${seen.join(" → ")}`);

    const [rate, duration] = analysisOf(done);
    assert.equal(rate?.verdict, "pass", rate?.message);
    assert.equal(rate?.message, "request-success-rate 100% >= 95%");
    assert.equal(duration?.verdict, "pass", duration?.message);
    // 2.0.0 answers in 20–120 ms (plus the event-loop delay of a busy machine); a slow one
    // would read above 500.
    assert.ok((duration?.value ?? 0) > 100 && (duration?.value ?? 0) <= 300, duration?.message);
    assert.equal(done.status?.failedChecks ?? 0, 0);
    assert.deepEqual(await eventsWith(env.namespace, NAME, "CheckFailed"), []);
    assert.equal((await eventsWith(env.namespace, NAME, "Promoted")).length, 1);
    assert.match(promotedMessage(done), /promoted/);

    assert.equal(image(await getDeployment(env.namespace, `${NAME}-primary`)), imageFor("2.0.0"));
    assert.deepEqual(await routeWeights(env.namespace, NAME), { primary: 100, canary: 0 });
    const after = mesh.stats();
    assert.ok(after.canary.requests - before.canary.requests > 100, "the canary served real requests through the split");
    assert.equal(after.canary.errors - before.canary.errors, 0);
    assert.equal(after.primary.version, "2.0.0", "the mesh follows the promoted primary's image");
  });

  it("rolls back a version with an injected 200-800 ms delay, on p99 alone", async () => {
    const before = mesh.stats();
    await env.release(NAME, "2.1.0-slow");
    const failed = await waitForVerdict(env.namespace, NAME);
    assert.equal(failed.status?.phase, "Failed", reasonOf(failed));

    assert.equal(failed.status?.failedChecks, 2);
    const [rate, duration] = analysisOf(failed);
    assert.equal(rate?.verdict, "pass", `no errors were injected: ${rate?.message}`);
    assert.equal(duration?.verdict, "fail", duration?.message);
    const p99 = measured(duration!.message, DURATION_FAIL);
    assert.ok(p99 > 500 && p99 <= 1000, `p99 of 200–800 ms answers: ${duration!.message}`);
    assert.equal(duration?.value !== undefined && Math.abs(duration.value - p99) < 0.001, true, "status.lastAnalysis holds the printed value");

    const rolledBack = await eventsWith(env.namespace, NAME, "RolledBack");
    assert.equal(rolledBack.length, 1, rolledBack.join("\n"));
    assert.ok(rolledBack[0]!.includes(duration!.message), `${rolledBack[0]} names ${duration!.message}`);
    assert.ok(promotedMessage(failed).includes(duration!.message), `the Promoted condition says why: ${promotedMessage(failed)}`);
    const condition = failed.status?.conditions?.find((c) => c.type === "Promoted");
    assert.equal(condition?.status, "False");

    assert.equal(image(await getDeployment(env.namespace, `${NAME}-primary`)), imageFor("2.0.0"), "the primary keeps the last good version");
    assert.deepEqual(await routeWeights(env.namespace, NAME), { primary: 100, canary: 0 });
    const canary = await getCanary(env.namespace, NAME);
    assert.equal(canary.status?.canaryWeight ?? 0, 0);
    const after = mesh.stats();
    assert.ok(after.canary.requests > before.canary.requests, "the slow version was measured on real requests");
    assert.equal(after.canary.version, "2.1.0-slow");
  });
});
