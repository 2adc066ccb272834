import assert from "node:assert/strict";
import { plan } from "../../../../src/controller/canary/planner/plan.ts";
import type { Plan } from "../../../../src/controller/canary/planner/plan.ts";
import { deploy, initialized, makeCanary, observe } from "./plan-world.ts";
import type { World } from "./plan-world.ts";
import { hasForeignRevisions, withoutFlaggerId } from "../../../../src/controller/canary/adopt.ts";

/** An idle Canary whose status Flagger wrote: its revisions are Flagger hashes. */
function flaggerWorld(phase: "Succeeded" | "Initialized" | "Failed" | "Progressing" | "Promoting"): World {
  const w = initialized(makeCanary({ stepWeight: 20, maxWeight: 60 }));
  w.canary.status = { ...w.canary.status!, phase, lastAppliedSpec: "7d9f8c6b5b", lastPromotedSpec: "7d9f8c6b5b", canaryWeight: phase === "Progressing" ? 20 : 0 };
  delete w.canary.status.canaryRevision;
  return w;
}

function act(w: World, drifted: boolean): Extract<Plan, { kind: "act" }> {
  const o = observe(w);
  o.foreignStatus = true;
  o.primaryTemplateDrifted = drifted;
  let p = plan(o);
  // Gates are answered open: the plan's route is what is asserted.
  for (let i = 0; p.kind === "need" && i < 3; i++) {
    o.checks = { ...o.checks, ...Object.fromEntries(p.checks.map((k) => [k, { ok: true, results: [] }])) };
    p = plan(o);
  }
  assert.equal(p.kind, "act");
  return p as Extract<Plan, { kind: "act" }>;
}

const types = (p: Extract<Plan, { kind: "act" }>) => p.actions.map((a) => (a.type === "event" ? `event:${a.reason}` : a.type));

describe("plan: taking over a Canary from Flagger", () => {
  for (const phase of ["Succeeded", "Initialized"] as const) {
    it(`${phase}, primary running the target's template: aviary's revisions recorded, the objects adopted, no run`, () => {
      const w = flaggerWorld(phase);
      const p = act(w, false);
      assert.deepEqual(types(p), ["adopt", "event:Adopted"]);
      assert.equal(p.status.phase, phase);
      assert.equal(p.status.lastAppliedSpec, "rev1");
      assert.equal(p.status.lastPromotedSpec, "rev1");
      assert.equal(p.status.canaryRevision, "rev1");
      assert.equal(p.status.canaryWeight, 0);
    });
  }

  it("Succeeded, target changed since Flagger's promotion: adopted, and the target's revision is analysed", () => {
    const w = flaggerWorld("Succeeded");
    deploy(w, "rev2");
    const p = act(w, true);
    assert.deepEqual(types(p).slice(0, 3), ["adopt", "event:Adopted", "event:NewRevision"]);
    assert.equal(p.status.phase, "Progressing");
    assert.equal(p.status.lastAppliedSpec, "rev2");
    assert.equal(p.status.lastPromotedSpec, "7d9f8c6b5b", "nothing aviary promoted yet");
  });

  it("Failed: the failure stands for the target's revision; no run until a retry", () => {
    const w = flaggerWorld("Failed");
    deploy(w, "rev2");
    const p = act(w, true);
    assert.deepEqual(types(p), ["adopt", "event:Adopted"]);
    assert.equal(p.status.phase, "Failed");
    assert.equal(p.status.lastAppliedSpec, "rev2");
    assert.equal(p.requeueAfterMs, null);
  });

  for (const phase of ["Progressing", "Promoting"] as const) {
    it(`${phase}: the run Flagger left is analysed again from weight 0`, () => {
      const w = flaggerWorld(phase);
      deploy(w, "rev2");
      const p = act(w, true);
      assert.equal(types(p)[0], "adopt");
      assert.equal(p.status.phase, "Progressing");
      assert.equal(p.status.lastAppliedSpec, "rev2");
      assert.equal(p.status.canaryWeight, 0);
    });
  }

  it("does nothing of the kind for a status aviary wrote", () => {
    const w = initialized(makeCanary({ stepWeight: 20 }));
    const p = plan(observe(w));
    assert.ok(p.kind === "act" && !p.actions.some((a) => a.type === "adopt"));
  });
});

describe("adopt: recognising Flagger's status and primary", () => {
  it("a status is Flagger's when it has Flagger hashes and none of aviary's fields", () => {
    assert.equal(hasForeignRevisions({ phase: "Succeeded", lastAppliedSpec: "6c7f8d5b9d", lastPromotedSpec: "6c7f8d5b9d" }), true);
    assert.equal(hasForeignRevisions({ phase: "Succeeded", lastAppliedSpec: "0123456789abcdef", lastPromotedSpec: "0123456789abcdef" }), false);
    assert.equal(hasForeignRevisions({ phase: "Succeeded", lastPromotedSpec: "6c7f8d5b9d", observedGeneration: 3 }), false, "aviary wrote it since");
    assert.equal(hasForeignRevisions(undefined), false);
  });

  it("the primary's template without flagger-id is the template Flagger copied", () => {
    const t = { metadata: { labels: { app: "x" }, annotations: { "flagger-id": "id" } }, spec: {} };
    assert.deepEqual(withoutFlaggerId(t), { metadata: { labels: { app: "x" } }, spec: {} });
    const kept = { metadata: { annotations: { "flagger-id": "id", "prometheus.io/scrape": "true" } } };
    assert.deepEqual(withoutFlaggerId(kept), { metadata: { annotations: { "prometheus.io/scrape": "true" } } });
  });
});
