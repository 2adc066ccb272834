import assert from "node:assert/strict";
import { plan } from "../../../../src/controller/canary/planner/plan.ts";
import {
  actions,
  checksOf,
  deploy,
  events,
  fail,
  hook,
  initialized,
  INTERVAL,
  makeCanary,
  observe,
  phase,
  routeActions,
  routeWeights,
  run,
  runUntilTime,
  step,
} from "./plan-world.ts";

const rollout = hook("rollout", "load-test");

describe("plan: blue/green, A/B and mirroring", () => {
  it("blue/green on the kubernetes provider: N checks, no traffic moved, then promotion", () => {
    const w = initialized(makeCanary({ iterations: 3, webhooks: [rollout] }, { provider: "kubernetes" }));
    deploy(w, "rev2");
    run(w);
    assert.equal(phase(w), "Succeeded");
    assert.deepEqual(routeWeights(w), []);
    assert.equal(checksOf(w, "analysis").length, 3);
    assert.equal(events(w).filter((e) => e === "IterationAdvanced").length, 2);
    assert.equal(w.canary.status!.iterations, 3);
    assert.equal(w.primary!.revision, "rev2");
  });

  it("blue/green on a weighted router cuts users over to the canary before the primary is updated", () => {
    const w = initialized(makeCanary({ iterations: 2, webhooks: [rollout] }));
    deploy(w, "rev2");
    run(w);
    assert.deepEqual(
      routeActions(w).map((r) => [r.primary, r.canary]),
      [
        [0, 100],
        [100, 0],
      ],
    );
    assert.deepEqual(checksOf(w, "analysis").map((c) => c.weight), [0, 0], "checks run while users stay on the primary");
    const types = w.log.map((e) => e.action.type);
    assert.ok(types.indexOf("setRoutes") < types.indexOf("promote"));
    assert.equal(phase(w), "Succeeded");
  });

  it("blue/green rolls back after threshold failed iterations", () => {
    const w = initialized(makeCanary({ iterations: 5, threshold: 2, webhooks: [rollout] }, { provider: "kubernetes" }));
    w.answers.analysis = () => fail();
    deploy(w, "rev2");
    run(w);
    assert.equal(phase(w), "Failed");
    assert.equal(checksOf(w, "analysis").length, 2);
    assert.equal(w.target!.specReplicas, 0);
  });

  it("A/B sends the matched route to the canary during the iterations", () => {
    const w = initialized(makeCanary({ iterations: 2, match: [{ headers: { "x-canary": { exact: "insider" } } }], webhooks: [rollout] }));
    deploy(w, "rev2");
    run(w);
    const routes = routeActions(w).map((r) => [r.primary, r.canary]);
    assert.deepEqual(routes, [
      [0, 100],
      [100, 0],
    ]);
    assert.deepEqual(checksOf(w, "analysis").map((c) => c.weight), [100, 100]);
    assert.equal(w.canary.status!.canaryWeight, 0);
    assert.equal(phase(w), "Succeeded");
  });

  it("a weighted canary with mirror mirrors for one step before shifting traffic", () => {
    const w = initialized(makeCanary({ stepWeight: 50, mirror: true, webhooks: [rollout] }, { provider: "istio" }));
    deploy(w, "rev2");
    run(w);
    assert.deepEqual(
      routeActions(w).map((r) => [r.canary, r.mirror]),
      [
        [0, true],
        [50, false],
        [100, false],
        [0, false],
      ],
    );
    assert.equal(checksOf(w, "analysis").length, 3, "the mirrored step is analysed too");
  });

  it("blue/green mirroring mirrors during every iteration", () => {
    const w = initialized(makeCanary({ iterations: 2, mirror: true, webhooks: [rollout] }, { provider: "istio" }));
    deploy(w, "rev2");
    run(w, (x) => x.canary.status?.iterations === 2);
    assert.deepEqual(w.routes, { primary: 100, canary: 0, mirror: true });
    run(w);
    assert.equal(phase(w), "Succeeded");
    assert.deepEqual(w.routes, { primary: 100, canary: 0, mirror: false });
  });
});

describe("plan: promotion", () => {
  it("with stepWeightPromotion routes traffic back to the primary one step per interval", () => {
    const w = initialized(makeCanary({ stepWeight: 30, maxWeight: 60, stepWeightPromotion: 25, webhooks: [rollout] }));
    deploy(w, "rev2");
    run(w);
    assert.deepEqual(routeWeights(w), [30, 60, 35, 10, 0]);
    const r = routeActions(w);
    assert.equal(r[3]!.at - r[2]!.at, INTERVAL);
    assert.equal(phase(w), "Succeeded");
  });

  it("waits for the primary to run the promoted revision before moving traffic", () => {
    const w = initialized(makeCanary({ stepWeight: 50, webhooks: [rollout] }));
    w.primary!.readyDelayMs = 5000;
    deploy(w, "rev2");
    run(w);
    const promoteAt = w.log.find((e) => e.action.type === "promote")!.at;
    const back = routeActions(w).at(-1)!;
    assert.equal(back.canary, 0);
    assert.equal(back.at - promoteAt, 5000);
  });

  it("does not trust a primary that looks ready but still carries the old revision (a stale cache)", () => {
    const w = initialized(makeCanary({ stepWeight: 50, webhooks: [rollout] }));
    deploy(w, "rev2");
    run(w, (x) => phase(x) === "Promoting");
    w.primary!.revision = "rev1";
    w.log = [];
    step(w);
    assert.equal(phase(w), "Promoting");
    assert.deepEqual(routeWeights(w), []);
    assert.match(w.canary.status!.conditions![0]!.message!, /still runs revision rev1/);
  });

  it("does not scale the canary down before the router reads back all traffic on the primary", () => {
    const w = initialized(makeCanary({ stepWeight: 50, webhooks: [rollout] }));
    deploy(w, "rev2");
    run(w, (x) => phase(x) === "Promoting");
    w.routerApplies = false;
    runUntilTime(w, w.now + 30_000);
    assert.equal(phase(w), "Finalising");
    assert.ok(w.target!.specReplicas > 0);
    w.routerApplies = true;
    run(w);
    assert.equal(phase(w), "Succeeded");
    assert.equal(w.target!.specReplicas, 0);
  });

  it("skipAnalysis promotes a new revision straight away, without scaling the canary up", () => {
    const w = initialized(makeCanary({ stepWeight: 20, webhooks: [rollout] }, { skipAnalysis: true }));
    deploy(w, "rev2");
    run(w);
    assert.equal(phase(w), "Succeeded");
    assert.equal(w.checks.length, 0);
    assert.deepEqual(actions(w, "scaleTarget"), []);
    assert.equal(w.primary!.revision, "rev2");
  });

  it("skipAnalysis set during a run promotes at the next reconcile", () => {
    const w = initialized(makeCanary({ stepWeight: 20, webhooks: [rollout] }));
    deploy(w, "rev2");
    run(w, (x) => x.canary.status?.canaryWeight === 20);
    w.canary = { ...w.canary, spec: { ...w.canary.spec, skipAnalysis: true } };
    step(w);
    assert.equal(phase(w), "Promoting");
  });
});

