import assert from "node:assert/strict";
import type { Canary } from "../../../src/api/types.ts";
import { buildHTTPRouteSpec, readRoutes } from "../../../src/router/gatewayapi-spec.ts";
import { primarySessionCookie, sessionCookie } from "../../../src/router/session-affinity.ts";
import { buildVirtualServiceSpec, readVirtualServiceRoutes } from "../../../src/router/istio-spec.ts";

function canary(analysis: Canary["spec"]["analysis"], status: Canary["status"] = { canaryRevision: "rev-1" }, service: Partial<Canary["spec"]["service"]> = {}): Canary {
  return {
    apiVersion: "aviary.dev/v1beta1",
    kind: "Canary",
    metadata: { name: "podinfo", namespace: "test", uid: "uid-1" },
    spec: { targetRef: { name: "podinfo" }, service: { port: 9898, ...service }, analysis },
    status,
  };
}

const affinity = { stepWeight: 10, maxWeight: 50, sessionAffinity: { cookieName: "canary-session", maxAge: 600 } };

describe("session affinity cookie", () => {
  it("is stable within a run and new for every revision and every Canary", () => {
    const a = sessionCookie(canary(affinity))!;
    assert.deepEqual(sessionCookie(canary(affinity)), a);
    assert.notEqual(sessionCookie(canary(affinity, { canaryRevision: "rev-2" }))!.value, a.value);
    const other = canary(affinity);
    other.metadata.uid = "uid-2";
    assert.notEqual(sessionCookie(other)!.value, a.value);
    assert.match(a.value, /^[0-9a-f]{20}$/);
    assert.equal(a.setCookie, `canary-session=${a.value}; Max-Age=600; Path=/`);
    assert.equal(a.expireCookie, `canary-session=${a.value}; Max-Age=0; Path=/`);
  });

  it("defaults maxAge to a day, as Flagger", () => {
    assert.match(sessionCookie(canary({ sessionAffinity: { cookieName: "c" } }))!.setCookie, /; Max-Age=86400; /);
  });

  it("is off without sessionAffinity, and for A/B runs (the match already pins users)", () => {
    assert.equal(sessionCookie(canary({ stepWeight: 10 })), undefined);
    assert.equal(sessionCookie(canary({ ...affinity, iterations: 5, match: [{ headers: { x: { exact: "1" } } }] })), undefined);
  });

  it("its regex matches the Cookie header carrying the cookie, and nothing else", () => {
    const c = sessionCookie(canary(affinity))!;
    const re = new RegExp(c.cookieHeaderRegex);
    assert.ok(re.test(`canary-session=${c.value}`));
    assert.ok(re.test(`a=1; canary-session=${c.value}; b=2`));
    assert.ok(re.test(`a=1;canary-session=${c.value}`));
    assert.ok(!re.test(`xcanary-session=${c.value}`));
    assert.ok(!re.test(`canary-session=${c.value}0`));
    assert.ok(!re.test("canary-session=other"));
  });
});

