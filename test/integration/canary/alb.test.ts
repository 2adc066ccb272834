/**
 * The canary engine driving the alb router end to end: aviary runs as its own process
 * (controller only) against the real API server and writes the weighted forward action on
 * the user's own Ingress, the only witness of the weights. A hand edit or removal of the
 * action is undone from the Ingress's own watch event, in one write; deleting the Canary
 * (without revertOnDeletion) gives the user's Ingress back as it was.
 */
import assert from "node:assert/strict";
import type { AviaryProcess } from "../../support/aviary.ts";
import type { HookServer } from "../../support/hooks.ts";
import { eventually, holdsFor, kubectl, kubectlJson, kubectlOk } from "../../support/kubectl.ts";
import { apply, canary, deployment, waitForPhase, watchDistinct } from "../../support/canary-fixtures.ts";
import { failRollout, loadHook, primaryImage, promoteWatching, startEngineBench, stopEngineBench, watchVersions } from "./router-runs.ts";
import type { EngineBench } from "./router-runs.ts";

const INGRESS = "ingresses.networking.k8s.io";

interface Ingress {
  metadata: { resourceVersion?: string; labels?: Record<string, string>; annotations?: Record<string, string>; finalizers?: string[] };
  spec: unknown;
}
interface Action { forwardConfig: { targetGroups: { serviceName: string; servicePort: string; weight: number }[] } }

