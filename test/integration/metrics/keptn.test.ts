/**
 * The keptn provider against the real API server: Keptn's KeptnMetric and Analysis CRDs
 * are registered, a KeptnMetric's status carries a value, and the test plays Keptn's
 * metrics operator for Analyses (it completes each one it finds). Checks run through the
 * same seam the canary engine calls, from a MetricTemplate of type keptn.
 */
import assert from "node:assert/strict";
import type { AnalysisResult, Canary, CanaryMetric, MetricTemplate } from "../../../src/api/types.ts";
import type { ClusterClient } from "../../../src/kube/client.ts";
import type { KubeObject } from "../../../src/kube/types.ts";
import { runMetricChecks } from "../../../src/metrics/evaluate.ts";
import type { MetricCheckDeps } from "../../../src/metrics/evaluate.ts";
import { KEPTN_API_VERSION } from "../../../src/metrics/keptn.ts";
import { createMetricProviderRegistry } from "../../../src/metrics/registry.ts";
import { clusterClient } from "../kube/support.ts";
import { eventually, tempNamespace } from "../../support/kubectl.ts";

const GROUP = "metrics.keptn.sh";

/** Keptn's two CRDs as far as the provider reads them (open schemas, status subresource). */
async function ensureKeptnCrds(client: ClusterClient): Promise<string[]> {
  const created: string[] = [];
  const open = { type: "object", "x-kubernetes-preserve-unknown-fields": true };
  for (const [kind, plural, singular] of [
    ["KeptnMetric", "keptnmetrics", "keptnmetric"],
    ["Analysis", "analyses", "analysis"],
  ] as const) {
    if (await client.crdInstalled(GROUP, plural)) continue;
    await client.create({
      apiVersion: "apiextensions.k8s.io/v1",
      kind: "CustomResourceDefinition",
      metadata: { name: `${plural}.${GROUP}` },
      spec: {
        group: GROUP,
        scope: "Namespaced",
        names: { plural, singular, kind, listKind: `${kind}List` },
        versions: [{ name: "v1beta1", served: true, storage: true, subresources: { status: {} }, schema: { openAPIV3Schema: { type: "object", properties: { spec: open, status: open } } } }],
      },
    });
    created.push(`${plural}.${GROUP}`);
    await eventually(`CRD ${plural}.${GROUP} to be served`, async () => ((await client.crdInstalled(GROUP, plural)) ? true : undefined), 30_000);
  }
  return created;
}

describe("metrics: keptn against the real API server", function () {
  this.timeout(60_000);
  let client: ClusterClient;
  let ns: { name: string; remove: () => Promise<void> };
  let createdCrds: string[] = [];
  const templates = new Map<string, MetricTemplate>();
  let deps: MetricCheckDeps;

  const template = (name: string, query: string): MetricTemplate => {
    const t: MetricTemplate = { apiVersion: "aviary.dev/v1beta1", kind: "MetricTemplate", metadata: { name, namespace: ns.name }, spec: { provider: { type: "keptn" }, query } };
    templates.set(`${ns.name}/${name}`, t);
    return t;
  };
  const check = async (metric: CanaryMetric): Promise<AnalysisResult> => {
    const canary: Canary = {
      apiVersion: "aviary.dev/v1beta1",
      kind: "Canary",
      metadata: { name: "podinfo", namespace: ns.name },
      spec: { targetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "podinfo" }, service: { port: 9898 }, analysis: { interval: "10s", threshold: 2, metrics: [metric] } },
    };
    return (await runMetricChecks(canary, deps))[0]!;
  };
  const analyses = async () => client.list(KEPTN_API_VERSION, "Analysis", ns.name);

  before(async () => {
    client = clusterClient();
    createdCrds = await ensureKeptnCrds(client);
    ns = await tempNamespace("aviary-keptn");
    deps = {
      registry: createMetricProviderRegistry({ timeoutMs: 15_000, kube: client }),
      getTemplate: async (namespace, name) => templates.get(`${namespace}/${name}`),
      getSecret: async () => undefined,
      timeoutMs: 20_000,
    };
  });

  after(async () => {
    await ns?.remove();
    for (const crd of createdCrds) await client.delete({ apiVersion: "apiextensions.k8s.io/v1", kind: "CustomResourceDefinition", name: crd });
    await client?.close();
  });

  it("checks a KeptnMetric's value, and reports one without a value as no data", async () => {
    const metric: KubeObject = {
      apiVersion: KEPTN_API_VERSION,
      kind: "KeptnMetric",
      metadata: { name: "response-time", namespace: ns.name },
      spec: { provider: { name: "my-prometheus" }, query: "histogram_quantile(0.95, sum by (le) (rate(http_duration_bucket[1m])))", fetchIntervalSeconds: 10 },
    };
    await client.create(metric);
    template("keptn-response-time", "keptnmetric/{{ namespace }}/{{ variables.metric }}");
    const entry: CanaryMetric = { name: "response-time", templateRef: { name: "keptn-response-time" }, templateVariables: { metric: "response-time" }, thresholdRange: { max: 300 } };

    const before = await check(entry);
    assert.equal(before.verdict, "nodata", before.message);

    await client.mergePatch({ apiVersion: KEPTN_API_VERSION, kind: "KeptnMetric", namespace: ns.name, name: "response-time" }, { status: { value: "212.5", rawValue: "MjEyLjU=" } }, { subresource: "status" });
    const after = await check(entry);
    assert.equal(after.verdict, "pass", after.message);
    assert.equal(after.value, 212.5);

    await client.mergePatch({ apiVersion: KEPTN_API_VERSION, kind: "KeptnMetric", namespace: ns.name, name: "response-time" }, { status: { value: "950" } }, { subresource: "status" });
    const slow = await check(entry);
    assert.equal(slow.verdict, "fail", slow.message);
    assert.equal(slow.message, "response-time 950 > 300");
  });

  for (const pass of [true, false]) {
    it(`runs an Analysis that Keptn ${pass ? "passes" : "fails"}, then deletes it`, async () => {
      template("keptn-slo", "analysis/{{ namespace }}/podinfo-slo/5m/workload={{ target }};stage=prod");
      const entry: CanaryMetric = { name: "slo", templateRef: { name: "keptn-slo" }, thresholdRange: { min: 1 } };
      const running = check(entry);
      // Keptn's part: complete the Analysis the provider created.
      const created = await eventually("the Analysis to be created", async () => (await analyses())[0], 10_000, 100);
      assert.match(created.metadata.name, /^podinfo-slo-[0-9a-f]{6}$/);
      assert.deepEqual(created.spec, { analysisDefinition: { name: "podinfo-slo" }, timeframe: { recent: "5m" }, args: { workload: "podinfo", stage: "prod" } });
      await client.mergePatch({ apiVersion: KEPTN_API_VERSION, kind: "Analysis", namespace: ns.name, name: created.metadata.name }, { status: { state: "Completed", pass, raw: "{}" } }, { subresource: "status" });

      const result = await running;
      assert.equal(result.verdict, pass ? "pass" : "fail", result.message);
      assert.equal(result.value, pass ? 1 : 0);
      assert.deepEqual(await analyses(), []);
    });
  }
});
