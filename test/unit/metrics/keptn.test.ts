import assert from "node:assert/strict";
import { createKeptnProvider, KEPTN_API_VERSION, parseKeptnQuery } from "../../../src/metrics/keptn.ts";
import { MetricConfigError, NoValuesError, ProviderError } from "../../../src/metrics/types.ts";
import { KubeApiError } from "../../../src/kube/types.ts";
import type { KubeObject } from "../../../src/kube/types.ts";
import { memoryClient } from "../kube/fake-client.ts";
import type { MemoryClient } from "../kube/fake-client.ts";

const keptnMetric = (value?: string): KubeObject => ({
  apiVersion: KEPTN_API_VERSION,
  kind: "KeptnMetric",
  metadata: { name: "response-time", namespace: "podinfo" },
  spec: { provider: { name: "prometheus" }, query: "histogram_quantile(0.95, …)", fetchIntervalSeconds: 10 },
  ...(value === undefined ? {} : { status: { value, rawValue: "MjAw", lastUpdated: "2025-03-01T12:00:00Z" } }),
});

/** Plays Keptn's metrics operator: an Analysis read after `afterReads` reads has completed with `pass`. */
function completeAnalyses(kube: MemoryClient, pass: boolean | undefined, afterReads = 2): void {
  let reads = 0;
  kube.before = (verb, key) => {
    if (verb !== "get" || !key.includes("/Analysis/")) return;
    const obj = kube.objects.get(key);
    if (obj === undefined || ++reads < afterReads) return;
    kube.objects.set(key, { ...obj, status: { state: "Completed", ...(pass === undefined ? {} : { pass }), raw: "{}" } });
  };
}

describe("metrics/keptn", () => {
  let kube: MemoryClient;
  beforeEach(() => {
    kube = memoryClient();
  });
  const provider = (timeoutMs = 2000) =>
    createKeptnProvider({ spec: { type: "keptn" }, secret: {} }, { timeoutMs, kube, pollIntervalMs: 5, nameSuffix: () => "a1b2c3" });

  it("reads a KeptnMetric's status.value", async () => {
    kube.put(keptnMetric("312.5"));
    assert.equal(await provider().runQuery("keptnmetric/podinfo/response-time\n"), 312.5);
    assert.deepEqual(kube.calls.map((c) => `${c.verb} ${c.key}`), [`get ${KEPTN_API_VERSION}/KeptnMetric/podinfo/response-time`]);
  });

  it("reports a KeptnMetric without a value as no data, a missing one and a bad value as errors", async () => {
    kube.put(keptnMetric());
    await assert.rejects(provider().runQuery("keptnmetric/podinfo/response-time"), NoValuesError);
    await assert.rejects(provider().runQuery("keptnmetric/podinfo/nope"), (err: unknown) => err instanceof ProviderError && err.status === 404);
    kube.put(keptnMetric("fast"));
    await assert.rejects(provider().runQuery("keptnmetric/podinfo/response-time"), (err: unknown) => err instanceof ProviderError && /not a number/.test(err.message));
  });

  it("creates an Analysis, waits for Keptn to complete it, answers 1 for a pass, and deletes it", async () => {
    completeAnalyses(kube, true);
    assert.equal(await provider().runQuery("analysis/podinfo/slo-check/5m/workload=podinfo;Stage=Prod"), 1);
    const created = kube.calls.find((c) => c.verb === "create")!;
    assert.equal(created.key, `${KEPTN_API_VERSION}/Analysis/podinfo/slo-check-a1b2c3`);
    assert.deepEqual((created.body as KubeObject).spec, {
      analysisDefinition: { name: "slo-check" },
      timeframe: { recent: "5m" },
      args: { workload: "podinfo", Stage: "Prod" },
    });
    assert.equal(kube.calls.at(-1)!.verb, "delete");
    assert.equal(kube.objects.size, 0);
  });

  it("answers 0 for a failed Analysis", async () => {
    completeAnalyses(kube, false);
    assert.equal(await provider().runQuery("analysis/podinfo/slo-check"), 0);
    assert.equal(kube.objects.size, 0);
  });

  it("gives up after the timeout when Keptn never completes the Analysis, and still deletes it", async () => {
    await assert.rejects(provider(60).runQuery("analysis/podinfo/slo-check"), (err: unknown) => err instanceof ProviderError && err.code === "Timeout");
    assert.equal(kube.calls.at(-1)!.verb, "delete");
    assert.equal(kube.objects.size, 0);
  });

  it("stops when aborted, and still deletes the Analysis", async () => {
    const controller = new AbortController();
    const pending = provider().runQuery("analysis/podinfo/slo-check", { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    await assert.rejects(pending, (err: unknown) => err instanceof ProviderError && err.code === "Aborted");
    assert.equal(kube.objects.size, 0);
  });

  it("reports a completed Analysis without a verdict, and API errors", async () => {
    completeAnalyses(kube, undefined);
    await assert.rejects(provider().runQuery("analysis/podinfo/slo-check"), /without status.pass/);
    kube.failNext.set("create", [new KubeApiError('no matches for kind "Analysis"', 404, "NoKindMatch")]);
    await assert.rejects(provider().runQuery("analysis/podinfo/slo-check"), (err: unknown) => err instanceof ProviderError && err.code === "NoKindMatch");
  });

  it("parses Flagger's query format", () => {
    assert.deepEqual(parseKeptnQuery("KeptnMetrics/PodInfo/Response-Time"), { kind: "KeptnMetric", namespace: "podinfo", name: "response-time" });
    assert.deepEqual(parseKeptnQuery("analyses/ns/def"), { kind: "Analysis", namespace: "ns", name: "def", window: "1m", args: {} });
    assert.deepEqual(parseKeptnQuery("analysis/ns/def/10m/a=1;junk;b=2"), { kind: "Analysis", namespace: "ns", name: "def", window: "10m", args: { a: "1", b: "2" } });
    assert.throws(() => parseKeptnQuery("keptnmetric/ns"), MetricConfigError);
    assert.throws(() => parseKeptnQuery("metric/ns/name"), /expected keptnmetric or analysis/);
  });

  it("needs a Kubernetes connection", () => {
    assert.throws(() => createKeptnProvider({ spec: { type: "keptn" }, secret: {} }, { timeoutMs: 1 }), MetricConfigError);
  });
});
