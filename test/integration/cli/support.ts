/**
 * Runs the `aviary` CLI as users do (a separate node process on $KUBECONFIG) and sets up
 * Canaries with hand-written status, since these tests exercise the CLI without a controller.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import type { Canary, CanaryStatus } from "../../../src/api/types.ts";
import { createKubeClient } from "../../../src/kube/client.ts";
import type { ClusterClient } from "../../../src/kube/client.ts";
import { loadKubeConfig } from "../../../src/kube/config.ts";
import type { KubeObject } from "../../../src/kube/types.ts";
import { eventually, requireKubeconfig } from "../../support/kubectl.ts";

const MAIN = fileURLToPath(new URL("../../../src/cli/main.ts", import.meta.url));
const CANARY_CRD = fileURLToPath(new URL("../../../manifests/crds/canaries.yaml", import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunningCli {
  /** Complete stdout lines so far. */
  lines: string[];
  stderr(): string;
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  exited: Promise<CliResult>;
  kill(): void;
}

/** Starts `aviary <args>`; stdout is a pipe, so the CLI prints as it does in CI (no bar, no questions). */
export function startCli(args: string[], maxLifetimeMs = 45_000): RunningCli {
  const child = spawn(process.execPath, [MAIN, ...args], {
    env: { ...process.env, KUBECONFIG: requireKubeconfig() },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  const lines: string[] = [];
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString("utf8");
    const parts = stdout.split("\n");
    for (const line of parts.slice(lines.length, -1)) {
      lines.push(line);
      if (process.env.AVIARY_TEST_LOGS) process.stderr.write(`  [aviary-cli] ${line}\n`);
      for (const w of [...waiters]) {
        if (w.pattern.test(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  });
  child.stderr.on("data", (chunk: Buffer) => void (stderr += chunk.toString("utf8")));
  // A CLI that never ends must fail its test, not keep the test run alive.
  const killer = setTimeout(() => child.kill("SIGKILL"), maxLifetimeMs);
  const exited = new Promise<CliResult>((resolve) =>
    child.once("close", (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    }),
  );
  return {
    lines,
    stderr: () => stderr,
    waitForLine(pattern, timeoutMs = 20_000) {
      const seen = lines.find((l) => pattern.test(l));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the CLI never printed ${pattern}; stdout:\n${stdout}\nstderr:\n${stderr}`)), timeoutMs);
        waiters.push({ pattern, resolve: (line) => { clearTimeout(timer); resolve(line); } });
      });
    },
    exited,
    kill: () => void child.kill("SIGINT"),
  };
}

export async function runCli(args: string[], timeoutMs = 30_000): Promise<CliResult> {
  const cli = startCli(args);
  const timer = setTimeout(cli.kill, timeoutMs);
  try {
    return await cli.exited;
  } finally {
    clearTimeout(timer);
  }
}

export function clusterClient(): ClusterClient {
  return createKubeClient(loadKubeConfig(requireKubeconfig()), { timeoutMs: 15_000 });
}

/** Installs the Canary CRD when this cluster does not serve it yet (server-side apply, as `kubectl apply --server-side`). */
export async function ensureCanaryCrd(client: ClusterClient): Promise<void> {
  if (await client.crdInstalled("aviary.dev", "canaries")) return;
  for (const doc of parseAllDocuments(readFileSync(CANARY_CRD, "utf8"))) {
    const obj = doc.toJSON() as KubeObject | null;
    if (obj?.kind === "CustomResourceDefinition") await client.apply(obj, { force: true });
  }
  await eventually("the Canary CRD to be served", async () => ((await client.crdInstalled("aviary.dev", "canaries")) ? true : undefined), 30_000);
}

export async function createNamespace(client: ClusterClient): Promise<string> {
  const name = `aviary-it-${randomBytes(3).toString("hex")}`;
  await client.create({ apiVersion: "v1", kind: "Namespace", metadata: { name } });
  return name;
}

export async function createCanary(client: ClusterClient, namespace: string, name: string, analysis: Record<string, unknown> = {}): Promise<Canary> {
  return client.create<Canary>({
    apiVersion: "aviary.dev/v1beta1",
    kind: "Canary",
    metadata: { name, namespace },
    // Valid for aviary's admission webhook too, should one be registered on this cluster.
    spec: {
      provider: "gatewayapi",
      targetRef: { apiVersion: "apps/v1", kind: "Deployment", name },
      service: { port: 9898, gatewayRefs: [{ name: "public" }] },
      analysis: { interval: "30s", threshold: 5, maxWeight: 50, stepWeight: 10, ...analysis },
    },
  });
}

/** Writes status through the status subresource, as the controller does. */
export async function setStatus(client: ClusterClient, namespace: string, name: string, status: CanaryStatus): Promise<Canary> {
  return client.mergePatch<Canary>({ apiVersion: "aviary.dev/v1beta1", kind: "Canary", namespace, name }, { status }, { subresource: "status" });
}

export async function readCanary(client: ClusterClient, namespace: string, name: string): Promise<Canary> {
  const canary = await client.get<Canary>({ apiVersion: "aviary.dev/v1beta1", kind: "Canary", namespace, name });
  if (canary === null) throw new Error(`Canary ${namespace}/${name} is gone`);
  return canary;
}
