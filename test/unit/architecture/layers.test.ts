/**
 * The layers of src/, held mechanically: every relative import of every source file is
 * parsed, each folder has a layer, and an import may only point to the same layer or
 * one below. Folders of the middle layer (the adapters) do not import each other either:
 * a router knows nothing of metrics or webhooks; only the controller combines them.
 * ARCHITECTURE.md describes the same table.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), "../../../src");

/** The layer of each top-level entry of src/ (a folder, or a file at the root). */
export const LAYERS: Readonly<Record<string, number>> = {
  ground: 0,
  api: 0,
  kube: 0,
  observability: 0,
  judge: 0,
  metrics: 1,
  router: 1,
  notifier: 1,
  webhook: 1,
  controller: 2,
  cli: 3,
  "config.ts": 3,
  "main.ts": 3,
};

/** Layers whose folders must not import one another. */
const ISOLATED_LAYERS: ReadonlySet<number> = new Set([1]);

export interface Import {
  /** The importing file, relative to src/. */
  from: string;
  /** The imported file, relative to src/. */
  to: string;
}

const IMPORT_PATTERN = /(?:^|\n)\s*(?:import|export)\s[^;]*?\sfrom\s+"([^"]+)"|import\(\s*"([^"]+)"\s*\)/g;

/** The relative imports of one source text (static imports, re-exports, dynamic imports). */
export function importsOf(file: string, text: string): Import[] {
  const out: Import[] = [];
  for (const m of text.matchAll(IMPORT_PATTERN)) {
    const spec = m[1] ?? m[2];
    if (spec === undefined || !spec.startsWith(".")) continue;
    out.push({ from: file, to: relative(SRC, resolve(SRC, dirname(file), spec)) });
  }
  return out;
}

const topOf = (path: string): string => path.split("/")[0]!;

/** Every import that breaks the layering, as a readable line. */
export function violations(imports: readonly Import[]): string[] {
  const out: string[] = [];
  for (const { from, to } of imports) {
    const a = topOf(from);
    const b = topOf(to);
    const la = LAYERS[a];
    const lb = LAYERS[b];
    if (la === undefined) out.push(`${from}: src/${a} has no layer in the table`);
    else if (lb === undefined) out.push(`${from} imports ${to}: src/${b} has no layer in the table`);
    else if (lb > la) out.push(`${from} (layer ${la}) imports ${to} (layer ${lb}): imports must point down`);
    else if (lb === la && a !== b && ISOLATED_LAYERS.has(la)) out.push(`${from} imports ${to}: ${a}/ and ${b}/ are peers and must not import each other`);
  }
  return out;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith(".ts") ? [relative(SRC, path)] : [];
  });
}

describe("source layering", () => {
  const files = sourceFiles(SRC);
  const imports = files.flatMap((f) => importsOf(f, readFileSync(join(SRC, f), "utf8")));

  it("reads the imports of every source file", () => {
    assert.ok(files.length > 100, `found only ${files.length} files under ${SRC}`);
    assert.ok(imports.length > files.length, `found only ${imports.length} imports`);
  });

  it("gives every top-level entry of src/ a layer", () => {
    const unplaced = [...new Set(files.map(topOf))].filter((t) => LAYERS[t] === undefined);
    assert.deepEqual(unplaced, []);
  });

  it("has no import pointing up a layer or across isolated peers", () => {
    assert.deepEqual(violations(imports), []);
  });

  it("only kube/ imports the Kubernetes client library", () => {
    const outside = files.filter((f) => topOf(f) !== "kube" && readFileSync(join(SRC, f), "utf8").includes('from "@kubernetes/client-node"'));
    assert.deepEqual(outside, []);
  });

  describe("the checker itself", () => {
    it("parses static, type-only, re-export and dynamic imports", () => {
      const text = [
        'import { a } from "../ground/identity.ts";',
        'import type { B } from "./types.ts";',
        'export { c } from "../api/types.ts";',
        'const m = await import("./session.ts");',
        'import assert from "node:assert";',
      ].join("\n");
      assert.deepEqual(importsOf("router/istio.ts", text).map((i) => i.to), ["ground/identity.ts", "router/types.ts", "api/types.ts", "router/session.ts"]);
    });

    it("reports an upward import and an import between peers", () => {
      assert.equal(violations([{ from: "router/istio.ts", to: "controller/canary/objects.ts" }]).length, 1);
      assert.equal(violations([{ from: "ground/identity.ts", to: "webhook/admission.ts" }]).length, 1);
      assert.equal(violations([{ from: "webhook/mutate/deployment.ts", to: "router/types.ts" }]).length, 1);
      assert.deepEqual(violations([{ from: "controller/canary/apply.ts", to: "router/types.ts" }]), []);
      assert.deepEqual(violations([{ from: "api/types.ts", to: "kube/types.ts" }]), []);
    });
  });
});
