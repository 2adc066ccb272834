import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { ConfigError, HELP, parseConfig } from "../../../src/config.ts";
import { effectiveProvider } from "../../../src/api/providers.ts";
import { ignoredFields, PROVIDER_FIELDS, providerFieldsMarkdown } from "../../../src/api/provider-fields.ts";
import { errorsOf, formatProblems, validateCanary, warningsOf } from "../../../src/api/validate.ts";
import { withDefaults } from "../../../src/api/defaults.ts";
import { ROUTER_PROVIDERS } from "../../../src/api/types.ts";
import type { Canary } from "../../../src/api/types.ts";
import { withProviderStatus } from "../../../src/controller/canary/provider-status.ts";

/** A Flagger-style canary with no spec.provider, as Flagger's tutorials write them. */
function flaggerCanary(extra: { service?: Record<string, unknown>; analysis?: Record<string, unknown>; spec?: Record<string, unknown> } = {}): Canary {
  return {
    apiVersion: "aviary.dev/v1beta1",
    kind: "Canary",
    metadata: { name: "storefront", namespace: "shop" },
    spec: {
      targetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "storefront" },
      service: { port: 8080, gatewayRefs: [{ name: "edge", namespace: "ingress" }], ...extra.service },
      analysis: { interval: "30s", threshold: 3, maxWeight: 40, stepWeight: 10, ...extra.analysis },
      ...extra.spec,
    },
  } as Canary;
}

describe("the provider in effect", () => {
  it("is spec.provider when set, else --mesh-provider, else kubernetes", () => {
    assert.deepEqual(effectiveProvider({ spec: { provider: "istio" } }, "gatewayapi"), { name: "istio", known: true, source: "spec" });
    assert.deepEqual(effectiveProvider({ spec: {} }, "gatewayapi"), { name: "gatewayapi", known: true, source: "mesh-provider" });
    assert.deepEqual(effectiveProvider({ spec: { provider: "" } }, "linkerd"), { name: "linkerd", known: true, source: "mesh-provider" });
    assert.deepEqual(effectiveProvider({ spec: {} }), { name: "kubernetes", known: true, source: "default" });
  });

  it("never falls back from an unknown spec.provider", () => {
    assert.deepEqual(effectiveProvider({ spec: { provider: "osm" } }, "istio"), { name: "osm", known: false, source: "spec" });
  });

  it("decides validation: a weighted canary without spec.provider is valid under a meshed default, rejected naming kubernetes without one", () => {
    assert.deepEqual(errorsOf(validateCanary(flaggerCanary(), { defaultProvider: "gatewayapi" })), []);
    const without = formatProblems(validateCanary(flaggerCanary()));
    assert.match(without, /^spec\.analysis\.stepWeight: is not supported by provider kubernetes/);
  });

  it("decides defaults: withDefaults fills spec.provider with it, and keeps an explicit one", () => {
    assert.equal(withDefaults(flaggerCanary(), { defaultProvider: "istio" }).spec.provider, "istio");
    const explicit = flaggerCanary({ spec: { provider: "nginx" } });
    assert.equal(withDefaults(explicit, { defaultProvider: "istio" }).spec.provider, "nginx");
  });
});

describe("--mesh-provider", () => {
  const parse = (argv: string[], env: Record<string, string> = {}) => parseConfig(argv, env, "host", 1);

  it("comes from the flag, then AVIARY_MESH_PROVIDER, and defaults to kubernetes", () => {
    assert.equal((parse(["--mesh-provider", "istio"], { AVIARY_MESH_PROVIDER: "nginx" }) as { meshProvider: string }).meshProvider, "istio");
    assert.equal((parse([], { AVIARY_MESH_PROVIDER: "nginx" }) as { meshProvider: string }).meshProvider, "nginx");
    assert.equal((parse([]) as { meshProvider: string }).meshProvider, "kubernetes");
  });

  it("refuses an unknown provider at start-up, naming the flag and the choices", () => {
    assert.throws(() => parse(["--mesh-provider", "osm"]), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /^--mesh-provider: must be one of kubernetes, .*istio.*, got "osm"$/);
      return true;
    });
  });

  it("is documented in --help with every provider", () => {
    assert.match(HELP, /--mesh-provider NAME .*\[AVIARY_MESH_PROVIDER\]/);
    for (const p of ROUTER_PROVIDERS) assert.ok(HELP.includes(p), p);
  });
});