describe("gatewayapi session affinity", () => {
  const backend = (name: string, weight: number) => ({ group: "", kind: "Service", name, port: 9898, weight });

  it("sets the cookie on the canary's responses and sends requests carrying it to the canary", () => {
    const c = canary(affinity);
    const cookie = sessionCookie(c)!;
    const spec = buildHTTPRouteSpec(c, { primary: 80, canary: 20, mirror: false });
    assert.deepEqual(spec.rules, [
      {
        matches: [{ path: { type: "PathPrefix", value: "/" }, headers: [{ type: "RegularExpression", name: "Cookie", value: cookie.cookieHeaderRegex }] }],
        backendRefs: [backend("podinfo-canary", 100)],
      },
      {
        matches: [{ path: { type: "PathPrefix", value: "/" } }],
        backendRefs: [
          backend("podinfo-primary", 80),
          { ...backend("podinfo-canary", 20), filters: [{ type: "ResponseHeaderModifier", responseHeaderModifier: { add: [{ name: "Set-Cookie", value: cookie.setCookie }] } }] },
        ],
      },
    ]);
    assert.deepEqual(readRoutes(spec, c), { primary: 80, canary: 20, mirror: false }, "the sticky rule is not the split");
  });

  it("at 0% sends cookie holders to the primary, which expires the cookie", () => {
    const c = canary(affinity, { canaryRevision: "rev-1" }, { match: [{ uri: { prefix: "/api" } }], timeout: "10s" });
    const cookie = sessionCookie(c)!;
    const spec = buildHTTPRouteSpec(c, { primary: 100, canary: 0, mirror: false });
    assert.deepEqual(spec.rules[0], {
      matches: [{ path: { type: "PathPrefix", value: "/api" }, headers: [{ type: "RegularExpression", name: "Cookie", value: cookie.cookieHeaderRegex }] }],
      backendRefs: [{ ...backend("podinfo-primary", 100), filters: [{ type: "ResponseHeaderModifier", responseHeaderModifier: { add: [{ name: "Set-Cookie", value: cookie.expireCookie }] } }] }],
      timeouts: { request: "10s" },
    });
    assert.deepEqual(readRoutes(spec, c), { primary: 100, canary: 0, mirror: false });
  });
});

describe("session affinity: primaryCookieName (the primary's side sticky too)", () => {
  const both = { stepWeight: 10, maxWeight: 50, sessionAffinity: { cookieName: "canary-session", primaryCookieName: "primary-session", maxAge: 600 } };

  it("is a second cookie, distinct in name and value, and only with a canary cookie", () => {
    const p = primarySessionCookie(canary(both))!;
    const c = sessionCookie(canary(both))!;
    assert.equal(p.name, "primary-session");
    assert.notEqual(p.value, c.value);
    assert.equal(p.setCookie, `primary-session=${p.value}; Max-Age=600; Path=/`);
    assert.equal(primarySessionCookie(canary(affinity)), undefined);
  });

  it("gatewayapi: during a run the primary's backend sets it and its carriers go to the primary; at 0% it is expired", () => {
    const c = canary(both);
    const p = primarySessionCookie(c)!;
    const running = buildHTTPRouteSpec(c, { primary: 80, canary: 20, mirror: false });
    const stickyPrimary = running.rules.find((r) => JSON.stringify(r.matches).includes(p.value))!;
    assert.deepEqual(stickyPrimary.backendRefs?.map((b) => [b.name, b.weight]), [["podinfo-primary", 100]]);
    const weighted = running.rules.find((r) => (r.backendRefs ?? []).length === 2)!;
    assert.equal(JSON.stringify(weighted.backendRefs![0]!.filters).includes(p.setCookie), true);
    assert.deepEqual(readRoutes(running, c), { primary: 80, canary: 20, mirror: false });
    const idle = buildHTTPRouteSpec(c, { primary: 100, canary: 0, mirror: false });
    const expiring = idle.rules.find((r) => JSON.stringify(r.matches).includes(p.value))!;
    assert.equal(JSON.stringify(expiring.backendRefs).includes(p.expireCookie), true);
  });

  it("istio: a sticky-primary route after the canary's, and the weighted route's primary destination sets the cookie", () => {
    const c = canary(both);
    const p = primarySessionCookie(c)!;
    const vs = buildVirtualServiceSpec(c, { primary: 80, canary: 20, mirror: false });
    assert.deepEqual(vs.http.map((h) => h.name), ["aviary-sticky", "aviary-sticky-primary", "aviary-weighted"]);
    assert.deepEqual(vs.http[1]!.route.map((r) => [r.destination.host, r.weight]), [["podinfo-primary", 100]]);
    assert.deepEqual(vs.http[2]!.route[0]!.headers, { response: { add: { "Set-Cookie": p.setCookie } } });
    assert.deepEqual(readVirtualServiceRoutes(vs, c), { primary: 80, canary: 20, mirror: false });
    const idle = buildVirtualServiceSpec(c, { primary: 100, canary: 0, mirror: false });
    assert.deepEqual(idle.http[1]!.route[0]!.headers, { response: { add: { "Set-Cookie": p.expireCookie } } });
  });
});
