import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import type { Canary } from "../../../src/api/types.ts";
import { validateCanary } from "../../../src/api/validate.ts";
import { builtinCountQueries } from "../../../src/metrics/arm-queries.ts";
import { builtinQueryTemplate } from "../../../src/metrics/builtins.ts";
import { MetricConfigError } from "../../../src/metrics/types.ts";
import { createLogger } from "../../../src/observability/logger.ts";
import { buildCanaryRouteSpec, canaryRouteName, createApisixRouter, readCanaryRoute } from "../../../src/router/apisix.ts";
import { RouteStateError, RouterSpecError } from "../../../src/router/types.ts";
import { FakeKube } from "../../support/fake-kube.ts";

const logger = createLogger({ write: () => {} });
const signal = new AbortController().signal;

const canary = (spec: Partial<Canary["spec"]> = {}): Canary => ({
  apiVersion: "aviary.dev/v1beta1",
  kind: "Canary",
  metadata: { name: "podinfo", namespace: "test", uid: "u" },
  spec: { provider: "apisix", targetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "podinfo" }, routeRef: { name: "web" }, service: { port: 80 }, ...spec },
});

const rule = (name: string, service: string, extra: Record<string, unknown> = {}) => ({
  name, match: { hosts: [`${name}.example.com`], paths: ["/*"] }, backends: [{ serviceName: service, servicePort: 80, ...extra }],
});
const userRoute = (spec: Record<string, unknown>) => ({
  apiVersion: "apisix.apache.org/v2", kind: "ApisixRoute",
  metadata: { name: "web", namespace: "test", labels: { team: "a" }, annotations: { "kubectl.kubernetes.io/last-applied-configuration": "{}", note: "x" } },
  spec,
});
const canaryRef = { apiVersion: "apisix.apache.org/v2", kind: "ApisixRoute", namespace: "test", name: "web-podinfo-canary" };

