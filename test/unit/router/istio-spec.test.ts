import assert from "node:assert/strict";
import type { Canary } from "../../../src/api/types.ts";
import {
  buildDestinationRuleSpec,
  buildVirtualServiceSpec,
  mergeMatches,
  readVirtualServiceRoutes,
  translateIstioMatch,
} from "../../../src/router/istio-spec.ts";
import { sessionCookie } from "../../../src/router/session-affinity.ts";
import { RouterSpecError } from "../../../src/router/types.ts";

function canary(service: Partial<Canary["spec"]["service"]> = {}, analysis: Canary["spec"]["analysis"] = {}, status: Canary["status"] = undefined): Canary {
  const c: Canary = {
    apiVersion: "aviary.dev/v1beta1",
    kind: "Canary",
    metadata: { name: "podinfo", namespace: "test", uid: "uid-1" },
    spec: { targetRef: { name: "podinfo" }, service: { port: 9898, ...service }, analysis },
  };
  if (status !== undefined) c.status = status;
  return c;
}

const dest = (host: string, weight: number) => ({ destination: { host }, weight });

describe("istio VirtualService spec", () => {
  it("routes the apex host through the mesh to weighted primary/canary destinations", () => {
    assert.deepEqual(buildVirtualServiceSpec(canary(), { primary: 90, canary: 10, mirror: false }), {
      hosts: ["podinfo"],
      gateways: ["mesh"],
      http: [{ name: "aviary-weighted", route: [dest("podinfo-primary", 90), dest("podinfo-canary", 10)] }],
    });
  });

  it("carries hosts, gateways and every per-route setting of the service", () => {
    const spec = buildVirtualServiceSpec(
      canary({
        name: "web",
        hosts: ["app.example.com"],
        gateways: ["istio-system/public"],
        match: [{ uri: { prefix: "/api" } }],
        rewrite: { uri: "/" },
        retries: { attempts: 3, perTryTimeout: "5s", retryOn: "gateway-error,connect-failure" },
        timeout: "15s",
        headers: { request: { set: { "x-served-by": "aviary" } }, response: { remove: ["x-internal"], add: {} } },
        corsPolicy: { allowOrigins: [{ exact: "https://example.com" }], allowMethods: ["GET"], maxAge: "24h" },
      }),
      { primary: 100, canary: 0, mirror: false },
    );
    assert.deepEqual(spec, {
      hosts: ["app.example.com", "web"],
      gateways: ["istio-system/public"],
      http: [{
        name: "aviary-weighted",
        match: [{ uri: { prefix: "/api" } }],
        rewrite: { uri: "/" },
        retries: { attempts: 3, perTryTimeout: "5s", retryOn: "gateway-error,connect-failure" },
        timeout: "15s",
        headers: { request: { set: { "x-served-by": "aviary" } }, response: { remove: ["x-internal"] } },
        corsPolicy: { allowOrigins: [{ exact: "https://example.com" }], allowMethods: ["GET"], maxAge: "24h" },
        route: [dest("web-primary", 100), dest("web-canary", 0)],
      }],
    });
  });

  it("does not add the apex host when the hosts already hold it or a wildcard", () => {
    assert.deepEqual(buildVirtualServiceSpec(canary({ hosts: ["podinfo", "a.example.com"] }), { primary: 100, canary: 0, mirror: false }).hosts, ["podinfo", "a.example.com"]);
    assert.deepEqual(buildVirtualServiceSpec(canary({ hosts: ["*"] }), { primary: 100, canary: 0, mirror: false }).hosts, ["*"]);
  });

  it("names the destination port only for port discovery behind an ingress gateway", () => {
    const withPort = buildVirtualServiceSpec(canary({ portDiscovery: true, gateways: ["public"] }), { primary: 100, canary: 0, mirror: false });
    assert.deepEqual(withPort.http[0]!.route[0]!.destination, { host: "podinfo-primary", port: { number: 9898 } });
    const mesh = buildVirtualServiceSpec(canary({ portDiscovery: true }), { primary: 100, canary: 0, mirror: false });
    assert.deepEqual(mesh.http[0]!.route[0]!.destination, { host: "podinfo-primary" });
  });

  it("mirrors to the canary with mirrorWeight as the percentage", () => {
    const spec = buildVirtualServiceSpec(canary({}, { mirror: true, mirrorWeight: 25 }), { primary: 100, canary: 0, mirror: true });
    assert.deepEqual(spec.http[0]!.mirror, { host: "podinfo-canary" });
    assert.deepEqual(spec.http[0]!.mirrorPercentage, { value: 25 });
    const all = buildVirtualServiceSpec(canary({}, { mirror: true }), { primary: 100, canary: 0, mirror: true });
    assert.equal(all.http[0]!.mirrorPercentage, undefined, "no mirrorWeight: Istio mirrors every request");
    assert.equal(buildVirtualServiceSpec(canary({}, { mirror: true }), { primary: 100, canary: 0, mirror: false }).http[0]!.mirror, undefined);
    assert.throws(() => buildVirtualServiceSpec(canary({}, { mirrorWeight: 150 }), { primary: 100, canary: 0, mirror: true }), /spec\.analysis\.mirrorWeight/);
  });

  it("A/B: the analysis match (merged with the service match) carries the split, the rest goes to the primary", () => {
    const spec = buildVirtualServiceSpec(
      canary(
        { match: [{ uri: { prefix: "/api" }, headers: { "x-tenant": { exact: "a" } } }], timeout: "5s" },
        { iterations: 10, match: [{ headers: { "X-Canary": { exact: "insider" } } }, { headers: { cookie: { regex: "^(.*?;)?(canary=always)(;.*)?$" } } }] },
      ),
      { primary: 0, canary: 100, mirror: false },
    );
    assert.deepEqual(spec.http, [
      {
        name: "aviary-weighted",
        match: [
          { uri: { prefix: "/api" }, headers: { "x-tenant": { exact: "a" }, "x-canary": { exact: "insider" } } },
          { uri: { prefix: "/api" }, headers: { "x-tenant": { exact: "a" }, cookie: { regex: "^(.*?;)?(canary=always)(;.*)?$" } } },
        ],
        timeout: "5s",
        route: [dest("podinfo-primary", 0), dest("podinfo-canary", 100)],
      },
      { name: "aviary-primary", match: [{ uri: { prefix: "/api" }, headers: { "x-tenant": { exact: "a" } } }], timeout: "5s", route: [dest("podinfo-primary", 100)] },
    ]);
    assert.deepEqual(readVirtualServiceRoutes(spec, canary()), { primary: 0, canary: 100, mirror: false });
  });

  it("session affinity: a cookie on the canary's responses and a sticky route before the weighted one", () => {
    const c = canary({}, { stepWeight: 10, maxWeight: 50, sessionAffinity: { cookieName: "flagger-cookie", maxAge: 3600 } }, { canaryRevision: "abc123" });
    const cookie = sessionCookie(c)!;
    const spec = buildVirtualServiceSpec(c, { primary: 80, canary: 20, mirror: false });
    assert.deepEqual(spec.http, [
      { name: "aviary-sticky", match: [{ headers: { cookie: { regex: cookie.cookieHeaderRegex } } }], route: [dest("podinfo-canary", 100)] },
      {
        name: "aviary-weighted",
        route: [dest("podinfo-primary", 80), { ...dest("podinfo-canary", 20), headers: { response: { add: { "Set-Cookie": `flagger-cookie=${cookie.value}; Max-Age=3600; Path=/` } } } }],
      },
    ]);
    assert.deepEqual(readVirtualServiceRoutes(spec, c), { primary: 80, canary: 20, mirror: false }, "the sticky route is not the split");

    const idle = buildVirtualServiceSpec(c, { primary: 100, canary: 0, mirror: false });
    assert.deepEqual(idle.http[0], {
      name: "aviary-sticky",
      match: [{ headers: { cookie: { regex: cookie.cookieHeaderRegex } } }],
      route: [{ ...dest("podinfo-primary", 100), headers: { response: { add: { "Set-Cookie": `flagger-cookie=${cookie.value}; Max-Age=0; Path=/` } } } }],
    });
    assert.deepEqual(readVirtualServiceRoutes(idle, c), { primary: 100, canary: 0, mirror: false });
  });

  it("refuses Canary fields the Istio CRD would prune, naming the field", () => {
    const isSpecError = (field: string) => (err: unknown) => err instanceof RouterSpecError && err.field === field;
    assert.throws(() => buildVirtualServiceSpec(canary({ retries: { attempts: 3, perTryTimout: "5s" } }), { primary: 100, canary: 0, mirror: false }), isSpecError("spec.service.retries.perTryTimout"));
    assert.throws(() => buildVirtualServiceSpec(canary({ match: [{ path: "/x" }] }), { primary: 100, canary: 0, mirror: false }), isSpecError("spec.service.match[0].path"));
    assert.throws(() => buildVirtualServiceSpec(canary({ corsPolicy: { allowOrigin: ["*"], credentials: true } }), { primary: 100, canary: 0, mirror: false }), isSpecError("spec.service.corsPolicy.credentials"));
    assert.throws(() => buildVirtualServiceSpec(canary({ rewrite: { path: "/" } }), { primary: 100, canary: 0, mirror: false }), isSpecError("spec.service.rewrite.path"));
    assert.throws(() => buildDestinationRuleSpec(canary({ trafficPolicy: { loadbalancer: {} } }), "podinfo-primary"), isSpecError("spec.service.trafficPolicy.loadbalancer"));
  });

  it("rejects a split outside 0..100 as a programming error", () => {
    assert.throws(() => buildVirtualServiceSpec(canary(), { primary: 110, canary: -10, mirror: false }), RangeError);
  });
});

