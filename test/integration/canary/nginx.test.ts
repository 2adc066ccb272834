/**
 * The canary engine driving the nginx router end to end: aviary runs as its own process
 * (controller only) against the real API server; the user's Ingress routes to the apex
 * Service and is never written; the canary Ingress's annotations are the only witness of
 * the weights and of the A/B conditions.
 */
import assert from "node:assert/strict";
import type { AviaryProcess } from "../../support/aviary.ts";
import type { HookServer } from "../../support/hooks.ts";
import { kubectl, kubectlJson } from "../../support/kubectl.ts";
import { apply, canary, deployment, waitForPhase, watchDistinct } from "../../support/canary-fixtures.ts";
import { failRollout, loadHook, primaryImage, promoteWatching, startEngineBench, stopEngineBench } from "./router-runs.ts";
import type { EngineBench } from "./router-runs.ts";

const P = "nginx.ingress.kubernetes.io";

interface Ingress { metadata: { resourceVersion?: string; annotations?: Record<string, string> } }

interface Split { weight: number; header?: string | undefined }

/** The canary Ingress's weight and header condition, or undefined while it does not exist. */
async function ingressSplit(ns: string, ingress: string): Promise<Split | undefined> {
  const r = await kubectl(["get", "ingresses.networking.k8s.io", `${ingress}-canary`, "-n", ns, "-o", "json"]);
  if (r.code !== 0) return undefined;
  const a = (JSON.parse(r.stdout) as Ingress).metadata.annotations ?? {};
  if (a[`${P}/canary`] !== "true") return undefined;
  return { weight: Number(a[`${P}/canary-weight`]), header: a[`${P}/canary-by-header`] };
}

/** Records every distinct state of the canary Ingress until stopped. */
function watchSplits(ns: string, ingress: string): { stop: () => Promise<Split[]> } {
  return watchDistinct(() => ingressSplit(ns, ingress), (last, next) => last.weight !== next.weight || last.header !== next.header);
}

function userIngress(name: string): Record<string, unknown> {
  return {
    apiVersion: "networking.k8s.io/v1", kind: "Ingress", metadata: { name },
    spec: {
      ingressClassName: "nginx",
      rules: [{ host: `${name}.example.com`, http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name, port: { number: 9898 } } } }] } }],
    },
  };
}

describe("canary engine: nginx router", function () {
  let ns: EngineBench["ns"];
  let hooks: HookServer;
  let aviary: AviaryProcess;

  before(async () => ({ ns, hooks, aviary } = await startEngineBench()));
  after(() => stopEngineBench({ ns, hooks, aviary }));

  it("creates the canary Ingress, shifts 10 → 20 → 30 through its weight annotation, promotes", async () => {
    await apply(ns.name, userIngress("podinfo"));
    const userBefore = await kubectlJson<Ingress>(["get", "ingresses.networking.k8s.io", "podinfo", "-n", ns.name]);
    await apply(ns.name, deployment("podinfo", "podinfo:1"));
    await apply(ns.name, canary("podinfo", {
      provider: "nginx",
      spec: { ingressRef: { apiVersion: "networking.k8s.io/v1", kind: "Ingress", name: "podinfo" }, service: { port: 9898 } },
      analysis: { stepWeight: 10, maxWeight: 30, webhooks: loadHook(hooks, "podinfo") },
    }));
    await waitForPhase(ns.name, "podinfo", "Initialized");
    assert.deepEqual(await ingressSplit(ns.name, "podinfo"), { weight: 0, header: undefined });

    const { done, seen: splits } = await promoteWatching(ns.name, "podinfo", "podinfo:2", watchSplits(ns.name, "podinfo"));
    const seen = splits.map((s) => s.weight);
    assert.deepEqual(seen.filter((w) => w > 0), [10, 20, 30], `weights seen: ${seen.join(" → ")}`);
    assert.deepEqual(await ingressSplit(ns.name, "podinfo"), { weight: 0, header: undefined });
    assert.equal(await primaryImage(ns.name, "podinfo"), "podinfo:2");
    assert.equal(done.status?.conditions?.find((c) => c.type === "Promoted")?.status, "True");
    const userAfter = await kubectlJson<Ingress>(["get", "ingresses.networking.k8s.io", "podinfo", "-n", ns.name]);
    assert.equal(userAfter.metadata.resourceVersion, userBefore.metadata.resourceVersion, "the user's Ingress was never written");
  });

  it("rolls back when the rollout webhook fails: Failed, canary weight back to 0", async () => {
    const failed = await failRollout(ns.name, hooks, "podinfo", "podinfo:3-bad");
    assert.equal(failed.status?.failedChecks, 2);
    assert.deepEqual(await ingressSplit(ns.name, "podinfo"), { weight: 0, header: undefined });
    assert.equal(await primaryImage(ns.name, "podinfo"), "podinfo:2");
  });

  it("A/B: the header condition is set during the iterations, removed after promotion", async () => {
    await apply(ns.name, userIngress("abtest"));
    await apply(ns.name, deployment("abtest", "abtest:1"));
    await apply(ns.name, canary("abtest", {
      provider: "nginx",
      spec: { ingressRef: { name: "abtest" }, service: { port: 9898 } },
      analysis: {
        stepWeight: undefined, maxWeight: undefined, iterations: 3,
        match: [{ headers: { "x-canary": { exact: "insider" } } }],
        webhooks: loadHook(hooks, "abtest"),
      },
    }));
    await waitForPhase(ns.name, "abtest", "Initialized");
    const { seen } = await promoteWatching(ns.name, "abtest", "abtest:2", watchSplits(ns.name, "abtest"));
    assert.ok(seen.some((s) => s.header === "x-canary" && s.weight === 0), `the header condition was set: ${JSON.stringify(seen)}`);
    assert.ok(seen.every((s) => s.weight === 0), "an A/B run never shifts weighted traffic");
    assert.deepEqual(await ingressSplit(ns.name, "abtest"), { weight: 0, header: undefined });
    assert.equal(await primaryImage(ns.name, "abtest"), "abtest:2");
  });
});
