import assert from "node:assert/strict";
import type { Canary } from "../../../src/api/types.ts";
import {
  buildCanaryIngressSpec,
  canaryAnnotations,
  copiedAnnotations,
  headerCondition,
  ingressRefName,
  readIngressRoutes,
} from "../../../src/router/nginx-spec.ts";
import { RouterSpecError } from "../../../src/router/types.ts";

const P = "nginx.ingress.kubernetes.io";

function canary(analysis: Canary["spec"]["analysis"] = {}, service: Partial<Canary["spec"]["service"]> = {}): Canary {
  return {
    apiVersion: "aviary.dev/v1beta1",
    kind: "Canary",
    metadata: { name: "podinfo", namespace: "test", uid: "uid-1" },
    spec: { provider: "nginx", targetRef: { name: "podinfo" }, ingressRef: { name: "web" }, service: { port: 80, ...service }, analysis },
  };
}

const backend = (name: string) => ({ service: { name, port: { number: 80 } } });
const source = {
  metadata: { namespace: "test", name: "web" },
  spec: {
    ingressClassName: "nginx",
    tls: [{ hosts: ["app.example.com"], secretName: "app-tls" }],
    rules: [
      { host: "app.example.com", http: { paths: [{ path: "/", pathType: "Prefix", backend: backend("podinfo") }, { path: "/static", pathType: "Prefix", backend: backend("assets") }] } },
      { host: "www.example.com", http: { paths: [{ path: "/", pathType: "Prefix", backend: backend("podinfo") }] } },
    ],
  },
};

const isSpecError = (field: string) => (err: unknown) => err instanceof RouterSpecError && err.field === field;

describe("nginx canary Ingress spec", () => {
  it("copies the user's Ingress, sending the apex Service's backends to <svc>-canary", () => {
    const spec = buildCanaryIngressSpec(canary(), source);
    assert.equal(spec.ingressClassName, "nginx");
    assert.deepEqual(spec.tls, source.spec.tls);
    assert.deepEqual(spec.rules!.map((r) => r.http!.paths.map((p) => p.backend.service!.name)), [["podinfo-canary", "assets"], ["podinfo-canary"]]);
    assert.equal(source.spec.rules[0]!.http.paths[0]!.backend.service.name, "podinfo", "the source is not modified");
  });

  it("redirects a default backend too, and honours service.name", () => {
    const spec = buildCanaryIngressSpec(canary({}, { name: "front" }), { metadata: { name: "web" }, spec: { defaultBackend: backend("front") } });
    assert.deepEqual(spec.defaultBackend, backend("front-canary"));
  });

  it("refuses an Ingress with no backend for the apex Service", () => {
    assert.throws(() => buildCanaryIngressSpec(canary({}, { name: "other" }), source), (err: unknown) =>
      isSpecError("spec.ingressRef")(err) && /Ingress test\/web has no backend for Service other/.test((err as Error).message));
  });

  it("needs spec.ingressRef", () => {
    const c = canary();
    delete c.spec.ingressRef;
    assert.throws(() => ingressRefName(c), isSpecError("spec.ingressRef"));
  });

  it("copies only ingress-nginx settings and the legacy class annotation, never canary ones", () => {
    assert.deepEqual(
      copiedAnnotations({
        [`${P}/rewrite-target`]: "/", [`${P}/canary`]: "true", [`${P}/canary-weight`]: "50",
        "kubernetes.io/ingress.class": "nginx", "argocd.argoproj.io/tracking-id": "app:x", "kubectl.kubernetes.io/last-applied-configuration": "{}",
      }, P),
      { [`${P}/rewrite-target`]: "/", "kubernetes.io/ingress.class": "nginx" },
    );
  });
});

