/**
 * The first-deploy analysis (spec.analysis.firstDeploy) against the real API server: the
 * first revision is analysed while the apex Service routes to the target and no primary
 * exists; passing creates the primary from it, failing leaves the target as deployed with
 * the reason in the status and an event, and a fixed revision is analysed again.
 */
import assert from "node:assert/strict";
import type { AviaryProcess } from "../../support/aviary.ts";
import type { HookServer } from "../../support/hooks.ts";
import { eventually, holdsFor, kubectl, kubectlJson, kubectlOk } from "../../support/kubectl.ts";
import { apply, canary, deployment, events, getCanary, getDeployment, image, waitForPhase } from "../../support/canary-fixtures.ts";
import { loadHook, setImage, startEngineBench, stopEngineBench } from "./router-runs.ts";
import type { EngineBench } from "./router-runs.ts";

interface ServiceList { items: { metadata: { name: string }; spec: { selector: Record<string, string> } }[] }

const selectors = async (ns: string): Promise<Record<string, string | undefined>> =>
  Object.fromEntries((await kubectlJson<ServiceList>(["get", "services", "-n", ns])).items.map((s) => [s.metadata.name, s.spec.selector.app]));

/** The CRD of this checkout, which carries spec.analysis.firstDeploy, applied right before the Canary. */
const applyCrds = () => kubectlOk(["apply", "--server-side", "--force-conflicts", "-k", "manifests/crds"]);

const exists = async (ns: string, kind: string, name: string): Promise<boolean> => (await kubectl(["get", kind, name, "-n", ns])).code === 0;

describe("canary engine: first-deploy analysis", function () {
  let ns: EngineBench["ns"];
  let hooks: HookServer;
  let aviary: AviaryProcess;

  before(async () => ({ ns, hooks, aviary } = await startEngineBench()));
  after(() => stopEngineBench({ ns, hooks, aviary }));

  it("analyses the first revision with the apex Service on the target, then creates the primary", async () => {
    await apply(ns.name, deployment("calm", "calm:1.0.0", { replicas: 2 }));
    await applyCrds();
    // Ten checks (one per step of 10%), so the analysis lasts long enough to be looked at.
    await apply(ns.name, canary("calm", { analysis: { firstDeploy: true, stepWeight: 10, maxWeight: 100, webhooks: loadHook(hooks, "calm") } }));
    await eventually("the analysis to run with the apex Service on the target and no primary", async () => {
      const c = await getCanary(ns.name, "calm");
      if (c.status?.phase !== "Progressing" || (c.status.iterations ?? 0) < 1) return undefined;
      const s = await selectors(ns.name);
      if (s.calm !== "calm" || s["calm-canary"] !== "calm" || "calm-primary" in s) return undefined;
      return !(await exists(ns.name, "deployment", "calm-primary")) && !(await exists(ns.name, "httproutes.gateway.networking.k8s.io", "calm")) ? true : undefined;
    }, 30_000, 100);
    const done = await waitForPhase(ns.name, "calm", "Initialized", 60_000);
    assert.equal(image(await getDeployment(ns.name, "calm-primary")), "calm:1.0.0");
    assert.equal((await getDeployment(ns.name, "calm")).spec.replicas, 0);
    assert.deepEqual(await selectors(ns.name), { calm: "calm-primary", "calm-primary": "calm-primary", "calm-canary": "calm" });
    assert.ok(hooks.calls.filter((c) => c.path === "/calm").length >= 10, "one rollout check per weight step");
    const reasons = (await events(ns.name, "calm")).map((e) => e.reason);
    for (const r of ["FirstDeployStarted", "FirstDeployPassed", "Initialized"]) assert.ok(reasons.includes(r), `events: ${reasons.join(", ")}`);
    assert.match(done.status?.conditions?.find((c) => c.type === "Promoted")?.message ?? "", /passed its first-deploy analysis/);
  });

  it("a failing first revision leaves the target as deployed, says why, and a fixed revision is analysed again", async () => {
    hooks.status.set("/broken", 500);
    await apply(ns.name, deployment("broken", "broken:1.0.0-bad", { replicas: 2 }));
    await applyCrds();
    await apply(ns.name, canary("broken", { analysis: { firstDeploy: true, webhooks: loadHook(hooks, "broken") } }));
    const failed = await waitForPhase(ns.name, "broken", "Failed", 60_000);
    const promoted = failed.status?.conditions?.find((c) => c.type === "Promoted");
    assert.equal(promoted?.status, "False");
    assert.match(promoted?.message ?? "", /failed its first-deploy analysis.*500/);
    const event = (await events(ns.name, "broken")).find((e) => e.reason === "FirstDeployFailed");
    assert.ok(event !== undefined && event.type === "Warning" && /no primary was created/.test(event.message), JSON.stringify(event));
    await holdsFor("the target to stay as deployed, with no primary and no route", async () => {
      const target = await getDeployment(ns.name, "broken");
      if (target.spec.replicas !== 2) return `target replicas ${target.spec.replicas}`;
      if (await exists(ns.name, "deployment", "broken-primary")) return "a primary exists";
      if (await exists(ns.name, "httproutes.gateway.networking.k8s.io", "broken")) return "an HTTPRoute exists";
      const s = await selectors(ns.name);
      return s.broken === "broken" ? undefined : `apex selector ${s.broken}`;
    }, 3_000, 250);

    hooks.status.delete("/broken");
    await setImage(ns.name, "broken", "broken:1.0.1");
    await eventually("a second first-deploy analysis", async () => (await events(ns.name, "broken")).filter((e) => e.reason === "FirstDeployStarted").reduce((n, e) => n + (e.count ?? 1), 0) >= 2 || undefined, 30_000, 200);
    await waitForPhase(ns.name, "broken", "Initialized", 60_000);
    assert.equal(image(await getDeployment(ns.name, "broken-primary")), "broken:1.0.1");
    assert.equal((await getDeployment(ns.name, "broken")).spec.replicas, 0);
  });
});
