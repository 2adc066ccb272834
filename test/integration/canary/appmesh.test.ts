/**
 * The canary engine driving the appmesh router end to end: aviary runs as its own process
 * (controller only) against the real API server with the App Mesh CRDs; the rollout webhook
 * is a local HTTP server. The VirtualRouter is the only witness of the weights.
 */
import assert from "node:assert/strict";
import { startAviary, type AviaryProcess } from "../../support/aviary.ts";
import { startHookServer, type HookServer } from "../../support/hooks.ts";
import { kubectl, kubectlJson, kubectlOk, tempNamespace } from "../../support/kubectl.ts";
import { apply, canary, deployment, getDeployment, image, waitForPhase } from "./fixtures.ts";

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
  const seen: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const w = await meshWeights(ns, name);
      if (w && seen.at(-1) !== w.canary) seen.push(w.canary);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return { stop: async () => { running = false; await loop; return seen; } };
}

const service = { port: 9898, timeout: "15s", retries: { attempts: 3, perTryTimeout: "5s" }, match: [{ uri: { prefix: "/" } }] };

describe("canary engine: appmesh router", function () {
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

  it("initializes the App Mesh objects, shifts 10 → 20 → 30 through the VirtualRouter, promotes", async () => {
    await apply(ns.name, deployment("podinfo", "podinfo:1"));
    await apply(ns.name, canary("podinfo", {
      provider: "appmesh",
      spec: { service },
      analysis: { stepWeight: 10, maxWeight: 30, webhooks: [{ name: "load", type: "rollout", url: hooks.url("/podinfo") }] },
    }));
    await waitForPhase(ns.name, "podinfo", "Initialized");
    for (const [plural, name] of [["virtualnodes", "podinfo-primary"], ["virtualnodes", "podinfo-canary"], ["virtualrouters", "podinfo"],
      ["virtualrouters", "podinfo-canary"], ["virtualservices", "podinfo"], ["virtualservices", "podinfo-canary"]]) {
      assert.equal((await kubectl(["get", `${plural}.appmesh.k8s.aws`, name!, "-n", ns.name])).code, 0, `${plural} ${name} exists`);
    }
    assert.deepEqual(await meshWeights(ns.name, "podinfo"), { primary: 100, canary: 0 });

    const weights = watchMeshWeights(ns.name, "podinfo");
    await kubectlOk(["set", "image", "deployment/podinfo", "app=podinfo:2", "-n", ns.name]);
    const done = await waitForPhase(ns.name, "podinfo", "Succeeded", 90_000);
    const seen = await weights.stop();
    assert.deepEqual(seen.filter((w) => w > 0), [10, 20, 30], `weights seen: ${seen.join(" → ")}`);
    assert.deepEqual(await meshWeights(ns.name, "podinfo"), { primary: 100, canary: 0 });
    assert.equal(image(await getDeployment(ns.name, "podinfo-primary")), "podinfo:2");
    assert.equal(done.status?.conditions?.find((c) => c.type === "Promoted")?.status, "True");
    assert.ok(hooks.calls.some((c) => c.path === "/podinfo" && c.body.name === "podinfo"), "the rollout webhook was called");
  });

  it("rolls back when the rollout webhook fails: Failed, VirtualRouter back to 100/0", async () => {
    hooks.status.set("/podinfo", 500);
    await kubectlOk(["set", "image", "deployment/podinfo", "app=podinfo:3-bad", "-n", ns.name]);
    const failed = await waitForPhase(ns.name, "podinfo", "Failed", 60_000);
    assert.equal(failed.status?.failedChecks, 2);
    assert.deepEqual(await meshWeights(ns.name, "podinfo"), { primary: 100, canary: 0 });
    assert.equal(image(await getDeployment(ns.name, "podinfo-primary")), "podinfo:2");
  });
});