describe("istio match translation", () => {
  it("lowercases header names, turns a suffix into a regex and keeps other fields", () => {
    assert.deepEqual(
      translateIstioMatch({ uri: { suffix: ".json" }, headers: { "X-User": { prefix: "bot" } }, withoutHeaders: { Cookie: { regex: ".*opt-out.*" } }, queryParams: { Debug: { exact: "1" } }, ignoreUriCase: true, port: 8080 }, "m"),
      { uri: { regex: ".*\\.json" }, headers: { "x-user": { prefix: "bot" } }, withoutHeaders: { cookie: { regex: ".*opt-out.*" } }, queryParams: { Debug: { exact: "1" } }, ignoreUriCase: true, port: 8080 },
    );
  });

  it("refuses an empty string match, naming it", () => {
    assert.throws(() => translateIstioMatch({ headers: { x: {} } }, "spec.analysis.match[1]"), /spec\.analysis\.match\[1\]\.headers\.x: sets none of/);
  });

  it("merges every A/B match with every service match, the A/B side winning per header", () => {
    const merged = mergeMatches(
      [{ headers: { "x-a": { exact: "1" }, "x-shared": { exact: "ab" } } }, { sourceLabels: { app: "tester" } }],
      [{ uri: { prefix: "/v1" }, headers: { "x-shared": { exact: "svc" } } }, { uri: { prefix: "/v2" } }],
    );
    assert.deepEqual(merged, [
      { uri: { prefix: "/v1" }, headers: { "x-shared": { exact: "ab" }, "x-a": { exact: "1" } } },
      { uri: { prefix: "/v2" }, headers: { "x-a": { exact: "1" }, "x-shared": { exact: "ab" } } },
      { uri: { prefix: "/v1" }, headers: { "x-shared": { exact: "svc" } }, sourceLabels: { app: "tester" } },
      { uri: { prefix: "/v2" }, sourceLabels: { app: "tester" } },
    ]);
    assert.deepEqual(mergeMatches([{ headers: { a: { exact: "1" } } }], []), [{ headers: { a: { exact: "1" } } }]);
  });
});

