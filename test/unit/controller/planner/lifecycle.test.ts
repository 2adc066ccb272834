import assert from "node:assert/strict";
import { plan } from "../../../../src/controller/canary/planner/plan.ts";
import type { Action } from "../../../../src/controller/canary/planner/plan.ts";
import { actions, deploy, eventMessages, events, hook, initialized, makeCanary, newWorld, observe, phase, run, runUntilTime, step } from "./plan-world.ts";
import type { World } from "./plan-world.ts";

const canaryRun = (spec: Parameters<typeof makeCanary>[1] = {}) =>
  makeCanary({ stepWeight: 20, maxWeight: 60, webhooks: [hook("rollout", "load-test")], alerts: [{ name: "on-call", providerRef: { name: "slack" } }] }, spec);

const alerts = (w: World) => w.log.flatMap((e) => (e.action.type === "event" && e.action.alert ? [e.action.reason] : []));
const severities = (w: World) => w.log.flatMap((e) => (e.action.type === "event" ? [e.action.severity] : []));

/** A world in the middle of a run of rev2, at canary weight 20. */
function midRun(spec: Parameters<typeof makeCanary>[1] = {}): World {
  const w = initialized(canaryRun(spec));
  w.trackedConfigs = { "Secret/podinfo-secret": "h1" };
  deploy(w, "rev2");
  run(w, (x) => x.canary.status?.canaryWeight === 20);
  w.log = [];
  return w;
}