describe("nginx canary annotations", () => {
  it("a weighted canary carries its weight", () => {
    assert.deepEqual(canaryAnnotations(canary({ stepWeight: 10 }), { primary: 70, canary: 30, mirror: false }, P), { [`${P}/canary`]: "true", [`${P}/canary-weight`]: "30" });
    assert.deepEqual(canaryAnnotations(canary(), { primary: 100, canary: 0, mirror: false }, "custom.example"), { "custom.example/canary": "true", "custom.example/canary-weight": "0" });
    assert.throws(() => canaryAnnotations(canary(), { primary: -1, canary: 101, mirror: false }, P), RangeError);
  });

  it("an A/B run carries its header and cookie conditions only while the canary takes the matched traffic", () => {
    const c = canary({ iterations: 10, match: [{ headers: { "x-canary": { exact: "insider" } } }, { headers: { cookie: { exact: "canary" } } }] });
    assert.deepEqual(canaryAnnotations(c, { primary: 0, canary: 100, mirror: false }, P), {
      [`${P}/canary`]: "true",
      [`${P}/canary-weight`]: "0",
      [`${P}/canary-by-header`]: "x-canary",
      [`${P}/canary-by-header-value`]: "insider",
      [`${P}/canary-by-cookie`]: "canary",
    });
    assert.deepEqual(canaryAnnotations(c, { primary: 100, canary: 0, mirror: false }, P), { [`${P}/canary`]: "true", [`${P}/canary-weight`]: "0" });
  });

  it("a header regex becomes canary-by-header-pattern", () => {
    assert.deepEqual(headerCondition(canary({ iterations: 5, match: [{ headers: { "user-agent": { regex: ".*Firefox.*" } } }] })), { header: "user-agent", headerPattern: ".*Firefox.*" });
  });

  it("refuses what ingress-nginx cannot express, naming the field", () => {
    const ab = (match: NonNullable<Canary["spec"]["analysis"]>["match"]) => canary({ iterations: 5, match });
    assert.throws(() => headerCondition(ab([{ uri: { prefix: "/api" } }])), isSpecError("spec.analysis.match[0].uri"));
    assert.throws(() => headerCondition(ab([{ headers: { a: { exact: "1" }, b: { exact: "2" } } }])), isSpecError("spec.analysis.match[0].headers"));
    assert.throws(() => headerCondition(ab([{ headers: { a: { exact: "1" } } }, { headers: { b: { exact: "2" } } }])), isSpecError("spec.analysis.match[1].headers.b"));
    assert.throws(() => headerCondition(ab([{ headers: { a: { prefix: "x" } } }])), isSpecError("spec.analysis.match[0].headers.a"));
    assert.throws(() => headerCondition(ab([{ headers: { cookie: { regex: "c=.*" } } }])), isSpecError("spec.analysis.match[0].headers.cookie"));
    assert.throws(() => headerCondition(ab([{ headers: { cookie: { exact: "a" } } }, { headers: { Cookie: { exact: "b" } } }])), isSpecError("spec.analysis.match[1].headers.Cookie"));
  });
});

describe("nginx routes read back", () => {
  it("reads the weight, relative to canary-weight-total", () => {
    assert.deepEqual(readIngressRoutes({ [`${P}/canary`]: "true", [`${P}/canary-weight`]: "20" }, P, false), { primary: 80, canary: 20, mirror: false });
    assert.deepEqual(readIngressRoutes({ [`${P}/canary`]: "true", [`${P}/canary-weight`]: "250", [`${P}/canary-weight-total`]: "1000" }, P, false), { primary: 75, canary: 25, mirror: false });
    assert.deepEqual(readIngressRoutes({ [`${P}/canary`]: "true" }, P, false), { primary: 100, canary: 0, mirror: false });
  });

  it("for an A/B Canary, header or cookie conditions mean the matched traffic all goes to the canary", () => {
    const conditions = { [`${P}/canary`]: "true", [`${P}/canary-weight`]: "0", [`${P}/canary-by-cookie`]: "canary" };
    assert.deepEqual(readIngressRoutes(conditions, P, true), { primary: 0, canary: 100, mirror: false });
    assert.deepEqual(readIngressRoutes({ [`${P}/canary`]: "true", [`${P}/canary-weight`]: "30" }, P, true), { primary: 100, canary: 0, mirror: false }, "an A/B canary ignores a weight");
    assert.deepEqual(readIngressRoutes(conditions, P, false), { primary: 100, canary: 0, mirror: false }, "a weighted canary ignores conditions");
  });

  it("is undefined for an Ingress that is not a canary or whose weight is unreadable", () => {
    assert.equal(readIngressRoutes({ [`${P}/canary-weight`]: "20" }, P, false), undefined);
    assert.equal(readIngressRoutes({ [`${P}/canary`]: "true", [`${P}/canary-weight`]: "lots" }, P, false), undefined);
    assert.equal(readIngressRoutes(undefined, P, false), undefined);
  });
});