describe("istio DestinationRule spec", () => {
  it("has the generated Service as host and the service's trafficPolicy", () => {
    assert.deepEqual(buildDestinationRuleSpec(canary(), "podinfo-canary"), { host: "podinfo-canary" });
    const policy = { tls: { mode: "ISTIO_MUTUAL" }, loadBalancer: { simple: "LEAST_REQUEST" } };
    assert.deepEqual(buildDestinationRuleSpec(canary({ trafficPolicy: policy }), "podinfo-primary"), { host: "podinfo-primary", trafficPolicy: policy });
  });
});

describe("istio routes read back", () => {
  it("reads weights from a route someone else wrote, and a lone destination as 100", () => {
    const c = canary();
    assert.deepEqual(readVirtualServiceRoutes({ http: [{ route: [dest("podinfo-primary", 70), dest("podinfo-canary", 30)], mirror: { host: "podinfo-canary" } }] }, c), { primary: 70, canary: 30, mirror: true });
    assert.deepEqual(readVirtualServiceRoutes({ http: [{ route: [{ destination: { host: "podinfo-primary" } }] }] }, c), { primary: 100, canary: 0, mirror: false });
    assert.equal(readVirtualServiceRoutes({ http: [{ route: [dest("other", 100)] }] }, c), undefined);
    assert.equal(readVirtualServiceRoutes(undefined, c), undefined);
  });
});

describe("istio VirtualService spec: service.delegation", () => {
  it("is a delegate VirtualService: no hosts and no gateways, the same routes", () => {
    assert.deepEqual(buildVirtualServiceSpec(canary({ delegation: true }), { primary: 90, canary: 10, mirror: false }), {
      http: [{ name: "aviary-weighted", route: [dest("podinfo-primary", 90), dest("podinfo-canary", 10)] }],
    });
  });
});
