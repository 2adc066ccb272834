/**
 * The canary engine driving the appmesh router end to end: aviary runs as its own process
 * (controller only) against the real API server with the App Mesh CRDs; the rollout webhook
 * is a local HTTP server. The VirtualRouter is the only witness of the weights.
 */
import assert from "node:assert/strict";
import type { AviaryProcess } from "../../support/aviary.ts";
import type { HookServer } from "../../support/hooks.ts";
import { kubectl, kubectlJson } from "../../support/kubectl.ts";
import { apply, canary, deployment, waitForPhase, watchDistinct } from "../../support/canary-fixtures.ts";
import { failRollout, loadHook, primaryImage, promoteWatching, startEngineBench, stopEngineBench } from "./router-runs.ts";
import type { EngineBench } from "./router-runs.ts";

interface VirtualRouter {
  spec: { routes: { httpRoute: { action: { weightedTargets: { virtualNodeRef: { name: string }; weight: number }[] } } }[] };
}

/** The split in the VirtualRouter's first (weighted) route, or undefined while it does not exist. */
async function meshWeights(ns: string, name: string): Promise<{ primary: number; canary: number } | undefined> {
  const vr = await kubectlJson<VirtualRouter>(["get", "virtualrouters.appmesh.k8s.aws", name, "-n", ns]).catch(() => undefined);
  const targets = vr?.spec.routes[0]?.httpRoute.action.weightedTargets;
  if (targets === undefined) return undefined;
  const weightOf = (suffix: string) => targets.find((t) => t.virtualNodeRef.name === `${name}${suffix}`)?.weight ?? 0;
  return { primary: weightOf("-primary"), canary: weightOf("-canary") };
}

/** Records every distinct canary weight the VirtualRouter shows until stopped. */
function watchMeshWeights(ns: string, name: string): { stop: () => Promise<number[]> } {
  return watchDistinct(async () => (await meshWeights(ns, name))?.canary, (last, next) => last !== next);
}

const service = { port: 9898, timeout: "15s", retries: { attempts: 3, perTryTimeout: "5s" }, match: [{ uri: { prefix: "/" } }] };

describe("canary engine: appmesh router", function () {
  let ns: EngineBench["ns"];
  let hooks: HookServer;
  let aviary: AviaryProcess;

  before(async () => ({ ns, hooks, aviary } = await startEngineBench()));
  after(() => stopEngineBench({ ns, hooks, aviary }));

  it("initializes the App Mesh objects, shifts 10 → 20 → 30 through the VirtualRouter, promotes", async () => {
    await apply(ns.name, deployment("podinfo", "podinfo:1"));
    await apply(ns.name, canary("podinfo", {
      provider: "appmesh",
      spec: { service },
      analysis: { stepWeight: 10, maxWeight: 30, webhooks: loadHook(hooks, "podinfo") },
    }));
    await waitForPhase(ns.name, "podinfo", "Initialized");
    for (const [plural, name] of [["virtualnodes", "podinfo-primary"], ["virtualnodes", "podinfo-canary"], ["virtualrouters", "podinfo"],
      ["virtualrouters", "podinfo-canary"], ["virtualservices", "podinfo"], ["virtualservices", "podinfo-canary"]]) {
      assert.equal((await kubectl(["get", `${plural}.appmesh.k8s.aws`, name!, "-n", ns.name])).code, 0, `${plural} ${name} exists`);
    }
    assert.deepEqual(await meshWeights(ns.name, "podinfo"), { primary: 100, canary: 0 });

    const { done, seen } = await promoteWatching(ns.name, "podinfo", "podinfo:2", watchMeshWeights(ns.name, "podinfo"));
    assert.deepEqual(seen.filter((w) => w > 0), [10, 20, 30], `weights seen: ${seen.join(" → ")}`);
    assert.deepEqual(await meshWeights(ns.name, "podinfo"), { primary: 100, canary: 0 });
    assert.equal(await primaryImage(ns.name, "podinfo"), "podinfo:2");
    assert.equal(done.status?.conditions?.find((c) => c.type === "Promoted")?.status, "True");
    assert.ok(hooks.calls.some((c) => c.path === "/podinfo" && c.body.name === "podinfo"), "the rollout webhook was called");
  });

  it("rolls back when the rollout webhook fails: Failed, VirtualRouter back to 100/0", async () => {
    const failed = await failRollout(ns.name, hooks, "podinfo", "podinfo:3-bad");
    assert.equal(failed.status?.failedChecks, 2);
    assert.deepEqual(await meshWeights(ns.name, "podinfo"), { primary: 100, canary: 0 });
    assert.equal(await primaryImage(ns.name, "podinfo"), "podinfo:2");
  });
});
