import assert from "node:assert/strict";
import { ANNOTATION_ABORT, ANNOTATION_PROMOTE, ANNOTATION_RETRY } from "../../../../src/api/types.ts";
import { plan } from "../../../../src/controller/canary/planner/plan.ts";
import {
  actions,
  checksOf,
  deploy,
  eventMessages,
  events,
  fail,
  halted,
  hook,
  initialized,
  INTERVAL,
  makeCanary,
  newWorld,
  observe,
  pass,
  phase,
  routeActions,
  routeWeights,
  run,
  runUntilTime,
  step,
  T0,
} from "./plan-world.ts";

const canaryRun = (extra: Parameters<typeof makeCanary>[0] = {}, spec: Parameters<typeof makeCanary>[1] = {}) =>
  makeCanary({ stepWeight: 20, maxWeight: 60, webhooks: [hook("rollout", "load-test")], ...extra }, spec);

describe("plan: initialization", () => {
  it("creates the primary, waits for it, then scales the target to zero and records the revision", () => {
    const w = newWorld(makeCanary({ stepWeight: 20 }));
    const first = step(w);
    assert.equal(phase(w), "Initializing");
    assert.deepEqual(first.actions.filter((a) => a.type === "initialize"), [{ type: "initialize", revision: "rev1", replicas: 2 }]);
    assert.equal(first.requeueAfterMs, 10_000, "readiness is awaited from the Deployment watch; the poll is only a safety net");
    run(w);
    assert.equal(phase(w), "Initialized");
    const s = w.canary.status!;
    assert.equal(s.lastAppliedSpec, "rev1");
    assert.equal(s.lastPromotedSpec, "rev1");
    assert.equal(w.target!.specReplicas, 0);
    assert.deepEqual(w.routes, { primary: 100, canary: 0, mirror: false });
    const init = eventMessages(w, "Initialized");
    assert.equal(init.length, 1);
    assert.match(init[0]!, /without analysis/);
    assert.deepEqual(s.conditions?.[0]?.status, "True");
    assert.equal(w.lastPlan?.kind === "act" && w.lastPlan.requeueAfterMs, null);
    assert.equal(checksOf(w, "analysis").length, 0);
  });

  it("keeps initializing while the primary is not ready", () => {
    const w = newWorld(makeCanary({ stepWeight: 20 }));
    step(w);
    w.primary!.readyDelayMs = null;
    runUntilTime(w, T0 + 60_000);
    assert.equal(phase(w), "Initializing");
    assert.match(w.canary.status!.conditions![0]!.message!, /waiting for podinfo-primary to be ready/);
    assert.equal(w.target!.specReplicas, 2, "the target keeps serving until the primary is ready");
  });

  it("waits for a missing target and says so once", () => {
    const w = newWorld(makeCanary({ stepWeight: 20 }), { target: false });
    step(w);
    step(w);
    assert.equal(phase(w), "Initializing");
    assert.deepEqual(events(w), ["WaitingForTarget"]);
    assert.match(w.canary.status!.conditions![0]!.message!, /^waiting for target Deployment podinfo: it does not exist$/);
    assert.equal(actions(w, "initialize").length, 0);
  });

  it("records the primary's revision when the target changed during initialization", () => {
    const w = newWorld(makeCanary({ stepWeight: 20 }));
    step(w); // primary created from rev1
    w.target!.templateHash = "rev2";
    run(w, (x) => phase(x) === "Initialized");
    assert.equal(w.canary.status!.lastAppliedSpec, "rev1");
    run(w, (x) => phase(x) === "Succeeded");
    assert.equal(w.primary!.revision, "rev2", "the newer revision went through a run");
  });
});