describe("plan: suspend, deletion and upkeep", () => {
  it("suspend: nothing moves, and the Suspended event comes once per spec change", () => {
    const w = initialized(makeCanary({ stepWeight: 20, webhooks: [rollout] }));
    deploy(w, "rev2");
    run(w, (x) => x.canary.status?.canaryWeight === 20);
    w.log = [];
    w.canary = { ...w.canary, metadata: { ...w.canary.metadata, generation: 2 }, spec: { ...w.canary.spec, suspend: true } };
    w.routes = { primary: 50, canary: 50, mirror: false };
    const a = step(w);
    const b = step(w);
    assert.deepEqual(events(w), ["Suspended"]);
    assert.deepEqual(actions(w).filter((x) => x.type !== "event"), []);
    assert.equal(a.requeueAfterMs, null);
    assert.equal(b.status.observedGeneration, 2);
    assert.equal(phase(w), "Progressing");
  });

  it("revertOnDeletion scales the target up, waits for it, then finalizes", () => {
    const w = initialized(makeCanary({ stepWeight: 20 }, { revertOnDeletion: true }));
    w.target!.readyDelayMs = 4000;
    w.deleting = true;
    step(w);
    assert.equal(phase(w), "Terminating");
    assert.deepEqual(actions(w, "scaleTarget"), [{ type: "scaleTarget", replicas: 2 }]);
    assert.deepEqual(actions(w, "finalize"), []);
    run(w);
    assert.equal(phase(w), "Terminated");
    assert.deepEqual(actions(w, "finalize"), [{ type: "finalize", revert: true }]);
    assert.equal(w.log.find((e) => e.action.type === "finalize")!.at - w.log[0]!.at, 4000);
  });

  it("without revertOnDeletion only releases the finalizer", () => {
    const w = initialized(makeCanary({ stepWeight: 20 }));
    w.deleting = true;
    step(w);
    assert.deepEqual(actions(w), [{ type: "finalize", revert: false }]);
  });

  it("puts drifted routes back and keeps the idle canary at zero", () => {
    const w = initialized(makeCanary({ stepWeight: 20 }));
    w.routes = { primary: 70, canary: 30, mirror: false };
    w.target!.specReplicas = 3;
    const p = step(w);
    assert.deepEqual(p.actions, [
      { type: "setRoutes", primary: 100, canary: 0, mirror: false },
      { type: "scaleTarget", replicas: 0 },
    ]);
  });

  it("scales the primary to the replicas the user asks for, unless an autoscaler owns them", () => {
    const w = initialized(makeCanary({ stepWeight: 20 }));
    w.target!.desiredReplicas = 5;
    assert.deepEqual(step(w).actions, [{ type: "scalePrimary", replicas: 5 }]);
    const hpa = initialized(makeCanary({ stepWeight: 20 }, { autoscalerRef: { apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler", name: "podinfo" } }));
    hpa.target!.desiredReplicas = 5;
    assert.deepEqual(step(hpa).actions, []);
  });

  it("resumes a run from its status alone, as after a controller restart", () => {
    const w = initialized(makeCanary({ stepWeight: 20, maxWeight: 60, webhooks: [rollout] }));
    deploy(w, "rev2");
    run(w, (x) => x.canary.status?.canaryWeight === 40);
    // A restarted controller has nothing but the cluster: the same observation yields the same plan.
    const o = observe(w);
    const later = { ...o, now: w.now + INTERVAL };
    assert.deepEqual(plan(structuredClone(later)), plan(structuredClone(later)));
    run(w);
    assert.equal(phase(w), "Succeeded");
    assert.deepEqual(routeWeights(w), [20, 40, 60, 0]);
  });

  it("stamps lastTransitionTime on moves and keeps it on holds", () => {
    const w = initialized(makeCanary({ stepWeight: 20, webhooks: [rollout] }));
    deploy(w, "rev2");
    run(w, (x) => x.canary.status?.canaryWeight === 20);
    const moved = w.canary.status!.lastTransitionTime;
    assert.equal(moved, new Date(w.now).toISOString());
    w.now += INTERVAL / 2;
    step(w);
    assert.equal(w.canary.status!.lastTransitionTime, moved);
  });
});
