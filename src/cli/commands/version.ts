import { readFileSync } from "node:fs";
import type { Command } from "../command.ts";
import { EXIT_OK } from "../exit.ts";

/** The package's version; the same relative path holds from src/cli/commands and dist/cli/commands. */
export function packageVersion(packageJson: URL = new URL("../../../package.json", import.meta.url)): string {
  try {
    const pkg = JSON.parse(readFileSync(packageJson, "utf8")) as { version?: unknown };
    return typeof pkg.version === "string" ? pkg.version : "unknown";
  } catch {
    // An install that dropped package.json still runs; it just cannot say which version it is.
    return "unknown";
  }
}

export const versionCommand: Command = {
  name: "version",
  summary: "Print the aviary CLI's version",
  args: "",
  minArgs: 0,
  maxArgs: 0,
  description: "Prints the version of this aviary CLI and of the Node.js runtime it runs on.",
  examples: ["aviary version"],
  options: [],
  async run(inv) {
    inv.io.stdout.write(`aviary ${packageVersion()} (node ${process.versions.node})\n`);
    return EXIT_OK;
  },
};
