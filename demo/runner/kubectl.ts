/**
 * The demo changes the cluster the way its reader would: with kubectl, printing each
 * command before it runs. (Reads go through aviary's own kube client.)
 */
import { execFile } from "node:child_process";

export class KubectlError extends Error {
  readonly retryable = false;
  readonly code: number | string | undefined;
  constructor(args: readonly string[], code: number | string | undefined, stderr: string) {
    super(`kubectl ${args.join(" ")} failed (${code ?? "?"}): ${stderr.trim()}`);
    this.name = "KubectlError";
    this.code = code;
  }
}

/** Runs kubectl (from PATH, with KUBECONFIG from the environment); resolves with its stdout. */
export function kubectl(args: readonly string[], opts: { input?: string; timeoutMs?: number; signal?: AbortSignal } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile("kubectl", [...args], { timeout: opts.timeoutMs ?? 60_000, maxBuffer: 16 * 1024 * 1024, signal: opts.signal }, (err, stdout, stderr) => {
      if (err) reject(new KubectlError(args, (err as NodeJS.ErrnoException).code ?? undefined, stderr || err.message));
      else resolve(stdout);
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** `$ kubectl …` as the reader would type it (quoted only where the shell needs it). */
export function shellLine(args: readonly string[]): string {
  return ["$ kubectl", ...args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", "'\\''")}'`))].join(" ");
}
