/**
 * Real peers for the metric integration tests: Prometheus (Debian's package) and moto's
 * CloudWatch server, each started by the test on 127.0.0.1 on a free port through the
 * hack/ scripts' `run` mode (which execs the server, so the child's pid is the server's)
 * and stopped by that pid.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export async function freePort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Runs a hack/ script to completion (install steps); rejects with its output on failure. */
export function runScript(script: string, args: string[], timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile("bash", [path.join(ROOT, "hack", script), ...args], { timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err) reject(new Error(`hack/${script} ${args.join(" ")} failed: ${err.message}\n${stdout}${stderr}`));
      else resolve();
    });
  });
}

export interface Peer {
  url: string;
  port: number;
  /** Stops the server (SIGTERM, then SIGKILL after 5s) and waits for it to exit. */
  stop(): Promise<void>;
  /** Output so far, for failure messages. */
  output(): string;
}

async function startPeer(script: string, args: string[], port: number, readyPath: string, cleanup?: () => Promise<void>): Promise<Peer> {
  const child: ChildProcess = spawn("bash", [path.join(ROOT, "hack", script), "run", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  child.stdout?.on("data", (c: Buffer) => (log = (log + c.toString()).slice(-8000)));
  child.stderr?.on("data", (c: Buffer) => (log = (log + c.toString()).slice(-8000)));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(killer);
    }
    await cleanup?.();
  };
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    if ((await httpStatus(`${url}${readyPath}`)) === 200) return { url, port, stop, output: () => log };
    await sleep(200);
  }
  await stop();
  throw new Error(`hack/${script} run did not become ready on ${url}${readyPath}:\n${log}`);
}

export interface PrometheusOptions {
  /** Listen here instead of on a free port (to start Prometheus again where it was). */
  port?: number;
  /**
   * Keep the config and the TSDB in this directory, which the caller owns and removes:
   * a Prometheus started again on it still has the series it scraped before it stopped.
   */
  dir?: string;
}

/** Prometheus with the given scrape config (YAML text), its own data dir, on a free port. */
export async function startPrometheus(config: string, opts: PrometheusOptions = {}): Promise<Peer> {
  const dir = opts.dir ?? (await mkdtemp(path.join(tmpdir(), "aviary-prometheus-")));
  const file = path.join(dir, "prometheus.yml");
  await writeFile(file, config);
  const port = opts.port ?? (await freePort());
  const cleanup = opts.dir === undefined ? () => rm(dir, { recursive: true, force: true }) : undefined;
  return startPeer("prometheus.sh", ["--config", file, "--data", dir, "--port", String(port)], port, "/-/ready", cleanup);
}

/** moto's server (CloudWatch and every other service moto fakes) on a free port. */
export async function startMoto(): Promise<Peer> {
  const port = await freePort();
  return startPeer("moto.sh", ["--port", String(port)], port, "/moto-api/");
}

function httpStatus(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(0));
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `probe` until it returns a value other than undefined, or fails with the last observation. */
export async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
      last = "undefined";
    } catch (err) {
      last = err;
    }
    await sleep(250);
  }
  throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
}