describe("plan: a weighted canary run", () => {
  it("goes 20, 40, 60, promotes and finalises, one check per weight", () => {
    const w = initialized(canaryRun());
    deploy(w, "rev2");
    run(w);
    assert.equal(phase(w), "Succeeded");
    assert.deepEqual(routeWeights(w), [20, 40, 60, 0]);
    assert.deepEqual(checksOf(w, "analysis").map((c) => c.weight), [20, 40, 60]);
    assert.equal(w.primary!.revision, "rev2");
    assert.equal(w.target!.specReplicas, 0);
    const s = w.canary.status!;
    assert.equal(s.lastPromotedSpec, "rev2");
    assert.equal(s.canaryWeight, 0);
    assert.equal(s.conditions![0]!.status, "True");
    assert.equal(s.conditions![0]!.reason, "Succeeded");
    assert.deepEqual(actions(w, "webhook"), [{ type: "webhook", hook: "post-rollout", phase: "Succeeded", revision: "rev2" }]);
    for (const reason of ["NewRevision", "AnalysisStarted", "WeightAdvanced", "Promoting", "Promoted"] as const) {
      assert.ok(events(w).includes(reason), `event ${reason}`);
    }
  });

  it("moves the first traffic as soon as the canary is ready, then one step per interval", () => {
    const w = initialized(canaryRun());
    deploy(w, "rev2");
    w.target!.readyDelayMs = 3000;
    run(w);
    const at = routeActions(w).map((r) => r.at - T0);
    assert.deepEqual(at, [3000, 3000 + INTERVAL, 3000 + 2 * INTERVAL, 3000 + 3 * INTERVAL]);
    const promoteAt = w.log.find((e) => e.action.type === "promote")!.at - T0;
    assert.equal(promoteAt, 3000 + 3 * INTERVAL);
  });

  it("scales the canary to what the user asked for before any traffic moves", () => {
    const w = initialized(canaryRun());
    w.target!.desiredReplicas = 3;
    deploy(w, "rev2");
    step(w);
    const first = w.log.map((e) => e.action.type);
    assert.deepEqual(actions(w, "scaleTarget"), [{ type: "scaleTarget", replicas: 3 }]);
    assert.ok(!first.includes("setRoutes"));
    assert.equal(phase(w), "Progressing");
  });

  it("caps the last step at maxWeight when it is not a multiple of stepWeight", () => {
    const w = initialized(canaryRun({ maxWeight: 50 }));
    deploy(w, "rev2");
    run(w);
    assert.deepEqual(routeWeights(w), [20, 40, 50, 0]);
  });

  it("follows stepWeights", () => {
    const w = initialized(makeCanary({ stepWeights: [5, 25, 50], webhooks: [hook("rollout")] }));
    deploy(w, "rev2");
    run(w);
    assert.deepEqual(routeWeights(w), [5, 25, 50, 0]);
    assert.deepEqual(checksOf(w, "analysis").map((c) => c.weight), [5, 25, 50]);
  });

  it("advances without asking anything when there are no checks", () => {
    const w = initialized(makeCanary({ stepWeight: 50 }));
    deploy(w, "rev2");
    run(w);
    assert.equal(w.checks.length, 0);
    assert.deepEqual(routeWeights(w), [50, 100, 0]);
    assert.equal(phase(w), "Succeeded");
  });

  it("is idle afterwards: no requeue, and the same revision does not start a run", () => {
    const w = initialized(canaryRun());
    deploy(w, "rev2");
    run(w);
    w.log = [];
    const p = step(w);
    assert.deepEqual(p.actions, []);
    assert.equal(p.requeueAfterMs, null);
  });

  it("asks only for checks that are due", () => {
    const w = initialized(canaryRun({ webhooks: [hook("rollout"), hook("pre-rollout"), hook("rollback")] }));
    deploy(w, "rev2");
    run(w, (x) => (x.canary.status?.canaryWeight ?? 0) === 20);
    const o = observe(w);
    w.now += INTERVAL / 2;
    const early = plan({ ...o, now: w.now });
    assert.equal(early.kind, "act");
    assert.equal(early.kind === "act" && early.requeueAfterMs, INTERVAL / 2);
    const due = plan({ ...o, now: T0 + 10 * INTERVAL });
    assert.deepEqual(due.kind === "need" && [...due.checks].sort(), ["analysis", "rollback"]);
    assert.equal(checksOf(w, "pre-rollout").length, 1, "pre-rollout hooks run once per run");
  });
});

