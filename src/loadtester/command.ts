/**
 * From a webhook's metadata to a LoadPlan. Flagger's load tester treats a missing `type` as
 * `cmd` and runs `cmd` through `sh -c`; here `cmd` must be one hey or ghz command, which the
 * load tester carries out itself. Every other task type Flagger's tester knows runs an
 * arbitrary program, so each is refused by name.
 */
import { parseGhz } from "./ghz.ts";
import { parseHey } from "./hey.ts";
import type { LoadPlan } from "./plan.ts";
import { CommandRefusedError, tokenize } from "./tokenize.ts";

/** Task types Flagger's load tester has, which run programs or talk to other systems. */
const OTHER_TOOLS: Record<string, string> = {
  bash: "runs a bash script",
  helm: "runs Helm",
  helmv3: "runs Helm",
  concord: "starts a Concord process",
  ngrinder: "delegates to nGrinder",
  kubectl: "runs kubectl",
};

export const PROGRAMS = ["hey", "ghz"] as const;

/** Parses `cmd` (a hey or ghz command line) into a plan; throws CommandRefusedError naming what is wrong. */
export function parseCommand(cmd: string): LoadPlan {
  const words = tokenize(cmd);
  const [program, ...args] = words;
  if (program === undefined || program === "") throw new CommandRefusedError("cmd", "cmd does not start with a program: give a hey or ghz command");
  if (program === "hey") return parseHey(args);
  if (program === "ghz") return parseGhz(args);
  throw new CommandRefusedError(program, `cmd: "${program}" is not a command the load tester runs; it runs hey (HTTP) and ghz (gRPC health checks) itself, and no other program`);
}

export interface WebhookTask {
  plan: LoadPlan;
  cmd: string;
  /** Wait for the run and answer with its report (aviary's `blocking: "true"`), instead of starting it in the background. */
  blocking: boolean;
  logOutput: boolean;
}

/** The task a webhook's metadata asks for; throws CommandRefusedError naming the field. */
export function taskFromMetadata(metadata: Record<string, string>): WebhookTask {
  const type = metadata.type ?? "cmd";
  if (type !== "cmd") {
    const what = OTHER_TOOLS[type];
    throw new CommandRefusedError(
      "type",
      what !== undefined
        ? `metadata.type "${type}" is not supported: it ${what}, and the load tester runs no program; use type "cmd" with a hey or ghz command`
        : `metadata.type "${type}" is unknown; the load tester accepts type "cmd" (the default) with a hey or ghz command`,
    );
  }
  const cmd = metadata.cmd;
  if (cmd === undefined || cmd.trim() === "") throw new CommandRefusedError("cmd", "metadata.cmd is missing: give a hey or ghz command");
  return {
    plan: parseCommand(cmd),
    cmd,
    blocking: booleanField(metadata, "blocking"),
    logOutput: booleanField(metadata, "logCmdOutput"),
  };
}

function booleanField(metadata: Record<string, string>, field: string): boolean {
  const raw = metadata[field];
  if (raw === undefined) return false;
  // Flagger reads these with Go's strconv.ParseBool; the same spellings work here.
  if (["1", "t", "T", "true", "TRUE", "True"].includes(raw)) return true;
  if (["0", "f", "F", "false", "FALSE", "False"].includes(raw)) return false;
  throw new CommandRefusedError(field, `metadata.${field} must be "true" or "false", got "${raw}"`);
}
