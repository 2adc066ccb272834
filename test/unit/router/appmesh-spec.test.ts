import assert from "node:assert/strict";
import type { Canary } from "../../../src/api/types.ts";
import { grpcRouteMatch, httpRouteMatch, mergeHttpMatch } from "../../../src/router/appmesh-match.ts";
import {
  appMeshDuration, appMeshProtocol, buildCanaryVirtualRouterSpec, buildVirtualNodeSpec, buildVirtualRouterSpec, buildVirtualServiceSpec,
  readRoutes, retryPolicy,
} from "../../../src/router/appmesh-spec.ts";
import { RouterSpecError } from "../../../src/router/types.ts";

function canary(service: Partial<Canary["spec"]["service"]> = {}, analysis: Canary["spec"]["analysis"] = {}): Canary {
  return {
    apiVersion: "aviary.dev/v1beta1",
    kind: "Canary",
    metadata: { name: "podinfo", namespace: "test", uid: "uid-1" },
    spec: { targetRef: { name: "podinfo" }, service: { port: 9898, ...service }, analysis },
  };
}

/** The Canary of the App Mesh walkthrough (Flagger's docs), as aviary reads it. */
const walkthrough = (): Canary => canary(
  { port: 80, targetPort: 80, timeout: "15s", retries: { attempts: 3, perTryTimeout: "5s" }, match: [{ uri: { prefix: "/" } }] },
  { interval: "1m", threshold: 5, maxWeight: 50, stepWeight: 10 },
);

const target = (name: string, weight: number) => ({ virtualNodeRef: { name }, weight });
const specError = (field: string, message?: RegExp) => (err: unknown) =>
  err instanceof RouterSpecError && err.field === field && !err.retryable && (message === undefined || message.test(err.message));

