import assert from "node:assert/strict";
import { describe, it } from "mocha";
import { runCli } from "../../../src/cli/app.ts";
import type { CliIO, SessionOptions } from "../../../src/cli/command.ts";
import { CliError } from "../../../src/cli/exit.ts";
import { programName } from "../../../src/cli/help.ts";

interface Recorded {
  io: CliIO;
  out: () => string;
  err: () => string;
  connects: SessionOptions[];
}

/** The CLI with captured output; connecting fails (these tests never reach a cluster). */
function recordingIO(): Recorded {
  let out = "";
  let err = "";
  const connects: SessionOptions[] = [];
  const io: CliIO = {
    stdout: { write: (t) => void (out += t), isTTY: false },
    stderr: { write: (t) => void (err += t), isTTY: false },
    interactive: false,
    ask: async () => null,
    now: () => new Date("2026-01-02T12:00:00Z"),
    signal: new AbortController().signal,
    connect: async (opts) => {
      connects.push(opts);
      throw new CliError("no cluster in unit tests", 3);
    },
  };
  return { io, out: () => out, err: () => err, connects };
}

describe("cli app", () => {
  it("prints the command list for no arguments and for --help", async () => {
    for (const argv of [[], ["--help"], ["-h"], ["help"]]) {
      const r = recordingIO();
      assert.equal(await runCli(argv, r.io), 0, argv.join(" "));
      assert.match(r.out(), /^Commands:$/m);
      for (const name of ["get", "status", "promote", "abort", "retry", "pause", "resume", "version"]) assert.match(r.out(), new RegExp(`^  ${name} +\\S`, "m"));
      assert.match(r.out(), /Exit status: 0 done/);
    }
  });

  it("prints a command's own help with its flags, the global flags and examples", async () => {
    for (const argv of [["status", "--help"], ["--help", "status"], ["help", "status"]]) {
      const r = recordingIO();
      assert.equal(await runCli(argv, r.io), 0, argv.join(" "));
      assert.match(r.out(), /^ {2}aviary status \[name\] \[flags\]$/m);
      assert.match(r.out(), /^ {2}-w, --watch +Follow the run until it settles$/m);
      assert.match(r.out(), /^ {2}-n, --namespace <namespace> +/m);
      assert.match(r.out(), /^Examples:\n {2}aviary status podinfo$/m);
      assert.deepEqual(r.connects, []);
    }
  });

  it("speaks as `kubectl aviary` when run as the kubectl plugin", async () => {
    assert.equal(programName("/usr/local/bin/kubectl-aviary"), "kubectl aviary");
    assert.equal(programName("/work/src/cli/main.ts"), "aviary");
    const r = recordingIO();
    await runCli(["promote", "--help"], r.io, { program: "kubectl aviary" });
    assert.match(r.out(), /^ {2}kubectl aviary promote <name> \[flags\]$/m);
    assert.match(r.out(), /^ {2}kubectl aviary promote podinfo$/m);
  });

  it("exits 2 with a message and a hint for usage errors, without connecting", async () => {
    const cases: [string[], RegExp][] = [
      [["frob"], /^error: unknown command "frob"; the commands are get, status, .*help\nRun 'aviary --help' for usage.\n$/],
      [["status", "--frob"], /^error: unknown flag --frob for aviary status\nRun 'aviary status --help' for usage.\n$/],
      [["promote"], /^error: promote needs <name>\n/],
      [["abort", "a", "b"], /^error: abort takes <name>; unexpected "b"\n/],
      [["status", "a", "b"], /^error: status takes \[name\]; unexpected "b"\n/],
      [["version", "x"], /^error: version takes no arguments, got "x"\n/],
      [["status", "web", "--timeout", "soon"], /^error: --timeout must be a duration such as "30s"/],
      [["status", "web", "--timeout", "0"], /^error: --timeout must be longer than 0/],
      [["get", "--request-timeout", "5"], /^error: --request-timeout must be a duration .*a unit is required/],
      [["get", "-o", "yaml"], /^error: unknown output format "yaml" for get: use one of wide, json, name\n/],
      [["-n", "shop"], /^error: no command given\nRun 'aviary --help' for usage.\n$/],
      [["help", "frob"], /^error: no help for unknown command "frob"/],
    ];
    for (const [argv, stderr] of cases) {
      const r = recordingIO();
      assert.equal(await runCli(argv, r.io), 2, argv.join(" "));
      assert.match(r.err(), stderr, argv.join(" "));
      assert.deepEqual(r.connects, [], argv.join(" "));
    }
  });

  it("hands the global flags, wherever they stand, to the connection", async () => {
    const r = recordingIO();
    const code = await runCli(["-n", "shop", "status", "web", "--kubeconfig=/tmp/kc", "--context", "prod", "--request-timeout", "5s", "--api-group", "flagger.app"], r.io);
    assert.equal(code, 3);
    assert.deepEqual(r.connects, [{ namespace: "shop", kubeconfig: "/tmp/kc", context: "prod", apiGroup: "flagger.app", requestTimeoutMs: 5000 }]);
    assert.equal(r.err(), "error: no cluster in unit tests\n");
  });

  it("connects with the default request timeout and no namespace when none is given", async () => {
    const r = recordingIO();
    await runCli(["get"], r.io);
    assert.deepEqual(r.connects, [{ namespace: undefined, kubeconfig: undefined, context: undefined, requestTimeoutMs: 30_000 }]);
  });

  it("prints its version without a cluster", async () => {
    const r = recordingIO();
    assert.equal(await runCli(["version"], r.io), 0);
    assert.match(r.out(), /^aviary \d+\.\d+\.\d+\S* \(node \d+\.\d+\.\d+\)\n$/);
  });

  it("exits 130 without an error line when interrupted", async () => {
    const r = recordingIO();
    const interrupt = new AbortController();
    interrupt.abort();
    const io: CliIO = { ...r.io, signal: interrupt.signal, connect: async () => { throw new Error("aborted"); } };
    assert.equal(await runCli(["get"], io), 130);
    assert.equal(r.err(), "");
  });
});
