import type { Canary } from "../../api/types.ts";
import { stringOption } from "../args.ts";
import { listCanaries, notFound } from "../canaries.ts";
import type { Command } from "../command.ts";
import { EXIT_OK, EXIT_UNAVAILABLE, UsageError } from "../exit.ts";
import { canaryTable } from "../report.ts";

const OUTPUTS = ["wide", "json", "name"] as const;

export const getCommand: Command = {
  name: "get",
  summary: "List canaries with their phase, weight and failed checks",
  args: "[name...]",
  minArgs: 0,
  maxArgs: Number.POSITIVE_INFINITY,
  description: [
    "Prints a table of the Canaries in the namespace (or in all namespaces with -A), or only the",
    "ones named. LASTTRANSITION is the age of the last phase change. When a Canary runs on a step",
    "schedule (analysis.steps), a STEP column shows the step held and its pause left (`2/5 40s left`).",
  ].join("\n"),
  examples: ["aviary get", "aviary get -A -o wide", "aviary get podinfo -o json"],
  options: [
    { name: "all-namespaces", short: "A", kind: "boolean", description: "List the canaries of every namespace" },
    { name: "output", short: "o", kind: "string", placeholder: "<format>", description: `Output format: ${OUTPUTS.join(", ")} (default: a table)` },
  ],
  async run(inv) {
    const { io } = inv;
    const output = stringOption(inv.values, "output");
    if (output !== undefined && !(OUTPUTS as readonly string[]).includes(output)) {
      throw new UsageError(`unknown output format "${output}" for get: use one of ${OUTPUTS.join(", ")}`);
    }
    const all = inv.values["all-namespaces"] === true;
    const session = await inv.connect();
    try {
      const listed = await listCanaries(session, all ? undefined : session.namespace, io.signal);
      const wanted = new Set(inv.positionals);
      const shown = wanted.size === 0 ? listed : listed.filter((c) => wanted.has(c.metadata.name));
      const missing = [...wanted].filter((n) => !listed.some((c) => c.metadata.name === n));
      print(inv.io.stdout.write.bind(inv.io.stdout), shown, output, all, io.now());
      if (shown.length === 0 && missing.length === 0) {
        io.stderr.write(all ? "No canaries found.\n" : `No canaries found in namespace "${session.namespace}".\n`);
      }
      for (const name of missing) io.stderr.write(`error: ${all ? `canary "${name}" not found in any namespace` : notFound(session.namespace, name).message}\n`);
      return missing.length > 0 ? EXIT_UNAVAILABLE : EXIT_OK;
    } finally {
      await session.close();
    }
  },
};

function print(write: (text: string) => void, canaries: Canary[], output: string | undefined, all: boolean, now: Date): void {
  if (output === "json") {
    const items = canaries.map((c) => {
      const { managedFields: _omitted, ...metadata } = c.metadata;
      return { ...c, metadata };
    });
    write(JSON.stringify({ apiVersion: "v1", kind: "List", items }, null, 2) + "\n");
    return;
  }
  if (output === "name") {
    for (const c of canaries) write(`canary.aviary.dev/${c.metadata.name}\n`);
    return;
  }
  if (canaries.length === 0) return;
  write(canaryTable(canaries, now, { namespaces: all, wide: output === "wide" }));
}
