import assert from "node:assert/strict";
import { describe, it } from "mocha";
import { findCommand, parseCommandLine } from "../../../src/cli/args.ts";
import type { OptionSpec } from "../../../src/cli/args.ts";
import { UsageError } from "../../../src/cli/exit.ts";

const OPTIONS: OptionSpec[] = [
  { name: "namespace", short: "n", kind: "string", description: "" },
  { name: "watch", short: "w", kind: "boolean", description: "" },
  { name: "timeout", kind: "string", placeholder: "<duration>", description: "" },
];

describe("cli args: findCommand", () => {
  it("skips flags and the values of flags that take one", () => {
    assert.deepEqual(findCommand(["-n", "shop", "--timeout", "5m", "status", "web"], OPTIONS), { name: "status", index: 4 });
  });

  it("does not skip past an inline value or a boolean flag", () => {
    assert.deepEqual(findCommand(["--namespace=shop", "-w", "status"], OPTIONS), { name: "status", index: 2 });
    assert.deepEqual(findCommand(["-nshop", "get"], OPTIONS), { name: "get", index: 1 });
  });

  it("takes the word after -- and reports none when there is no word", () => {
    assert.deepEqual(findCommand(["--", "get"], OPTIONS), { name: "get", index: 1 });
    assert.equal(findCommand(["-w", "-n", "x"], OPTIONS), undefined);
  });
});

describe("cli args: parseCommandLine", () => {
  it("reads every spelling of a value flag", () => {
    for (const argv of [["-n", "shop"], ["-n=shop"], ["-nshop"], ["--namespace", "shop"], ["--namespace=shop"]]) {
      assert.equal(parseCommandLine(argv, OPTIONS).values.namespace, "shop", argv.join(" "));
    }
  });

  it("keeps positionals in order, wherever the flags are", () => {
    const parsed = parseCommandLine(["web", "-w", "--timeout", "1m", "api"], OPTIONS);
    assert.deepEqual(parsed.positionals, ["web", "api"]);
    assert.equal(parsed.values.watch, true);
    assert.equal(parsed.values.timeout, "1m");
  });

  it("treats everything after -- as positionals", () => {
    assert.deepEqual(parseCommandLine(["--", "-w", "x"], OPTIONS).positionals, ["-w", "x"]);
  });

  it("accepts =true/=false on a boolean flag and nothing else", () => {
    assert.equal(parseCommandLine(["--watch=false"], OPTIONS).values.watch, false);
    assert.throws(() => parseCommandLine(["--watch=yes"], OPTIONS), /--watch takes no value/);
  });

  it("names an unknown flag and the command it was given to", () => {
    assert.throws(() => parseCommandLine(["--frob"], OPTIONS, "aviary status"), (err: unknown) => {
      assert.ok(err instanceof UsageError);
      assert.equal(err.message, "unknown flag --frob for aviary status");
      assert.equal(err.exitCode, 2);
      return true;
    });
    assert.throws(() => parseCommandLine(["-x"], OPTIONS), /unknown flag -x/);
  });

  it("refuses a value flag without its value", () => {
    assert.throws(() => parseCommandLine(["--timeout"], OPTIONS), /flag --timeout needs a value <duration>/);
    assert.throws(() => parseCommandLine(["-n", "-w"], OPTIONS), /flag -n needs a value/);
    assert.throws(() => parseCommandLine(["--namespace="], OPTIONS), /needs a non-empty value/);
  });
});
