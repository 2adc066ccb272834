import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import { errorsOf, validateCanary } from "../../../src/api/validate.ts";
import { withDefaults } from "../../../src/api/defaults.ts";
import type { Canary } from "../../../src/api/types.ts";
import { buildPrimaryWorkload } from "../../../src/controller/canary/objects.ts";
import { plan } from "../../../src/controller/canary/planner/plan.ts";
import type { Action, Observed } from "../../../src/controller/canary/planner/plan.ts";
import { notReadyReason } from "../../../src/controller/canary/planner/readiness.ts";
import { workloadKind } from "../../../src/controller/canary/workload-kinds.ts";
import { hashPodTemplate } from "../../../src/ground/hash.ts";
import { GeneratedObjectError } from "../../../src/ground/identity.ts";
import type { DaemonSet, Deployment } from "../../../src/ground/workloads.ts";

const PARK = "aviary.dev/scale-to-zero";

function daemonSet(name: string, o: { image?: string; parked?: boolean; nodeSelector?: Record<string, string>; status?: Record<string, number>; generation?: number } = {}): DaemonSet {
  const nodeSelector = { ...(o.nodeSelector ?? {}), ...(o.parked ? { [PARK]: "true" } : {}) };
  return {
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: { name, namespace: "test", generation: o.generation ?? 2, labels: { app: name } },
    spec: {
      selector: { matchLabels: { app: "agent" } },
      updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1 } },
      minReadySeconds: 3,
      revisionHistoryLimit: 5,
      template: {
        metadata: { labels: { app: "agent" } },
        spec: { ...(Object.keys(nodeSelector).length > 0 ? { nodeSelector } : {}), containers: [{ name: "agent", image: o.image ?? "agent:1.0.0" }] },
      },
    },
    status: { observedGeneration: o.generation ?? 2, desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 3, numberReady: 3, ...o.status },
  };
}

function dsCanary(extra: Partial<Canary["spec"]> = {}): Canary {
  return withDefaults({
    apiVersion: "aviary.dev/v1beta1",
    kind: "Canary",
    metadata: { name: "agent", namespace: "test", uid: "uid-1", generation: 1 },
    spec: {
      provider: "gatewayapi",
      targetRef: { apiVersion: "apps/v1", kind: "DaemonSet", name: "agent" },
      service: { port: 8080 },
      analysis: { interval: "10s", threshold: 2, maxWeight: 50, stepWeight: 25 },
      ...extra,
    },
  });
}

const ds = workloadKind("DaemonSet");