describe("plan: failing and halted checks", () => {
  it("rolls back once failed checks reach the threshold, with the reason", () => {
    const w = initialized(canaryRun());
    w.answers.analysis = () => fail("HTTP 500 from load-test");
    deploy(w, "rev2");
    run(w);
    assert.equal(phase(w), "Failed");
    assert.equal(w.canary.status!.failedChecks, 2);
    assert.deepEqual(routeWeights(w), [20, 0]);
    assert.deepEqual(w.routes, { primary: 100, canary: 0, mirror: false });
    assert.equal(w.target!.specReplicas, 0);
    assert.equal(w.primary!.revision, "rev1", "the primary keeps the old revision");
    assert.deepEqual(events(w).filter((e) => e === "CheckFailed").length, 2);
    assert.match(eventMessages(w, "RolledBack")[0]!, /HTTP 500 from load-test/);
    assert.match(w.canary.status!.conditions![0]!.message!, /HTTP 500/);
    assert.equal(w.canary.status!.conditions![0]!.status, "False");
    assert.deepEqual(actions(w, "webhook"), [{ type: "webhook", hook: "post-rollout", phase: "Failed", revision: "rev2" }]);
    // Routes go back before the canary is scaled down.
    const order = w.log.slice(-8).map((e) => e.action.type);
    assert.ok(order.indexOf("setRoutes") < order.lastIndexOf("scaleTarget"));
    assert.equal(actions(w, "promote").length, 0);
  });

  it("does not run the failed revision again, but runs it on a retry request", () => {
    const w = initialized(canaryRun());
    w.answers.analysis = () => fail();
    deploy(w, "rev2");
    run(w);
    w.log = [];
    run(w);
    assert.deepEqual(w.log.map((e) => e.action.type), []);
    w.answers.analysis = pass;
    w.requests.retry = true;
    run(w);
    assert.equal(phase(w), "Succeeded");
    assert.ok(events(w).includes("Retrying"));
    assert.deepEqual(actions(w, "clearRequest"), [{ type: "clearRequest", annotation: ANNOTATION_RETRY }]);
    assert.equal(w.primary!.revision, "rev2");
  });

  it("counts a failed pre-rollout hook as a failed check", () => {
    const w = initialized(canaryRun({ webhooks: [hook("pre-rollout")], threshold: 1 }));
    w.answers["pre-rollout"] = () => fail("migration failed");
    deploy(w, "rev2");
    run(w);
    assert.equal(phase(w), "Failed");
    assert.deepEqual(routeWeights(w), [], "no traffic ever reached the canary");
    assert.match(eventMessages(w, "RolledBack")[0]!, /migration failed/);
  });

  it("neither counts nor advances a halted check, and resumes when it clears", () => {
    const w = initialized(canaryRun());
    deploy(w, "rev2");
    run(w, (x) => x.canary.status?.canaryWeight === 20);
    w.answers.analysis = () => halted();
    runUntilTime(w, w.now + 2 * INTERVAL);
    assert.equal(w.canary.status!.canaryWeight, 20);
    assert.equal(w.canary.status!.failedChecks, 0);
    assert.equal(w.canary.status!.providerErrors, 2);
    assert.equal(events(w).filter((e) => e === "CheckHalted").length, 2);
    assert.match(w.canary.status!.conditions![0]!.message!, /halted/);
    w.answers.analysis = pass;
    run(w);
    assert.equal(phase(w), "Succeeded");
    assert.equal(w.canary.status!.providerErrors, 0);
  });

  it("rolls back when checks stay halted for the progress deadline", () => {
    const w = initialized(canaryRun()); // deadline 60s, interval 10s: 6 halted checks
    deploy(w, "rev2");
    w.answers.analysis = () => halted();
    run(w);
    assert.equal(phase(w), "Failed");
    assert.equal(checksOf(w, "analysis").length, 6);
    assert.match(eventMessages(w, "RolledBack")[0]!, /could not be evaluated 6 times/);
  });

  it("rolls back when a rollback webhook asks for it", () => {
    const w = initialized(canaryRun({ webhooks: [hook("rollout"), hook("rollback")] }));
    deploy(w, "rev2");
    run(w, (x) => x.canary.status?.canaryWeight === 40);
    w.answers.rollback = pass;
    run(w);
    assert.equal(phase(w), "Failed");
    assert.match(eventMessages(w, "RolledBack")[0]!, /rollback webhook/);
  });
});

