/**
 * One demo application process (demo/app.ts) standing in for the pods of a Deployment: the
 * simulated mesh runs one per role and replaces it when the Deployment's image changes.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Logger } from "../../src/observability/logger.ts";

const APP = fileURLToPath(new URL("../app.ts", import.meta.url));

export interface AppProcess {
  version: string;
  image: string;
  /** http://127.0.0.1:PORT */
  url: string;
  pid: number;
  /** SIGTERM (requests in flight are answered), SIGKILL after `graceMs`; resolves on exit. */
  stop(graceMs?: number): Promise<void>;
}

export class AppStartError extends Error {
  readonly retryable = true;
  constructor(message: string) {
    super(message);
    this.name = "AppStartError";
  }
}

/** Starts `node demo/app.ts --version <tag of image>` on a free port and waits until it listens. */
export function startAppProcess(image: string, version: string, logger: Logger, timeoutMs = 30_000): Promise<AppProcess> {
  const child = spawn(process.execPath, [APP, "--version", version, "--host", "127.0.0.1", "--port", "0"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let output = "";
  const keep = (chunk: Buffer) => (output = (output + chunk.toString("utf8")).slice(-4000));
  child.stderr.on("data", keep);

  const stop = async (graceMs = 3_000) => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(killer);
    }
  };

  return new Promise<AppProcess>((resolve, reject) => {
    let buffered = "";
    let settled = false;
    const fail = (why: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void stop(0);
      reject(new AppStartError(`demo app ${version}: ${why}${output ? `\n${output.trim()}` : ""}`));
    };
    const timer = setTimeout(() => fail(`did not listen within ${timeoutMs} ms`), timeoutMs);
    const onEarlyExit = (code: number | null, signal: NodeJS.Signals | null) => fail(`exited during start-up (${signal ?? `code ${code}`})`);
    child.once("exit", onEarlyExit);
    child.once("error", (err) => fail(err.message));
    child.stdout.on("data", (chunk: Buffer) => {
      keep(chunk);
      buffered += chunk.toString("utf8");
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) {
        let parsed: { msg?: string; url?: string };
        try {
          parsed = JSON.parse(line) as { msg?: string; url?: string };
        } catch {
          continue;
        }
        if (parsed.msg === "listening" && typeof parsed.url === "string" && !settled) {
          settled = true;
          clearTimeout(timer);
          child.off("exit", onEarlyExit);
          child.once("exit", (code, signal) => logger.debug("demo app exited", { version, pid: child.pid, code, signal }));
          logger.info("demo app started", { version, image, url: parsed.url, pid: child.pid });
          resolve({ version, image, url: parsed.url, pid: child.pid ?? 0, stop });
          return;
        }
      }
    });
  });
}
