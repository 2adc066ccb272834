import assert from "node:assert/strict";
import type { Canary } from "../../../../src/api/types.ts";
import { actions, checksOf, deploy, eventMessages, events, fail, hook, makeCanary, newWorld, phase, run, simDeployment, step } from "./plan-world.ts";
import type { World } from "./plan-world.ts";

const rollout = hook("rollout", "load-test");

function firstDeploy(extra: Parameters<typeof makeCanary>[0] = {}, spec: Parameters<typeof makeCanary>[1] = {}): Canary {
  return makeCanary({ stepWeight: 20, maxWeight: 60, firstDeploy: true, webhooks: [rollout], ...extra }, spec);
}

const promotedCondition = (w: World) => w.canary.status?.conditions?.find((c) => c.type === "Promoted");

describe("plan: first-deploy analysis", () => {
  it("without firstDeploy the first revision is promoted without analysis, as in Flagger", () => {
    const w = newWorld(makeCanary({ stepWeight: 20, maxWeight: 60, webhooks: [rollout] }));
    run(w);
    assert.equal(phase(w), "Initialized");
    assert.equal(checksOf(w, "analysis").length, 0);
    assert.equal(actions(w, "exposeTarget").length, 0);
  });

  it("analyses the first revision before any primary exists, then initializes from it", () => {
    const w = newWorld(firstDeploy({ webhooks: [rollout, hook("pre-rollout", "acceptance")] }));
    run(w, (x) => x.primary !== null);
    assert.equal(checksOf(w, "pre-rollout").length, 1);
    assert.equal(checksOf(w, "analysis").length, 3, "one check per weight step (20, 40, 60)");
    const types = w.log.map((e) => e.action.type);
    assert.ok(types.indexOf("exposeTarget") < types.indexOf("initialize"), "the target is exposed during the analysis");
    assert.ok(!types.slice(0, types.indexOf("initialize")).includes("setRoutes"), "no route is written before the primary exists");
    assert.ok(!w.log.some((e) => e.action.type === "scaleTarget" && e.at < w.log.find((x) => x.action.type === "initialize")!.at), "the target is not scaled during the analysis");
    run(w);
    assert.equal(phase(w), "Initialized");
    assert.equal(w.primary?.revision, "rev1");
    assert.equal(w.target?.specReplicas, 0);
    const inits = w.log.flatMap((e, i) => (e.action.type === "initialize" ? [{ i, apexOnTarget: e.action.apexOnTarget === true }] : []));
    assert.equal(inits[0]?.apexOnTarget, true, "the apex Service stays on the target while the primary starts");
    const last = inits[inits.length - 1]!;
    assert.equal(last.apexOnTarget, false, "then it moves to the primary");
    const scaleDown = w.log.findIndex((e) => e.action.type === "scaleTarget" && e.action.replicas === 0);
    assert.ok(last.i < scaleDown, "before the target is scaled down");
    assert.ok(events(w).includes("FirstDeployStarted") && events(w).includes("FirstDeployPassed"));
    assert.match(promotedCondition(w)?.message ?? "", /passed its first-deploy analysis/);
  });

  it("a target deleted during the first-deploy analysis cancels it, not fails it: no alert, no post-rollout hook, info level", () => {
    const w = newWorld(firstDeploy({ alerts: [{ name: "on-call", providerRef: { name: "slack" } }] }));
    run(w, (x) => x.canary.status?.phase === "Progressing" && (x.canary.status.iterations ?? 0) > 0);
    w.log = [];
    w.target = null;
    step(w);
    step(w);
    assert.deepEqual(events(w), ["TargetDeleted"]);
    assert.match(eventMessages(w, "TargetDeleted")[0] ?? "", /^target Deployment podinfo does not exist: the first-deploy analysis of revision rev1 is cancelled/);
    assert.deepEqual(w.log.flatMap((e) => (e.action.type === "event" ? [e.action.severity] : [])), ["info"]);
    assert.ok(!w.log.some((e) => e.action.type === "event" && e.action.alert), "no alert");
    assert.equal(actions(w, "webhook").length, 0, "no post-rollout hook: nothing failed");
    assert.equal(phase(w), "Initializing");
    assert.equal(promotedCondition(w)?.message, "waiting for target Deployment podinfo: it does not exist");
    // The target comes back: its analysis starts again.
    w.target = simDeployment("podinfo", 2, "rev1", w.now);
    w.log = [];
    run(w, (x) => x.primary !== null);
    assert.ok(events(w).includes("FirstDeployStarted") && events(w).includes("FirstDeployPassed"), events(w).join(", "));
  });

  it("a target being deleted (deletionTimestamp) before its first-deploy analysis is waited for, at info level", () => {
    const w = newWorld(firstDeploy());
    w.target!.deleting = true;
    step(w);
    step(w);
    assert.deepEqual(events(w), ["WaitingForTarget"]);
    assert.equal(promotedCondition(w)?.message, "waiting for target Deployment podinfo: it is being deleted");
    assert.deepEqual(w.log.flatMap((e) => (e.action.type === "event" ? [e.action.severity] : [])), ["info"]);
    assert.equal(actions(w, "exposeTarget").length, 0);
  });

  it("blue/green specs run `iterations` checks", () => {
    const w = newWorld(makeCanary({ iterations: 2, firstDeploy: true, webhooks: [rollout] }, { provider: "kubernetes" }));
    run(w);
    assert.equal(phase(w), "Initialized");
    assert.equal(checksOf(w, "analysis").length, 2);
  });

  it("a failed first deploy leaves the target as deployed, creates no primary and says why", () => {
    const w = newWorld(firstDeploy());
    w.answers.analysis = () => fail("error rate 12%");
    run(w);
    assert.equal(phase(w), "Failed");
    assert.equal(w.primary, null);
    assert.equal(w.target?.specReplicas, 2);
    assert.equal(actions(w, "initialize").length, 0);
    assert.equal(actions(w, "scaleTarget").length, 0);
    assert.equal(actions(w, "setRoutes").length, 0);
    assert.equal(checksOf(w, "analysis").length, 2, "threshold 2");
    const [message] = eventMessages(w, "FirstDeployFailed");
    assert.match(message ?? "", /error rate 12%/);
    assert.equal(promotedCondition(w)?.status, "False");
    assert.match(promotedCondition(w)?.message ?? "", /no primary was created/);
    const before = w.log.length;
    step(w);
    assert.equal(w.log.length, before, "a failed first deploy is not retried on its own");
  });

  it("a new revision after a failed first deploy is analysed again, and can pass", () => {
    const w = newWorld(firstDeploy());
    w.answers.analysis = () => fail();
    run(w);
    assert.equal(phase(w), "Failed");
    delete w.answers.analysis;
    deploy(w, "rev2");
    run(w);
    assert.equal(phase(w), "Initialized");
    assert.equal(w.primary?.revision, "rev2");
    assert.equal(events(w).filter((e) => e === "FirstDeployStarted").length, 2);
  });

  it("a target that never becomes ready fails the first deploy at the progress deadline", () => {
    const w = newWorld(firstDeploy());
    w.target!.readyDelayMs = null;
    run(w);
    assert.equal(phase(w), "Failed");
    assert.match(eventMessages(w, "FirstDeployFailed")[0] ?? "", /not ready within 60s/);
    assert.equal(w.primary, null);
  });

  it("switching firstDeploy off after a failure initializes without analysis", () => {
    const w = newWorld(firstDeploy());
    w.answers.analysis = () => fail();
    run(w);
    w.canary = { ...w.canary, spec: { ...w.canary.spec, analysis: { ...w.canary.spec.analysis, firstDeploy: false } } };
    run(w);
    assert.equal(phase(w), "Initialized");
    assert.equal(w.primary?.revision, "rev1");
    assert.match(promotedCondition(w)?.message ?? "", /promoted without analysis/);
  });

  it("finishes a passed first deploy from the status, even if the option is removed meanwhile", () => {
    const w = newWorld(firstDeploy());
    w.target!.readyDelayMs = 0;
    run(w, (x) => phase(x) === "Initializing" && x.canary.status?.lastAppliedSpec === "rev1");
    w.canary = { ...w.canary, spec: { ...w.canary.spec, analysis: { ...w.canary.spec.analysis, firstDeploy: false } } };
    w.log = [];
    run(w);
    assert.equal(phase(w), "Initialized");
    const inits = actions(w, "initialize").map((a) => (a.type === "initialize" ? a.apexOnTarget === true : undefined));
    assert.deepEqual([inits[0], inits[inits.length - 1]], [true, false], "apex kept on the target, then moved to the primary");
    assert.match(promotedCondition(w)?.message ?? "", /passed its first-deploy analysis/);
  });
});