describe("canary engine: alb router", function () {
  let ns: EngineBench["ns"];
  let hooks: HookServer;
  let aviary: AviaryProcess;
  const name = "app-alb";
  const ACTION = `alb.ingress.kubernetes.io/actions.${name}`;
  const userIngress = {
    apiVersion: "networking.k8s.io/v1", kind: "Ingress",
    metadata: { name: "shop", labels: { team: "web" }, annotations: { "alb.ingress.kubernetes.io/scheme": "internet-facing" } },
    spec: {
      ingressClassName: "alb",
      rules: [{ host: "shop.example.com", http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name, port: { name: "use-annotation" } } } }] } }],
    },
  };
  let original: Ingress;

  /** The canary's weight in the action (-1: the action names no canary target group), or undefined without an action. */
  async function canaryWeight(): Promise<number | undefined> {
    const text = (await kubectlJson<Ingress>(["get", INGRESS, "shop", "-n", ns.name])).metadata.annotations?.[ACTION];
    if (text === undefined) return undefined;
    const groups = (JSON.parse(text) as Action).forwardConfig.targetGroups;
    const primary = groups.find((g) => g.serviceName === `${name}-primary`)?.weight ?? 0;
    const weight = groups.find((g) => g.serviceName === `${name}-canary`)?.weight ?? -1;
    assert.equal(primary + weight, 100, text);
    return weight;
  }

  before(async () => ({ ns, hooks, aviary } = await startEngineBench()));
  after(() => stopEngineBench({ ns, hooks, aviary }));

  it("initializes by writing the action at 100/0 on the user's Ingress, and leaves it alone while idle", async () => {
    await apply(ns.name, userIngress);
    original = await kubectlJson<Ingress>(["get", INGRESS, "shop", "-n", ns.name]);
    await apply(ns.name, deployment(name, `${name}:1`));
    // The Canary CRD is cluster-wide: apply this tree's (which knows the provider) right before use.
    await kubectlOk(["apply", "--server-side", "--force-conflicts", "-k", "manifests/crds"]);
    await apply(ns.name, canary(name, {
      provider: "alb",
      spec: { ingressRef: { apiVersion: "networking.k8s.io/v1", kind: "Ingress", name: "shop" }, service: { port: 9898 } },
      analysis: { stepWeight: 10, maxWeight: 30, webhooks: loadHook(hooks, name) },
    }));
    await waitForPhase(ns.name, name, "Initialized");
    assert.equal(await canaryWeight(), 0);
    const stored = await kubectlJson<Ingress>(["get", INGRESS, "shop", "-n", ns.name]);
    assert.deepEqual(stored.spec, original.spec);
    assert.equal(stored.metadata.labels?.["aviary.dev/canary"], name);
    const c = await kubectlJson<Ingress>(["get", "canaries.aviary.dev", name, "-n", ns.name]);
    assert.deepEqual(c.metadata.finalizers, ["aviary.dev/finalizer"], "held so the action can be given back on deletion");
    await holdsFor("the user's Ingress to stay unwritten", async () => {
      const rv = (await kubectlJson<Ingress>(["get", INGRESS, "shop", "-n", ns.name])).metadata.resourceVersion;
      return rv === stored.metadata.resourceVersion ? undefined : `resourceVersion ${stored.metadata.resourceVersion} → ${rv}`;
    }, 4_000);
  });

  it("undoes a hand edit of the action in one write, from the Ingress's own watch event", async () => {
    const watch = watchVersions(ns.name, INGRESS, "shop", `.metadata.annotations.alb\\.ingress\\.kubernetes\\.io/actions\\.${name}`);
    try {
      await eventually("the watch to start", async () => (watch.lines.length > 0 ? true : undefined), 10_000, 50);
      const edited = JSON.stringify({ type: "forward", forwardConfig: { targetGroups: [{ serviceName: `${name}-primary`, servicePort: "9898", weight: 0 }, { serviceName: `${name}-canary`, servicePort: "9898", weight: 100 }] } });
      await kubectlOk(["annotate", "--overwrite", INGRESS, "shop", "-n", ns.name, `${ACTION}=${edited}`]);
      await eventually("the action restored", async () => ((await canaryWeight()) === 0 ? true : undefined), 10_000, 50);
      await new Promise((r) => setTimeout(r, 1_000));
      const weights = watch.lines.slice(1).map((l) => (JSON.parse(l.split(" ").slice(1).join(" ")) as Action).forwardConfig.targetGroups.map((g) => g.weight));
      assert.deepEqual(weights, [[0, 100], [100, 0]], watch.lines.join("\n"));
    } finally {
      watch.stop();
    }
  });

  it("puts back an action removed by hand", async () => {
    await kubectlOk(["annotate", INGRESS, "shop", "-n", ns.name, `${ACTION}-`]);
    await eventually("the action back", async () => ((await canaryWeight()) === 0 ? true : undefined), 10_000, 50);
  });

  it("shifts 10 → 20 → 30 through the target group weights, then promotes back to 100/0", async () => {
    const watch = watchDistinct(canaryWeight, (last, next) => last !== next);
    const { done, seen } = await promoteWatching(ns.name, name, `${name}:2`, watch);
    assert.deepEqual(seen.filter((w) => w > 0), [10, 20, 30], `weights seen: ${seen.join(" → ")}`);
    assert.equal(await canaryWeight(), 0);
    assert.equal(await primaryImage(ns.name, name), `${name}:2`);
    assert.equal(done.status?.conditions?.find((c) => c.type === "Promoted")?.status, "True");
  });

  it("rolls back when the rollout webhook fails: Failed, the action back at 100/0, primary unchanged", async () => {
    const failed = await failRollout(ns.name, hooks, name, `${name}:3-bad`);
    assert.equal(failed.status?.failedChecks, 2);
    assert.equal(await canaryWeight(), 0);
    assert.equal(await primaryImage(ns.name, name), `${name}:2`);
  });

  it("deleting the Canary gives the user's Ingress back as it was", async () => {
    await kubectlOk(["delete", "canaries.aviary.dev", name, "-n", ns.name, "--wait=false"]);
    await eventually("the Canary gone", async () => ((await kubectl(["get", "canaries.aviary.dev", name, "-n", ns.name])).code !== 0 ? true : undefined), 30_000, 100);
    const back = await kubectlJson<Ingress>(["get", INGRESS, "shop", "-n", ns.name]);
    assert.deepEqual(back.metadata.annotations, original.metadata.annotations);
    assert.deepEqual(back.metadata.labels, original.metadata.labels);
    assert.deepEqual(back.spec, original.spec);
  });
});
