/**
 * How aviary's image starts node, read from the Dockerfile: the node flags of its ENTRYPOINT
 * and the environment its runtime stage sets (ENV). The scale benchmark and the demo start
 * aviary with the same flags and environment, so what they measure and show is what a
 * cluster runs.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const DOCKERFILE = fileURLToPath(new URL("../Dockerfile", import.meta.url));

export interface ImageRuntime {
  /** The flags between `node` and `dist/main.js` in the ENTRYPOINT. */
  nodeFlags: string[];
  /** What the runtime stage's ENV instructions set. */
  env: Record<string, string>;
}

/** The node flags of the image's ENTRYPOINT (`["node", …flags, "dist/main.js"]`). */
export function imageNodeFlags(dockerfile: string): string[] {
  const line = dockerfile.split("\n").find((l) => l.startsWith("ENTRYPOINT "));
  if (!line) throw new Error("the Dockerfile has no ENTRYPOINT");
  const argv = JSON.parse(line.slice("ENTRYPOINT ".length)) as string[];
  const main = argv.indexOf("dist/main.js");
  if (argv[0] !== "node" || main < 0) throw new Error(`unexpected ENTRYPOINT: ${line}`);
  return argv.slice(1, main);
}

/**
 * The variables the last stage's ENV instructions set, in the `ENV KEY=value KEY2="a value"`
 * form (a trailing backslash continues the instruction on the next line).
 */
export function imageEnv(dockerfile: string): Record<string, string> {
  const lines = dockerfile.replace(/\\\r?\n/g, " ").split("\n").map((l) => l.trim());
  const runtime = lines.slice(Math.max(0, lines.findLastIndex((l) => /^FROM\s/i.test(l))));
  const env: Record<string, string> = {};
  for (const line of runtime) {
    const m = /^ENV\s+(.*)$/i.exec(line);
    if (!m) continue;
    if (!m[1]!.includes("=")) throw new Error(`use the ENV KEY=value form: ${line}`);
    for (const [, key, quoted, bare] of m[1]!.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=(?:"((?:[^"\\]|\\.)*)"|(\S*))/g)) {
      env[key!] = quoted !== undefined ? quoted.replace(/\\(.)/g, "$1") : bare!;
    }
  }
  return env;
}

export function imageRuntime(dockerfile: string = readFileSync(DOCKERFILE, "utf8")): ImageRuntime {
  return { nodeFlags: imageNodeFlags(dockerfile), env: imageEnv(dockerfile) };
}