describe("apisix router", () => {
  it("names the canary route <route>-<svc>-canary", () => {
    assert.equal(canaryRouteName(canary({ service: { name: "api", port: 80 } })), "web-api-canary");
  });

  it("keeps only the apex Service's rule, at priority 10000, with the primary and canary backends weighted", () => {
    const source = { ingressClassName: "apisix", http: [rule("other", "elsewhere"), rule("main", "podinfo", { resolveGranularity: "service", subset: "v1" })] };
    assert.deepEqual(buildCanaryRouteSpec(canary(), source, { primary: 60, canary: 40, mirror: false }), {
      ingressClassName: "apisix",
      http: [{
        name: "main", match: { hosts: ["main.example.com"], paths: ["/*"] }, priority: 10000,
        backends: [
          { serviceName: "podinfo-primary", servicePort: 80, resolveGranularity: "service", subset: "v1", weight: 60 },
          { serviceName: "podinfo-canary", servicePort: 80, weight: 40, resolveGranularity: "service", subset: "v1" },
        ],
      }],
    });
  });

  it("refuses a route without a rule for the apex Service, or whose rule has several backends, naming spec.routeRef", () => {
    const field = (err: unknown) => err instanceof RouterSpecError && err.field === "spec.routeRef";
    assert.throws(() => buildCanaryRouteSpec(canary(), { http: [rule("other", "elsewhere")] }, { primary: 100, canary: 0, mirror: false }),
      (err: unknown) => field(err) && /has no http rule with a backend serviceName podinfo/.test((err as Error).message));
    const two = { ...rule("main", "podinfo"), backends: [{ serviceName: "podinfo", servicePort: 80 }, { serviceName: "b", servicePort: 80 }] };
    assert.throws(() => buildCanaryRouteSpec(canary(), { http: [two] }, { primary: 100, canary: 0, mirror: false }), (err: unknown) => field(err) && /has 2 backends/.test((err as Error).message));
    assert.throws(() => buildCanaryRouteSpec(canary(), { http: [rule("main", "podinfo")] }, { primary: 100, canary: 0, mirror: true }), RouterSpecError);
  });

  it("reads relative weights back (a backend without a weight weighs 100, as in APISIX)", () => {
    const spec = (b: unknown[]) => ({ http: [{ backends: b }] });
    assert.deepEqual(readCanaryRoute(spec([{ serviceName: "podinfo-primary", weight: 30 }, { serviceName: "podinfo-canary", weight: 10 }]), canary()), { primary: 75, canary: 25, mirror: false });
    assert.deepEqual(readCanaryRoute(spec([{ serviceName: "podinfo-primary" }, { serviceName: "podinfo-canary", weight: 100 }]), canary()), { primary: 50, canary: 50, mirror: false });
    assert.equal(readCanaryRoute(spec([{ serviceName: "podinfo" }]), canary()), undefined);
  });

  it("copies your route's labels and annotations, leaves your route alone, and follows its edits", async () => {
    const kube = new FakeKube([userRoute({ http: [rule("main", "podinfo")] })]);
    const router = createApisixRouter({ kube, logger });
    await router.reconcile(canary(), signal, { primary: 90, canary: 10, mirror: false });
    const copy = kube.peek(canaryRef)!;
    assert.equal(copy.metadata.labels?.team, "a");
    assert.equal(copy.metadata.labels?.["aviary.dev/canary"], "podinfo");
    assert.deepEqual(copy.metadata.annotations, { note: "x" });
    assert.deepEqual(kube.writes, ["apply ApisixRoute web-podinfo-canary"]);

    kube.put(userRoute({ http: [{ ...rule("main", "podinfo"), match: { paths: ["/v2/*"] } }] }));
    assert.equal((await router.reconcile(canary(), signal)).changed, true);
    const http = (kube.peek(canaryRef)!.spec as { http: { match: unknown; backends: { weight: number }[] }[] }).http[0]!;
    assert.deepEqual(http.match, { paths: ["/v2/*"] });
    assert.deepEqual(http.backends.map((b) => b.weight), [90, 10], "the split is kept");
  });

  it("never takes over a route of that name it did not make; a missing routeRef is retryable", async () => {
    const kube = new FakeKube([userRoute({ http: [rule("main", "podinfo")] }), { ...canaryRef, metadata: { name: canaryRef.name, namespace: "test" }, spec: {} }]);
    await assert.rejects(createApisixRouter({ kube, logger }).reconcile(canary(), signal), (err: unknown) => err instanceof RouterSpecError && /exists and was not made by aviary/.test((err as Error).message));
    await assert.rejects(createApisixRouter({ kube: new FakeKube(), logger }).reconcile(canary(), signal),
      (err: unknown) => err instanceof RouteStateError && /ApisixRoute test\/web named by spec.routeRef does not exist/.test(err.message));
  });

  it("measures aviary's canary route; the judge is told it has no per-arm series", () => {
    assert.match(builtinQueryTemplate("request-success-rate", "apisix"), /apisix_http_status\{route=~"\{\{ namespace \}\}_\.\+-\{\{ service \}\}-canary_\.\+", code=~"5\.\."\}/);
    assert.match(builtinQueryTemplate("request-duration", "apisix"), /apisix_http_latency_bucket\{type="request", route=~/);
    assert.throws(() => builtinCountQueries("apisix", "request-success-rate", "canary"), (err: unknown) => err instanceof MetricConfigError && /spec.compare/.test(err.message));
  });

  it("examples/apisix: the Canary passes validation; routeRef is required", () => {
    const docs = parseAllDocuments(readFileSync("examples/apisix/canary.yaml", "utf8")).map((d) => d.toJS() as Canary);
    const c = docs.find((d) => d.kind === "Canary")!;
    assert.deepEqual(validateCanary(c).filter((p) => p.severity === "error"), []);
    const without = structuredClone(c);
    delete without.spec.routeRef;
    assert.deepEqual(validateCanary(without).filter((p) => p.severity === "error").map((p) => `${p.path}: ${p.rule}`), ["spec.routeRef: is required when provider is apisix"]);
  });
});
