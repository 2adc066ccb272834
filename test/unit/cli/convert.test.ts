import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, it } from "mocha";
import { runCli } from "../../../src/cli/app.ts";
import type { CliIO } from "../../../src/cli/command.ts";
import { CliError } from "../../../src/cli/exit.ts";

const example = (setup: string, file: string) => fileURLToPath(new URL(`../../../examples/argo/${setup}/${file}`, import.meta.url));
const LOSSY_TRAILER = "Some behaviour was not carried over (listed above): exit status 5; --allow-lossy accepts the conversion as it is.\n";

/** The CLI with captured output and, optionally, text on standard input; never a cluster. */
function recordingIO(stdin?: string) {
  let out = "";
  let err = "";
  let connected = false;
  const io: CliIO = {
    stdout: { write: (t) => void (out += t), isTTY: false },
    stderr: { write: (t) => void (err += t), isTTY: false },
    interactive: false,
    ask: async () => null,
    now: () => new Date("2026-01-02T12:00:00Z"),
    signal: new AbortController().signal,
    connect: async () => {
      connected = true;
      throw new CliError("no cluster in unit tests", 3);
    },
    ...(stdin !== undefined ? { readStdin: async () => stdin } : {}),
  };
  return { io, out: () => out, err: () => err, connected: () => connected };
}

describe("cli convert", () => {
  it("writes the converted objects on stdout and the report on stderr, exiting 5 when something is not carried over", async () => {
    const r = recordingIO();
    const code = await runCli(["convert", example("gatewayapi-lattice", "argo.yaml")], r.io);
    assert.equal(code, 5);
    assert.equal(r.out(), await readFile(example("gatewayapi-lattice", "aviary.yaml"), "utf8"));
    assert.equal(r.err(), (await readFile(example("gatewayapi-lattice", "report.txt"), "utf8")) + LOSSY_TRAILER);
    assert.equal(r.connected(), false);
  });

  it("exits 0 with --allow-lossy, and when everything is carried over", async () => {
    const lossy = recordingIO();
    assert.equal(await runCli(["convert", "--allow-lossy", example("gatewayapi-lattice", "argo.yaml")], lossy.io), 0);
    assert.doesNotMatch(lossy.err(), /exit status 5/);
    const clean = recordingIO();
    assert.equal(await runCli(["convert", example("nginx", "argo.yaml")], clean.io), 0);
    assert.equal(clean.err(), await readFile(example("nginx", "report.txt"), "utf8"));
  });

  it("reads standard input when no file (or -) is given", async () => {
    const text = await readFile(example("nginx", "argo.yaml"), "utf8");
    for (const argv of [["convert"], ["convert", "-"]]) {
      const r = recordingIO(text);
      assert.equal(await runCli(argv, r.io), 0, argv.join(" "));
      assert.equal(r.out(), await readFile(example("nginx", "aviary.yaml"), "utf8"));
    }
  });

  it("writes one file per object with --output-dir", async () => {
    const dir = await mkdtemp(join(tmpdir(), "aviary-convert-"));
    try {
      const r = recordingIO();
      assert.equal(await runCli(["convert", example("nginx", "argo.yaml"), "--output-dir", join(dir, "out")], r.io), 0);
      assert.equal(r.out(), "");
      assert.deepEqual((await readdir(join(dir, "out"))).sort(), [
        "canary-storefront.yaml",
        "deployment-storefront.yaml",
        "ingress-storefront.yaml",
        "metrictemplate-latency-p99.yaml",
        "metrictemplate-success-rate.yaml",
      ]);
      assert.match(await readFile(join(dir, "out", "canary-storefront.yaml"), "utf8"), /^# converted from Rollout\/storefront\napiVersion: aviary.dev\/v1beta1\nkind: Canary\n/);
      assert.match(r.err(), /^wrote 5 files to /);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("turns manual pauses into webhooks with --gate-url", async () => {
    const rollout = [
      "apiVersion: argoproj.io/v1alpha1",
      "kind: Rollout",
      "metadata: {name: web}",
      "spec:",
      "  template: {spec: {containers: [{name: web, image: web, ports: [{containerPort: 80}]}]}}",
      "  strategy:",
      "    canary:",
      "      trafficRouting: {smi: {}}",
      "      steps: [{setWeight: 20}, {pause: {}}, {setWeight: 50}]",
    ].join("\n");
    const without = recordingIO(rollout);
    assert.equal(await runCli(["convert"], without.io), 5);
    assert.match(without.err(), /^ {2}Rollout\/web spec.strategy.canary.steps\[1\].pause: waits at 20% until a person promotes/m);
    const gated = recordingIO(rollout);
    assert.equal(await runCli(["convert", "--gate-url", "https://gate.example/open"], gated.io), 0);
    assert.match(gated.out(), /type: confirm-traffic-increase\n\s+url: https:\/\/gate.example\/open/);
  });

  it("fails on unreadable input with exit 1 and on bad flags with exit 2", async () => {
    const missing = recordingIO();
    assert.equal(await runCli(["convert", "/nonexistent/rollout.yaml"], missing.io), 1);
    assert.equal(missing.err(), "error: cannot read /nonexistent/rollout.yaml: no such file\n");
    const empty = recordingIO("apiVersion: v1\nkind: Service\nmetadata: {name: x}\n");
    assert.equal(await runCli(["convert"], empty.io), 1);
    assert.match(empty.err(), /^error: no Rollout \(argoproj.io\/v1alpha1\) in the input\n$/);
    const noStdin = recordingIO();
    assert.equal(await runCli(["convert"], noStdin.io), 2);
    const terminal = recordingIO("never read");
    assert.equal(await runCli(["convert"], { ...terminal.io, interactive: true }), 2);
    assert.match(terminal.err(), /^error: name the files to convert, or pipe the manifests in\n/);
    const badGate = recordingIO();
    assert.equal(await runCli(["convert", "x.yaml", "--gate-url", "gate"], badGate.io), 2);
    assert.match(badGate.err(), /^error: --gate-url must be an http or https URL, got "gate"\n/);
    const badName = recordingIO();
    assert.equal(await runCli(["convert", "x.yaml", "--service-name", "Shop_1"], badName.io), 2);
  });

  it("has help with its flags, exit codes and examples", async () => {
    const r = recordingIO();
    assert.equal(await runCli(["convert", "--help"], r.io), 0);
    assert.match(r.out(), /^ {2}aviary convert \[file\.\.\.\] \[flags\]$/m);
    for (const flag of ["--output-dir <dir>", "--allow-lossy", "--gate-url <url>", "--service-name <name>", "--aws-region <region>"]) assert.ok(r.out().includes(flag), flag);
    assert.match(r.out(), /5 something could not be\s+carried over faithfully/);
    assert.match(r.out(), /^Examples:\n {2}aviary convert rollout.yaml/m);
    const general = recordingIO();
    await runCli(["--help"], general.io);
    assert.match(general.out(), /^ {2}convert +Turn Argo Rollouts manifests into/m);
    assert.match(general.out(), /5 convert could not carry everything over/);
  });
});
