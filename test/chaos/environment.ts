/**
 * The chaos tier's world: a throw-away namespace on the chaos cluster, Prometheus scraping a
 * small exporter whose `chaos_health{app}` gauge the test sets per app (a failing metric is a
 * gauge at 0), a hook server whose answers the test sets per app (a failing webhook answers
 * 500), and two aviary replicas electing a leader on a Lease, each restarted by a supervisor
 * a moment after it dies, the way a Deployment's pods come back.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp } from "node:fs/promises";
import { createWriteStream, type WriteStream } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { startAviary, type AviaryProcess } from "../support/aviary.ts";
import { startHookServer, type HookServer } from "../support/hooks.ts";
import { kubectl, kubectlOk, requireKubeconfig, tempNamespace } from "../support/kubectl.ts";
import { runScript, sleep, startPrometheus, waitFor, type Peer } from "../support/peers.ts";

/** Leadership moves within this after the leader dies (aviary's --lease-duration, seconds). */
export const LEASE_SECONDS = 8;
const LEASE_NAME = "aviary-chaos";

export interface Replica {
  identity: string;
  current(): AviaryProcess;
  /** SIGKILL; the supervisor starts a new process after `restartAfterMs`. */
  kill(restartAfterMs: number): Promise<void>;
  restarts: number;
  /** Graceful stop, no restart. */
  stop(): Promise<void>;
}

export interface ChaosEnvironment {
  namespace: string;
  prometheus: Peer;
  hooks: HookServer;
  replicas: Replica[];
  /** Where the replicas' logs are written (one file per identity). */
  logDir: string;
  /** Sets an app's health gauge and waits until Prometheus reports the new value. */
  setHealthy(app: string, healthy: boolean): Promise<void>;
  /** The identity holding the Lease, if any. */
  leader(): Promise<string | undefined>;
  stop(): Promise<void>;
}

function startHealthExporter(): Promise<{ server: Server; address: string; health: Map<string, number> }> {
  const health = new Map<string, number>();
  const server = createServer((_req, res) => {
    res.setHeader("content-type", "text/plain; version=0.0.4");
    res.end([...health].map(([app, v]) => `chaos_health{app="${app}"} ${v}\n`).join(""));
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve({ server, health, address: `127.0.0.1:${(server.address() as AddressInfo).port}` })),
  );
}

async function prometheusValue(url: string, query: string): Promise<number | undefined> {
  const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(query)}`, { signal: AbortSignal.timeout(5000) }).catch(() => undefined);
  if (!res?.ok) return undefined;
  const body = (await res.json()) as { data?: { result?: { value: [number, string] }[] } };
  const v = body.data?.result?.[0]?.value[1];
  return v === undefined ? undefined : Number(v);
}

function superviseReplica(identity: string, args: string[], logDir: string): Replica {
  const file: WriteStream = createWriteStream(path.join(logDir, `${identity}.log`), { flags: "a" });
  let proc: AviaryProcess;
  let stopped = false;
  const launch = () => {
    proc = startAviary([...args, "--identity", identity], { AVIARY_LOG_LEVEL: "info" });
    const p = proc;
    const write = (chunk: Buffer) => file.write(chunk);
    p.child.stdout?.on("data", write);
    p.child.stderr?.on("data", write);
    // The in-memory copy is only for waitForLog; the file keeps everything.
    const trim = setInterval(() => p.logs.splice(0, Math.max(0, p.logs.length - 200)), 5000);
    p.child.once("exit", () => clearInterval(trim));
  };
  launch();
  const replica: Replica = {
    identity,
    restarts: 0,
    current: () => proc,
    async stop() {
      stopped = true;
      await proc.stop();
      await new Promise<void>((resolve) => file.end(() => resolve()));
    },
    async kill(restartAfterMs) {
      await proc.kill();
      file.write(`{"chaos":"SIGKILL ${identity}"}\n`);
      await sleep(restartAfterMs);
      if (stopped) return;
      replica.restarts++;
      launch();
    },
  };
  return replica;
}

export async function startChaosEnvironment(): Promise<ChaosEnvironment> {
  requireKubeconfig();
  await runScript("prometheus.sh", ["install"], 280_000);
  await kubectlOk(["apply", "--server-side", "-k", "manifests/crds"]);
  const undo: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const u of undo.reverse()) await u().catch((err: unknown) => console.error(`chaos clean-up: ${String(err)}`));
    undo.length = 0;
  };
  try {
    const ns = await tempNamespace("aviary-chaos");
    undo.push(ns.remove);
    const exporter = await startHealthExporter();
    undo.push(() => new Promise<void>((resolve) => exporter.server.close(() => resolve())));
    const prometheus = await startPrometheus(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: chaos
    static_configs:
      - targets: ["${exporter.address}"]
`);
    undo.push(() => prometheus.stop());
    const hooks = await startHookServer();
    undo.push(() => hooks.close());
    const logDir = process.env.AVIARY_CHAOS_LOGS ?? (await mkdtemp(path.join(tmpdir(), "aviary-chaos-logs-")));
    const args = [
      "--no-webhook", "--namespace", ns.name, "--metrics-server", prometheus.url,
      "--leader-elect", "--lease-name", LEASE_NAME, "--lease-namespace", ns.name, "--lease-duration", String(LEASE_SECONDS),
    ];
    const replicas = ["chaos-a", "chaos-b"].map((id) => superviseReplica(id, args, logDir));
    undo.push(() => Promise.all(replicas.map((r) => r.stop())));

    const leader = async (): Promise<string | undefined> => {
      const r = await kubectl(["-n", ns.name, "get", "lease", LEASE_NAME, "-o", "jsonpath={.spec.holderIdentity}"]);
      return r.code === 0 && r.stdout.trim() ? r.stdout.trim() : undefined;
    };
    await waitFor("a leader among the replicas", 60_000, leader);

    return {
      namespace: ns.name,
      prometheus,
      hooks,
      replicas,
      logDir,
      leader,
      async setHealthy(app, healthy) {
        const value = healthy ? 1 : 0;
        exporter.health.set(app, value);
        await waitFor(`Prometheus to report chaos_health of ${app} = ${value}`, 30_000, async () =>
          (await prometheusValue(prometheus.url, `chaos_health{app="${app}"}`)) === value ? true : undefined,
        );
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