describe("plan: deletions are not revisions", () => {
  it("a terminating namespace starts nothing, alerts no one and only releases the finalizer", () => {
    const w = midRun({ revertOnDeletion: true });
    w.namespaceTerminating = true;
    // Everything vanishes in some order: first a Secret, then the target.
    w.trackedConfigs = {};
    w.missingConfigs = ["Secret/podinfo-secret"];
    deploy(w, "rev2-without-secret");
    step(w);
    w.gone = false; // without aviary's finalizer the namespace controller removes the Canary on its own schedule
    w.target = null;
    step(w);
    assert.deepEqual(events(w), []);
    assert.deepEqual(alerts(w), []);
    assert.deepEqual(
      [...new Set(w.log.map((e) => e.action.type))],
      ["finalize"],
      "nothing but the finalizer release is written",
    );
    assert.deepEqual(actions(w, "finalize")[0], { type: "finalize", revert: false });
    assert.equal(phase(w), "Terminating");
  });

  it("a target deleted during a run cancels it: no rollback, no alert, info only, all traffic to the primary", () => {
    const w = midRun();
    w.target = null;
    run(w);
    assert.deepEqual(events(w), ["TargetDeleted"]);
    assert.deepEqual(alerts(w), []);
    assert.deepEqual(severities(w), ["info"]);
    assert.equal(phase(w), "Succeeded");
    assert.equal(w.canary.status!.canaryWeight, 0);
    assert.deepEqual(w.routes, { primary: 100, canary: 0, mirror: false });
    assert.equal(actions(w, "webhook").length, 0, "no post-rollout hook: nothing was rolled back");
  });

  it("says what it waits for in one sentence, at info level: a missing target is expected, not an error", () => {
    const fresh = newWorld(canaryRun(), { target: false });
    step(fresh);
    const condition = (w: World) => w.canary.status!.conditions!.find((c) => c.type === "Promoted")?.message;
    assert.equal(condition(fresh), "waiting for target Deployment podinfo: it does not exist");
    assert.deepEqual(eventMessages(fresh, "WaitingForTarget"), ["waiting for target Deployment podinfo: it does not exist"]);
    assert.deepEqual(severities(fresh), ["info"]);
    const idle = initialized(canaryRun());
    idle.target!.deleting = true;
    idle.log = [];
    step(idle);
    assert.equal(condition(idle), "waiting for target Deployment podinfo: it is being deleted");
    assert.deepEqual(severities(idle), ["info"]);
  });

  it("a target being deleted (deletionTimestamp) is treated as gone, not as a revision", () => {
    const w = initialized(canaryRun());
    w.target!.deleting = true;
    deploy(w, "rev2"); // a template change seen while it is going away
    w.target!.deleting = true;
    run(w);
    assert.ok(!events(w).includes("NewRevision"), events(w).join(","));
    assert.equal(actions(w, "scaleTarget").length, 0, "a Deployment being deleted is not scaled");
  });

  it("a target deleted and created again with the promoted revision starts nothing", () => {
    const w = midRun();
    w.target = null;
    run(w);
    w.log = [];
    w.target = { name: "podinfo", specReplicas: 2, desiredReplicas: 2, generation: 1, templateHash: "rev1", readyDelayMs: 0, changedAt: w.now, progressDeadlineExceeded: false };
    run(w);
    assert.deepEqual(events(w), []);
    assert.deepEqual(actions(w, "scaleTarget"), [{ type: "scaleTarget", replicas: 0 }]);
  });

  it("a deleted required Secret starts no run and names it in a condition until it exists again", () => {
    const w = initialized(canaryRun());
    // Without the Secret the revision differs (its hash left the revision).
    w.missingConfigs = ["Secret/podinfo-secret"];
    deploy(w, "rev1-without-secret");
    run(w);
    assert.deepEqual(events(w), ["ConfigMissing"]);
    assert.deepEqual(alerts(w), []);
    assert.equal(phase(w), "Initialized");
    const condition = w.canary.status!.conditions!.find((c) => c.type === "ConfigsAvailable");
    assert.equal(condition?.status, "False");
    assert.match(condition!.message!, /Secret\/podinfo-secret referenced by Deployment podinfo does not exist/);
    // It comes back with the same content: the revision is the promoted one again.
    w.missingConfigs = [];
    deploy(w, "rev1");
    w.log = [];
    run(w);
    assert.deepEqual(events(w), []);
    assert.equal(w.canary.status!.conditions!.find((c) => c.type === "ConfigsAvailable"), undefined);
  });

  it("a required Secret deleted mid-run holds the weight and never promotes", () => {
    const w = midRun();
    w.missingConfigs = ["Secret/podinfo-secret"];
    w.trackedConfigs = {};
    deploy(w, "rev2-without-secret");
    w.now += 10 * 60_000;
    step(w);
    assert.equal(w.canary.status!.canaryWeight, 20);
    assert.equal(phase(w), "Progressing");
    assert.equal(actions(w, "promote").length, 0);
    assert.ok(!events(w).includes("NewRevision") && !events(w).includes("RolledBack"), events(w).join(","));
  });

  it("never advances a weight while a Service the run routes to is missing", () => {
    const w = midRun();
    w.missingObjects = ["Service/podinfo-canary"];
    w.now += 60_000;
    step(w);
    step(w);
    assert.equal(w.canary.status!.canaryWeight, 20);
    assert.deepEqual(events(w), ["ObjectMissing"]);
    w.missingObjects = [];
    run(w, (x) => (x.canary.status?.canaryWeight ?? 0) > 20);
    assert.equal(w.canary.status!.canaryWeight, 40);
  });

  it("re-creates a deleted primary of an idle Canary from its snapshot", () => {
    const w = initialized(canaryRun());
    w.primary = null;
    run(w);
    assert.deepEqual(actions(w, "restorePrimary"), [{ type: "restorePrimary", revision: "rev1", replicas: 2 }]);
    assert.equal(actions(w, "initialize").length, 0);
    assert.equal(w.primary!.revision, "rev1");
    assert.deepEqual(events(w), ["ObjectRestored"]);
  });

  it("without a snapshot, re-creates a deleted primary of an idle Canary from the target on the promoted revision", () => {
    const w = initialized(canaryRun());
    w.primary = null;
    w.snapshot = null;
    run(w);
    assert.equal(actions(w, "initialize").length, 1);
    assert.equal(w.primary!.revision, "rev1");
    assert.deepEqual(events(w), ["ObjectRestored"]);
  });

  it("restores a primary deleted in the middle of a run from its snapshot at once; no weight moves until it is ready", () => {
    const w = midRun();
    w.now += 60_000; // the next check is due
    w.primary = null;
    step(w);
    assert.deepEqual(actions(w, "restorePrimary"), [{ type: "restorePrimary", revision: "rev1", replicas: 2 }], "restored by the reconcile that saw it missing");
    assert.equal(w.primary!.templateHash, "rev1", "the promoted revision, not the target's rev2");
    assert.equal(w.canary.status!.canaryWeight, 20);
    w.primary!.readyDelayMs = 30_000;
    w.primary!.changedAt = w.now;
    w.log = [];
    runUntilTime(w, w.now + 25_000);
    assert.equal(w.canary.status!.canaryWeight, 20, "held while the primary is not ready");
    assert.equal(phase(w), "Progressing");
    run(w);
    assert.equal(phase(w), "Succeeded");
    assert.ok(!events(w).includes("RolledBack"), events(w).join(","));
  });

  it("restores a primary deleted while the target is gone too: the snapshot needs no target", () => {
    const w = midRun();
    w.primary = null;
    w.target = null;
    run(w);
    assert.deepEqual(actions(w, "restorePrimary"), [{ type: "restorePrimary", revision: "rev1", replicas: 2 }]);
    assert.deepEqual(events(w), ["ObjectRestored", "TargetDeleted"]);
    assert.equal(phase(w), "Succeeded");
  });

  it("restores a primary deleted during its promotion with the revision being promoted, and the promotion completes", () => {
    const w = initialized(makeCanary({ stepWeight: 20, maxWeight: 20, webhooks: [hook("rollout", "load-test")] }));
    deploy(w, "rev2");
    run(w, (x) => phase(x) === "Promoting");
    w.primary = null;
    w.log = [];
    step(w);
    assert.deepEqual(actions(w, "restorePrimary"), [{ type: "restorePrimary", revision: "rev2", replicas: 2 }]);
    assert.deepEqual(eventMessages(w, "ObjectRestored"), ["podinfo-primary was missing: re-created from its snapshot of revision rev2, which is being promoted"]);
    run(w);
    assert.equal(phase(w), "Succeeded");
    assert.equal(w.primary!.templateHash, "rev2");
    assert.equal(w.canary.status!.lastPromotedSpec, "rev2");
  });

  it("does not restore from a snapshot of a revision that was never promoted", () => {
    const w = midRun();
    w.snapshot = { revision: "rev2", templateHash: "rev2", replicas: 2 }; // a promotion that did not finish
    w.primary = null;
    step(w);
    assert.deepEqual(actions(w, "restorePrimary"), []);
    assert.equal(w.canary.status!.canaryWeight, 20);
  });

  it("copies the target into a hand-edited primary again while the target carries the promoted revision", () => {
    const w = initialized(canaryRun());
    const o = observe(w);
    o.primaryTemplateDrifted = true;
    const p = plan(o);
    assert.equal(p.kind, "act");
    if (p.kind !== "act") return;
    assert.deepEqual(p.actions.filter((a) => a.type === "promote"), [{ type: "promote", revision: "rev1", replicas: 2, configs: [] }]);
    // Not during a run: the primary then keeps the promoted revision, which the target no longer carries.
    deploy(w, "rev2");
    const running = observe(w);
    running.primaryTemplateDrifted = true;
    const q = plan(running);
    assert.ok(q.kind !== "act" || !q.actions.some((a) => a.type === "promote"));
  });
});

