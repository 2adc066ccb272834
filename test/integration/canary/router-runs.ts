/**
 * What the engine-level tests share: aviary (controller only) running against a scratch
 * namespace with a local webhook server, and the steps of a run: a new image, a rollout
 * webhook that fails.
 */
import { spawn } from "node:child_process";
import { startAviary, type AviaryProcess } from "../../support/aviary.ts";
import { startHookServer, type HookServer } from "../../support/hooks.ts";
import { kubectlOk, tempNamespace } from "../../support/kubectl.ts";
import { getDeployment, image, waitForPhase } from "../../support/canary-fixtures.ts";
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