describe("plan: revisions during a run", () => {
  it("restarts from weight 0 when a new revision arrives mid-analysis", () => {
    const w = initialized(canaryRun());
    w.answers.analysis = (x) => (x.target!.templateHash === "rev2" && x.routes!.canary === 40 ? fail() : pass());
    deploy(w, "rev2");
    run(w, (x) => x.canary.status?.failedChecks === 1);
    deploy(w, "rev3");
    const p = step(w);
    assert.deepEqual(p.actions[0], { type: "setRoutes", primary: 100, canary: 0, mirror: false });
    const s = w.canary.status!;
    assert.equal(s.failedChecks, 0);
    assert.equal(s.iterations, 0);
    assert.equal(s.canaryWeight, 0);
    assert.equal(s.lastAppliedSpec, "rev3");
    assert.equal(phase(w), "Progressing");
    assert.match(eventMessages(w, "NewRevision").at(-1)!, /restarting from weight 0/);
    run(w);
    assert.equal(phase(w), "Succeeded");
    assert.equal(w.primary!.revision, "rev3");
  });

  it("cancels the run when the target goes back to the promoted revision", () => {
    const w = initialized(canaryRun());
    deploy(w, "rev2");
    run(w, (x) => x.canary.status?.canaryWeight === 40);
    deploy(w, "rev1");
    run(w);
    assert.equal(phase(w), "Succeeded");
    assert.deepEqual(w.routes, { primary: 100, canary: 0, mirror: false });
    assert.equal(w.target!.specReplicas, 0);
    assert.equal(actions(w, "promote").length, 0);
    assert.ok(events(w).includes("RevisionReverted"));
  });

  it("does not start a run when a failed target is rolled back to the promoted revision", () => {
    const w = initialized(canaryRun());
    w.answers.analysis = () => fail();
    deploy(w, "rev2");
    run(w);
    w.log = [];
    deploy(w, "rev1");
    w.target!.specReplicas = 2; // e.g. `kubectl rollout undo` with a replica count
    run(w);
    assert.equal(phase(w), "Failed");
    assert.equal(w.canary.status!.lastAppliedSpec, "rev1");
    assert.deepEqual(actions(w, "scaleTarget"), [{ type: "scaleTarget", replicas: 0 }]);
    assert.deepEqual(events(w), ["RevisionReverted"]);
  });

  it("cancels the run, without a rollback, when the target is deleted during a run", () => {
    const w = initialized(canaryRun());
    deploy(w, "rev2");
    run(w, (x) => x.canary.status?.canaryWeight === 20);
    w.target = null;
    run(w);
    assert.equal(phase(w), "Succeeded");
    assert.equal(w.canary.status!.lastAppliedSpec, "rev1", "the promoted revision is what the primary serves");
    assert.deepEqual(w.routes, { primary: 100, canary: 0, mirror: false });
  });
});

