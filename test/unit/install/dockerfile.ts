/** A small Dockerfile reader for tests: enough to check stages and instructions without a Docker engine. */
import assert from "node:assert/strict";

export interface Instruction {
  op: string;
  args: string;
}

export interface Stage {
  name: string;
  image: string;
  instructions: Instruction[];
}

/** Parses a Dockerfile into stages: comments dropped, continuations joined, ARG defaults substituted in FROM. */
export function parseDockerfile(text: string): Stage[] {
  const lines = text.replace(/\\\r?\n/g, " ").split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#"));
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  for (const line of lines) {
    const m = /^(\S+)\s*(.*)$/.exec(line)!;
    const op = m[1]!.toUpperCase();
    const rest = m[2]!;
    if (op === "ARG" && stages.length === 0) {
      const [name, value] = rest.split("=", 2);
      if (name && value !== undefined) args.set(name, value);
    } else if (op === "FROM") {
      const f = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest);
      assert.ok(f, `FROM ${rest}`);
      const image = f[1]!.replace(/\$\{?(\w+)\}?/g, (_s, name: string) => args.get(name) ?? "");
      stages.push({ name: f[2] ?? String(stages.length), image, instructions: [] });
    } else {
      assert.ok(stages.length > 0, `${op} before the first FROM`);
      stages.at(-1)!.instructions.push({ op, args: rest });
    }
  }
  return stages;
}
