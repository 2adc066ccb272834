/**
 * The canary engine driving the smi router, under both of its names (`smi` and `linkerd`),
 * end to end: aviary runs as its own process (controller only) against the real API server
 * with the SMI CRD; the rollout webhook is a local HTTP server. The TrafficSplit is the only
 * witness of the weights.
 */
import assert from "node:assert/strict";
import { startAviary, type AviaryProcess } from "../../support/aviary.ts";
import { startHookServer, type HookServer } from "../../support/hooks.ts";
import { kubectlJson, kubectlOk, tempNamespace } from "../../support/kubectl.ts";
import { apply, canary, deployment, getDeployment, image, waitForPhase } from "./fixtures.ts";

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
  const seen: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const w = await splitWeights(ns, name);
      if (w && seen.at(-1) !== w.canary) seen.push(w.canary);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return { stop: async () => { running = false; await loop; return seen; } };
}

describe("canary engine: smi and linkerd routers", function () {
  let ns: Awaited<ReturnType<typeof tempNamespace>>;
  let hooks: HookServer;
  let aviary: AviaryProcess;

  before(async () => {
    await kubectlOk(["apply", "--server-side", "-k", "manifests/crds"]);
    ns = await tempNamespace();
    hooks = await startHookServer();
    aviary = startAviary(["--no-webhook", "--namespace", ns.name]);
  });
  after(async () => {
    await aviary?.stop();
    await hooks?.close();
    await ns?.remove();
  });

  for (const provider of ["smi", "linkerd"]) {
    it(`${provider}: shifts 10 → 20 → 30 through the TrafficSplit and promotes`, async () => {
      const name = `app-${provider}`;
      await apply(ns.name, deployment(name, `${name}:1`));
      await apply(ns.name, canary(name, {
        provider,
        spec: { service: { port: 9898 } },
        analysis: { stepWeight: 10, maxWeight: 30, webhooks: [{ name: "load", type: "rollout", url: hooks.url(`/${name}`) }] },
      }));
      await waitForPhase(ns.name, name, "Initialized");
      assert.deepEqual(await splitWeights(ns.name, name), { primary: 100, canary: 0 });
      assert.equal((await kubectlJson<TrafficSplit>(["get", "trafficsplits.split.smi-spec.io", name, "-n", ns.name])).spec.service, name);

      const weights = watchSplitWeights(ns.name, name);
      await kubectlOk(["set", "image", `deployment/${name}`, `app=${name}:2`, "-n", ns.name]);
      await waitForPhase(ns.name, name, "Succeeded", 90_000);
      const seen = await weights.stop();
      assert.deepEqual(seen.filter((w) => w > 0), [10, 20, 30], `weights seen: ${seen.join(" → ")}`);
      assert.deepEqual(await splitWeights(ns.name, name), { primary: 100, canary: 0 });
      assert.equal(image(await getDeployment(ns.name, `${name}-primary`)), `${name}:2`);
      assert.ok(hooks.calls.some((c) => c.path === `/${name}`), "the rollout webhook was called");
    });
  }

  it("smi: rolls back when the rollout webhook fails: Failed, TrafficSplit back to 100/0", async () => {
    hooks.status.set("/app-smi", 500);
    await kubectlOk(["set", "image", "deployment/app-smi", "app=app-smi:3-bad", "-n", ns.name]);
    const failed = await waitForPhase(ns.name, "app-smi", "Failed", 60_000);
    assert.equal(failed.status?.failedChecks, 2);
    assert.deepEqual(await splitWeights(ns.name, "app-smi"), { primary: 100, canary: 0 });
    assert.equal(image(await getDeployment(ns.name, "app-smi-primary")), "app-smi:2");
  });
});
