import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { ConfigError, parseConfig } from "../../../src/config.ts";
import { isRouterProvider } from "../../../src/api/features.ts";
import { errorsOf, formatProblems, validateCanary, warningsOf } from "../../../src/api/validate.ts";
import type { RouterProvider } from "../../../src/api/types.ts";
import { fixtureCanary, flaggerFixtures } from "../../support/flagger-fixtures.ts";

const fixtures = flaggerFixtures();

describe("Flagger's manifests (test/fixtures/flagger)", () => {
  it("index.yaml lists every fixture file exactly once", () => {
    const files = readdirSync(new URL("../../fixtures/flagger/", import.meta.url)).filter((f) => f !== "index.yaml").sort();
    assert.deepEqual(fixtures.map((f) => f.file).sort(), files);
  });

  for (const f of fixtures.filter((x) => x.rejected === undefined)) {
    it(`${f.file}: accepted with --mesh-provider ${f.meshProvider}${f.warnings!.length > 0 ? `, with ${f.warnings!.length} warnings` : ""}`, () => {
      assert.ok(isRouterProvider(f.meshProvider), f.meshProvider);
      const canary = fixtureCanary(f.file);
      assert.equal(canary.apiVersion, "aviary.dev/v1beta1");
      const problems = validateCanary(canary, { defaultProvider: f.meshProvider as RouterProvider });
      assert.deepEqual(errorsOf(problems), [], formatProblems(problems));
      assert.deepEqual(warningsOf(problems).map((p) => `${p.path}: ${p.rule}`), f.warnings);
    });
  }

  for (const f of fixtures.filter((x) => x.rejected !== undefined)) {
    it(`${f.file}: rejected, naming provider ${f.rejected}`, () => {
      const canary = fixtureCanary(f.file);
      if (canary.spec.provider === undefined) {
        // Installed as Flagger is, with the mesh named once for the whole controller.
        assert.throws(() => parseConfig(["--mesh-provider", f.meshProvider], {}, "h", 1), (err: unknown) => err instanceof ConfigError && err.message.includes(`"${f.rejected}"`));
        canary.spec.provider = f.meshProvider;
      }
      const errors = errorsOf(validateCanary(canary, { defaultProvider: "istio" }));
      assert.equal(errors.length, 1, formatProblems(errors));
      assert.equal(errors[0]!.path, "spec.provider");
      assert.match(errors[0]!.rule, new RegExp(`^names provider ${f.rejected}, which aviary does not serve`));
    });
  }

  it("a weighted Flagger canary without spec.provider is rejected under the default kubernetes, naming it (the reason --mesh-provider exists)", () => {
    const errors = errorsOf(validateCanary(fixtureCanary("istio-canary.yaml")));
    assert.deepEqual(errors.map((p) => p.path), ["spec.analysis.stepWeight"]);
    assert.match(errors[0]!.rule, /not supported by provider kubernetes/);
  });
});
