/**
 * Bad input never crashes the conversion: the example setups with fields replaced by values of
 * the wrong type, removed, or nulled, 300 times (seeded, so a failure replays).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "mocha";
import { parseAllDocuments } from "yaml";
import { convert, InputError } from "../../../src/convert/convert.ts";
import { toYaml } from "../../../src/convert/emit.ts";
import { formatReport } from "../../../src/convert/report.ts";

/** mulberry32: a small seeded generator. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Node = Record<string, unknown> | unknown[];

/** Every object or array inside `root`, with the keys it holds. */
function containers(root: unknown, out: Node[] = []): Node[] {
  if (root !== null && typeof root === "object") {
    out.push(root as Node);
    for (const v of Object.values(root)) containers(v, out);
  }
  return out;
}

const REPLACEMENTS: unknown[] = [null, undefined, 0, -1, 1e9, "", "x", "{{args.nope}}", [], {}, [1, "a"], { a: 1 }, true, "result >=", "5m"];

describe("convert: malformed input", () => {
  it("never throws anything but an input error, and always reports or writes something", function () {
    this.timeout(120_000);
    const sources = ["gatewayapi-lattice", "nginx"].map((s) =>
      parseAllDocuments(readFileSync(new URL(`../../../examples/argo/${s}/argo.yaml`, import.meta.url), "utf8")).map((d) => d.toJS() as unknown),
    );
    const next = random(20261204);
    for (let i = 0; i < 300; i++) {
      const docs = structuredClone(sources[i % 2]!);
      for (let m = 0; m < 1 + Math.floor(next() * 3); m++) {
        const all = containers(docs);
        const target = all[Math.floor(next() * all.length)]!;
        const keys = Object.keys(target);
        if (keys.length === 0) continue;
        const key = keys[Math.floor(next() * keys.length)]!;
        const value = structuredClone(REPLACEMENTS[Math.floor(next() * REPLACEMENTS.length)]);
        if (Array.isArray(target)) target[Number(key)] = value;
        else if (value === undefined) delete target[key];
        else target[key] = value;
      }
      const text = docs.map((d) => JSON.stringify(d ?? null)).join("\n---\n");
      try {
        const c = convert([{ name: `case-${i}`, text }]);
        assert.ok(c.outputs.length > 0 || c.report.entries.length > 0, `case ${i}: neither output nor report`);
        toYaml(c.outputs);
        formatReport(c.report.entries);
      } catch (err) {
        if (!(err instanceof InputError)) throw new Error(`case ${i} threw ${(err as Error).stack}\ninput: ${text}`, { cause: err });
      }
    }
  });
});