describe("plan: gates", () => {
  it("waits in Waiting while confirm-rollout is closed, without counting or scaling", () => {
    const w = initialized(canaryRun({ webhooks: [hook("rollout"), hook("confirm-rollout")] }));
    w.answers["confirm-rollout"] = () => ({ ok: false, results: [] });
    deploy(w, "rev2");
    runUntilTime(w, w.now + 3 * INTERVAL);
    assert.equal(phase(w), "Waiting");
    assert.equal(w.canary.status!.failedChecks, 0);
    assert.equal(w.target!.specReplicas, 0);
    assert.deepEqual(checksOf(w, "confirm-rollout").map((c) => c.at - checksOf(w, "confirm-rollout")[0]!.at), [0, INTERVAL, 2 * INTERVAL, 3 * INTERVAL]);
    assert.equal(events(w).filter((e) => e === "GateClosed").length, 1);
    w.answers["confirm-rollout"] = pass;
    run(w);
    assert.equal(phase(w), "Succeeded");
  });

  it("opens a closed confirm-rollout gate on a promote request, at once", () => {
    const w = initialized(canaryRun({ webhooks: [hook("rollout"), hook("confirm-rollout")] }));
    w.answers["confirm-rollout"] = () => ({ ok: false, results: [] });
    deploy(w, "rev2");
    step(w);
    assert.equal(phase(w), "Waiting");
    w.requests.promote = true;
    step(w);
    assert.equal(phase(w), "Progressing");
    assert.deepEqual(actions(w, "clearRequest"), [{ type: "clearRequest", annotation: ANNOTATION_PROMOTE }]);
    assert.deepEqual(actions(w, "scaleTarget"), [{ type: "scaleTarget", replicas: 2 }]);
  });

  it("holds the weight while confirm-traffic-increase is closed, still checking", () => {
    const w = initialized(canaryRun({ webhooks: [hook("rollout"), hook("confirm-traffic-increase")] }));
    w.answers["confirm-traffic-increase"] = (x) => (x.routes!.canary >= 20 ? { ok: false, results: [] } : pass());
    deploy(w, "rev2");
    runUntilTime(w, w.now + 4 * INTERVAL);
    assert.equal(w.canary.status!.canaryWeight, 20);
    assert.ok(checksOf(w, "analysis").length >= 3, "the canary keeps being analysed");
    assert.equal(w.canary.status!.failedChecks, 0);
    assert.equal(events(w).filter((e) => e === "GateClosed").length, 1);
    w.answers["confirm-traffic-increase"] = pass;
    run(w);
    assert.equal(phase(w), "Succeeded");
    assert.deepEqual(routeWeights(w), [20, 40, 60, 0]);
  });

  it("does not analyse a canary the gate holds at 0%: it has no traffic to measure", () => {
    const w = initialized(canaryRun({ webhooks: [hook("rollout"), hook("confirm-traffic-increase")] }));
    w.answers["confirm-traffic-increase"] = () => ({ ok: false, results: [] });
    deploy(w, "rev2");
    runUntilTime(w, w.now + 3 * INTERVAL);
    assert.equal(w.canary.status!.canaryWeight, 0);
    assert.equal(checksOf(w, "analysis").length, 0);
    assert.equal(checksOf(w, "confirm-traffic-increase").length, 4);
  });

  it("waits in WaitingPromotion while confirm-promotion is closed, analysis continuing", () => {
    const w = initialized(canaryRun({ webhooks: [hook("rollout"), hook("confirm-promotion")] }));
    w.answers["confirm-promotion"] = () => ({ ok: false, results: [] });
    deploy(w, "rev2");
    runUntilTime(w, w.now + 6 * INTERVAL);
    assert.equal(phase(w), "WaitingPromotion");
    assert.equal(w.canary.status!.canaryWeight, 60);
    assert.equal(actions(w, "promote").length, 0);
    const before = checksOf(w, "analysis").length;
    w.answers.analysis = () => fail();
    run(w);
    assert.equal(phase(w), "Failed", "failed checks while waiting still roll back");
    assert.ok(checksOf(w, "analysis").length > before);
  });

  it("promotes a WaitingPromotion canary on a promote request", () => {
    const w = initialized(canaryRun({ webhooks: [hook("rollout"), hook("confirm-promotion")] }));
    w.answers["confirm-promotion"] = () => ({ ok: false, results: [] });
    deploy(w, "rev2");
    run(w, (x) => phase(x) === "WaitingPromotion");
    w.requests.promote = true;
    run(w);
    assert.equal(phase(w), "Succeeded");
    assert.equal(w.requests.promote, undefined);
  });
});