describe("plan: the promotion invariant", () => {
  /** A run of rev2 that has passed its analysis and is about to promote. */
  function aboutToPromote(): World {
    const w = initialized(makeCanary({ stepWeight: 20, maxWeight: 20, webhooks: [hook("rollout", "load-test")] }));
    w.trackedConfigs = { "ConfigMap/podinfo-config": "c1", "Secret/podinfo-secret": "s1" };
    deploy(w, "rev2");
    run(w, (x) => x.canary.status?.canaryWeight === 20);
    w.now += 60_000;
    return w;
  }
  const promotes = (a: Action[]) => a.some((x) => x.type === "promote");

  it("promotes with the configs the run analysed", () => {
    const w = aboutToPromote();
    const p = step(w);
    const promote = p.actions.find((x) => x.type === "promote");
    assert.deepEqual(promote, { type: "promote", revision: "rev2", replicas: 2, configs: ["ConfigMap/podinfo-config", "Secret/podinfo-secret"] });
  });

  // The revision seen equals the run's, yet the configs differ: only a broken caller could
  // produce this; the planner still refuses to write such a primary.
  for (const [what, edit] of [
    ["a tracked Secret's content changed", (o: ReturnType<typeof observe>) => { o.trackedConfigs["Secret/podinfo-secret"] = "s2"; }],
    ["a tracked Secret is gone", (o: ReturnType<typeof observe>) => { delete o.trackedConfigs["Secret/podinfo-secret"]; }],
    ["a required Secret is missing", (o: ReturnType<typeof observe>) => { o.missingConfigs = ["Secret/other"]; }],
    ["an untracked config appeared", (o: ReturnType<typeof observe>) => { o.trackedConfigs["ConfigMap/new"] = "n1"; }],
  ] as const) {
    it(`does not promote when ${what}`, () => {
      const w = aboutToPromote();
      const o = observe(w);
      edit(o);
      let p = plan(o);
      for (let i = 0; p.kind === "need" && i < 4; i++) {
        for (const k of p.checks) o.checks[k] = { ok: true, results: [] };
        p = plan(o);
      }
      assert.equal(p.kind, "act");
      if (p.kind !== "act") return;
      assert.ok(!promotes(p.actions), JSON.stringify(p.actions));
      assert.match(p.status.conditions![0]!.message!, /^not promoting revision rev2: |^Secret\/other referenced by Deployment podinfo does not exist/);
    });
  }
});