describe("fields a provider ignores", () => {
  it("lists each set field the provider does not act on, with list indexes, and none it does", () => {
    const c = flaggerCanary({
      service: { delegation: true, headless: false, rewrite: { uri: "/" }, corsPolicy: { allowOrigin: ["*"] } },
      analysis: { webhooks: [{ name: "a", url: "http://a/" }, { name: "b", url: "https://b/", disableTLS: true }] },
    });
    const paths = (provider: string) => ignoredFields(c, provider).map((f) => f.path);
    assert.deepEqual(paths("gatewayapi"), ["spec.service.corsPolicy", "spec.service.delegation"]);
    assert.deepEqual(paths("istio"), ["spec.service.gatewayRefs"]);
  });

  it("are admission warnings that name field and provider, and never errors", () => {
    const c = flaggerCanary({ service: { delegation: true, backendTimeout: "5s", trafficDistribution: "PreferClose" }, spec: { upstreamRef: { name: "u", namespace: "gloo" } } });
    const problems = validateCanary(c, { defaultProvider: "gatewayapi" });
    assert.deepEqual(errorsOf(problems), []);
    assert.deepEqual(warningsOf(problems).map((p) => `${p.path}: ${p.rule}`), [
      "spec.upstreamRef: is not supported by provider gatewayapi; ignored (honoured by gloo)",
      "spec.service.delegation: is not supported by provider gatewayapi; ignored (honoured by istio)",
    ]);
    const onIstio = warningsOf(validateCanary({ ...c, spec: { ...c.spec, provider: "istio" } })).map((p) => p.path);
    assert.ok(onIstio.includes("spec.service.backendTimeout"), onIstio.join(", "));
  });

  it("name only providers aviary serves, and every path once", () => {
    const seen = new Set<string>();
    for (const f of PROVIDER_FIELDS) {
      assert.ok(!seen.has(f.path), f.path);
      seen.add(f.path);
      for (const p of f.honouredBy) assert.ok((ROUTER_PROVIDERS as readonly string[]).includes(p), `${f.path}: ${p}`);
    }
  });

  it("are in the README's compatibility section, as the table says", () => {
    const readme = readFileSync(new URL("../../../README.md", import.meta.url), "utf8");
    assert.ok(readme.includes(providerFieldsMarkdown()), "README.md: regenerate the Flagger compatibility table from src/api/provider-fields.ts");
  });
});

describe("status.provider and the Unsupported condition", () => {
  const at = "2026-01-01T00:00:00.000Z";
  const later = "2026-01-01T00:05:00.000Z";

  it("names the provider in effect and every ignored field", () => {
    const status = withProviderStatus({ phase: "Initialized" }, flaggerCanary({ service: { delegation: true } }), "gatewayapi", at);
    assert.equal(status.provider, "gatewayapi");
    assert.deepEqual(status.conditions, [{
      type: "Unsupported", status: "True", reason: "FieldsIgnored",
      message: "spec.service.delegation is not supported by provider gatewayapi; ignored (honoured by istio)",
      lastUpdateTime: at, lastTransitionTime: at,
    }]);
  });

  it("adds no condition when every field is honoured, turns False once fixed, and keeps the transition time while unchanged", () => {
    assert.equal(withProviderStatus({}, flaggerCanary(), "gatewayapi", at).conditions, undefined);
    const reported = withProviderStatus({}, flaggerCanary({ service: { delegation: true } }), "gatewayapi", at);
    const again = withProviderStatus(reported, flaggerCanary({ service: { delegation: true } }), "gatewayapi", later);
    assert.deepEqual(again.conditions, reported.conditions);
    const fixed = withProviderStatus(again, flaggerCanary(), "gatewayapi", later);
    assert.equal(fixed.conditions![0]!.status, "False");
    assert.equal(fixed.conditions![0]!.reason, "AllFieldsHonoured");
    assert.equal(fixed.conditions![0]!.lastTransitionTime, later);
  });

  it("keeps the other conditions as they are", () => {
    const promoted = { type: "Promoted", status: "True" as const, reason: "Initialized", message: "m" };
    const status = withProviderStatus({ conditions: [promoted] }, flaggerCanary({ service: { headless: true } }), "istio", at);
    assert.deepEqual(status.conditions!.map((c) => c.type), ["Promoted", "Unsupported"]);
    assert.deepEqual(status.conditions![0], promoted);
  });
});
