import assert from "node:assert/strict";
import type { Canary } from "../../../src/api/types.ts";
import { buildHTTPRouteSpec } from "../../../src/router/gatewayapi-spec.ts";
import { sessionCookie } from "../../../src/router/session-affinity.ts";
import { RouterSpecError } from "../../../src/router/types.ts";
import { desiredRouteObject } from "../../../src/router/route-objects.ts";

function canary(service: Partial<Canary["spec"]["service"]> = {}, analysis: Canary["spec"]["analysis"] = {}): Canary {
  return {
    apiVersion: "aviary.dev/v1beta1",
    kind: "Canary",
    metadata: { name: "checkout", namespace: "shop", uid: "uid-7" },
    spec: { targetRef: { name: "checkout" }, service: { port: 8080, ...service }, analysis },
    status: { canaryRevision: "rev-1" },
  };
}

describe("gatewayapi: Flagger's rewrite, backendTimeout and mirror", () => {
  it("turns service.rewrite into a URLRewrite filter on every rule, replacing the full path by default", () => {
    const spec = buildHTTPRouteSpec(canary({ rewrite: { uri: "/api", authority: "checkout.internal" } }, { match: [{ headers: { "x-beta": { exact: "1" } } }], iterations: 3 }), { primary: 100, canary: 0, mirror: false });
    assert.equal(spec.rules.length, 2);
    for (const rule of spec.rules) {
      assert.deepEqual(rule.filters, [{ type: "URLRewrite", urlRewrite: { hostname: "checkout.internal", path: { type: "ReplaceFullPath", replaceFullPath: "/api" } } }]);
    }
  });

  it("replaces only the matched prefix when rewrite.type says so", () => {
    const spec = buildHTTPRouteSpec(canary({ rewrite: { uri: "/", type: "ReplacePrefixMatch" }, match: [{ uri: { prefix: "/shop" } }] }), { primary: 90, canary: 10, mirror: false });
    assert.deepEqual(spec.rules[0]!.filters, [{ type: "URLRewrite", urlRewrite: { path: { type: "ReplacePrefixMatch", replacePrefixMatch: "/" } } }]);
  });

  it("writes backendTimeout as timeouts.backendRequest next to the request timeout", () => {
    const spec = buildHTTPRouteSpec(canary({ timeout: "30s", backendTimeout: "1500ms" }), { primary: 100, canary: 0, mirror: false });
    assert.deepEqual(spec.rules[0]!.timeouts, { request: "30s", backendRequest: "1500ms" });
    const alone = buildHTTPRouteSpec(canary({ backendTimeout: "2m" }), { primary: 100, canary: 0, mirror: false });
    assert.deepEqual(alone.rules[0]!.timeouts, { backendRequest: "2m" });
  });

  it("adds a RequestMirror filter per service.mirror backend, beside the canary mirror of analysis.mirror", () => {
    const spec = buildHTTPRouteSpec(
      canary({ mirror: [{ backendRef: { name: "shadow", namespace: "audit", port: 9000 } }] }, { mirror: true, stepWeight: 10 }),
      { primary: 100, canary: 0, mirror: true },
    );
    assert.deepEqual(spec.rules[0]!.filters, [
      { type: "RequestMirror", requestMirror: { backendRef: { group: "", kind: "Service", name: "shadow", namespace: "audit", port: 9000 } } },
      { type: "RequestMirror", requestMirror: { backendRef: { group: "", kind: "Service", name: "checkout-canary", port: 8080 } } },
    ]);
  });

  it("refuses a Service mirror backend without a port, naming the field", () => {
    assert.throws(() => buildHTTPRouteSpec(canary({ mirror: [{ backendRef: { name: "shadow" } }] }), { primary: 100, canary: 0, mirror: false }), (err: unknown) => {
      assert.ok(err instanceof RouterSpecError);
      assert.match(err.message, /spec\.service\.mirror\[0\]\.backendRef\.port/);
      return true;
    });
  });
});

describe("session cookie attributes", () => {
  it("puts Flagger's cookie attributes on the cookie that pins users and on the one that expires it", () => {
    const cookie = sessionCookie(canary({}, {
      stepWeight: 10, sessionAffinity: { cookieName: "sticky", maxAge: 600, domain: "shop.example", path: "/cart", httpOnly: true, secure: true, sameSite: "Strict", partitioned: true },
    }))!;
    assert.equal(cookie.setCookie, `sticky=${cookie.value}; Max-Age=600; Path=/cart; Domain=shop.example; HttpOnly; Secure; SameSite=Strict; Partitioned`);
    assert.equal(cookie.expireCookie, `sticky=${cookie.value}; Max-Age=0; Path=/cart; Domain=shop.example; HttpOnly; Secure; SameSite=Strict; Partitioned`);
  });

  it("keeps Path=/ and no other attribute when none is set", () => {
    const cookie = sessionCookie(canary({}, { stepWeight: 10, sessionAffinity: { cookieName: "sticky" } }))!;
    assert.equal(cookie.setCookie, `sticky=${cookie.value}; Max-Age=86400; Path=/`);
  });
});

describe("route objects: service.unmanagedMetadata", () => {
  it("leaves the listed apex labels and annotations out of every route object aviary writes", () => {
    const k = { apiVersion: "networking.istio.io/v1", kind: "VirtualService", plural: "virtualservices", specFields: ["http"] };
    const c = canary({
      apex: { labels: { team: "shop", "sync-to": "eu" }, annotations: { "external-dns.alpha.kubernetes.io/hostname": "shop.example.com", owner: "web" } },
      unmanagedMetadata: { labels: ["sync-to"], annotations: ["external-dns.alpha.kubernetes.io/hostname"] },
    });
    const obj = desiredRouteObject(k, c, "checkout", { http: [] }, null);
    assert.deepEqual(obj.metadata.labels, { team: "shop", "app.kubernetes.io/managed-by": "aviary", "aviary.dev/canary": "checkout" });
    assert.deepEqual(obj.metadata.annotations, { owner: "web" });
  });
});