describe("App Mesh specs", () => {
  it("the walkthrough Canary: one HTTP route with weighted targets, retries and timeout", () => {
    assert.deepEqual(buildVirtualRouterSpec(walkthrough(), { primary: 90, canary: 10, mirror: false }), {
      listeners: [{ portMapping: { port: 80, protocol: "http" } }],
      routes: [{
        name: "podinfo",
        httpRoute: {
          match: { prefix: "/" },
          action: { weightedTargets: [target("podinfo-primary", 90), target("podinfo-canary", 10)] },
          retryPolicy: { maxRetries: 3, perRetryTimeout: { unit: "s", value: 5 }, httpRetryEvents: ["server-error", "gateway-error"], tcpRetryEvents: ["connection-error"] },
          timeout: { perRequest: { unit: "s", value: 15 } },
        },
      }],
    });
  });

  it("the walkthrough's VirtualNodes: pod selector, DNS discovery, listener with the raised timeout", () => {
    const spec = buildVirtualNodeSpec(walkthrough(), { podLabels: { app: "podinfo-primary" }, serviceName: "podinfo-primary", clusterDomain: "cluster.local" });
    assert.deepEqual(spec, {
      podSelector: { matchLabels: { app: "podinfo-primary" } },
      listeners: [{ portMapping: { port: 80, protocol: "http" }, timeout: { http: { perRequest: { unit: "s", value: 15 } } } }],
      serviceDiscovery: { dns: { hostname: "podinfo-primary.test.svc.cluster.local" } },
    });
  });

  it("backends: ARNs as virtualServiceARN, names as references in the Canary's namespace", () => {
    const spec = buildVirtualNodeSpec(canary({ backends: ["backend1", "arn:aws:appmesh:eu-west-1:123456789012:mesh/global/virtualService/backend2"] }), {
      podLabels: { app: "podinfo" }, serviceName: "podinfo-canary", clusterDomain: "corp.internal",
    });
    assert.deepEqual(spec.backends, [
      { virtualService: { virtualServiceRef: { name: "backend1" } } },
      { virtualService: { virtualServiceARN: "arn:aws:appmesh:eu-west-1:123456789012:mesh/global/virtualService/backend2" } },
    ]);
    assert.equal(spec.serviceDiscovery.dns.hostname, "podinfo-canary.test.svc.corp.internal");
    assert.equal(spec.listeners[0]!.timeout, undefined, "no service.timeout, no listener timeout");
    assert.throws(() => buildVirtualNodeSpec(canary({ backends: [" "] }), { podLabels: {}, serviceName: "x", clusterDomain: "cluster.local" }), specError("spec.service.backends[0]"));
  });

  it("the VirtualService is provided by the router of the same name", () => {
    assert.deepEqual(buildVirtualServiceSpec("podinfo"), { provider: { virtualRouter: { virtualRouterRef: { name: "podinfo" } } } });
  });

  it("the canary's own router sends everything to the canary node", () => {
    const spec = buildCanaryVirtualRouterSpec(walkthrough());
    assert.equal(spec.routes.length, 1);
    assert.equal(spec.routes[0]!.name, "podinfo-canary");
    assert.deepEqual(spec.routes[0]!.httpRoute!.action.weightedTargets, [target("podinfo-canary", 100)]);
  });

  describe("protocol", () => {
    it("comes from appProtocol, else the port name's prefix, else http", () => {
      assert.equal(appMeshProtocol(canary()), "http");
      assert.equal(appMeshProtocol(canary({ portName: "grpc-api" })), "grpc");
      assert.equal(appMeshProtocol(canary({ portName: "http2" })), "http2");
      assert.equal(appMeshProtocol(canary({ portName: "tcp-db" })), "tcp");
      assert.equal(appMeshProtocol(canary({ portName: "grpc", appProtocol: "http" })), "http");
      assert.equal(appMeshProtocol(canary({ appProtocol: "kubernetes.io/h2c" })), "http2");
      assert.throws(() => appMeshProtocol(canary({ appProtocol: "https" })), specError("spec.service.appProtocol", /"https" has no App Mesh listener protocol/));
    });

    it("selects the route type: http2Route, grpcRoute with metadata matches, tcpRoute", () => {
      const h2 = buildVirtualRouterSpec(canary({ appProtocol: "http2" }), { primary: 100, canary: 0, mirror: false });
      assert.deepEqual(h2.listeners, [{ portMapping: { port: 9898, protocol: "http2" } }]);
      assert.deepEqual(h2.routes[0]!.http2Route!.match, { prefix: "/" });
      assert.equal(h2.routes[0]!.httpRoute, undefined);

      const grpc = buildVirtualRouterSpec(canary({ appProtocol: "grpc", retries: { attempts: 2, perTryTimeout: "1s" } }, { iterations: 5, match: [{ headers: { "x-user": { exact: "beta" } } }] }), { primary: 0, canary: 100, mirror: false });
      assert.deepEqual(grpc.routes.map((r) => [r.name, r.priority, r.grpcRoute?.match]), [
        ["podinfo-ab", 1, { metadata: [{ name: "x-user", match: { exact: "beta" } }] }],
        ["podinfo", 2, {}],
      ]);
      assert.deepEqual(grpc.routes[0]!.grpcRoute!.retryPolicy?.grpcRetryEvents, ["unavailable"]);

      const tcp = buildVirtualRouterSpec(canary({ appProtocol: "tcp" }), { primary: 70, canary: 30, mirror: false });
      assert.deepEqual(tcp.routes, [{ name: "podinfo", tcpRoute: { action: { weightedTargets: [target("podinfo-primary", 70), target("podinfo-canary", 30)] } } }]);
    });

    it("refuses what a TCP route cannot do", () => {
      const split = { primary: 100, canary: 0, mirror: false };
      assert.throws(() => buildVirtualRouterSpec(canary({ appProtocol: "tcp", timeout: "5s" }), split), specError("spec.service.timeout"));
      assert.throws(() => buildVirtualRouterSpec(canary({ appProtocol: "tcp", retries: { attempts: 1 } }), split), specError("spec.service.retries"));
      assert.throws(() => buildVirtualRouterSpec(canary({ appProtocol: "tcp", match: [{ uri: { prefix: "/" } }] }), split), specError("spec.service.match[0]"));
      assert.throws(() => buildVirtualRouterSpec(canary({ appProtocol: "tcp" }, { match: [{ headers: { a: { exact: "b" } } }] }), split), specError("spec.analysis.match"));
    });
  });

  it("durations: whole seconds in s, anything finer in ms", () => {
    assert.deepEqual(appMeshDuration("15s", "f"), { unit: "s", value: 15 });
    assert.deepEqual(appMeshDuration("2m", "f"), { unit: "s", value: 120 });
    assert.deepEqual(appMeshDuration("1.5s", "f"), { unit: "ms", value: 1500 });
    assert.deepEqual(appMeshDuration("250ms", "f"), { unit: "ms", value: 250 });
    assert.throws(() => appMeshDuration("10", "spec.service.timeout"), specError("spec.service.timeout", /unit is required/));
    assert.throws(() => appMeshDuration("1500us", "f"), specError("f", /finer than the millisecond/));
  });

  describe("retry policy", () => {
    it("maps retryOn conditions to App Mesh events, de-duplicated", () => {
      assert.deepEqual(retryPolicy(canary({ retries: { attempts: 2, perTryTimeout: "500ms", retryOn: "5xx, connect-failure,reset,refused-stream,server-error" } }), "http"), {
        maxRetries: 2, perRetryTimeout: { unit: "ms", value: 500 }, httpRetryEvents: ["server-error", "stream-error"], tcpRetryEvents: ["connection-error"],
      });
    });

    it("defaults perTryTimeout to service.timeout, else 15s", () => {
      assert.deepEqual(retryPolicy(canary({ timeout: "30s", retries: { attempts: 1 } }), "http")?.perRetryTimeout, { unit: "s", value: 30 });
      assert.deepEqual(retryPolicy(canary({ retries: { attempts: 1 } }), "http")?.perRetryTimeout, { unit: "s", value: 15 });
      assert.equal(retryPolicy(canary(), "http"), undefined);
    });

    it("rejects what App Mesh cannot retry on", () => {
      assert.throws(() => retryPolicy(canary({ retries: { perTryTimeout: "1s" } }), "http"), specError("spec.service.retries.attempts"));
      assert.throws(() => retryPolicy(canary({ retries: { attempts: 1, retryOn: "5xx,bogus" } }), "http"), specError("spec.service.retries.retryOn", /"bogus" has no App Mesh retry event/));
      assert.throws(() => retryPolicy(canary({ retries: { attempts: 1, retryOn: "unavailable" } }), "http"), specError("spec.service.retries.retryOn", /gRPC retry event/));
      assert.throws(() => retryPolicy(canary({ retries: { attempts: 1, retryOn: " , " } }), "http"), specError("spec.service.retries.retryOn", /names no retry condition/));
      assert.throws(() => retryPolicy(canary({ retries: { attempts: 1, perTryTimeout: "soon" } }), "http"), specError("spec.service.retries.perTryTimeout"));
    });
  });

  describe("matches", () => {
    it("translates uri, headers, withoutHeaders, method, scheme and exact query parameters", () => {
      assert.deepEqual(httpRouteMatch({
        uri: { exact: "/api/v1" }, method: { exact: "post" }, scheme: { exact: "HTTPS" },
        headers: { "x-b": { regex: "^b+$" }, "x-a": { prefix: "a" } }, withoutHeaders: { "x-a": { suffix: "z" } }, queryParams: { debug: { exact: "1" } },
      }, "m"), {
        path: { exact: "/api/v1" }, method: "POST", scheme: "https",
        headers: [{ name: "x-a", match: { prefix: "a" } }, { name: "x-a", match: { suffix: "z" }, invert: true }, { name: "x-b", match: { regex: "^b+$" } }],
        queryParameters: [{ name: "debug", match: { exact: "1" } }],
      });
      assert.deepEqual(httpRouteMatch({ uri: { suffix: ".json" } }, "m"), { path: { regex: ".*\\.json$" } });
      assert.deepEqual(httpRouteMatch({ uri: { regex: "^/v[0-9]+/" } }, "m"), { path: { regex: "^/v[0-9]+/" } });
      assert.deepEqual(httpRouteMatch({}, "m"), { prefix: "/" });
    });

    it("names the field App Mesh has no equivalent for", () => {
      assert.throws(() => httpRouteMatch({ authority: { exact: "a" } }, "spec.service.match[0]"), specError("spec.service.match[0].authority"));
      assert.throws(() => httpRouteMatch({ ignoreUriCase: true }, "m"), specError("m.ignoreUriCase"));
      assert.throws(() => httpRouteMatch({ queryParams: { q: { prefix: "a" } } }, "m"), specError("m.queryParams.q"));
      assert.throws(() => httpRouteMatch({ method: { prefix: "G" } }, "m"), specError("m.method"));
      assert.throws(() => httpRouteMatch({ scheme: { exact: "ftp" } }, "m"), specError("m.scheme"));
      assert.throws(() => httpRouteMatch({ headers: { "x-a": {} } }, "m"), specError("m.headers.x-a"));
      assert.throws(() => httpRouteMatch({ headers: { "x-a": { exact: "" } } }, "m"), specError("m.headers.x-a.exact"));
      assert.throws(() => httpRouteMatch({ headers: { ["x".repeat(51)]: { exact: "1" } } }, "m"), specError(`m.headers.${"x".repeat(51)}`));
      assert.throws(() => grpcRouteMatch({ uri: { prefix: "/pkg.Svc/" } }, "m"), specError("m.uri"));
      assert.throws(() => grpcRouteMatch({ method: { exact: "GET" } }, "m"), specError("m.method"));
      assert.deepEqual(grpcRouteMatch({ uri: { prefix: "/" } }, "m"), {});
    });

    it("combines an A/B match with a service match, the A/B side winning case-insensitively", () => {
      assert.deepEqual(
        mergeHttpMatch({ uri: { prefix: "/api" }, headers: { "X-Env": { exact: "prod" }, "x-region": { exact: "eu" } } }, { headers: { "x-env": { exact: "beta" } } }),
        { uri: { prefix: "/api" }, headers: { "x-region": { exact: "eu" }, "x-env": { exact: "beta" } } },
      );
    });
  });

  describe("A/B", () => {
    const ab = (service: Partial<Canary["spec"]["service"]> = {}) => canary(service, {
      iterations: 10,
      match: [{ headers: { "x-canary": { exact: "insider" } } }, { headers: { cookie: { regex: "^(.*?;)?(canary=always)(;.*)?$" } } }],
    });

    it("puts the split on header-match routes and the rest on the primary, in priority order", () => {
      const spec = buildVirtualRouterSpec(ab({ match: [{ uri: { prefix: "/api" } }] }), { primary: 0, canary: 100, mirror: false });
      assert.deepEqual(spec.routes.map((r) => [r.name, r.priority, r.httpRoute!.match, r.httpRoute!.action.weightedTargets.map((t) => t.weight)]), [
        ["podinfo-ab", 1, { prefix: "/api", headers: [{ name: "x-canary", match: { exact: "insider" } }] }, [0, 100]],
        ["podinfo-ab-2", 2, { prefix: "/api", headers: [{ name: "cookie", match: { regex: "^(.*?;)?(canary=always)(;.*)?$" } }] }, [0, 100]],
        ["podinfo", 3, { prefix: "/api" }, [100, 0]],
      ]);
      assert.deepEqual(readRoutes(spec, ab()), { primary: 0, canary: 100, mirror: false });
    });

    it("reports a bad service match under its own field", () => {
      assert.throws(() => buildVirtualRouterSpec(ab({ match: [{ authority: { exact: "x" } }] }), { primary: 100, canary: 0, mirror: false }), specError("spec.service.match[0].authority"));
      assert.throws(() => buildVirtualRouterSpec(canary({}, { match: [{ port: 8080 }] }), { primary: 100, canary: 0, mirror: false }), specError("spec.analysis.match[0].port"));
    });
  });

  it("several service matches become several prioritized routes with the same split", () => {
    const spec = buildVirtualRouterSpec(canary({ match: [{ uri: { prefix: "/api" } }, { uri: { exact: "/healthz" } }] }), { primary: 60, canary: 40, mirror: false });
    assert.deepEqual(spec.routes.map((r) => [r.name, r.priority, r.httpRoute!.match]), [["podinfo", 1, { prefix: "/api" }], ["podinfo-2", 2, { path: { exact: "/healthz" } }]]);
    assert.ok(spec.routes.every((r) => r.httpRoute!.action.weightedTargets.map((t) => t.weight).join() === "60,40"));
  });

  it("accepts only a rewrite that changes nothing (the walkthrough's `rewrite.uri: /` under prefix /)", () => {
    const split = { primary: 100, canary: 0, mirror: false };
    assert.equal(buildVirtualRouterSpec(canary({ match: [{ uri: { prefix: "/" } }], rewrite: { uri: "/" } }), split).routes.length, 1);
    assert.equal(buildVirtualRouterSpec(canary({ rewrite: { uri: "/" } }), split).routes.length, 1);
    assert.throws(() => buildVirtualRouterSpec(canary({ match: [{ uri: { prefix: "/api" } }], rewrite: { uri: "/" } }), split), specError("spec.service.rewrite.uri"));
    assert.throws(() => buildVirtualRouterSpec(canary({ rewrite: { authority: "other" } }), split), specError("spec.service.rewrite.authority"));
  });

  it("cannot mirror, and rejects a split outside 0..100 as a programming error", () => {
    assert.throws(() => buildVirtualRouterSpec(canary(), { primary: 100, canary: 0, mirror: true }), specError("spec.analysis.mirror"));
    assert.throws(() => buildVirtualRouterSpec(canary(), { primary: 101, canary: -1, mirror: false }), RangeError);
  });

  describe("readRoutes", () => {
    it("reads relative weights of the first route that targets aviary's nodes", () => {
      const spec = { routes: [
        { name: "other", httpRoute: { action: { weightedTargets: [target("legacy", 1)] } } },
        { name: "podinfo", http2Route: { action: { weightedTargets: [target("podinfo-primary", 1), target("podinfo-canary", 3)] } } },
      ] };
      assert.deepEqual(readRoutes(spec, canary()), { primary: 25, canary: 75, mirror: false });
      assert.deepEqual(readRoutes({ routes: [{ name: "t", tcpRoute: { action: { weightedTargets: [target("podinfo-canary", 5)] } } }] }, canary()), { primary: 0, canary: 100, mirror: false });
    });

    it("is undefined when no route targets the primary or canary node", () => {
      assert.equal(readRoutes({ routes: [{ name: "x", httpRoute: { action: { weightedTargets: [target("legacy", 100)] } } }] }, canary()), undefined);
      assert.equal(readRoutes(undefined, canary()), undefined);
    });
  });
});
