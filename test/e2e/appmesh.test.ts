/**
 * End to end with App Mesh: the walkthrough's Canary (examples/appmesh/canary.yaml:
 * threshold 5, maxWeight 50, stepWeight 10, request-success-rate min 99, request-duration
 * max 500) with its intervals shortened and its load-tester hooks left out. The simulated
 * mesh reads the split from the VirtualRouter through the appmesh router and reports the
 * requests as Envoy sidecars do (envoy_cluster_upstream_rq*); aviary's App Mesh built-ins
 * decide. Promoted step by step, then rolled back when the canary answers 5xx.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { parse } from "yaml";
import { imageFor } from "../../demo/manifests.ts";
import type { SimulatedMesh } from "../../demo/mesh.ts";
import type { KubeObject } from "../../src/kube/types.ts";
import { kubectlJson } from "../support/kubectl.ts";
import { getDeployment, image } from "../support/canary-fixtures.ts";
import type { CanaryObject } from "../support/canary-fixtures.ts";
import { eventsWith, measured } from "../support/canary-metrics.ts";
import type { AnalysisEntry } from "../support/canary-metrics.ts";
import { reasonOf, startE2eEnvironment, waitForVerdict } from "./support.ts";
import type { E2eEnvironment } from "./support.ts";

const NAME = "podinfo";
const SUCCESS_FAIL = /^request-success-rate (\d+(?:\.\d+)?)% < 99%$/;
const analysisOf = (c: CanaryObject): AnalysisEntry[] => (c.status?.lastAnalysis ?? []) as AnalysisEntry[];

interface VirtualRouter {
  spec: { routes: { httpRoute: { action: { weightedTargets: { virtualNodeRef: { name: string }; weight: number }[] } } }[] };
}

/** The walkthrough's Canary with 2 s intervals and 4 s metric windows, hooks to a load tester removed. */
async function walkthroughCanary(): Promise<KubeObject> {
  const canary = parse(await readFile("examples/appmesh/canary.yaml", "utf8")) as KubeObject & {
    spec: { service: Record<string, unknown>; analysis: { interval: string; metrics: { interval: string }[]; webhooks?: unknown[] } };
  };
  canary.spec.service.targetPort = 8080;
  canary.spec.analysis.interval = "2s";
  for (const m of canary.spec.analysis.metrics) m.interval = "4s";
  delete canary.spec.analysis.webhooks;
  return canary;
}

/** `[primary, canary]` weights of the VirtualRouter's route. */
async function virtualRouterSplit(namespace: string): Promise<[number, number]> {
  const vr = await kubectlJson<VirtualRouter>(["get", "virtualrouters.appmesh.k8s.aws", NAME, "-n", namespace]);
  const targets = vr.spec.routes[0]?.httpRoute.action.weightedTargets ?? [];
  const weight = (suffix: string) => targets.find((t) => t.virtualNodeRef.name.endsWith(suffix))?.weight ?? -1;
  return [weight("-primary"), weight("-canary")];
}

describe("e2e: App Mesh walkthrough Canary with Envoy metrics (simulated mesh)", function () {
  this.timeout(180_000);
  let env: E2eEnvironment;
  let mesh: SimulatedMesh;

  before(async function () {
    this.timeout(400_000);
    env = await startE2eEnvironment("aviary-e2e-appmesh");
    const canary = await walkthroughCanary();
    const { threshold, maxWeight, stepWeight } = (canary.spec as { analysis: Record<string, unknown> }).analysis;
    assert.deepEqual([threshold, maxWeight, stepWeight], [5, 50, 10], "the walkthrough's analysis");
    mesh = await env.deployCanary(NAME, canary);
  });
  after(async () => {
    await env?.stop();
  });

  it("promotes a healthy version in steps of 10 up to 50, reading the VirtualRouter", async () => {
    const seen: number[] = [];
    const watching = setInterval(() => {
      const w = mesh.stats().weights.canary;
      if (seen.at(-1) !== w) seen.push(w);
    }, 50);
    await env.release(NAME, "2.0.0");
    const done = await waitForVerdict(env.namespace, NAME);
    clearInterval(watching);
    assert.equal(done.status?.phase, "Succeeded", reasonOf(done));
    assert.deepEqual(seen.filter((w) => w > 0), [10, 20, 30, 40, 50], "the split the mesh read through the appmesh router");

    const [rate, duration] = analysisOf(done);
    assert.equal(rate?.message, "request-success-rate 100% >= 99%");
    assert.match(rate?.query ?? "", /envoy_cluster_upstream_rq\{kubernetes_namespace="[^"]+", kubernetes_pod_name=~"podinfo-/);
    assert.equal(duration?.verdict, "pass", duration?.message);
    assert.match(duration?.query ?? "", /envoy_cluster_upstream_rq_time_bucket/);
    assert.equal(done.status?.failedChecks ?? 0, 0);
    assert.equal(image(await getDeployment(env.namespace, `${NAME}-primary`)), imageFor("2.0.0"));
    assert.deepEqual(await virtualRouterSplit(env.namespace), [100, 0]);
  });

  it("rolls back a version that answers 20% of requests with 5xx, after 5 failed checks", async () => {
    await env.release(NAME, "2.1.0-errors");
    const failed = await waitForVerdict(env.namespace, NAME);
    assert.equal(failed.status?.phase, "Failed", reasonOf(failed));
    assert.equal(failed.status?.failedChecks, 5);
    const [rate, duration] = analysisOf(failed);
    assert.equal(rate?.verdict, "fail", rate?.message);
    const percent = measured(rate!.message, SUCCESS_FAIL);
    assert.ok(percent > 70 && percent < 90, `about 80% of Envoy-counted requests succeeded: ${rate!.message}`);
    assert.equal(duration?.verdict, "pass", `latency was not touched: ${duration?.message}`);
    const rolledBack = await eventsWith(env.namespace, NAME, "RolledBack");
    assert.equal(rolledBack.length, 1, rolledBack.join("\n"));
    assert.ok(rolledBack[0]!.includes(rate!.message), rolledBack[0]);
    assert.equal((await eventsWith(env.namespace, NAME, "CheckFailed")).length, 5);
    assert.equal(image(await getDeployment(env.namespace, `${NAME}-primary`)), imageFor("2.0.0"));
    assert.deepEqual(await virtualRouterSplit(env.namespace), [100, 0]);
  });
});
