/** Help text, built from the command table so it cannot drift from what is parsed. Pure. */
import type { OptionSpec } from "./args.ts";
import type { Command } from "./command.ts";

export function optionLines(options: readonly OptionSpec[]): string[] {
  const left = options.map((o) => `${o.short ? `-${o.short}, ` : "    "}--${o.name}${o.placeholder ? ` ${o.placeholder}` : ""}`);
  const width = Math.max(0, ...left.map((l) => l.length));
  return options.map((o, i) => `  ${left[i]!.padEnd(width)}   ${o.description}`);
}

export function generalHelp(program: string, commands: readonly Command[], globals: readonly OptionSpec[]): string {
  const width = Math.max(...commands.map((c) => c.name.length), "help".length);
  return [
    "Watch and steer aviary's canary runs: progressive delivery for Kubernetes Deployments and DaemonSets.",
    "",
    "Usage:",
    `  ${program} <command> [name] [flags]`,
    "",
    "Commands:",
    ...commands.map((c) => `  ${c.name.padEnd(width)}   ${c.summary}`),
    `  ${"help".padEnd(width)}   Show help for a command`,
    "",
    "Flags for every command:",
    ...optionLines(globals),
    "",
    "promote, abort, retry, pause and resume write an annotation on the Canary, so Kubernetes",
    "RBAC on canaries.aviary.dev (verb patch) decides who may use them.",
    "",
    "Exit status: 0 done (status: the canary has not failed); 1 the run Failed, or the request",
    "does not apply in the canary's phase; 2 usage error; 3 canary not found or cluster",
    "unreachable/refused; 4 timed out; 5 convert could not carry everything over; 130 interrupted.",
    "",
    `Run '${program} <command> --help' for a command's flags.`,
    "",
  ].join("\n");
}

export function commandHelp(program: string, command: Command, globals: readonly OptionSpec[]): string {
  const usage = [program, command.name, command.args, "[flags]"].filter(Boolean).join(" ");
  const lines = [command.summary, "", "Usage:", `  ${usage}`, "", command.description, ""];
  if (command.options.length > 0) lines.push("Flags:", ...optionLines(command.options), "");
  lines.push("Flags for every command:", ...optionLines(globals), "");
  if (command.examples.length > 0) lines.push("Examples:", ...command.examples.map((e) => `  ${e.replace(/^aviary\b/, program)}`), "");
  return lines.join("\n");
}

/** `kubectl-aviary` (the plugin's file name) is shown as `kubectl aviary`, the way users type it. */
export function programName(argv1: string | undefined): string {
  const base = (argv1 ?? "").split(/[\\/]/).pop() ?? "";
  return base.startsWith("kubectl-aviary") ? "kubectl aviary" : "aviary";
}
