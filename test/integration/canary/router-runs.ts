/**
 * What the engine-level tests share: aviary (controller only) running against a scratch
 * namespace with a local webhook server, the steps of a run (a new image, a rollout webhook
 * that fails), and the whole run a weighted router gets.
 */
import { spawn } from "node:child_process";
import assert from "node:assert/strict";
import { startAviary, type AviaryProcess } from "../../support/aviary.ts";
import { startHookServer, type HookServer } from "../../support/hooks.ts";
import { eventually, kubectlJson, kubectlOk, tempNamespace } from "../../support/kubectl.ts";
import { apply, canary, deployment, getDeployment, image, waitForPhase } from "../../support/canary-fixtures.ts";
import { createInformer } from "../../../src/kube/informer.ts";
import type { KubeObject } from "../../../src/kube/types.ts";
import { clusterClient, testLogger } from "../kube/support.ts";
import type { CanaryObject } from "../../support/canary-fixtures.ts";

export interface EngineBench {
  ns: Awaited<ReturnType<typeof tempNamespace>>;
  hooks: HookServer;
  aviary: AviaryProcess;
}

/** Stops what startEngineBench started, however far it got. */
export async function stopEngineBench(bench: Partial<EngineBench>): Promise<void> {
  await bench.aviary?.stop();
  await bench.hooks?.close();
  await bench.ns?.remove();
}

/** aviary's CRDs, a scratch namespace, a webhook server, and aviary watching that namespace. */
export async function startEngineBench(): Promise<EngineBench> {
  const bench: Partial<EngineBench> = {};
  try {
    await kubectlOk(["apply", "--server-side", "-k", "manifests/crds"]);
    bench.ns = await tempNamespace();
    bench.hooks = await startHookServer();
    bench.aviary = startAviary(["--no-webhook", "--namespace", bench.ns.name]);
    return bench as EngineBench;
  } catch (err) {
    await stopEngineBench(bench);
    throw err;
  }
}

/** A rollout webhook named `load` on the server path `/<path>`. */
export const loadHook = (hooks: HookServer, path: string) => [{ name: "load", type: "rollout", url: hooks.url(`/${path}`) }];

/** `kubectl set image` on the target's `app` container: what starts a run. */
export async function setImage(ns: string, name: string, newImage: string): Promise<void> {
  await kubectlOk(["set", "image", `deployment/${name}`, `app=${newImage}`, "-n", ns]);
}

/** Sets a new image while `watch` records the route object, and waits for the promotion. */
export async function promoteWatching<T>(ns: string, name: string, newImage: string, watch: { stop: () => Promise<T[]> }): Promise<{ done: CanaryObject; seen: T[] }> {
  await setImage(ns, name, newImage);
  const done = await waitForPhase(ns, name, "Succeeded", 90_000);
  return { done, seen: await watch.stop() };
}

/** Makes the rollout webhook at `/<name>` answer 500, sets a new image, and waits for the run to fail. */
export async function failRollout(ns: string, hooks: HookServer, name: string, badImage: string): Promise<CanaryObject> {
  hooks.status.set(`/${name}`, 500);
  await setImage(ns, name, badImage);
  return waitForPhase(ns, name, "Failed", 60_000);
}

/** The image the primary runs. */
export const primaryImage = async (ns: string, name: string): Promise<string | undefined> => image(await getDeployment(ns, `${name}-primary`));

/**
 * Every version of one object a watch delivers, as `resourceVersion value` lines (`value`:
 * the kubectl jsonpath `path` of the object), so a write that lived for a few milliseconds is
 * still seen. The first line is the state when the watch started.
 */
export function watchVersions(ns: string, resource: string, name: string, path: string): { lines: string[]; stop: () => void } {
  const child = spawn("kubectl", ["get", resource, name, "-n", ns, "--watch", "--output-watch-events", "-o",
    `jsonpath={.object.metadata.resourceVersion} {.object${path}}{"\\n"}`], { env: process.env });
  const lines: string[] = [];
  let buf = "";
  child.stdout.on("data", (chunk: Buffer) => {
    buf += chunk.toString("utf8");
    const parts = buf.split("\n");
    buf = parts.pop() ?? "";
    lines.push(...parts.filter((p) => p.trim() !== ""));
  });
  return { lines, stop: () => child.kill("SIGTERM") };
}

