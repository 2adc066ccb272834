/**
 * The long-running pieces the demo stands up around the cluster: Prometheus (kept running
 * between demo runs, reused when it is up) and aviary itself as a local process whose log
 * goes to a file the reader can open afterwards.
 */
import { execFile, spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { imageRuntime } from "../../hack/image-runtime.ts";
import { prometheusConfig } from "../mesh/targets.ts";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export interface PrometheusInfo {
  url: string;
  /** True when a Prometheus from an earlier run was reused. */
  reused: boolean;
  dataDir: string;
}

/**
 * Prometheus on 127.0.0.1:`port`, scraping every target file in `targetDir` every second.
 * One started by an earlier demo run (same data directory) is reused after its config is
 * rewritten and reloaded.
 */
export async function ensurePrometheus(stateDir: string, targetDir: string, port: number): Promise<PrometheusInfo> {
  const dataDir = path.join(stateDir, "prometheus");
  await mkdir(dataDir, { recursive: true });
  await mkdir(targetDir, { recursive: true });
  const config = path.join(dataDir, "prometheus.yml");
  await writeFile(config, prometheusConfig(path.join(targetDir, "*.json")));
  const url = `http://127.0.0.1:${port}`;
  const pid = Number((await readFile(path.join(dataDir, "prometheus.pid"), "utf8").catch(() => "")).trim());
  if (pid > 0 && isAlive(pid) && (await httpStatus(`${url}/-/ready`)) === 200) {
    const reload = await httpStatus(`${url}/-/reload`, "POST");
    if (reload !== 200) throw new Error(`the running Prometheus (pid ${pid}) did not reload its config (HTTP ${reload}); stop it with: bash hack/prometheus.sh stop --data ${dataDir}`);
    return { url, reused: true, dataDir };
  }
  if ((await httpStatus(`${url}/-/ready`)) !== 0) {
    throw new Error(`port ${port} is in use by another program; choose another with AVIARY_DEMO_PROMETHEUS_PORT`);
  }
  await run("bash", [path.join(ROOT, "hack/prometheus.sh"), "start", "--config", config, "--data", dataDir, "--port", String(port)], 60_000);
  return { url, reused: false, dataDir };
}

export interface AviaryChild {
  pid: number;
  logFile: string;
  /** host:port of /metrics, /healthz and /readyz, once aviary logged it. */
  opsAddress: string;
  /** https://127.0.0.1:PORT when the admission webhook runs. */
  webhookUrl: string | undefined;
  stop(): Promise<void>;
}

export interface AviaryWebhookOptions {
  port: number;
  /** Where aviary keeps its local CA and serving certificate. */
  certDir: string;
}

/** The webhook configurations a local aviary registers by URL (manifests/webhooks.yaml). */
export const WEBHOOK_CONFIGURATIONS = ["mutatingwebhookconfiguration/aviary", "validatingwebhookconfiguration/aviary"] as const;

/**
 * `node src/main.ts` against the demo namespace only, its JSON log in `logFile`. Resolves
 * once aviary serves /readyz; rejects with the log's tail if it exits first.
 */
export async function startAviaryProcess(opts: {
  logFile: string;
  namespace: string;
  metricsServer: string;
  /** Also run the admission webhook, registered cluster-wide by URL; else controller only. */
  webhook?: AviaryWebhookOptions;
  timeoutMs?: number;
}): Promise<AviaryChild> {
  const fd = openSync(opts.logFile, "w");
  const webhookUrl = opts.webhook ? `https://127.0.0.1:${opts.webhook.port}` : undefined;
  const webhookArgs = opts.webhook
    ? ["--webhook-host", "127.0.0.1", "--webhook-port", String(opts.webhook.port), "--webhook-url", webhookUrl!, "--cert-dir", opts.webhook.certDir]
    : ["--no-webhook"];
  const args = [
    path.join(ROOT, "src/main.ts"),
    ...webhookArgs,
    "--namespace", opts.namespace,
    "--metrics-server", opts.metricsServer,
    "--metrics-address", "127.0.0.1:0",
    "--log-level", "info",
  ];
  // The image's node flags and environment (hack/image-runtime.ts): the demo runs aviary as a cluster does.
  const image = imageRuntime();
  const child = spawn(process.execPath, [...image.nodeFlags, ...args], { stdio: ["ignore", fd, fd], env: { ...process.env, ...image.env } });
  closeSync(fd);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(killer);
    }
  };
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) break;
    const log = await readFile(opts.logFile, "utf8").catch(() => "");
    const address = /"msg":"serving \/metrics, \/healthz and \/readyz".*?"address":"([^"]+)"/.exec(log)?.[1];
    const webhookUp = !opts.webhook || log.includes('"msg":"admission webhook serving"');
    if (address !== undefined && webhookUp && (await httpStatus(`http://${address}/readyz`)) === 200) {
      return { pid: child.pid ?? 0, logFile: opts.logFile, opsAddress: address, webhookUrl, stop };
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  await stop();
  const tail = (await readFile(opts.logFile, "utf8").catch(() => "")).trim().split("\n").slice(-15).join("\n");
  throw new Error(`aviary did not become ready (log: ${opts.logFile}):\n${tail}`);
}

/** A port nothing listens on right now, on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The HTTP status of a request, 0 when nothing answers. */
export function httpStatus(url: string, method = "GET"): Promise<number> {
  return new Promise((resolve) => {
    const req = http.request(url, { method, timeout: 2_000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(0));
    req.end();
  });
}

/** Runs a command to completion with its output passed through (install steps show progress). */
export function run(command: string, args: readonly string[], timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = execFile(command, [...args], { timeout: timeoutMs }, (err) => (err ? reject(new Error(`${command} ${args.join(" ")} failed: ${err.message}`)) : resolve()));
    child.stdout?.pipe(process.stderr);
    child.stderr?.pipe(process.stderr);
  });
}
