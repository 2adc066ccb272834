import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { apiGroup } from "../../../src/api/groups.ts";
import { validateCanary } from "../../../src/api/validate.ts";

describe("examples/flagger-compat", () => {
  it("its Canary, in flagger.app, is valid for aviary serving that group under istio, with no warning", () => {
    const canary: unknown = parse(readFileSync("examples/flagger-compat/canary.yaml", "utf8"));
    const problems = validateCanary(canary, { defaultProvider: "istio", apiVersion: apiGroup("flagger.app").apiVersion });
    assert.deepEqual(problems.map((p) => `${p.severity} ${p.path}: ${p.rule}`), []);
  });

  it("installs with the same mesh provider the Canary is written for", () => {
    const k = readFileSync("examples/flagger-compat/kustomization.yaml", "utf8");
    assert.match(k, /value: --mesh-provider=istio/);
    assert.match(k, /- \.\.\/\.\.\/manifests\/flagger-compat/);
  });
});
