/**
 * The canary engine driving the traefik router end to end: aviary runs as its own process
 * (controller only) against the real API server with Traefik's TraefikService CRD; the rollout
 * webhook is a local HTTP server. The TraefikService is the only witness of the weights.
 */
import assert from "node:assert/strict";
import type { AviaryProcess } from "../../support/aviary.ts";
import type { HookServer } from "../../support/hooks.ts";
import { kubectlJson, kubectlOk } from "../../support/kubectl.ts";
import { apply, canary, deployment, waitForPhase, watchDistinct } from "../../support/canary-fixtures.ts";
import { failRollout, loadHook, primaryImage, promoteWatching, startEngineBench, stopEngineBench } from "./router-runs.ts";
import type { EngineBench } from "./router-runs.ts";

interface TraefikService {
  spec: { weighted: { services: { name: string; weight: number }[] } };
}

async function proxyWeights(ns: string, name: string): Promise<{ primary: number; canary: number } | undefined> {
  const ts = await kubectlJson<TraefikService>(["get", "traefikservices.traefik.io", name, "-n", ns]).catch(() => undefined);
  if (ts === undefined) return undefined;
  const weightOf = (suffix: string) => ts.spec.weighted.services.find((s) => s.name === `${name}${suffix}`)?.weight ?? 0;
  return { primary: weightOf("-primary"), canary: weightOf("-canary") };
}

describe("canary engine: traefik router", function () {
  let ns: EngineBench["ns"];
  let hooks: HookServer;
  let aviary: AviaryProcess;
  const name = "app-traefik";

  before(async () => ({ ns, hooks, aviary } = await startEngineBench()));
  after(() => stopEngineBench({ ns, hooks, aviary }));

  it("initializes the TraefikService at 100/0, shifts 10 → 20 → 30 and promotes", async () => {
    await apply(ns.name, deployment(name, `${name}:1`));
    // The Canary CRD is cluster-wide: apply this tree's (which knows the provider) right before use.
    await kubectlOk(["apply", "--server-side", "--force-conflicts", "-k", "manifests/crds"]);
    await apply(ns.name, canary(name, { provider: "traefik", spec: { service: { port: 9898 } }, analysis: { stepWeight: 10, maxWeight: 30, webhooks: loadHook(hooks, name) } }));
    await waitForPhase(ns.name, name, "Initialized");
    assert.deepEqual(await proxyWeights(ns.name, name), { primary: 100, canary: 0 });

    const watch = watchDistinct(async () => (await proxyWeights(ns.name, name))?.canary, (last, next) => last !== next);
    const { seen } = await promoteWatching(ns.name, name, `${name}:2`, watch);
    assert.deepEqual(seen.filter((w) => w > 0), [10, 20, 30], `weights seen: ${seen.join(" → ")}`);
    assert.deepEqual(await proxyWeights(ns.name, name), { primary: 100, canary: 0 });
    assert.equal(await primaryImage(ns.name, name), `${name}:2`);
  });

  it("rolls back when the rollout webhook fails: Failed, TraefikService back to 100/0, primary unchanged", async () => {
    const failed = await failRollout(ns.name, hooks, name, `${name}:3-bad`);
    assert.equal(failed.status?.failedChecks, 2);
    assert.deepEqual(await proxyWeights(ns.name, name), { primary: 100, canary: 0 });
    assert.equal(await primaryImage(ns.name, name), `${name}:2`);
  });
});
