#!/usr/bin/env node
/**
 * The `aviary` CLI's process entry (also `kubectl aviary`, through the kubectl-aviary bin):
 * real stdio, Ctrl-C, the kubeconfig on disk. Runs as built JavaScript or straight from
 * source with Node 24 (`node src/cli/main.ts status podinfo -w`).
 */
import { createInterface } from "node:readline/promises";
import { runCli } from "./app.ts";
import type { CliIO } from "./command.ts";
import { programName } from "./help.ts";

const interrupt = new AbortController();
// The first Ctrl-C ends a watch cleanly (exit 130); a second one gets Node's default, immediate exit.
process.once("SIGINT", () => interrupt.abort(new Error("interrupted")));
process.once("SIGTERM", () => interrupt.abort(new Error("terminated")));
// `aviary get | head`: the reader went away; that is not an error worth a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw err;
  });
}

const io: CliIO = {
  stdout: { write: (text) => void process.stdout.write(text), isTTY: process.stdout.isTTY === true },
  stderr: { write: (text) => void process.stderr.write(text), isTTY: process.stderr.isTTY === true },
  interactive: process.stdin.isTTY === true,
  async ask(question) {
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    const closed = new Promise<null>((resolve) => rl.once("close", () => resolve(null)));
    try {
      return await Promise.race([rl.question(question, { signal: interrupt.signal }), closed]);
    } catch {
      return null;
    } finally {
      rl.close();
    }
  },
  now: () => new Date(),
  async readStdin() {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString("utf8");
  },
  signal: interrupt.signal,
  // Loaded on first use: the Kubernetes client library takes about a second to import.
  connect: async (opts) => (await import("./session.ts")).openSession(opts, process.env),
};

const code = await runCli(process.argv.slice(2), io, { program: programName(process.argv[1]) });
process.exitCode = code;
// Every command closes its connections; should anything still hold the event loop, it must
// not keep a finished command from exiting.
setTimeout(() => process.exit(code), 2_000).unref();
