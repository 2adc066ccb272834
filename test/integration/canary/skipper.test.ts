/**
 * The canary engine driving the skipper router end to end: aviary runs as its own process
 * (controller only) against the real API server; the user's Ingress routes to the apex
 * Service and is never written; the canary Ingress's zalando.org/backend-weights and
 * predicate are the only witness of the weights. A hand edit or a deletion of the copy is
 * undone from its own watch event, in one write.
 */
import assert from "node:assert/strict";
import type { AviaryProcess } from "../../support/aviary.ts";
import type { HookServer } from "../../support/hooks.ts";
import { eventually, holdsFor, kubectl, kubectlJson, kubectlOk } from "../../support/kubectl.ts";
import { apply, canary, deployment, waitForPhase, watchDistinct } from "../../support/canary-fixtures.ts";
import { failRollout, loadHook, primaryImage, promoteWatching, startEngineBench, stopEngineBench, watchVersions } from "./router-runs.ts";
import type { EngineBench } from "./router-runs.ts";

const W = "zalando.org/backend-weights";
const PRED = "zalando.org/skipper-predicate";
const INGRESS = "ingresses.networking.k8s.io";

interface Ingress { metadata: { resourceVersion?: string; annotations?: Record<string, string> }; spec: { rules: { http: { paths: { backend: { service: { name: string } } }[] } }[] } }

interface Split { canary: number; predicate: string | undefined }

/** The canary Ingress's canary weight and predicate, or undefined while it does not exist. */
async function copySplit(ns: string, name: string): Promise<Split | undefined> {
  const r = await kubectl(["get", INGRESS, `${name}-canary`, "-n", ns, "-o", "json"]);
  if (r.code !== 0) return undefined;
  const a = (JSON.parse(r.stdout) as Ingress).metadata.annotations ?? {};
  const weights = JSON.parse(a[W] ?? "{}") as Record<string, number>;
  return { canary: weights[`${name}-canary`] ?? -1, predicate: a[PRED] };
}

function userIngress(name: string): Record<string, unknown> {
  return {
    apiVersion: "networking.k8s.io/v1", kind: "Ingress", metadata: { name },
    spec: {
      ingressClassName: "skipper",
      rules: [{ host: `${name}.example.com`, http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name, port: { number: 9898 } } } }] } }],
    },
  };
}

describe("canary engine: skipper router", function () {
  let ns: EngineBench["ns"];
  let hooks: HookServer;
  let aviary: AviaryProcess;
  const name = "app-skipper";
  const idle = { canary: 0, predicate: "False()" };

  before(async () => ({ ns, hooks, aviary } = await startEngineBench()));
  after(() => stopEngineBench({ ns, hooks, aviary }));

  it("initializes the canary Ingress switched off at 100/0, and leaves it alone while idle", async () => {
    await apply(ns.name, userIngress(name));
    await apply(ns.name, deployment(name, `${name}:1`));
    // The Canary CRD is cluster-wide: apply this tree's (which knows the provider) right before use.
    await kubectlOk(["apply", "--server-side", "--force-conflicts", "-k", "manifests/crds"]);
    await apply(ns.name, canary(name, {
      provider: "skipper",
      spec: { ingressRef: { apiVersion: "networking.k8s.io/v1", kind: "Ingress", name }, service: { port: 9898 } },
      analysis: { stepWeight: 10, maxWeight: 30, webhooks: loadHook(hooks, name) },
    }));
    await waitForPhase(ns.name, name, "Initialized");
    assert.deepEqual(await copySplit(ns.name, name), idle);
    const copy = await kubectlJson<Ingress>(["get", INGRESS, `${name}-canary`, "-n", ns.name]);
    assert.deepEqual(copy.spec.rules[0]!.http.paths.map((p) => p.backend.service.name), [`${name}-primary`, `${name}-canary`]);
    // Idle reconciles (every 1 s analysis interval and every watch event) write nothing.
    await holdsFor("the canary Ingress to stay unwritten", async () => {
      const rv = (await kubectlJson<Ingress>(["get", INGRESS, `${name}-canary`, "-n", ns.name])).metadata.resourceVersion;
      return rv === copy.metadata.resourceVersion ? undefined : `resourceVersion ${copy.metadata.resourceVersion} → ${rv}`;
    }, 4_000);
  });

  it("undoes a hand edit of the weights in one write, from the copy's own watch event", async () => {
    const watch = watchVersions(ns.name, INGRESS, `${name}-canary`, `.metadata.annotations.zalando\\.org/backend-weights`);
    try {
      await eventually("the watch to start", async () => (watch.lines.length > 0 ? true : undefined), 10_000, 50);
      await kubectlOk(["annotate", "--overwrite", INGRESS, `${name}-canary`, "-n", ns.name, `${W}={"${name}-primary":0,"${name}-canary":100}`]);
      await eventually("the weights restored", async () => ((await copySplit(ns.name, name))?.canary === 0 ? true : undefined), 10_000, 50);
      await new Promise((r) => setTimeout(r, 1_000));
      const writes = watch.lines.slice(1).map((l) => l.split(" ").slice(1).join(" "));
      assert.deepEqual(writes, [`{"${name}-primary":0,"${name}-canary":100}`, `{"${name}-primary":100,"${name}-canary":0}`], watch.lines.join("\n"));
    } finally {
      watch.stop();
    }
  });

  it("recreates a deleted canary Ingress", async () => {
    await kubectlOk(["delete", INGRESS, `${name}-canary`, "-n", ns.name]);
    await eventually("the canary Ingress back", async () => ((await copySplit(ns.name, name))?.predicate === "False()" ? true : undefined), 10_000, 50);
    assert.deepEqual(await copySplit(ns.name, name), idle);
  });

  it("shifts 10 → 20 → 30 through backend-weights with Weight(100), then promotes and switches the copy off", async () => {
    const watch = watchDistinct(() => copySplit(ns.name, name), (last, next) => last.canary !== next.canary || last.predicate !== next.predicate);
    const { done, seen } = await promoteWatching(ns.name, name, `${name}:2`, watch);
    assert.deepEqual(seen.filter((s) => s.canary > 0).map((s) => s.canary), [10, 20, 30], `weights seen: ${JSON.stringify(seen)}`);
    assert.ok(seen.filter((s) => s.canary > 0).every((s) => s.predicate === "Weight(100)"), JSON.stringify(seen));
    assert.deepEqual(await copySplit(ns.name, name), idle);
    assert.equal(await primaryImage(ns.name, name), `${name}:2`);
    assert.equal(done.status?.conditions?.find((c) => c.type === "Promoted")?.status, "True");
  });

  it("rolls back when the rollout webhook fails: Failed, copy switched off, primary unchanged", async () => {
    const failed = await failRollout(ns.name, hooks, name, `${name}:3-bad`);
    assert.equal(failed.status?.failedChecks, 2);
    assert.deepEqual(await copySplit(ns.name, name), idle);
    assert.equal(await primaryImage(ns.name, name), `${name}:2`);
  });
});
