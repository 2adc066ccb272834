/**
 * `aviary convert` as a user runs it: the CLI as its own process on Argo Rollouts manifests,
 * its objects parsed from stdout and its report from stderr. Plus the one post-processing the
 * tests that run converted setups allow themselves: scaling durations down.
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";

const CLI = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));

export interface ConvertedObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [k: string]: unknown };
  spec: Record<string, unknown>;
  [field: string]: unknown;
}

export interface Conversion {
  objects: ConvertedObject[];
  /** What the report on stderr says. */
  report: string;
  exitCode: number;
}

/** Runs `aviary convert <args>`; rejects when it exits with anything but 0 or 5 (lossy). */
export function runConvert(args: string[]): Promise<Conversion> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [CLI, "convert", ...args], { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const exitCode = err === null ? 0 : typeof err.code === "number" ? err.code : -1;
      if (exitCode !== 0 && exitCode !== 5) {
        reject(new Error(`aviary convert ${args.join(" ")} exited ${exitCode}: ${stderr}`));
        return;
      }
      resolve({ objects: parseAllDocuments(stdout).map((d) => d.toJS() as ConvertedObject), report: stderr, exitCode });
    });
  });
}

/** The one object of `kind` (and `name`, when given); throws naming what is missing. */
export function pick(objects: readonly ConvertedObject[], kind: string, name?: string): ConvertedObject {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (found.length !== 1) throw new Error(`the conversion holds ${found.length} ${kind}${name ? ` named ${name}` : ""} objects, expected 1`);
  return found[0]!;
}

/**
 * A Go duration (`30s`, `1m`, `1m30s`) divided by `factor`, rounded to whole seconds (at least
 * 1s); `0s` stays `0s`. What is not a duration is returned unchanged.
 */
export function scaleDuration(text: string, factor: number): string {
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(text);
  if (m === null || text === "") return text;
  const seconds = Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
  if (seconds === 0) return "0s";
  return `${Math.max(1, Math.round(seconds / factor))}s`;
}

/** Every PromQL range (`[1m]`) in a query divided by `factor`. */
export const scaleRanges = (query: string, factor: number): string => query.replace(/\[(\w+)\]/g, (_all, d: string) => `[${scaleDuration(d, factor)}]`);
