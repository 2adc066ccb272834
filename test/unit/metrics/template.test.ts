import assert from "node:assert/strict";
import { TemplateError, renderTemplate, templateKeys } from "../../../src/metrics/template.ts";
import type { TemplateContext } from "../../../src/metrics/template.ts";
import { parseDurationMs } from "../../../src/metrics/duration.ts";

const ctx: TemplateContext = {
  namespace: "test",
  target: "podinfo",
  service: "podinfo-svc",
  ingress: "podinfo-ing",
  interval: "1m",
  variables: { region: "eu-west-1", failure_threshold_time: "300" },
};

describe("metrics/template", () => {
  it("fills every documented key", () => {
    const out = renderTemplate(
      "{{ namespace }}/{{ target }}/{{ service }}/{{ ingress }}/{{ interval }}/{{ variables.region }}",
      ctx,
    );
    assert.equal(out, "test/podinfo/podinfo-svc/podinfo-ing/1m/eu-west-1");
  });

  it("tolerates any whitespace inside the braces", () => {
    assert.equal(renderTemplate("{{namespace}}-{{   target\t}}-{{\nvariables.region }}", ctx), "test-podinfo-eu-west-1");
  });

  it("leaves text without placeholders alone, including PromQL braces", () => {
    const q = 'sum(rate(x{a="b"}[5m])) by (le)';
    assert.equal(renderTemplate(q, ctx), q);
  });

  it("names a missing template variable", () => {
    assert.throws(
      () => renderTemplate('x{app="{{ variables.app }}"}', ctx),
      (err: unknown) => err instanceof TemplateError && err.key === "variables.app" && /"app" is not set/.test(err.message),
    );
  });

  it("names an unknown key", () => {
    assert.throws(
      () => renderTemplate("{{ pod }}", ctx),
      (err: unknown) => err instanceof TemplateError && err.key === "pod" && /unknown template key "pod"/.test(err.message),
    );
  });

  it("says why ingress is missing when the canary has no ingressRef", () => {
    assert.throws(
      () => renderTemplate("{{ ingress }}", { ...ctx, ingress: undefined }),
      (err: unknown) => err instanceof TemplateError && err.key === "ingress" && /ingressRef/.test(err.message),
    );
  });

  it("does not resolve inherited properties as variables", () => {
    assert.throws(() => renderTemplate("{{ variables.toString }}", ctx), TemplateError);
  });

  it("rejects an empty placeholder", () => {
    assert.throws(() => renderTemplate("a {{ }} b", ctx), TemplateError);
  });

  it("lists the keys a template uses", () => {
    assert.deepEqual(templateKeys("{{ target }} {{ variables.x }} {{target}}"), ["target", "variables.x"]);
  });
});

describe("metrics/duration", () => {
  it("parses Go-style durations", () => {
    assert.equal(parseDurationMs("30s"), 30_000);
    assert.equal(parseDurationMs("1m30s"), 90_000);
    assert.equal(parseDurationMs("500ms"), 500);
    assert.equal(parseDurationMs("1h"), 3_600_000);
    assert.equal(parseDurationMs("1.5m"), 90_000);
  });

  it("rejects text that is not a duration", () => {
    for (const bad of ["", "1", "m", "1x", "1m 30s", "-1s"]) assert.throws(() => parseDurationMs(bad), /invalid duration/, bad);
  });
});
