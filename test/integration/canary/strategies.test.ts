/**
 * Each analysis feature of the canary engine, with a test that fails without it: blue/green
 * iterations, stepWeights, skipAnalysis, suspend, the progress deadline, confirm-rollout and
 * confirm-promotion gates, and revertOnDeletion.
 */
import assert from "node:assert/strict";
import { startAviary, type AviaryProcess } from "../../support/aviary.ts";
import { startHookServer, type HookServer } from "../../support/hooks.ts";
import { eventually, holdsFor, kubectl, kubectlJson, kubectlOk, tempNamespace } from "../../support/kubectl.ts";
import { apply, canary, deployment, events, getCanary, getDeployment, image, routeWeights, waitForPhase, watchWeights } from "../../support/canary-fixtures.ts";

describe("canary engine: strategies and gates", function () {
  let ns: Awaited<ReturnType<typeof tempNamespace>>;
  let hooks: HookServer;
  let aviary: AviaryProcess;

  before(async () => {
    ns = await tempNamespace();
    hooks = await startHookServer();
    aviary = startAviary(["--no-webhook", "--namespace", ns.name]);
  });
  after(async () => {
    await aviary?.stop();
    await hooks?.close();
    await ns?.remove();
  });

  async function release(name: string, analysis: Record<string, unknown>, opts: { provider?: string; spec?: Record<string, unknown> } = {}): Promise<void> {
    await apply(ns.name, deployment(name, `${name}:1`));
    await apply(ns.name, canary(name, { analysis, ...opts }));
    await waitForPhase(ns.name, name, "Initialized");
  }

  it("blue/green: runs `iterations` checks with no traffic split, then promotes", async () => {
    await release("bg", { iterations: 3, stepWeight: undefined, maxWeight: undefined, webhooks: [{ name: "count", url: hooks.url("/bg") }] }, { provider: "kubernetes" });
    const before = hooks.calls.filter((c) => c.path === "/bg").length;
    await kubectlOk(["set", "image", "deployment/bg", "app=bg:2", "-n", ns.name]);
    const c = await waitForPhase(ns.name, "bg", "Succeeded", 60_000);
    const checks = hooks.calls.filter((x) => x.path === "/bg").length - before;
    assert.ok(checks >= 3, `iterations ran ${checks} checks`);
    assert.equal(image(await getDeployment(ns.name, "bg-primary")), "bg:2");
    assert.equal(c.status?.canaryWeight ?? 0, 0);
  });

  it("stepWeights: follows the listed weights (5, 25, 50) then promotes", async () => {
    await release("steps", { stepWeight: undefined, maxWeight: undefined, stepWeights: [5, 25, 50] });
    const weights = watchWeights(ns.name, "steps");
    await kubectlOk(["set", "image", "deployment/steps", "app=steps:2", "-n", ns.name]);
    await waitForPhase(ns.name, "steps", "Succeeded", 60_000);
    assert.deepEqual((await weights.stop()).filter((w) => w > 0), [5, 25, 50]);
  });

  it("skipAnalysis: promotes at once without checks or traffic steps", async () => {
    await release("skip", { webhooks: [{ name: "never", url: hooks.url("/skip") }] }, { spec: { skipAnalysis: true } });
    const weights = watchWeights(ns.name, "skip");
    await kubectlOk(["set", "image", "deployment/skip", "app=skip:2", "-n", ns.name]);
    await waitForPhase(ns.name, "skip", "Succeeded", 30_000);
    assert.deepEqual((await weights.stop()).filter((w) => w > 0), []);
    assert.equal(hooks.calls.filter((c) => c.path === "/skip").length, 0);
    assert.equal(image(await getDeployment(ns.name, "skip-primary")), "skip:2");
  });

  it("suspend: a new revision does not start until the Canary is resumed", async () => {
    await release("held", {});
    await kubectlOk(["patch", "canaries.aviary.dev", "held", "-n", ns.name, "--type=merge", "-p", '{"spec":{"suspend":true}}']);
    await eventually("the controller to see the suspension", async () => (await events(ns.name, "held")).find((e) => e.reason === "Suspended"), 10_000, 100);
    await kubectlOk(["set", "image", "deployment/held", "app=held:2", "-n", ns.name]);
    // Three analysis intervals (1s each) in which a run would have started and moved.
    await holdsFor("no run while suspended", async () => {
      const [c, evs, target] = await Promise.all([getCanary(ns.name, "held"), events(ns.name, "held"), getDeployment(ns.name, "held")]);
      if (c.status?.phase !== "Initialized") return `phase ${c.status?.phase}`;
      if (evs.some((e) => e.reason === "NewRevision")) return "a NewRevision event";
      if ((target.spec.replicas ?? 0) > 0) return `the canary scaled to ${target.spec.replicas}`;
      return undefined;
    }, 3000);
    assert.equal(image(await getDeployment(ns.name, "held-primary")), "held:1");
    await kubectlOk(["patch", "canaries.aviary.dev", "held", "-n", ns.name, "--type=merge", "-p", '{"spec":{"suspend":false}}']);
    await waitForPhase(ns.name, "held", "Succeeded", 60_000);
  });

  it("progressDeadlineSeconds: a canary that never becomes ready is rolled back", async () => {
    await release("slow", {}, { spec: { progressDeadlineSeconds: 3 } });
    // A node selector no kwok node matches: the canary's pods stay Pending.
    await kubectlOk(["patch", "deployment", "slow", "-n", ns.name, "--type=merge", "-p", '{"spec":{"template":{"spec":{"nodeSelector":{"zone":"nowhere"}}}}}']);
    const c = await waitForPhase(ns.name, "slow", "Failed", 60_000);
    assert.match(c.status?.conditions?.find((k) => k.type === "Promoted")?.message ?? "", /not ready within 3s/);
    const reasons = (await events(ns.name, "slow")).map((e) => e.reason);
    assert.ok(reasons.includes("ProgressDeadlineExceeded"), reasons.join(", "));
    assert.equal((await getDeployment(ns.name, "slow")).spec.replicas, 0);
  });

  it("confirm-rollout: holds the run in Waiting until the gate opens", async () => {
    hooks.status.set("/gate-rollout", 403);
    await release("gated", { webhooks: [{ name: "approve", type: "confirm-rollout", url: hooks.url("/gate-rollout") }] });
    await kubectlOk(["set", "image", "deployment/gated", "app=gated:2", "-n", ns.name]);
    await waitForPhase(ns.name, "gated", "Waiting", 30_000);
    await new Promise((r) => setTimeout(r, 2000));
    const held = await getCanary(ns.name, "gated");
    assert.equal(held.status?.phase, "Waiting");
    assert.equal(held.status?.failedChecks ?? 0, 0, "a closed gate is not a failed check");
    assert.equal((await routeWeights(ns.name, "gated"))?.canary, 0);
    hooks.status.delete("/gate-rollout");
    await waitForPhase(ns.name, "gated", "Succeeded", 60_000);
  });

  it("confirm-promotion: holds at maxWeight in WaitingPromotion until the gate opens", async () => {
    hooks.status.set("/gate-promotion", 403);
    await release("approve", { webhooks: [{ name: "approve", type: "confirm-promotion", url: hooks.url("/gate-promotion") }] });
    await kubectlOk(["set", "image", "deployment/approve", "app=approve:2", "-n", ns.name]);
    await waitForPhase(ns.name, "approve", "WaitingPromotion", 60_000);
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal((await getCanary(ns.name, "approve")).status?.phase, "WaitingPromotion");
    assert.equal(image(await getDeployment(ns.name, "approve-primary")), "approve:1");
    hooks.status.delete("/gate-promotion");
    await waitForPhase(ns.name, "approve", "Succeeded", 60_000);
    assert.equal(image(await getDeployment(ns.name, "approve-primary")), "approve:2");
  });

  it("revertOnDeletion: deleting the Canary gives the target its replicas and the apex Service back", async () => {
    await release("revert", {}, { spec: { revertOnDeletion: true } });
    const c = await getCanary(ns.name, "revert");
    assert.ok(c.metadata.finalizers?.includes("aviary.dev/finalizer"), "the finalizer is set");
    await kubectlOk(["delete", "canaries.aviary.dev", "revert", "-n", ns.name, "--wait=false"]);
    await eventually("the Canary to be gone", async () => ((await kubectl(["get", "canaries.aviary.dev", "revert", "-n", ns.name])).code !== 0 ? true : undefined), 60_000);
    const target = await getDeployment(ns.name, "revert");
    assert.equal(target.spec.replicas, 2, "the target is scaled back up");
    assert.equal(target.status?.readyReplicas, 2, "and was ready before the switch");
    const apex = await kubectlJson<{ spec: { selector: Record<string, string> } }>(["get", "service", "revert", "-n", ns.name]);
    assert.deepEqual(apex.spec.selector, { app: "revert" });
    await eventually("generated objects removed", async () => {
      const r = await kubectl(["get", "deployment", "revert-primary", "-n", ns.name]);
      return r.code !== 0 ? true : undefined;
    }, 30_000);
  });
});
