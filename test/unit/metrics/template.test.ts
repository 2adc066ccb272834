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

  it("fills the canary's own name, as Flagger's {{ name }}", () => {
    assert.equal(renderTemplate('"{{ name }}.{{ namespace }}"', { ...ctx, name: "podinfo-canary" }), '"podinfo-canary.test"');
    assert.throws(() => renderTemplate("{{ name }}", ctx), (err: unknown) => err instanceof TemplateError && err.key === "name");
  });

  it("trims whitespace around {{- and -}} as Go does", () => {
    assert.equal(renderTemplate("a  \n {{- target -}} \n\t b", ctx), "apodinfob");
    assert.equal(renderTemplate("x {{- namespace }} y", ctx), "xtest y");
    assert.equal(renderTemplate("x {{ namespace -}} y", ctx), "x testy");
    // Without a space the dash is part of the action (a negative number), not a trim marker.
    assert.equal(renderTemplate("x {{-3}} y", ctx), "x -3 y");
  });

  it("drops comments, with and without trim markers", () => {
    assert.equal(renderTemplate('up{ns="{{ namespace }}"}{{/* the canary only */}}', ctx), 'up{ns="test"}');
    assert.equal(renderTemplate("a {{- /* note */ -}} b", ctx), "ab");
  });

  it("runs printf, print and urlquery, also in pipelines", () => {
    assert.equal(renderTemplate('{{ printf "%s-canary.%s" target namespace }}', ctx), "podinfo-canary.test");
    assert.equal(renderTemplate('{{ target | printf "%s-primary" }}', ctx), "podinfo-primary");
    assert.equal(renderTemplate('{{ printf "%q %d%%" variables.region 5 }}', ctx), '"eu-west-1" 5%');
    assert.equal(renderTemplate('{{ print target "/" interval }}', ctx), "podinfo/1m");
    assert.equal(renderTemplate('{{ printf "app=%s ns=%s" target namespace | urlquery }}', ctx), "app%3Dpodinfo+ns%3Dtest");
    assert.equal(renderTemplate("{{ (printf `%s` target) }}", ctx), "podinfo");
  });

  it("reads variables with index as well as with a field", () => {
    assert.equal(renderTemplate('{{ index variables "failure_threshold_time" }}', ctx), "300");
    assert.throws(
      () => renderTemplate('{{ index variables "nope" }}', ctx),
      (err: unknown) => err instanceof TemplateError && err.key === "variables.nope",
    );
  });

  it("leaves a }} outside an action alone (compact JSON)", () => {
    const q = '[{"a":{"b":"{{ target }}"}}]';
    assert.equal(renderTemplate(q, ctx), '[{"a":{"b":"podinfo"}}]');
  });

  it("points a .Field reference at the function Flagger offers instead", () => {
    assert.throws(
      () => renderTemplate("{{ .Namespace }}", ctx),
      (err: unknown) => err instanceof TemplateError && err.key === ".Namespace" && /write \{\{ namespace \}\}/.test(err.message),
    );
  });

  it("names syntax errors and unsupported actions", () => {
    for (const bad of ['{{ namespace "}', "{{ if true }}x{{ end }}", "{{ $x }}", "{{ printf ( }}", "{{/* open", "{{ target | }}"]) {
      assert.throws(() => renderTemplate(bad, ctx), TemplateError, bad);
    }
    assert.throws(() => renderTemplate("{{ if true }}x{{ end }}", ctx), /\{\{ if \}\} actions are not supported/);
  });

  it("rejects arguments to a canary fact, fields on text, and a bare map", () => {
    assert.throws(() => renderTemplate('{{ target "x" }}', ctx), /takes no arguments/);
    assert.throws(() => renderTemplate("{{ target.name }}", ctx), (err: unknown) => err instanceof TemplateError && err.key === "target.name");
    assert.throws(() => renderTemplate("{{ variables }}", ctx), /variables is a map/);
    assert.throws(() => renderTemplate('{{ printf "%s %s" target }}', ctx), /more verbs than arguments/);
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