describe("workload kinds", () => {
  describe("DaemonSet state and readiness (Flagger's checks against desiredNumberScheduled)", () => {
    it("reads a rolled-out DaemonSet as ready, counting scheduled pods", () => {
      const w = ds.state(daemonSet("agent"));
      assert.equal(w.sizing, "nodes");
      assert.equal(w.parked, false);
      assert.equal(w.specReplicas, 3);
      assert.equal(w.desiredReplicas, 0, "a DaemonSet has no count the user asks for");
      assert.equal(notReadyReason(w, 100, true), null);
    });
    it("waits for the generation, the updated pods and the available pods, in that order", () => {
      assert.equal(notReadyReason(ds.state(daemonSet("agent", { generation: 3, status: { observedGeneration: 2 } })), 100, true), "generation 3 is not observed yet");
      assert.equal(notReadyReason(ds.state(daemonSet("agent", { status: { updatedNumberScheduled: 1 } })), 100, true), "1 of 3 scheduled pods are updated");
      assert.equal(notReadyReason(ds.state(daemonSet("agent", { status: { numberAvailable: 2 } })), 100, true), "2 of 3 scheduled pods are available (3 needed at 100%)");
      assert.equal(notReadyReason(ds.state(daemonSet("agent", { status: { numberAvailable: 2 } })), 50, true), null, "the ready threshold applies: 50% of 3 is 2");
    });
    it("counts a parked DaemonSet as scaled down, whatever its status still says, and its template hash ignores the parking", () => {
      const parked = ds.state(daemonSet("agent", { parked: true }));
      assert.equal(parked.parked, true);
      assert.equal(parked.specReplicas, 0);
      assert.equal(notReadyReason(parked, 100, true), `it is parked (node selector ${PARK})`);
      assert.equal(parked.templateHash, ds.state(daemonSet("agent")).templateHash);
    });
    it("is not ready as a canary when no node is eligible for its pods", () => {
      const none = ds.state(daemonSet("agent", { status: { desiredNumberScheduled: 0, updatedNumberScheduled: 0, numberAvailable: 0 } }));
      assert.equal(notReadyReason(none, 100, true), "no node is eligible for its pods");
      assert.equal(notReadyReason(none, 100, false), null);
    });
  });

  describe("sizing", () => {
    it("scales a Deployment through the scale subresource", () => {
      assert.deepEqual(workloadKind("Deployment").sizePatch(3), { patch: { spec: { replicas: 3 } }, subresource: "scale" });
      assert.deepEqual(workloadKind(undefined).sizePatch(0), { patch: { spec: { replicas: 0 } }, subresource: "scale" });
    });
    it("parks a DaemonSet with a node selector no node carries, and unparks it by removing only that key", () => {
      assert.deepEqual(ds.sizePatch(0), { patch: { spec: { template: { spec: { nodeSelector: { [PARK]: "true" } } } } } });
      assert.deepEqual(ds.sizePatch(2), { patch: { spec: { template: { spec: { nodeSelector: { [PARK]: null } } } } } });
    });
    it("throws for a kind aviary does not serve", () => {
      assert.throws(() => workloadKind("StatefulSet"), /cannot target kind StatefulSet/);
    });
  });

  describe("the primary DaemonSet", () => {
    it("copies the template without the parking selector, keeps the user's selector and the update strategy, and has no replicas", () => {
      const primary = buildPrimaryWorkload({ target: daemonSet("agent", { parked: true, nodeSelector: { disk: "ssd" } }), canary: dsCanary(), replicas: 3 }) as DaemonSet;
      assert.equal(primary.kind, "DaemonSet");
      assert.equal(primary.metadata.name, "agent-primary");
      assert.equal((primary.spec as Deployment["spec"]).replicas, undefined);
      assert.deepEqual(primary.spec.selector.matchLabels, { app: "agent-primary" });
      assert.deepEqual(primary.spec.template.metadata?.labels, { app: "agent-primary" });
      assert.deepEqual((primary.spec.template.spec as { nodeSelector?: unknown }).nodeSelector, { disk: "ssd" });
      assert.deepEqual(primary.spec.updateStrategy, { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1 } });
      assert.equal(primary.spec.minReadySeconds, 3);
      assert.equal(primary.spec.revisionHistoryLimit, 5);
      assert.equal(primary.spec.strategy, undefined);
      const bare = buildPrimaryWorkload({ target: daemonSet("agent", { parked: true }), canary: dsCanary(), replicas: 3 }) as DaemonSet;
      assert.equal((bare.spec.template.spec as { nodeSelector?: unknown }).nodeSelector, undefined, "a selector left empty is dropped");
    });
    it("refuses an OnDelete DaemonSet, naming the field (Flagger's rule)", () => {
      const target = daemonSet("agent");
      target.spec.updateStrategy = { type: "OnDelete" };
      assert.throws(
        () => buildPrimaryWorkload({ target, canary: dsCanary(), replicas: 1 }),
        (err: unknown) => err instanceof GeneratedObjectError && err.field === "spec.updateStrategy.type" && /OnDelete/.test(err.message),
      );
    });
  });

  describe("plan with a DaemonSet target", () => {
    const observed = (canary: Canary, target: DaemonSet, primary: DaemonSet): Observed => ({
      now: Date.UTC(2026, 0, 1),
      canary,
      target: ds.state(target),
      primary: { ...ds.state(primary), revision: hashPodTemplate(primary.spec.template) },
      revision: hashPodTemplate(target.spec.template),
      trackedConfigs: {},
      routes: { primary: 100, canary: 0, mirror: false },
      checks: {},
      requests: {},
      deleting: false,
    });
    const settled = (rev: string): Canary => {
      const c = dsCanary();
      c.status = { phase: "Succeeded", lastAppliedSpec: rev, lastPromotedSpec: rev, canaryWeight: 0, failedChecks: 0, iterations: 0 };
      return c;
    };
    const sizes = (actions: Action[]) => actions.filter((a) => a.type === "scaleTarget" || a.type === "scalePrimary");

    it("parks an idle canary that runs pods, and leaves a parked one alone", () => {
      const rev = hashPodTemplate(daemonSet("agent").spec.template);
      const p = plan(observed(settled(rev), daemonSet("agent"), daemonSet("agent-primary")));
      assert.equal(p.kind, "act");
      assert.deepEqual(sizes(p.kind === "act" ? p.actions : []), [{ type: "scaleTarget", replicas: 0 }]);
      const q = plan(observed(settled(rev), daemonSet("agent", { parked: true }), daemonSet("agent-primary")));
      assert.deepEqual(sizes(q.kind === "act" ? q.actions : []), []);
    });
    it("unparks the canary for a new revision and never scales the primary", () => {
      const rev = hashPodTemplate(daemonSet("agent").spec.template);
      const p = plan(observed(settled(rev), daemonSet("agent", { parked: true, image: "agent:2.0.0" }), daemonSet("agent-primary")));
      assert.equal(p.kind, "act");
      const actions = p.kind === "act" ? p.actions : [];
      const scaled = sizes(actions);
      assert.equal(scaled.length, 1, JSON.stringify(actions));
      assert.equal(scaled[0]!.type, "scaleTarget");
      assert.ok(scaled[0]!.type === "scaleTarget" && scaled[0]!.replicas > 0);
    });
    it("leaves a running canary alone when it schedules fewer pods than the primary (its own node selector)", () => {
      const rev = hashPodTemplate(daemonSet("agent").spec.template);
      const c = settled(rev);
      const target = daemonSet("agent", { image: "agent:2.0.0", nodeSelector: { disk: "ssd" }, status: { desiredNumberScheduled: 1, updatedNumberScheduled: 1, numberAvailable: 1 } });
      const next = hashPodTemplate(target.spec.template);
      c.status = { ...c.status, phase: "Progressing", lastAppliedSpec: next, canaryWeight: 25, lastCheckTime: new Date(Date.UTC(2026, 0, 1)).toISOString() };
      const p = plan(observed(c, target, daemonSet("agent-primary")));
      assert.deepEqual(sizes(p.kind === "act" ? p.actions : []), [], "1 pod is what this DaemonSet runs: nothing to resize");
    });
  });

  describe("the example (examples/daemonset)", () => {
    const read = (file: string) => parseAllDocuments(readFileSync(new URL(`../../../examples/daemonset/${file}`, import.meta.url), "utf8"))[0]!.toJS() as Record<string, unknown>;
    it("is a valid Canary whose DaemonSet aviary can copy to a primary", () => {
      const c = read("canary.yaml") as unknown as Canary;
      assert.deepEqual(errorsOf(validateCanary(c)), []);
      const target = read("podinfo-ds.yaml") as unknown as DaemonSet;
      assert.equal(c.spec.targetRef.name, target.metadata.name);
      const primary = buildPrimaryWorkload({ target, canary: { ...withDefaults(c), metadata: { ...c.metadata, uid: "uid-1" } }, replicas: 0 });
      assert.equal(primary.kind, "DaemonSet");
      assert.equal(primary.metadata.name, "podinfo-ds-primary");
    });
  });
});
