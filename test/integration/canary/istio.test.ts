/**
 * The canary engine driving the istio router end to end: aviary runs as its own process
 * (controller only) against the real API server with Istio's CRDs; the rollout webhook is a
 * local HTTP server. The VirtualService is the only witness of the weights.
 */
import assert from "node:assert/strict";
import type { AviaryProcess } from "../../support/aviary.ts";
import type { HookServer } from "../../support/hooks.ts";
import { kubectl, kubectlJson } from "../../support/kubectl.ts";
import { apply, canary, deployment, waitForPhase, watchDistinct } from "../../support/canary-fixtures.ts";
import { failRollout, loadHook, primaryImage, promoteWatching, startEngineBench, stopEngineBench } from "./router-runs.ts";
import type { EngineBench } from "./router-runs.ts";

interface HTTPRoute {
  name?: string;
  match?: { headers?: Record<string, Record<string, string>> }[];
  route: { destination: { host: string }; weight?: number }[];
}
interface VirtualService { spec: { http: HTTPRoute[] } }

interface Split { primary: number; canary: number; headerMatch: boolean }

/** The split of the VirtualService's first route (the weighted or A/B one), or undefined while it does not exist. */
async function meshSplit(ns: string, name: string): Promise<Split | undefined> {
  const vs = await kubectlJson<VirtualService>(["get", "virtualservices.networking.istio.io", name, "-n", ns]).catch(() => undefined);
  const route = vs?.spec.http[0];
  if (route === undefined) return undefined;
  const weightOf = (host: string) => route.route.find((d) => d.destination.host === host)?.weight ?? 0;
  const headerMatch = (route.match ?? []).some((m) => m.headers?.["x-canary"]?.exact === "insider");
  return { primary: weightOf(`${name}-primary`), canary: weightOf(`${name}-canary`), headerMatch };
}

/** Records every distinct split the VirtualService shows until stopped. */
function watchSplits(ns: string, name: string): { stop: () => Promise<Split[]> } {
  return watchDistinct(() => meshSplit(ns, name), (last, next) => last.canary !== next.canary || last.headerMatch !== next.headerMatch);
}

const service = { port: 9898, hosts: ["podinfo.example.com"], gateways: ["istio-system/public-gateway"], timeout: "15s", retries: { attempts: 3, perTryTimeout: "5s" } };

describe("canary engine: istio router", function () {
  let ns: EngineBench["ns"];
  let hooks: HookServer;
  let aviary: AviaryProcess;

  before(async () => ({ ns, hooks, aviary } = await startEngineBench()));
  after(() => stopEngineBench({ ns, hooks, aviary }));

  it("initializes the Istio objects, shifts 10 → 20 → 30 through the VirtualService, promotes", async () => {
    await apply(ns.name, deployment("podinfo", "podinfo:1"));
    await apply(ns.name, canary("podinfo", {
      provider: "istio",
      spec: { service },
      analysis: { stepWeight: 10, maxWeight: 30, webhooks: loadHook(hooks, "podinfo") },
    }));
    await waitForPhase(ns.name, "podinfo", "Initialized");
    for (const [plural, name] of [["destinationrules", "podinfo-primary"], ["destinationrules", "podinfo-canary"], ["virtualservices", "podinfo"]]) {
      assert.equal((await kubectl(["get", `${plural}.networking.istio.io`, name!, "-n", ns.name])).code, 0, `${plural} ${name} exists`);
    }
    assert.deepEqual(await meshSplit(ns.name, "podinfo"), { primary: 100, canary: 0, headerMatch: false });

    const { done, seen: splits } = await promoteWatching(ns.name, "podinfo", "podinfo:2", watchSplits(ns.name, "podinfo"));
    const seen = splits.map((s) => s.canary);
    assert.deepEqual(seen.filter((w) => w > 0), [10, 20, 30], `weights seen: ${seen.join(" → ")}`);
    assert.deepEqual(await meshSplit(ns.name, "podinfo"), { primary: 100, canary: 0, headerMatch: false });
    assert.equal(await primaryImage(ns.name, "podinfo"), "podinfo:2");
    assert.equal(done.status?.conditions?.find((c) => c.type === "Promoted")?.status, "True");
    assert.ok(hooks.calls.some((c) => c.path === "/podinfo" && c.body.name === "podinfo"), "the rollout webhook was called");
  });

  it("rolls back when the rollout webhook fails: Failed, VirtualService back to 100/0", async () => {
    const failed = await failRollout(ns.name, hooks, "podinfo", "podinfo:3-bad");
    assert.equal(failed.status?.failedChecks, 2);
    assert.deepEqual(await meshSplit(ns.name, "podinfo"), { primary: 100, canary: 0, headerMatch: false });
    assert.equal(await primaryImage(ns.name, "podinfo"), "podinfo:2");
  });

  it("A/B: requests with the header go to the canary during the iterations, then it is promoted", async () => {
    await apply(ns.name, deployment("abtest", "abtest:1"));
    await apply(ns.name, canary("abtest", {
      provider: "istio",
      spec: { service: { port: 9898 } },
      analysis: {
        stepWeight: undefined, maxWeight: undefined, iterations: 3,
        match: [{ headers: { "x-canary": { exact: "insider" } } }],
        webhooks: loadHook(hooks, "abtest"),
      },
    }));
    await waitForPhase(ns.name, "abtest", "Initialized");
    assert.deepEqual(await meshSplit(ns.name, "abtest"), { primary: 100, canary: 0, headerMatch: true });

    const { seen } = await promoteWatching(ns.name, "abtest", "abtest:2", watchSplits(ns.name, "abtest"));
    assert.ok(seen.some((s) => s.headerMatch && s.canary === 100 && s.primary === 0), `the header route sent matching requests to the canary: ${JSON.stringify(seen)}`);
    const vs = await kubectlJson<VirtualService>(["get", "virtualservices.networking.istio.io", "abtest", "-n", ns.name]);
    assert.deepEqual(vs.spec.http[1]?.route, [{ destination: { host: "abtest-primary" }, weight: 100 }], "requests without the header stay on the primary");
    assert.deepEqual(await meshSplit(ns.name, "abtest"), { primary: 100, canary: 0, headerMatch: true });
    assert.equal(await primaryImage(ns.name, "abtest"), "abtest:2");
  });
});
