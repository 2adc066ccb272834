/**
 * Runs aviary as a separate process against the test cluster, the way users run it locally,
 * so tests can also kill it (SIGKILL) in the middle of a run and start another.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { requireKubeconfig } from "./kubectl.ts";

const MAIN = fileURLToPath(new URL("../../src/main.ts", import.meta.url));

export interface AviaryProcess {
  child: ChildProcess;
  /** Every log line so far (JSON lines from aviary's logger). */
  logs: string[];
  /** Graceful stop (SIGTERM) and wait for exit. */
  stop(): Promise<void>;
  /** Abrupt stop (SIGKILL) and wait for exit: nothing is flushed, like a crashed pod. */
  kill(): Promise<void>;
  /** Waits until a log line matches. */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<string>;
}

export function startAviary(args: string[] = [], env: Record<string, string> = {}): AviaryProcess {
  const kubeconfig = requireKubeconfig();
  const child = spawn(process.execPath, [MAIN, "--metrics-address", "127.0.0.1:0", ...args], {
    env: { ...process.env, KUBECONFIG: kubeconfig, AVIARY_LOG_LEVEL: "debug", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const logs: string[] = [];
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  const onData = (chunk: Buffer) => {
    for (const line of chunk.toString("utf8").split("\n")) {
      if (!line.trim()) continue;
      logs.push(line);
      if (process.env.AVIARY_TEST_LOGS) process.stderr.write(`  [aviary] ${line}\n`);
      for (const w of [...waiters]) {
        if (w.pattern.test(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const end = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  return {
    child,
    logs,
    stop: () => end("SIGTERM"),
    kill: () => end("SIGKILL"),
    waitForLog(pattern, timeoutMs = 30_000) {
      const seen = logs.find((l) => pattern.test(l));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`aviary never logged ${pattern}; last lines:\n${logs.slice(-15).join("\n")}`)), timeoutMs);
        waiters.push({ pattern, resolve: (line) => { clearTimeout(timer); resolve(line); } });
      });
    },
  };
}

/** The address of the process's /metrics, /healthz and /readyz, from its start-up log line. */
export async function opsAddress(p: AviaryProcess): Promise<string> {
  const line = await p.waitForLog(/serving \/metrics/);
  const address = (JSON.parse(line) as { address?: string }).address;
  if (!address) throw new Error(`no address in: ${line}`);
  return `http://${address}`;
}

/** One sample of a Prometheus text exposition, e.g. `aviary_canary_phase{namespace="x",name="y",phase="Succeeded"}`. */
export async function scrape(p: AviaryProcess): Promise<Map<string, number>> {
  const text = await (await fetch(`${await opsAddress(p)}/metrics`)).text();
  const samples = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const i = line.lastIndexOf(" ");
    samples.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return samples;
}
