import assert from "node:assert/strict";
import { isRouterProvider, isSupportedBy, resolveRouterProvider, routersSupporting, strategyOf } from "../../../src/api/features.ts";
import { ROUTER_PROVIDERS } from "../../../src/api/types.ts";

describe("router features", () => {
  it("is one table for every router and feature", () => {
    const table = Object.fromEntries(
      ROUTER_PROVIDERS.map((p) => [p, (["weights", "abMatch", "mirroring", "sessionAffinity"] as const).filter((f) => isSupportedBy(p, f))]),
    );
    assert.deepEqual(table, {
      kubernetes: [],
      gatewayapi: ["weights", "abMatch", "mirroring", "sessionAffinity"],
      "gatewayapi:v1": ["weights", "abMatch", "mirroring", "sessionAffinity"],
      "gatewayapi:v1beta1": ["weights", "abMatch", "mirroring", "sessionAffinity"],
      appmesh: ["weights", "abMatch"],
      "appmesh:v1beta2": ["weights", "abMatch"],
      istio: ["weights", "abMatch", "mirroring", "sessionAffinity"],
      nginx: ["weights", "abMatch"],
      smi: ["weights"],
      linkerd: ["weights"],
      contour: ["weights"],
      traefik: ["weights"],
      skipper: ["weights"],
      alb: ["weights"],
      gloo: ["weights"],
      kuma: ["weights"],
      apisix: ["weights"],
    });
  });

  it("lists the routers that support a feature", () => {
    assert.deepEqual(routersSupporting("mirroring"), ["gatewayapi", "gatewayapi:v1", "gatewayapi:v1beta1", "istio"]);
  });

  it("resolves an empty provider to the default and an unknown one to nothing", () => {
    assert.equal(resolveRouterProvider(undefined), "kubernetes");
    assert.equal(resolveRouterProvider("", "istio"), "istio");
    assert.equal(resolveRouterProvider("appmesh:v1beta2"), "appmesh:v1beta2");
    assert.equal(resolveRouterProvider("ambassador"), undefined);
    assert.equal(resolveRouterProvider(3), undefined);
    assert.equal(isRouterProvider("Istio"), false);
  });
});

describe("strategyOf", () => {
  it("follows Flagger's precedence", () => {
    assert.equal(strategyOf(undefined), "none");
    assert.equal(strategyOf({}), "none");
    assert.equal(strategyOf({ stepWeight: 10 }), "canary");
    assert.equal(strategyOf({ stepWeights: [5, 10] }), "canary");
    assert.equal(strategyOf({ iterations: 5 }), "blue-green");
    assert.equal(strategyOf({ iterations: 5, stepWeight: 10 }), "blue-green");
    assert.equal(strategyOf({ iterations: 5, match: [{ headers: { "x-canary": { exact: "1" } } }] }), "ab-testing");
    assert.equal(strategyOf({ match: [{ headers: { "x-canary": { exact: "1" } } }] }), "none");
  });
});
