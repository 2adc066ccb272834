/**
 * The canary engine driving the smi router, under both of its names (`smi` and `linkerd`),
 * end to end: aviary runs as its own process (controller only) against the real API server
 * with the SMI CRD; the rollout webhook is a local HTTP server. The TrafficSplit is the only
 * witness of the weights.
 */
import assert from "node:assert/strict";
import type { AviaryProcess } from "../../support/aviary.ts";
import type { HookServer } from "../../support/hooks.ts";
import { kubectlJson } from "../../support/kubectl.ts";
import { apply, canary, deployment, waitForPhase, watchDistinct } from "../../support/canary-fixtures.ts";
import { failRollout, loadHook, primaryImage, promoteWatching, startEngineBench, stopEngineBench } from "./router-runs.ts";
import type { EngineBench } from "./router-runs.ts";

interface TrafficSplit {
  spec: { service: string; backends: { service: string; weight: number }[] };
}

/** The split the TrafficSplit carries, or undefined while it does not exist. */
async function splitWeights(ns: string, name: string): Promise<{ primary: number; canary: number } | undefined> {
  const ts = await kubectlJson<TrafficSplit>(["get", "trafficsplits.v1alpha2.split.smi-spec.io", name, "-n", ns]).catch(() => undefined);
  if (ts === undefined) return undefined;
  const weightOf = (suffix: string) => ts.spec.backends.find((b) => b.service === `${name}${suffix}`)?.weight ?? 0;
  return { primary: weightOf("-primary"), canary: weightOf("-canary") };
}

/** Records every distinct canary weight the TrafficSplit shows until stopped. */
function watchSplitWeights(ns: string, name: string): { stop: () => Promise<number[]> } {
  return watchDistinct(async () => (await splitWeights(ns, name))?.canary, (last, next) => last !== next);
}

describe("canary engine: smi and linkerd routers", function () {
  let ns: EngineBench["ns"];
  let hooks: HookServer;
  let aviary: AviaryProcess;

  before(async () => ({ ns, hooks, aviary } = await startEngineBench()));
  after(() => stopEngineBench({ ns, hooks, aviary }));

  for (const provider of ["smi", "linkerd"]) {
    it(`${provider}: shifts 10 → 20 → 30 through the TrafficSplit and promotes`, async () => {
      const name = `app-${provider}`;
      await apply(ns.name, deployment(name, `${name}:1`));
      await apply(ns.name, canary(name, {
        provider,
        spec: { service: { port: 9898 } },
        analysis: { stepWeight: 10, maxWeight: 30, webhooks: loadHook(hooks, name) },
      }));
      await waitForPhase(ns.name, name, "Initialized");
      assert.deepEqual(await splitWeights(ns.name, name), { primary: 100, canary: 0 });
      assert.equal((await kubectlJson<TrafficSplit>(["get", "trafficsplits.split.smi-spec.io", name, "-n", ns.name])).spec.service, name);

      const { seen } = await promoteWatching(ns.name, name, `${name}:2`, watchSplitWeights(ns.name, name));
      assert.deepEqual(seen.filter((w) => w > 0), [10, 20, 30], `weights seen: ${seen.join(" → ")}`);
      assert.deepEqual(await splitWeights(ns.name, name), { primary: 100, canary: 0 });
      assert.equal(await primaryImage(ns.name, name), `${name}:2`);
      assert.ok(hooks.calls.some((c) => c.path === `/${name}`), "the rollout webhook was called");
    });
  }

  it("smi: rolls back when the rollout webhook fails: Failed, TrafficSplit back to 100/0", async () => {
    const failed = await failRollout(ns.name, hooks, "app-smi", "app-smi:3-bad");
    assert.equal(failed.status?.failedChecks, 2);
    assert.deepEqual(await splitWeights(ns.name, "app-smi"), { primary: 100, canary: 0 });
    assert.equal(await primaryImage(ns.name, "app-smi"), "app-smi:2");
  });
});
