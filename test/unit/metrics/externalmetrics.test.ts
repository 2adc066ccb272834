import assert from "node:assert/strict";
import { KubeConfig } from "@kubernetes/client-node";
import { createExternalMetricsReader } from "../../../src/kube/external-metrics.ts";
import type { ExternalMetricsReader } from "../../../src/kube/external-metrics.ts";
import { createExternalMetricsProvider, parseExternalMetricsQuery } from "../../../src/metrics/externalmetrics.ts";
import { parseQuantity } from "../../../src/metrics/quantity.ts";
import { MetricConfigError, MultipleValuesError, NoValuesError, ProviderError } from "../../../src/metrics/types.ts";
import type { LocalServer, Reply } from "./local-server.ts";
import { startLocalServer } from "./local-server.ts";

const PATH = "/apis/external.metrics.k8s.io/v1beta1/namespaces/test/podinfo_error_rate";

const valueList = (...values: string[]): Reply => ({
  body: {
    kind: "ExternalMetricValueList",
    apiVersion: "external.metrics.k8s.io/v1beta1",
    metadata: {},
    items: values.map((value) => ({ metricName: "podinfo_error_rate", metricLabels: { app: "podinfo" }, timestamp: "2025-03-01T12:00:00Z", value })),
  },
});

const notFound: Reply = {
  status: 404,
  body: { kind: "Status", apiVersion: "v1", status: "Failure", message: 'unable to get metric "nope"', reason: "NotFound", code: 404 },
};

/** A kubeconfig for the local server, as the controller would have one for its cluster. */
function kubeConfigFor(server: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "local", server, skipTLSVerify: true }],
    users: [{ name: "aviary", token: "cluster-token" }],
    contexts: [{ name: "local", cluster: "local", user: "aviary" }],
    currentContext: "local",
  });
  return kc;
}

describe("metrics/externalmetrics", () => {
  let server: LocalServer;
  let reader: ExternalMetricsReader;
  before(async () => {
    server = await startLocalServer(() => valueList());
    reader = createExternalMetricsReader(kubeConfigFor(server.url));
  });
  after(async () => {
    await reader.close();
    await server.close();
  });
  beforeEach(() => {
    server.requests.length = 0;
  });

  const QUERY = "test/podinfo_error_rate?labelSelector=app%3Dpodinfo%2Cenv%20in%20(prod)";
  const throughCluster = (timeoutMs = 2000) => createExternalMetricsProvider({ spec: { type: "externalmetrics" }, secret: {} }, { timeoutMs, cluster: reader });
  const throughAddress = (timeoutMs = 2000) =>
    createExternalMetricsProvider({ spec: { type: "externalmetrics", address: server.url, secretRef: { name: "t" } }, secret: { token: "other-cluster-token" } }, { timeoutMs });

  for (const [how, provider, token] of [
    ["the cluster's API, with the controller's credentials", throughCluster, "cluster-token"],
    ["another API server named by address, with the Secret's token", throughAddress, "other-cluster-token"],
  ] as const) {
    it(`lists the metric through ${how}`, async () => {
      server.handle(() => valueList("1500m"));
      assert.equal(await provider().runQuery(QUERY), 1.5);
      const req = server.requests[0]!;
      assert.equal(req.method, "GET");
      assert.equal(req.path, PATH);
      assert.equal(req.url.searchParams.get("labelSelector"), "app=podinfo,env in (prod)");
      assert.equal(req.headers.authorization, `Bearer ${token}`);
    });

    it(`types no items, several items and errors through ${how}`, async () => {
      server.handle(() => valueList());
      await assert.rejects(provider().runQuery(QUERY), NoValuesError);
      server.handle(() => valueList("1", "2"));
      await assert.rejects(provider().runQuery(QUERY), (err: unknown) => err instanceof MultipleValuesError && err.count === 2);
      server.handle(() => notFound);
      await assert.rejects(provider().runQuery("test/nope"), (err: unknown) => err instanceof ProviderError && err.status === 404 && !err.retryable && /unable to get metric "nope"/.test(err.message));
      server.handle(() => ({ status: 503, body: { kind: "Status", message: "service unavailable", code: 503 } }));
      await assert.rejects(provider().runQuery(QUERY), (err: unknown) => err instanceof ProviderError && err.retryable);
      server.handle(() => ({ body: { kind: "ExternalMetricValueList", items: [{ value: "lots" }] } }));
      await assert.rejects(provider().runQuery(QUERY), (err: unknown) => err instanceof ProviderError && err.code === "MalformedResponse");
    });

    it(`times out, and stops when aborted, through ${how}`, async () => {
      server.handle(() => ({ hang: true }));
      await assert.rejects(provider(100).runQuery(QUERY), (err: unknown) => err instanceof ProviderError && err.code === "Timeout");
      const controller = new AbortController();
      const pending = provider().runQuery(QUERY, { signal: controller.signal });
      setTimeout(() => controller.abort(), 20);
      await assert.rejects(pending, (err: unknown) => err instanceof ProviderError && err.code === "Aborted");
    });

  }

  it("parses Flagger's query format", () => {
    assert.deepEqual(parseExternalMetricsQuery("m"), { namespace: "default", metricName: "m" });
    assert.deepEqual(parseExternalMetricsQuery("/m"), { namespace: "default", metricName: "m" });
    assert.deepEqual(parseExternalMetricsQuery(" ns/m?labelSelector=a%3Db \n"), { namespace: "ns", metricName: "m", labelSelector: "a=b" });
    assert.throws(() => parseExternalMetricsQuery("a/b/c"), /too many slashes/);
    assert.throws(() => parseExternalMetricsQuery("ns/"), MetricConfigError);
  });

  it("reads Kubernetes quantities", () => {
    assert.equal(parseQuantity("42"), 42);
    assert.equal(parseQuantity("250m"), 0.25);
    assert.equal(parseQuantity("2k"), 2000);
    assert.equal(parseQuantity("1Ki"), 1024);
    assert.equal(parseQuantity("1.5e3"), 1500);
    assert.equal(parseQuantity("-3u"), -3e-6);
    for (const bad of ["", "m", "1x", "1 m", "1.2.3"]) assert.equal(parseQuantity(bad), undefined, bad);
  });

  it("needs a cluster connection or an address", () => {
    assert.throws(() => createExternalMetricsProvider({ spec: { type: "externalmetrics" }, secret: {} }, { timeoutMs: 1 }), MetricConfigError);
  });
});
