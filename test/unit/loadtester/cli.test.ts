import assert from "node:assert/strict";
import { runCli } from "../../../src/cli/app.ts";
import type { CliIO } from "../../../src/cli/command.ts";
import { CliError } from "../../../src/cli/exit.ts";

function io(signal: AbortSignal): { io: CliIO; err: () => string; out: () => string } {
  let out = "";
  let err = "";
  return {
    io: {
      stdout: { write: (t) => void (out += t), isTTY: false },
      stderr: { write: (t) => void (err += t), isTTY: false },
      interactive: false,
      ask: async () => null,
      now: () => new Date(),
      signal,
      connect: async () => {
        throw new CliError("the load tester needs no cluster", 3);
      },
    },
    err: () => err,
    out: () => out,
  };
}

describe("aviary loadtester", () => {
  it("serves until interrupted, logging JSON lines, then exits 0", async () => {
    const stop = new AbortController();
    const r = io(stop.signal);
    const exit = runCli(["loadtester", "--host", "127.0.0.1", "--port", "0", "--max-rate", "50", "--allow-host", "127.0.0.1, example.internal"], r.io);
    const until = Date.now() + 5000;
    while (!r.err().includes("load tester listening")) {
      if (Date.now() > until) assert.fail(`never listened: ${r.err()}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const listening = JSON.parse(r.err().split("\n")[0]!) as { port: number; limits: { maxRatePerSecond: number } };
    assert.equal(listening.limits.maxRatePerSecond, 50);
    assert.equal((await fetch(`http://127.0.0.1:${listening.port}/healthz`)).status, 200);
    const refused = await fetch(`http://127.0.0.1:${listening.port}/`, {
      method: "POST",
      body: JSON.stringify({ name: "a", namespace: "b", metadata: { cmd: "hey -z 1m -c 1 -q 60 http://127.0.0.1/" } }),
    });
    assert.equal(refused.status, 400, "the --max-rate flag is the bound");
    stop.abort();
    assert.equal(await exit, 0);
    await assert.rejects(fetch(`http://127.0.0.1:${listening.port}/healthz`), "closed after the interrupt");
  });

  it("rejects bad flag values naming the flag, with exit status 2", async () => {
    for (const [argv, message] of [
      [["loadtester", "--max-rate", "fast"], /--max-rate must be a whole number/],
      [["loadtester", "--max-duration", "1"], /--max-duration .*unit/],
      [["loadtester", "--port", "70000"], /--port must be a whole number from 0 to 65535/],
      [["loadtester", "--log-level", "loud"], /--log-level must be one of/],
      [["loadtester", "extra"], /loadtester takes no arguments/],
    ] as const) {
      const r = io(new AbortController().signal);
      assert.equal(await runCli(argv, r.io), 2, argv.join(" "));
      assert.match(r.err(), message);
    }
  });

  it("documents the accepted commands, the refusals and the bounds in --help", async () => {
    const r = io(new AbortController().signal);
    assert.equal(await runCli(["loadtester", "--help"], r.io), 0);
    for (const text of ["hey -z 1m -q 10 -c 2", "grpc.health.v1.Health/Check", "bash", "--max-duration", "--max-rate", "--max-concurrency", "--max-runs", "--allow-host", "blocking"]) {
      assert.ok(r.out().includes(text), text);
    }
  });
});
