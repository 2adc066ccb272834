/**
 * End to end with a manual gate: a healthy version passes every check, but a
 * confirm-promotion webhook keeps answering 403, so aviary holds it in WaitingPromotion at
 * maxWeight, the primary untouched, until a person approves with the `aviary.dev/promote`
 * annotation. Then it is promoted.
 */
import assert from "node:assert/strict";
import { imageFor } from "../../demo/manifests.ts";
import { ANNOTATION_PROMOTE } from "../../src/api/types.ts";
import { startHookServer, type HookServer } from "../support/hooks.ts";
import { kubectlOk } from "../support/kubectl.ts";
import { eventsWith, promotedMessage, waitForCanary } from "../support/canary-metrics.ts";
import { getCanary, getDeployment, image, routeWeights } from "../support/canary-fixtures.ts";
import { reasonOf, startE2eEnvironment } from "./support.ts";
import type { E2eEnvironment } from "./support.ts";

const NAME = "payments";

describe("e2e: a manual gate before promotion (confirm-promotion)", function () {
  this.timeout(180_000);
  let env: E2eEnvironment;
  let hooks: HookServer;

  before(async function () {
    this.timeout(400_000);
    hooks = await startHookServer();
    hooks.status.set("/approve", 403);
    env = await startE2eEnvironment("aviary-e2e-gate");
    await env.deploy(NAME, {
      interval: "2s", threshold: 2, stepWeight: 30, maxWeight: 60,
      metricInterval: "4s", successMin: 95, durationMaxMs: 500,
      webhooks: [{ name: "approve", type: "confirm-promotion", url: hooks.url("/approve") }],
    });
  });
  after(async () => {
    await env?.stop();
    await hooks?.close();
  });

  it("holds a passing release at maxWeight until it is approved, then promotes it", async () => {
    await env.release(NAME, "2.0.0");
    const waiting = await waitForCanary(env.namespace, NAME, "the promotion gate", (c) => ["WaitingPromotion", "Succeeded", "Failed"].includes(c.status?.phase ?? ""), 60_000);
    assert.equal(waiting.status?.phase, "WaitingPromotion", reasonOf(waiting));
    const asked = hooks.calls.filter((c) => c.path === "/approve").length;
    await new Promise((r) => setTimeout(r, 5_000)); // more than two intervals with the gate closed

    const held = await getCanary(env.namespace, NAME);
    assert.equal(held.status?.phase, "WaitingPromotion");
    assert.equal(held.status?.failedChecks ?? 0, 0, `a closed gate is not a failed check: ${(await eventsWith(env.namespace, NAME, "CheckFailed")).join("; ")}`);
    assert.ok(hooks.calls.filter((c) => c.path === "/approve").length > asked, "the gate is asked again while it stays closed");
    assert.equal(image(await getDeployment(env.namespace, `${NAME}-primary`)), imageFor("1.0.0"), "nothing promoted yet");
    assert.deepEqual(await routeWeights(env.namespace, NAME), { primary: 40, canary: 60 }, "the canary keeps maxWeight");
    assert.ok((await eventsWith(env.namespace, NAME, "GateClosed")).some((m) => m.includes("approve")), "a GateClosed event names the gate");
    assert.match(promotedMessage(held), /approve/);

    await kubectlOk(["-n", env.namespace, "annotate", "canaries.aviary.dev", NAME, `${ANNOTATION_PROMOTE}=${Date.now()}`]);
    const done = await waitForCanary(env.namespace, NAME, "the verdict", (c) => c.status?.phase === "Succeeded" || c.status?.phase === "Failed", 60_000);
    assert.equal(done.status?.phase, "Succeeded", reasonOf(done));
    assert.equal(image(await getDeployment(env.namespace, `${NAME}-primary`)), imageFor("2.0.0"));
    assert.deepEqual(await routeWeights(env.namespace, NAME), { primary: 100, canary: 0 });
    assert.equal(done.status?.failedChecks ?? 0, 0);
    assert.equal((await eventsWith(env.namespace, NAME, "Promoted")).length, 1);
    assert.equal(done.status?.conditions?.find((c) => c.type === "Promoted")?.status, "True");
  });
});
