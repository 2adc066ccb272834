import assert from "node:assert/strict";
import type { Canary } from "../../../src/api/types.ts";
import { buildHTTPRouteSpec, gatewayDuration, readRoutes, translateMatch } from "../../../src/router/gatewayapi-spec.ts";
import { RouterSpecError } from "../../../src/router/types.ts";

function canary(service: Partial<Canary["spec"]["service"]> = {}, analysis: Canary["spec"]["analysis"] = {}): Canary {
  return {
    apiVersion: "aviary.dev/v1beta1",
    kind: "Canary",
    metadata: { name: "podinfo", namespace: "test", uid: "uid-1" },
    spec: { targetRef: { name: "podinfo" }, service: { port: 9898, ...service }, analysis },
  };
}

const backend = (name: string, weight: number) => ({ group: "", kind: "Service", name, port: 9898, weight });
const rootPath = { type: "PathPrefix", value: "/" };

describe("gatewayapi HTTPRoute spec", () => {
  it("routes every path to weighted primary/canary backends, with every server default written out", () => {
    const spec = buildHTTPRouteSpec(
      canary({ gatewayRefs: [{ name: "public", namespace: "gateways" }], hosts: ["app.example.com"], timeout: "15s" }),
      { primary: 80, canary: 20, mirror: false },
    );
    assert.deepEqual(spec, {
      parentRefs: [{ group: "gateway.networking.k8s.io", kind: "Gateway", name: "public", namespace: "gateways" }],
      hostnames: ["app.example.com"],
      rules: [{ matches: [{ path: rootPath }], backendRefs: [backend("podinfo-primary", 80), backend("podinfo-canary", 20)], timeouts: { request: "15s" } }],
    });
  });

  it("names backends after service.name and omits parentRefs and hostnames when none are given", () => {
    const spec = buildHTTPRouteSpec(canary({ name: "web" }), { primary: 100, canary: 0, mirror: false });
    assert.deepEqual(Object.keys(spec), ["rules"]);
    assert.deepEqual(spec.rules[0]!.backendRefs.map((b) => b.name), ["web-primary", "web-canary"]);
  });

  it("translates Istio-style service.match into HTTPRoute matches", () => {
    const spec = buildHTTPRouteSpec(
      canary({
        match: [
          { uri: { prefix: "/api" }, method: { exact: "get" }, headers: { "x-tenant": { exact: "a" }, "user-agent": { prefix: "curl/1." } } },
          { uri: { exact: "/healthz" }, queryParams: { debug: { regex: "^(1|true)$" } } },
          { uri: { suffix: ".json" } },
        ],
      }),
      { primary: 100, canary: 0, mirror: false },
    );
    assert.deepEqual(spec.rules[0]!.matches, [
      {
        path: { type: "PathPrefix", value: "/api" },
        method: "GET",
        headers: [{ type: "RegularExpression", name: "user-agent", value: "^curl/1\\..*" }, { type: "Exact", name: "x-tenant", value: "a" }],
      },
      { path: { type: "Exact", value: "/healthz" }, queryParams: [{ type: "RegularExpression", name: "debug", value: "^(1|true)$" }] },
      { path: { type: "RegularExpression", value: ".*\\.json$" } },
    ]);
  });

  it("refuses match fields that an HTTPRoute cannot express, naming the field", () => {
    assert.throws(() => translateMatch({ authority: { exact: "x" } }, "spec.service.match[0]"), (err: unknown) =>
      err instanceof RouterSpecError && err.field === "spec.service.match[0].authority");
    assert.throws(() => translateMatch({ headers: { x: {} } }, "spec.analysis.match[1]"), /spec\.analysis\.match\[1\]\.headers\.x: sets none of/);
    assert.throws(() => translateMatch({ method: { prefix: "G" } }, "m"), /m\.method: must be an exact match/);
  });

  it("A/B: a first rule with the analysis match carries the split, a second sends the rest to the primary", () => {
    const c = canary(
      { timeout: "30s" },
      { iterations: 10, match: [{ headers: { "x-canary": { exact: "insider" } } }, { headers: { cookie: { regex: "^(.*?;)?(canary=always)(;.*)?$" } } }] },
    );
    const spec = buildHTTPRouteSpec(c, { primary: 0, canary: 100, mirror: false });
    assert.deepEqual(spec.rules, [
      {
        matches: [
          { path: rootPath, headers: [{ type: "Exact", name: "x-canary", value: "insider" }] },
          { path: rootPath, headers: [{ type: "RegularExpression", name: "Cookie", value: "^(.*?;)?(canary=always)(;.*)?$" }] },
        ],
        backendRefs: [backend("podinfo-primary", 0), backend("podinfo-canary", 100)],
        timeouts: { request: "30s" },
      },
      { matches: [{ path: rootPath }], backendRefs: [backend("podinfo-primary", 100)], timeouts: { request: "30s" } },
    ]);
    assert.deepEqual(readRoutes(spec, c), { primary: 0, canary: 100, mirror: false });
  });

  it("A/B combines each analysis match with each service match", () => {
    const c = canary(
      { match: [{ uri: { prefix: "/api" }, headers: { "x-tenant": { exact: "a" } } }, { uri: { prefix: "/v2" } }] },
      { iterations: 5, match: [{ headers: { "x-tenant": { exact: "beta" }, "x-canary": { exact: "1" } } }] },
    );
    const spec = buildHTTPRouteSpec(c, { primary: 100, canary: 0, mirror: false });
    assert.deepEqual(spec.rules[0]!.matches, [
      { path: { type: "PathPrefix", value: "/api" }, headers: [{ type: "Exact", name: "x-canary", value: "1" }, { type: "Exact", name: "x-tenant", value: "beta" }] },
      { path: { type: "PathPrefix", value: "/v2" }, headers: [{ type: "Exact", name: "x-canary", value: "1" }, { type: "Exact", name: "x-tenant", value: "beta" }] },
    ]);
    assert.deepEqual(spec.rules[1]!.matches.map((m) => m.path.value), ["/api", "/v2"]);
  });

  it("mirrors to the canary with a RequestMirror filter, at mirrorWeight percent when set", () => {
    const plain = buildHTTPRouteSpec(canary(), { primary: 100, canary: 0, mirror: true });
    assert.deepEqual(plain.rules[0]!.filters, [
      { type: "RequestMirror", requestMirror: { backendRef: { group: "", kind: "Service", name: "podinfo-canary", port: 9898 } } },
    ]);
    const c = canary({}, { mirror: true, mirrorWeight: 25 });
    const weighted = buildHTTPRouteSpec(c, { primary: 100, canary: 0, mirror: true });
    assert.deepEqual(weighted.rules[0]!.filters, [
      { type: "RequestMirror", requestMirror: { backendRef: { group: "", kind: "Service", name: "podinfo-canary", port: 9898 }, percent: 25 } },
    ]);
    assert.deepEqual(readRoutes(weighted, c), { primary: 100, canary: 0, mirror: true });
    assert.equal(buildHTTPRouteSpec(c, { primary: 100, canary: 0, mirror: false }).rules[0]!.filters, undefined, "no mirror unless asked");
  });

  it("turns service.headers into header-modifier filters", () => {
    const spec = buildHTTPRouteSpec(
      canary({ headers: { request: { set: { "x-b": "2", "x-a": "1" }, remove: ["x-debug"] }, response: { add: { "x-served-by": "aviary" } } } }),
      { primary: 100, canary: 0, mirror: false },
    );
    assert.deepEqual(spec.rules[0]!.filters, [
      { type: "RequestHeaderModifier", requestHeaderModifier: { set: [{ name: "x-a", value: "1" }, { name: "x-b", value: "2" }], remove: ["x-debug"] } },
      { type: "ResponseHeaderModifier", responseHeaderModifier: { add: [{ name: "x-served-by", value: "aviary" }] } },
    ]);
  });

  it("rejects weights outside 0..100", () => {
    assert.throws(() => buildHTTPRouteSpec(canary(), { primary: 101, canary: -1, mirror: false }), RangeError);
    assert.throws(() => buildHTTPRouteSpec(canary(), { primary: 50.5, canary: 49.5, mirror: false }), RangeError);
  });

  it("writes timeouts in the Gateway API duration syntax", () => {
    assert.equal(gatewayDuration("15s", "f"), "15s");
    assert.equal(gatewayDuration("90s", "f"), "1m30s");
    assert.equal(gatewayDuration("1h0m5s", "f"), "1h5s");
    assert.equal(gatewayDuration("1.5s", "f"), "1500ms");
    assert.equal(gatewayDuration("250ms", "f"), "250ms");
    assert.equal(gatewayDuration("0", "f"), "0s");
    assert.throws(() => gatewayDuration("100.5s", "spec.service.timeout"), /spec\.service\.timeout: .*whole seconds/);
    assert.throws(() => gatewayDuration("soon", "spec.service.timeout"), RouterSpecError);
    for (const d of ["15s", "1m30s", "1h5s", "1500ms", "0s"]) assert.match(d, /^([0-9]{1,5}(h|m|s|ms)){1,4}$/);
  });

  it("reads the split back as percentages of the relative weights", () => {
    const c = canary();
    const rules = (p: number, q: number) => ({ rules: [{ backendRefs: [{ name: "podinfo-primary", weight: p }, { name: "podinfo-canary", weight: q }] }] });
    assert.deepEqual(readRoutes(rules(3, 1), c), { primary: 75, canary: 25, mirror: false });
    assert.deepEqual(readRoutes(rules(0, 0), c), { primary: 0, canary: 0, mirror: false });
    assert.deepEqual(readRoutes({ rules: [{ backendRefs: [{ name: "podinfo-primary" }] }] }, c), { primary: 100, canary: 0, mirror: false });
    assert.equal(readRoutes({ rules: [{ backendRefs: [{ name: "other", weight: 1 }] }] }, c), undefined);
    assert.equal(readRoutes(undefined, c), undefined);
  });
});
