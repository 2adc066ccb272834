/**
 * Test-side access to the cluster through the real kubectl, so harness tests depend on nothing
 * of aviary's own code. KUBECONFIG must be set (hack/test.sh sets it for the local cluster).
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";

const exec = promisify(execFile);

export interface KubectlResult {
  stdout: string;
  stderr: string;
  code: number;
}

export function requireKubeconfig(): string {
  const path = process.env.KUBECONFIG;
  if (!path) throw new Error("KUBECONFIG is not set: run these tests through `npm test` or set KUBECONFIG");
  return path;
}

/** Runs kubectl; never throws on a non-zero exit (the result carries it). */
export async function kubectl(args: string[], input?: string): Promise<KubectlResult> {
  requireKubeconfig();
  const child = exec("kubectl", args, { maxBuffer: 64 * 1024 * 1024, timeout: 60_000 });
  if (input !== undefined) {
    child.child.stdin?.end(input);
  }
  try {
    const { stdout, stderr } = await child;
    return { stdout, stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; code?: number };
    return { stdout: e.stdout ?? "", stderr: e.stderr ?? String(err), code: typeof e.code === "number" ? e.code : 1 };
  }
}

/** Runs kubectl and fails with its stderr when it exits non-zero. */
export async function kubectlOk(args: string[], input?: string): Promise<string> {
  const r = await kubectl(args, input);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(" ")} failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}

export async function kubectlJson<T = Record<string, unknown>>(args: string[]): Promise<T> {
  return JSON.parse(await kubectlOk([...args, "-o", "json"])) as T;
}

export async function applyManifest(namespace: string, manifest: unknown): Promise<KubectlResult> {
  return kubectl(["apply", "-n", namespace, "-f", "-"], JSON.stringify(manifest));
}

/** Creates a throw-away namespace; call the returned function in `after` to delete it. */
export async function tempNamespace(prefix = "aviary-it"): Promise<{ name: string; remove: () => Promise<void> }> {
  const name = `${prefix}-${randomBytes(3).toString("hex")}`;
  await kubectlOk(["create", "namespace", name]);
  return {
    name,
    remove: async () => {
      await kubectl(["delete", "namespace", name, "--wait=false", "--ignore-not-found"]);
    },
  };
}

/** Polls `probe` until it returns a value that is not undefined, or fails after `timeoutMs`. */
/**
 * "Nothing happens": polls `violation` every `everyMs` for `windowMs` (size it in analysis
 * intervals) and fails at the first poll that reports one (a non-undefined description of
 * what happened), so the assertion watches for the thing that would happen.
 */
export async function holdsFor(what: string, violation: () => Promise<string | undefined>, windowMs: number, everyMs = 250): Promise<void> {
  const until = Date.now() + windowMs;
  let polls = 0;
  do {
    const seen = await violation();
    polls++;
    if (seen !== undefined) throw new Error(`expected ${what} for ${windowMs}ms, but after ${polls} polls: ${seen}`);
    await new Promise((r) => setTimeout(r, everyMs));
  } while (Date.now() < until);
}

export async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