describe("plan: progress deadline", () => {
  it("rolls back a canary that never becomes ready", () => {
    const w = initialized(canaryRun());
    deploy(w, "rev2", { readyDelayMs: null });
    const start = w.now;
    run(w);
    assert.equal(phase(w), "Failed");
    assert.ok(events(w).includes("ProgressDeadlineExceeded"));
    const failedAt = w.log.find((e) => e.action.type === "event" && e.action.reason === "RolledBack")!.at;
    assert.equal(failedAt - start, 60_000);
    assert.equal(checksOf(w, "analysis").length, 0);
    assert.equal(w.target!.specReplicas, 0);
  });

  it("rolls back at once when the Deployment reports ProgressDeadlineExceeded", () => {
    const w = initialized(canaryRun());
    deploy(w, "rev2", { readyDelayMs: null });
    step(w);
    w.target!.progressDeadlineExceeded = true;
    step(w);
    assert.equal(phase(w), "Failed");
  });

  it("fails a promotion whose primary never rolls out", () => {
    const w = initialized(canaryRun());
    deploy(w, "rev2");
    run(w, (x) => phase(x) === "Promoting");
    w.primary!.readyDelayMs = null;
    w.primary!.changedAt = w.now;
    run(w);
    assert.equal(phase(w), "Failed");
    assert.match(eventMessages(w, "ProgressDeadlineExceeded")[0]!, /podinfo-primary did not roll out revision rev2/);
  });
});

describe("plan: requests", () => {
  it("aborts a run at once", () => {
    const w = initialized(canaryRun());
    deploy(w, "rev2");
    run(w, (x) => x.canary.status?.canaryWeight === 40);
    w.requests.abort = true;
    step(w);
    assert.equal(phase(w), "Failed");
    assert.deepEqual(w.routes, { primary: 100, canary: 0, mirror: false });
    assert.ok(actions(w, "clearRequest").some((a) => a.type === "clearRequest" && a.annotation === ANNOTATION_ABORT));
    assert.match(eventMessages(w, "RolledBack")[0]!, /aborted on request/);
  });

  it("promotes a run at once, skipping the remaining steps", () => {
    const w = initialized(canaryRun());
    deploy(w, "rev2");
    run(w, (x) => x.canary.status?.canaryWeight === 20);
    w.requests.promote = true;
    run(w);
    assert.equal(phase(w), "Succeeded");
    assert.deepEqual(routeWeights(w), [20, 0]);
  });

  it("refuses and clears requests that do not apply", () => {
    const w = initialized(canaryRun());
    w.requests = { promote: true, abort: true, retry: true };
    step(w);
    assert.deepEqual(w.requests, {});
    assert.equal(events(w).filter((e) => e === "RequestIgnored").length, 3);
    assert.equal(phase(w), "Initialized");
  });

  it("holds a paused run at its step and resumes it", () => {
    const w = initialized(canaryRun());
    deploy(w, "rev2");
    run(w, (x) => x.canary.status?.canaryWeight === 20);
    w.requests.paused = true;
    const checks = w.checks.length;
    runUntilTime(w, w.now + 5 * INTERVAL);
    assert.equal(w.canary.status!.canaryWeight, 20);
    assert.equal(w.checks.length, checks);
    assert.deepEqual(events(w).filter((e) => e === "Paused"), ["Paused"]);
    delete w.requests.paused;
    w.now += 1;
    run(w);
    assert.equal(phase(w), "Succeeded");
  });

  it("does not start a run while paused", () => {
    const w = initialized(canaryRun());
    w.requests.paused = true;
    deploy(w, "rev2");
    run(w);
    assert.equal(phase(w), "Initialized");
    assert.equal(w.target!.specReplicas, 0);
    delete w.requests.paused;
    run(w);
    assert.equal(phase(w), "Succeeded");
  });
});
