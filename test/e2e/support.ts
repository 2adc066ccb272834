/**
 * The end-to-end environment, built from the demo's own pieces: Prometheus (Debian's
 * package) scraping every simulated mesh once a second, aviary as its own process watching
 * one throw-away namespace, and one simulated mesh per Canary (demo/mesh.ts) that runs the
 * demo application's versions and splits 50 req/s by the weights it reads back through the
 * router's getRoutes. Every process started here is stopped by `stop()`.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { startSimulatedMesh } from "../../demo/mesh.ts";
import type { SimulatedMesh, SimulatedMeshOptions } from "../../demo/mesh.ts";
import { prometheusConfig } from "../../demo/mesh/targets.ts";
import { appCanary, appDeployment, DEMO_CONTAINER, imageFor } from "../../demo/manifests.ts";
import type { CanaryTuning } from "../../demo/manifests.ts";
import { createKubeClient } from "../../src/kube/client.ts";
import type { ClusterClient } from "../../src/kube/client.ts";
import { loadKubeConfig } from "../../src/kube/config.ts";
import type { KubeObject } from "../../src/kube/types.ts";
import { createLogger } from "../../src/observability/logger.ts";
import type { Logger } from "../../src/observability/logger.ts";
import { createRouterRegistry } from "../../src/router/registry.ts";
import { startAviary, type AviaryProcess } from "../support/aviary.ts";
import { kubectlOk, requireKubeconfig, tempNamespace } from "../support/kubectl.ts";
import { runScript, startPrometheus } from "../support/peers.ts";
import type { Peer } from "../support/peers.ts";
import { apply, waitForPhase } from "../support/canary-fixtures.ts";
import type { CanaryObject } from "../support/canary-fixtures.ts";
import { waitForCanary } from "../support/canary-metrics.ts";

export interface E2eEnvironment {
  namespace: string;
  prometheus: Peer;
  aviary: AviaryProcess;
  /** The mesh logger, for extra exporters. */
  logger: Logger;
  /** Deploys `<name>` at 1.0.0 with the demo's Canary and a simulated mesh, and waits for Initialized. */
  deploy(name: string, tuning: Omit<CanaryTuning, "metricsServer">): Promise<SimulatedMesh>;
  /**
   * The same with any Canary manifest for `<name>` (its namespace is replaced), and the demo's
   * Deployment at 1.0.0 unless `deployment` is given (then that one, as written).
   */
  deployCanary(name: string, canary: KubeObject, extra?: DeployOptions): Promise<SimulatedMesh>;
  /** `kubectl set image` to a version of the demo application. */
  release(name: string, version: string): Promise<void>;
  stop(): Promise<void>;
}

export type DeployOptions = Pick<SimulatedMeshOptions, "onResponse" | "requestsPerSecond"> & { deployment?: KubeObject };

const ACTIVE = new Set(["Waiting", "Progressing", "WaitingPromotion", "Promoting", "Finalising"]);

/**
 * The verdict of the run a release just started: waits for the run to be under way, then for
 * it to end, whichever way. A wrong decision fails the test at once with the Canary's own
 * reason, instead of after a timeout.
 */
export async function waitForVerdict(namespace: string, name: string, timeoutMs = 90_000): Promise<CanaryObject> {
  await waitForCanary(namespace, name, `a run of ${name} under way`, (c) => ACTIVE.has(c.status?.phase ?? ""), 30_000);
  return waitForCanary(namespace, name, `the verdict on ${name}`, (c) => c.status?.phase === "Succeeded" || c.status?.phase === "Failed", timeoutMs);
}

/** The Promoted condition's message: why the Canary is where it is. */
export const reasonOf = (c: CanaryObject): string => c.status?.conditions?.find((x) => x.type === "Promoted")?.message ?? "(no Promoted condition)";

export async function startE2eEnvironment(prefix: string): Promise<E2eEnvironment> {
  requireKubeconfig();
  await runScript("prometheus.sh", ["install"], 280_000);
  await kubectlOk(["apply", "--server-side", "-k", "manifests/crds"]);
  const stack: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const undo of stack.reverse()) await undo().catch((err: unknown) => console.error(`e2e clean-up: ${String(err)}`));
    stack.length = 0;
  };
  try {
    const ns = await tempNamespace(prefix);
    stack.push(ns.remove);
    const targetDir = await mkdtemp(path.join(tmpdir(), "aviary-e2e-targets-"));
    stack.push(() => rm(targetDir, { recursive: true, force: true }));
    const prometheus = await startPrometheus(prometheusConfig(path.join(targetDir, "*.json")));
    stack.push(() => prometheus.stop());
    const aviary = startAviary(["--no-webhook", "--namespace", ns.name, "--metrics-server", prometheus.url]);
    stack.push(() => aviary.stop());
    const client: ClusterClient = createKubeClient(loadKubeConfig(), { userAgent: "aviary-e2e" });
    stack.push(() => client.close());
    const logger = createLogger({ level: process.env.AVIARY_TEST_LOGS ? "info" : "warn", write: (line) => process.stderr.write(`  [mesh] ${line}\n`) });
    const routers = createRouterRegistry({ kube: client, logger });

    const deployCanary = async (name: string, canary: KubeObject, extra: DeployOptions = {}): Promise<SimulatedMesh> => {
      const { deployment, ...meshOptions } = extra;
      const mesh = await startSimulatedMesh({ ...meshOptions, client, routers, logger, namespace: ns.name, canary: name, targetFile: path.join(targetDir, `${name}.json`) });
      stack.push(() => mesh.stop());
      await apply(ns.name, deployment === undefined ? appDeployment(name, ns.name, imageFor("1.0.0"), 1) : { ...deployment, metadata: { ...deployment.metadata, namespace: ns.name } });
      // With intervals of 1-2 s the first check would race the new version's first scrapes
      // (kwok pods are Ready at once); the mesh's readiness gate holds traffic until then.
      const ready = { name: "mesh-ready", type: "confirm-rollout", url: `${mesh.url}/gates/canary-ready` };
      const spec = canary.spec as { analysis?: { webhooks?: unknown[] } };
      const analysis = { ...spec.analysis, webhooks: [ready, ...(spec.analysis?.webhooks ?? [])] };
      await apply(ns.name, { ...canary, metadata: { ...canary.metadata, namespace: ns.name }, spec: { ...spec, analysis } });
      await waitForPhase(ns.name, name, "Initialized", 60_000).catch((err: unknown) => {
        throw new Error(`${(err as Error).message}\naviary's last lines:\n${aviary.logs.slice(-25).join("\n")}`, { cause: err });
      });
      return mesh;
    };

    return {
      namespace: ns.name,
      prometheus,
      aviary,
      logger,
      deploy: (name, tuning) => deployCanary(name, appCanary(name, ns.name, tuning)),
      deployCanary,
      async release(name, version) {
        await kubectlOk(["-n", ns.name, "set", "image", `deployment/${name}`, `${DEMO_CONTAINER}=${imageFor(version)}`]);
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
