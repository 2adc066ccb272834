import assert from "node:assert/strict";
import { validateAlertProvider, validateCanary, validateMetricTemplate } from "../../../src/api/validate.ts";
import type { ValidationProblem } from "../../../src/api/validate.ts";
import { validExamples } from "./fixtures.ts";
import { seededRandom } from "../../../src/ground/random.ts";

const KEYS = ["spec", "analysis", "service", "metrics", "webhooks", "match", "headers", "provider", "name", "__proto__", "constructor", "0", ""];

function junk(r: () => number, depth = 0): unknown {
  const pick = Math.floor(r() * (depth > 3 ? 8 : 11));
  switch (pick) {
    case 0: return null;
    case 1: return undefined;
    case 2: return r() < 0.5;
    case 3: return [0, -1, 1.5, 1e308, Number.NaN, 100, 101][Math.floor(r() * 7)];
    case 4: return ["", "1m", "istio", "-1s", "(", "{{ x }}", "http://x", "\u0000", "a".repeat(300)][Math.floor(r() * 9)];
    case 5: return 2 ** 53 + 1;
    case 6: return Object.create(null) as object;
    case 7: return Symbol("s").toString();
    case 8: return Array.from({ length: Math.floor(r() * 4) }, () => junk(r, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      const n = Math.floor(r() * 4);
      for (let i = 0; i < n; i++) o[KEYS[Math.floor(r() * KEYS.length)]!] = junk(r, depth + 1);
      return o;
    }
  }
}

/** Every container path in a JSON document. */
function paths(doc: unknown, prefix: Array<string | number> = []): Array<Array<string | number>> {
  if (typeof doc !== "object" || doc === null) return [];
  const out: Array<Array<string | number>> = [];
  for (const [k, v] of Object.entries(doc)) {
    const p = [...prefix, Array.isArray(doc) ? Number(k) : k];
    out.push(p, ...paths(v, p));
  }
  return out;
}

function replaceAt(doc: unknown, path: Array<string | number>, value: unknown): void {
  let node = doc as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  node[path[path.length - 1]!] = value;
}

function assertWellFormed(problems: ValidationProblem[]): void {
  assert.ok(Array.isArray(problems));
  for (const p of problems) {
    assert.equal(typeof p.path, "string");
    assert.equal(typeof p.rule, "string");
    assert.ok(p.rule.length > 0);
    assert.ok(p.severity === "error" || p.severity === "warning");
  }
}

describe("validation survives any input", () => {
  it("random JSON values, for every kind", () => {
    const r = seededRandom(42);
    for (let i = 0; i < 3000; i++) {
      const value = junk(r);
      const wrapped = { apiVersion: "aviary.dev/v1beta1", spec: value };
      for (const v of [value, wrapped]) {
        assertWellFormed(validateCanary(v));
        assertWellFormed(validateMetricTemplate(v));
        assertWellFormed(validateAlertProvider(v));
      }
    }
  });

  it("valid manifests with one node replaced by junk", () => {
    const r = seededRandom(7);
    const makers = Object.values(validExamples);
    let rejected = 0;
    for (let i = 0; i < 3000; i++) {
      const doc = makers[i % makers.length]!();
      const all = paths(doc);
      const target = all[Math.floor(r() * all.length)]!;
      replaceAt(doc, target, junk(r));
      const problems = validateCanary(doc);
      assertWellFormed(problems);
      if (problems.some((p) => p.severity === "error")) rejected++;
    }
    // Most replacements break something; a validator that accepts everything would fail here.
    assert.ok(rejected > 1500, `only ${rejected} of 3000 mutated manifests were rejected`);
  });
});