/** What describeWeightedRouterRun needs to know about one weighted router. */
export interface WeightedRouterRun {
  provider: string;
  /** The route object that carries the weights: its apiVersion, kind, and resource as `kubectl get` names it (`httpproxies.projectcontour.io`). */
  apiVersion: string;
  kind: string;
  resource: string;
  /** Its name for a Canary `name` (the Deployment and Service are called `name` too). */
  objectName: (name: string) => string;
  /** The weights it carries, read from its spec; undefined when the weights are not there. */
  weightsOf: (spec: unknown, name: string) => { primary: number; canary: number } | undefined;
  /** More Canary spec (routeRef, upstreamRef). */
  spec?: Record<string, unknown>;
  /** Objects of yours the Canary refers to, applied before it. */
  prepare?: (ns: string, name: string) => Promise<void>;
  /** More checks of the objects created at initialization. */
  checkInitialized?: (ns: string, name: string) => Promise<void>;
  /** Cleans up what the namespace's deletion does not take along (cluster-scoped objects). */
  cleanUp?: (ns: string, name: string) => Promise<void>;
}

/**
 * Every distinct canary weight the route object carries, from a watch on it: the API server
 * hands over every change, so a step that lasts less than a poll is still seen.
 */
async function watchCanaryWeights(run: WeightedRouterRun, ns: string, name: string): Promise<{ stop: () => Promise<number[]> }> {
  const client = clusterClient();
  const seen: number[] = [];
  const informer = createInformer<KubeObject>({
    client, apiVersion: run.apiVersion, kind: run.kind, namespace: ns, fieldSelector: `metadata.name=${run.objectName(name)}`, logger: testLogger(),
    transform: (o) => o,
    onEvent: (e) => {
      const w = e.type === "deleted" ? undefined : run.weightsOf(e.object.spec, name)?.canary;
      if (w !== undefined && seen.at(-1) !== w) seen.push(w);
    },
  });
  informer.start();
  await informer.waitForSync(AbortSignal.timeout(30_000));
  return { stop: async () => { await informer.stop(); await client.close(); return seen; } };
}

/**
 * The engine run every weighted router gets: aviary (controller only) initializes the route
 * object at 100/0, restores it when it is deleted by hand, shifts 10 → 20 → 30 through it
 * and promotes; then a failing rollout webhook rolls back to 100/0 with the primary unchanged.
 * The route object is the only witness of the weights.
 */
export function describeWeightedRouterRun(run: WeightedRouterRun): void {
  describe(`canary engine: ${run.provider} router`, function () {
    let ns: EngineBench["ns"];
    let hooks: HookServer;
    let aviary: AviaryProcess;
    const name = `app-${run.provider}`;
    const weights = async () => {
      const obj = await kubectlJson<{ spec?: unknown }>(["get", run.resource, run.objectName(name), "-n", ns.name]).catch(() => undefined);
      return obj === undefined ? undefined : run.weightsOf(obj.spec, name);
    };

    before(async () => ({ ns, hooks, aviary } = await startEngineBench()));
    after(async () => {
      // aviary first: a running controller would restore what the clean-up deletes.
      await aviary?.stop();
      if (ns !== undefined) await run.cleanUp?.(ns.name, name);
      await stopEngineBench({ ns, hooks });
    });

    it(`initializes the ${run.kind} at 100/0, restores it when deleted by hand, shifts 10 → 20 → 30 and promotes`, async () => {
      await apply(ns.name, deployment(name, `${name}:1`));
      await run.prepare?.(ns.name, name);
      // The Canary CRD is cluster-wide: apply this tree's (which knows the provider) right before use.
      await kubectlOk(["apply", "--server-side", "--force-conflicts", "-k", "manifests/crds"]);
      await apply(ns.name, canary(name, { provider: run.provider, spec: { service: { port: 9898 }, ...run.spec }, analysis: { stepWeight: 10, maxWeight: 30, webhooks: loadHook(hooks, name) } }));
      await waitForPhase(ns.name, name, "Initialized");
      assert.deepEqual(await weights(), { primary: 100, canary: 0 });
      await run.checkInitialized?.(ns.name, name);

      await kubectlOk(["delete", run.resource, run.objectName(name), "-n", ns.name]);
      assert.deepEqual(await eventually(`${run.kind} ${run.objectName(name)} to be restored`, weights, 30_000), { primary: 100, canary: 0 });

      const watch = await watchCanaryWeights(run, ns.name, name);
      const { seen } = await promoteWatching(ns.name, name, `${name}:2`, watch);
      assert.deepEqual(seen.filter((w) => w > 0), [10, 20, 30], `weights seen: ${seen.join(" → ")}`);
      assert.deepEqual(await weights(), { primary: 100, canary: 0 });
      assert.equal(await primaryImage(ns.name, name), `${name}:2`);
    });

    it(`rolls back when the rollout webhook fails: Failed, ${run.kind} back to 100/0, primary unchanged`, async () => {
      const failed = await failRollout(ns.name, hooks, name, `${name}:3-bad`);
      assert.equal(failed.status?.failedChecks, 2);
      assert.deepEqual(await weights(), { primary: 100, canary: 0 });
      assert.equal(await primaryImage(ns.name, name), `${name}:2`);
    });
  });
}
