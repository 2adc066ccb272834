/**
 * What every `aviary` command is: a name, its help, its flags, and a `run` that gets the
 * process's I/O as values (so tests run commands without a terminal) and returns an exit code.
 */
import type { ClusterClient } from "../kube/client.ts";
import type { OptionSpec, OptionValues } from "./args.ts";
import type { ApiGroup } from "../api/groups.ts";

/** Where output goes. `isTTY` decides the weight bar and the promote confirmation. */
export interface Output {
  write(text: string): void;
  readonly isTTY: boolean;
}

/** A connection to the cluster for one invocation. */
export interface Session {
  client: ClusterClient;
  /** The namespace from -n, else the kubeconfig context's, else "default". */
  namespace: string;
  /** The group aviary serves Canaries in: --api-group, else $AVIARY_API_GROUP, else aviary.dev. */
  api: ApiGroup;
  close(): Promise<void>;
}

export interface SessionOptions {
  namespace?: string | undefined;
  kubeconfig?: string | undefined;
  context?: string | undefined;
  /** --api-group as given (the session falls back to $AVIARY_API_GROUP). */
  apiGroup?: string | undefined;
  requestTimeoutMs: number;
}

export interface CliIO {
  stdout: Output;
  stderr: Output;
  /** Whether a person can answer a question (stdin is a terminal). */
  interactive: boolean;
  /** Asks a question on the terminal; resolves with the answer line, or null at end of input. */
  ask(question: string): Promise<string | null>;
  now(): Date;
  /** Reads all of standard input (commands that take `-` as a file); absent where there is none. */
  readStdin?(): Promise<string>;
  /** Aborted on Ctrl-C: long-running commands stop and return EXIT_INTERRUPTED. */
  signal: AbortSignal;
  /** Connects to the cluster (loaded lazily: --help and usage errors need no Kubernetes client). */
  connect(opts: SessionOptions): Promise<Session>;
}

export interface Invocation {
  io: CliIO;
  positionals: string[];
  values: OptionValues;
  /** Connects with the global flags (-n, --kubeconfig, --context, --request-timeout). */
  connect(): Promise<Session>;
}

export interface Command {
  name: string;
  /** One line for the command list. */
  summary: string;
  /** `status [name]`: the arguments after the command word, for the usage line. */
  args: string;
  minArgs: number;
  maxArgs: number;
  /** Paragraphs shown by `aviary <command> --help`. */
  description: string;
  examples: string[];
  options: OptionSpec[];
  run(inv: Invocation): Promise<number>;
}
