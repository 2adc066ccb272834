/**
 * The `aviary` command line: finds the command, parses its flags, runs it, and turns every
 * outcome into an exit code and, for errors, one line on stderr. The process itself (argv,
 * stdio, signals, exit) is main.ts's business; here it arrives as values, so tests run the
 * whole CLI in-process.
 */
import { tryParseDuration } from "../api/duration.ts";
import { findCommand, parseCommandLine, stringOption } from "./args.ts";
import type { OptionSpec } from "./args.ts";
import type { CliIO, Command } from "./command.ts";
import { abortCommand } from "./commands/abort.ts";
import { convertCommand } from "./commands/convert.ts";
import { dashboardCommand } from "./commands/dashboard.ts";
import { getCommand } from "./commands/get.ts";
import { loadtesterCommand } from "./commands/loadtester.ts";
import { pauseCommand } from "./commands/pause.ts";
import { promoteCommand } from "./commands/promote.ts";
import { resumeCommand } from "./commands/resume.ts";
import { retryCommand } from "./commands/retry.ts";
import { statusCommand } from "./commands/status.ts";
import { versionCommand } from "./commands/version.ts";
import { describeFailure, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, UsageError } from "./exit.ts";
import { commandHelp, generalHelp } from "./help.ts";

export const COMMANDS: readonly Command[] = [
  getCommand,
  statusCommand,
  promoteCommand,
  abortCommand,
  retryCommand,
  pauseCommand,
  resumeCommand,
  dashboardCommand,
  loadtesterCommand,
  convertCommand,
  versionCommand,
];

export const DEFAULT_REQUEST_TIMEOUT = "30s";

export const GLOBAL_OPTIONS: readonly OptionSpec[] = [
  { name: "namespace", short: "n", kind: "string", placeholder: "<namespace>", description: 'The namespace (default: the kubeconfig context\'s, else "default")' },
  { name: "kubeconfig", kind: "string", placeholder: "<file>", description: "The kubeconfig (default: $KUBECONFIG, in-cluster, ~/.kube/config)" },
  { name: "context", kind: "string", placeholder: "<name>", description: "The kubeconfig context (default: its current-context)" },
  { name: "api-group", kind: "string", placeholder: "<group>", description: "The group aviary serves Canaries in: aviary.dev or flagger.app (default: $AVIARY_API_GROUP, else aviary.dev)" },
  { name: "request-timeout", kind: "string", placeholder: "<duration>", description: `Give up on an API call after this long (default ${DEFAULT_REQUEST_TIMEOUT})` },
  { name: "help", short: "h", kind: "boolean", description: "Show help" },
];

export interface RunOptions {
  /** How the user invoked us: `aviary` or `kubectl aviary`, for help and hints. */
  program?: string;
  commands?: readonly Command[];
}

export async function runCli(argv: readonly string[], io: CliIO, opts: RunOptions = {}): Promise<number> {
  const program = opts.program ?? "aviary";
  const commands = opts.commands ?? COMMANDS;
  let hint = `Run '${program} --help' for usage.`;
  try {
    const allOptions = [...GLOBAL_OPTIONS, ...commands.flatMap((c) => c.options)];
    const found = findCommand(argv, allOptions);
    if (found === undefined) {
      const { values } = parseCommandLine(argv, allOptions, program);
      if (argv.length > 0 && values.help !== true) throw new UsageError("no command given");
      io.stdout.write(generalHelp(program, commands, GLOBAL_OPTIONS));
      return EXIT_OK;
    }
    const rest = [...argv.slice(0, found.index), ...argv.slice(found.index + 1)];
    if (found.name === "help") return help(rest, io, program, commands);
    const command = commands.find((c) => c.name === found.name);
    if (command === undefined) {
      throw new UsageError(`unknown command "${found.name}"; the commands are ${[...commands.map((c) => c.name), "help"].join(", ")}`);
    }
    hint = `Run '${program} ${command.name} --help' for usage.`;
    const { positionals, values } = parseCommandLine(rest, [...GLOBAL_OPTIONS, ...command.options], `${program} ${command.name}`);
    if (values.help === true) {
      io.stdout.write(commandHelp(program, command, GLOBAL_OPTIONS));
      return EXIT_OK;
    }
    checkArgumentCount(command, positionals);
    const timeoutText = stringOption(values, "request-timeout") ?? DEFAULT_REQUEST_TIMEOUT;
    const timeout = tryParseDuration(timeoutText);
    if (!timeout.ok || timeout.ms <= 0) throw new UsageError(`--request-timeout ${timeout.ok ? "must be longer than 0" : timeout.error}`);
    return await command.run({
      io,
      positionals,
      values,
      connect: () =>
        io.connect({
          namespace: stringOption(values, "namespace"),
          kubeconfig: stringOption(values, "kubeconfig"),
          context: stringOption(values, "context"),
          ...(stringOption(values, "api-group") !== undefined ? { apiGroup: stringOption(values, "api-group") } : {}),
          requestTimeoutMs: timeout.ms,
        }),
    });
  } catch (err) {
    // Ctrl-C in the middle of an API call: the interruption is the story, not the aborted call.
    if (io.signal.aborted) return EXIT_INTERRUPTED;
    const failure = describeFailure(err);
    io.stderr.write(`error: ${failure.message}\n`);
    if (failure.exitCode === EXIT_USAGE) io.stderr.write(`${hint}\n`);
    return failure.exitCode;
  }
}

function help(rest: string[], io: CliIO, program: string, commands: readonly Command[]): number {
  const { positionals } = parseCommandLine(rest, GLOBAL_OPTIONS, `${program} help`);
  const name = positionals[0];
  if (name === undefined || name === "help") {
    io.stdout.write(generalHelp(program, commands, GLOBAL_OPTIONS));
    return EXIT_OK;
  }
  const command = commands.find((c) => c.name === name);
  if (command === undefined) throw new UsageError(`no help for unknown command "${name}"`);
  io.stdout.write(commandHelp(program, command, GLOBAL_OPTIONS));
  return EXIT_OK;
}

function checkArgumentCount(command: Command, positionals: readonly string[]): void {
  if (positionals.length < command.minArgs) {
    throw new UsageError(`${command.name} needs ${command.args}`);
  }
  if (positionals.length > command.maxArgs) {
    const extra = positionals.slice(command.maxArgs).join(" ");
    throw new UsageError(command.maxArgs === 0 ? `${command.name} takes no arguments, got "${extra}"` : `${command.name} takes ${command.args}; unexpected "${extra}"`);
  }
}
