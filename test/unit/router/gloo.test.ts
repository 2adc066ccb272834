import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import type { Canary } from "../../../src/api/types.ts";
import { validateCanary } from "../../../src/api/validate.ts";
import { builtinCountQueries } from "../../../src/metrics/arm-queries.ts";
import { builtinQueryTemplate } from "../../../src/metrics/builtins.ts";
import { createLogger } from "../../../src/observability/logger.ts";
import { buildRouteTableSpec, buildUpstreamSpec, createGlooRouter, glooUpstreamNames, readRouteTable } from "../../../src/router/gloo.ts";
import { RouteStateError, RouterSpecError } from "../../../src/router/types.ts";
import { FakeKube } from "../../support/fake-kube.ts";

const logger = createLogger({ write: () => {} });
const signal = new AbortController().signal;

const canary = (spec: Partial<Canary["spec"]> = {}): Canary => ({
  apiVersion: "aviary.dev/v1beta1",
  kind: "Canary",
  metadata: { name: "podinfo", namespace: "test", uid: "u" },
  spec: { provider: "gloo", targetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "podinfo" }, service: { port: 9898 }, ...spec },
});

const upstreamRef = (spec: Record<string, unknown>, namespace = "gloo-system") => ({
  apiVersion: "gloo.solo.io/v1", kind: "Upstream", metadata: { name: "settings", namespace }, spec,
});

describe("gloo router", () => {
  it("names the Upstreams as Flagger does: <namespace>-<svc>-{primary,canary}upstream-<port>", () => {
    assert.deepEqual(glooUpstreamNames(canary({ service: { name: "web", port: 80 } })), { primary: "test-web-primaryupstream-80", canary: "test-web-canaryupstream-80" });
  });

  it("weighs the two Upstreams on one route that inherits the delegated path", () => {
    assert.deepEqual(buildRouteTableSpec(canary(), { primary: 70, canary: 30, mirror: false }), {
      routes: [{
        inheritablePathMatchers: true,
        routeAction: {
          multi: {
            destinations: [
              { destination: { upstream: { name: "test-podinfo-primaryupstream-9898", namespace: "test" } }, weight: 70 },
              { destination: { upstream: { name: "test-podinfo-canaryupstream-9898", namespace: "test" } }, weight: 30 },
            ],
          },
        },
      }],
    });
  });

  it("refuses to mirror and to write a weight outside 0..100", () => {
    assert.throws(() => buildRouteTableSpec(canary(), { primary: 100, canary: 0, mirror: true }), RouterSpecError);
    assert.throws(() => buildRouteTableSpec(canary(), { primary: 101, canary: -1, mirror: false }), RangeError);
  });

  it("reads relative weights back, and a route naming neither Upstream as nothing", () => {
    const dst = (name: string, weight?: number) => ({ destination: { upstream: { name } }, ...(weight !== undefined ? { weight } : {}) });
    const spec = (...d: unknown[]) => ({ routes: [{ routeAction: { multi: { destinations: d } } }] });
    assert.deepEqual(readRouteTable(spec(dst("test-podinfo-primaryupstream-9898", 3), dst("test-podinfo-canaryupstream-9898", 1)), canary()), { primary: 75, canary: 25, mirror: false });
    assert.deepEqual(readRouteTable(spec(dst("test-podinfo-primaryupstream-9898", 5), dst("test-podinfo-canaryupstream-9898")), canary()), { primary: 100, canary: 0, mirror: false });
    assert.equal(readRouteTable(spec(dst("elsewhere", 1)), canary()), undefined);
  });

  it("an Upstream is the arm's Service, with upstreamRef's connection settings and nothing else of it", () => {
    const config = { kube: { serviceName: "other", servicePort: 1 }, useHttp2: true, circuitBreakers: { maxConnections: 10 }, static: { hosts: [] }, sslConfig: null };
    assert.deepEqual(buildUpstreamSpec(canary(), "podinfo-canary", config), {
      useHttp2: true, circuitBreakers: { maxConnections: 10 }, kube: { serviceName: "podinfo-canary", serviceNamespace: "test", servicePort: 9898 },
    });
  });

  it("writes both Upstreams and the RouteTable, copies upstreamRef from its namespace, and follows its changes", async () => {
    const kube = new FakeKube([upstreamRef({ useHttp2: true })]);
    const router = createGlooRouter({ kube, logger });
    const c = canary({ upstreamRef: { name: "settings", namespace: "gloo-system" } });
    assert.deepEqual(await router.reconcile(c, signal), { changed: true });
    const upstream = (name: string) => kube.peek({ apiVersion: "gloo.solo.io/v1", kind: "Upstream", namespace: "test", name });
    assert.equal((upstream("test-podinfo-primaryupstream-9898")?.spec as { useHttp2?: boolean }).useHttp2, true);
    assert.deepEqual(upstream("test-podinfo-canaryupstream-9898")?.metadata.ownerReferences?.map((o) => o.uid), ["u"]);
    assert.deepEqual(await router.getRoutes(c, signal), { primary: 100, canary: 0, mirror: false });

    kube.put(upstreamRef({ useHttp2: false, connectionConfig: { maxRequestsPerConnection: 1 } }));
    assert.deepEqual(await router.reconcile(c, signal), { changed: true });
    assert.deepEqual(upstream("test-podinfo-canaryupstream-9898")?.spec, {
      useHttp2: false, connectionConfig: { maxRequestsPerConnection: 1 }, kube: { serviceName: "podinfo-canary", serviceNamespace: "test", servicePort: 9898 },
    });
  });

  it("a missing upstreamRef is a retryable error naming it", async () => {
    const router = createGlooRouter({ kube: new FakeKube(), logger });
    await assert.rejects(router.reconcile(canary({ upstreamRef: { name: "settings" } }), signal),
      (err: unknown) => err instanceof RouteStateError && err.retryable && /Upstream test\/settings named by spec.upstreamRef does not exist/.test(err.message));
  });

  it("measures the canary Upstream's Envoy cluster, per arm for the judge", () => {
    assert.match(builtinQueryTemplate("request-success-rate", "gloo"), /envoy_cluster_upstream_rq\{envoy_cluster_name=~"\{\{ namespace \}\}-\{\{ service \}\}-canaryupstream-\[0-9\]\+_\{\{ namespace \}\}", envoy_response_code=~"5\.\."\}/);
    const primary = builtinCountQueries("gloo", "request-success-rate", "primary");
    assert.ok(primary.kind === "errors" && primary.requests.includes(`{{ service }}-primaryupstream-`));
  });

  it("examples/gloo: the Canary passes validation; upstreamRef and routeRef are checked", () => {
    const docs = parseAllDocuments(readFileSync("examples/gloo/canary.yaml", "utf8")).map((d) => d.toJS() as Canary);
    const c = docs.find((d) => d.kind === "Canary")!;
    assert.deepEqual(validateCanary(c).filter((p) => p.severity === "error"), []);
    const bad = structuredClone(c) as unknown as { spec: Record<string, unknown> };
    bad.spec.upstreamRef = { apiVersion: "gloo.solo.io/v2", kind: "Service", name: "" };
    const errors = validateCanary(bad).filter((p) => p.severity === "error").map((p) => p.path).sort();
    assert.deepEqual(errors, ["spec.upstreamRef.apiVersion", "spec.upstreamRef.kind", "spec.upstreamRef.name"]);
  });
});
