/**
 * The canary engine driving the nginx router end to end: aviary runs as its own process
 * (controller only) against the real API server; the user's Ingress routes to the apex
 * Service and is never written; the canary Ingress's annotations are the only witness of
 * the weights and of the A/B conditions.
 */
import assert from "node:assert/strict";
import { startAviary, type AviaryProcess } from "../../support/aviary.ts";
import { startHookServer, type HookServer } from "../../support/hooks.ts";
import { kubectl, kubectlJson, kubectlOk, tempNamespace } from "../../support/kubectl.ts";
import { apply, canary, deployment, getDeployment, image, waitForPhase } from "./fixtures.ts";

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
  const seen: Split[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const s = await ingressSplit(ns, ingress);
      const last = seen.at(-1);
      if (s && (last === undefined || last.weight !== s.weight || last.header !== s.header)) seen.push(s);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return { stop: async () => { running = false; await loop; return seen; } };
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

  it("creates the canary Ingress, shifts 10 → 20 → 30 through its weight annotation, promotes", async () => {
    await apply(ns.name, userIngress("podinfo"));
    const userBefore = await kubectlJson<Ingress>(["get", "ingresses.networking.k8s.io", "podinfo", "-n", ns.name]);
    await apply(ns.name, deployment("podinfo", "podinfo:1"));
    await apply(ns.name, canary("podinfo", {
      provider: "nginx",
      spec: { ingressRef: { apiVersion: "networking.k8s.io/v1", kind: "Ingress", name: "podinfo" }, service: { port: 9898 } },
      analysis: { stepWeight: 10, maxWeight: 30, webhooks: [{ name: "load", type: "rollout", url: hooks.url("/podinfo") }] },
    }));
    await waitForPhase(ns.name, "podinfo", "Initialized");
    assert.deepEqual(await ingressSplit(ns.name, "podinfo"), { weight: 0, header: undefined });

    const splits = watchSplits(ns.name, "podinfo");
    await kubectlOk(["set", "image", "deployment/podinfo", "app=podinfo:2", "-n", ns.name]);
    const done = await waitForPhase(ns.name, "podinfo", "Succeeded", 90_000);
    const seen = (await splits.stop()).map((s) => s.weight);
    assert.deepEqual(seen.filter((w) => w > 0), [10, 20, 30], `weights seen: ${seen.join(" → ")}`);
    assert.deepEqual(await ingressSplit(ns.name, "podinfo"), { weight: 0, header: undefined });
    assert.equal(image(await getDeployment(ns.name, "podinfo-primary")), "podinfo:2");
    assert.equal(done.status?.conditions?.find((c) => c.type === "Promoted")?.status, "True");
    const userAfter = await kubectlJson<Ingress>(["get", "ingresses.networking.k8s.io", "podinfo", "-n", ns.name]);
    assert.equal(userAfter.metadata.resourceVersion, userBefore.metadata.resourceVersion, "the user's Ingress was never written");
  });

  it("rolls back when the rollout webhook fails: Failed, canary weight back to 0", async () => {
    hooks.status.set("/podinfo", 500);
    await kubectlOk(["set", "image", "deployment/podinfo", "app=podinfo:3-bad", "-n", ns.name]);
    const failed = await waitForPhase(ns.name, "podinfo", "Failed", 60_000);
    assert.equal(failed.status?.failedChecks, 2);
    assert.deepEqual(await ingressSplit(ns.name, "podinfo"), { weight: 0, header: undefined });
    assert.equal(image(await getDeployment(ns.name, "podinfo-primary")), "podinfo:2");
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
        webhooks: [{ name: "load", type: "rollout", url: hooks.url("/abtest") }],
      },
    }));
    await waitForPhase(ns.name, "abtest", "Initialized");
    const splits = watchSplits(ns.name, "abtest");
    await kubectlOk(["set", "image", "deployment/abtest", "app=abtest:2", "-n", ns.name]);
    await waitForPhase(ns.name, "abtest", "Succeeded", 90_000);
    const seen = await splits.stop();
    assert.ok(seen.some((s) => s.header === "x-canary" && s.weight === 0), `the header condition was set: ${JSON.stringify(seen)}`);
    assert.ok(seen.every((s) => s.weight === 0), "an A/B run never shifts weighted traffic");
    assert.deepEqual(await ingressSplit(ns.name, "abtest"), { weight: 0, header: undefined });
    assert.equal(image(await getDeployment(ns.name, "abtest-primary")), "abtest:2");
  });
});
