import assert from "node:assert/strict";
import { Registry } from "prom-client";
import { API_VERSION, CANARY_PHASES } from "../../../src/api/types.ts";
import type { AnalysisResult, Canary, CanaryAnalysis, CanaryStatus } from "../../../src/api/types.ts";
import type { AlertMetricsHook } from "../../../src/notifier/dispatcher.ts";
import { errorKind } from "../../../src/ground/errors.ts";
import { createAviaryMetrics, runStrategyOf } from "../../../src/observability/metrics.ts";
import type { AviaryMetrics } from "../../../src/observability/metrics.ts";
import type { AdmissionMetrics } from "../../../src/webhook/server.ts";

/** Every sample of the exposition text as `name{labels}` → value, labels sorted by name. */
async function samples(registry: Registry): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const line of (await registry.metrics()).split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `unparsable exposition line: ${line}`);
    const labels = [...(m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)]
      .map((l) => `${l[1]}=${l[2]}`)
      .sort();
    out.set(`${m[1]}{${labels.join(",")}}`, Number(m[3]));
  }
  return out;
}

/** The sample named `name` with exactly these labels. */
const key = (name: string, labels: Record<string, string> = {}): string =>
  `${name}{${Object.entries(labels).map(([k, v]) => `${k}=${v}`).sort().join(",")}}`;

function canary(status: CanaryStatus | undefined, analysis: CanaryAnalysis = { stepWeight: 20, maxWeight: 60 }, name = "podinfo"): Canary {
  return {
    apiVersion: API_VERSION,
    kind: "Canary",
    metadata: { name, namespace: "shop" },
    spec: { targetRef: { apiVersion: "apps/v1", kind: "Deployment", name }, service: { port: 80 }, analysis },
    ...(status ? { status } : {}),
  };
}

const metricResult = (name: string, verdict: AnalysisResult["verdict"], value?: number): AnalysisResult => ({
  name, kind: "metric", verdict, message: "", time: "2025-01-01T00:00:00Z", ...(value !== undefined ? { value } : {}),
});

const T0 = Date.parse("2025-01-01T00:00:00Z");

function setup(now = () => T0): { registry: Registry; metrics: AviaryMetrics } {
  const registry = new Registry();
  return { registry, metrics: createAviaryMetrics(registry, { now }) };
}

describe("aviary metrics", () => {
  it("shows the phase as one series per phase: 1 for the current one, 0 for the rest", async () => {
    const { registry, metrics } = setup();
    metrics.observeStatus(canary({ phase: "Initialized" }), { phase: "Progressing", canaryWeight: 20 });
    let s = await samples(registry);
    for (const phase of CANARY_PHASES) {
      assert.equal(s.get(key("aviary_canary_phase", { namespace: "shop", name: "podinfo", phase })), phase === "Progressing" ? 1 : 0, phase);
    }
    metrics.observeStatus(canary({ phase: "Progressing" }), { phase: "Promoting", canaryWeight: 60 });
    s = await samples(registry);
    assert.equal(s.get(key("aviary_canary_phase", { namespace: "shop", name: "podinfo", phase: "Progressing" })), 0);
    assert.equal(s.get(key("aviary_canary_phase", { namespace: "shop", name: "podinfo", phase: "Promoting" })), 1);
  });

  it("splits the weight between primary and canary, and reports failed checks", async () => {
    const { registry, metrics } = setup();
    metrics.observeStatus(canary({ phase: "Progressing" }), { phase: "Progressing", canaryWeight: 40, failedChecks: 2 });
    const s = await samples(registry);
    assert.equal(s.get(key("aviary_canary_weight", { namespace: "shop", name: "podinfo", workload: "canary" })), 40);
    assert.equal(s.get(key("aviary_canary_weight", { namespace: "shop", name: "podinfo", workload: "primary" })), 60);
    assert.equal(s.get(key("aviary_canary_failed_checks", { namespace: "shop", name: "podinfo" })), 2);
  });

  it("counts a run once, when the phase becomes Succeeded or Failed, with its duration from the start of analysis", async () => {
    const { registry, metrics } = setup(() => T0 + 300_000);
    const running: CanaryStatus = { phase: "Finalising", canaryWeight: 0, analysisStartedAt: new Date(T0).toISOString() };
    metrics.observeStatus(canary(running), { phase: "Succeeded", canaryWeight: 0 });
    // Later reconciles of the finished run (and a new leader's first look) count nothing.
    metrics.observeStatus(canary({ phase: "Succeeded" }), { phase: "Succeeded", canaryWeight: 0 });
    metrics.observeStatus(canary({ phase: "Succeeded" }), { phase: "Succeeded", canaryWeight: 0 });
    const s = await samples(registry);
    const labels = { strategy: "canary", result: "succeeded" };
    assert.equal(s.get(key("aviary_canary_runs_total", labels)), 1);
    assert.equal(s.get(key("aviary_canary_run_duration_seconds_count", labels)), 1);
    assert.equal(s.get(key("aviary_canary_run_duration_seconds_sum", labels)), 300);
    assert.equal(s.get(key("aviary_canary_run_duration_seconds_bucket", { ...labels, le: "120" })), 0);
    assert.equal(s.get(key("aviary_canary_run_duration_seconds_bucket", { ...labels, le: "300" })), 1);
    assert.equal(s.has(key("aviary_canary_runs_total", { strategy: "canary", result: "failed" })), false);
  });

  it("labels runs by strategy: blue/green, mirroring and A/B testing", async () => {
    const { registry, metrics } = setup();
    const progressing: CanaryStatus = { phase: "Progressing", analysisStartedAt: new Date(T0).toISOString() };
    metrics.observeStatus(canary(progressing, { iterations: 5 }, "bg"), { phase: "Failed" });
    metrics.observeStatus(canary(progressing, { iterations: 5, mirror: true }, "mirror"), { phase: "Failed" });
    metrics.observeStatus(canary(progressing, { iterations: 5, match: [{ headers: { "x-user": { exact: "beta" } } }] }, "ab"), { phase: "Succeeded" });
    const s = await samples(registry);
    assert.equal(s.get(key("aviary_canary_runs_total", { strategy: "blue-green", result: "failed" })), 1);
    assert.equal(s.get(key("aviary_canary_runs_total", { strategy: "blue-green-mirroring", result: "failed" })), 1);
    assert.equal(s.get(key("aviary_canary_runs_total", { strategy: "ab-testing", result: "succeeded" })), 1);
    assert.equal(runStrategyOf(canary(undefined, {})), "blue-green");
  });

  it("counts a run without an analysis start (rejected at a gate) but observes no duration", async () => {
    const { registry, metrics } = setup();
    metrics.observeStatus(canary({ phase: "Waiting" }), { phase: "Failed" });
    const s = await samples(registry);
    assert.equal(s.get(key("aviary_canary_runs_total", { strategy: "canary", result: "failed" })), 1);
    assert.equal(s.has(key("aviary_canary_run_duration_seconds_count", { strategy: "canary", result: "failed" })), false);
  });

  it("keeps each metric check's last value and verdict, and drops checks that left the status", async () => {
    const { registry, metrics } = setup();
    const id = { namespace: "shop", name: "podinfo" };
    metrics.observeStatus(canary({ phase: "Progressing" }), {
      phase: "Progressing",
      lastAnalysis: [
        metricResult("request-success-rate", "pass", 99.5),
        metricResult("request-duration", "fail", 812),
        { name: "load-test", kind: "webhook", verdict: "pass", message: "", time: "2025-01-01T00:00:00Z" },
      ],
    });
    let s = await samples(registry);
    assert.equal(s.get(key("aviary_canary_metric_value", { ...id, metric: "request-success-rate" })), 99.5);
    assert.equal(s.get(key("aviary_canary_metric_value", { ...id, metric: "request-duration" })), 812);
    assert.equal(s.get(key("aviary_canary_metric_verdict", { ...id, metric: "request-duration", verdict: "fail" })), 1);
    assert.equal(s.get(key("aviary_canary_metric_verdict", { ...id, metric: "request-duration", verdict: "pass" })), 0);
    assert.equal(s.has(key("aviary_canary_metric_value", { ...id, metric: "load-test" })), false, "webhooks are not metric checks");

    // The next check: no data for the success rate (its old value must not linger), duration gone.
    metrics.observeStatus(canary({ phase: "Progressing" }), { phase: "Progressing", lastAnalysis: [metricResult("request-success-rate", "nodata")] });
    s = await samples(registry);
    assert.equal(s.has(key("aviary_canary_metric_value", { ...id, metric: "request-success-rate" })), false);
    assert.equal(s.get(key("aviary_canary_metric_verdict", { ...id, metric: "request-success-rate", verdict: "nodata" })), 1);
    assert.equal(s.get(key("aviary_canary_metric_verdict", { ...id, metric: "request-success-rate", verdict: "pass" })), 0);
    assert.equal([...s.keys()].some((k) => k.includes("metric=request-duration")), false);

    // A new run clears lastAnalysis: no metric series remain.
    metrics.observeStatus(canary({ phase: "Succeeded" }), { phase: "Progressing" });
    s = await samples(registry);
    assert.equal([...s.keys()].some((k) => k.startsWith("aviary_canary_metric_")), false);
  });

  it("forgets every series of a deleted Canary and leaves the others alone", async () => {
    const { registry, metrics } = setup();
    const status: CanaryStatus = { phase: "Progressing", canaryWeight: 20, lastAnalysis: [metricResult("request-success-rate", "pass", 100)] };
    metrics.observeStatus(canary({ phase: "Progressing" }, undefined, "podinfo"), status);
    metrics.observeStatus(canary({ phase: "Progressing" }, undefined, "cart"), status);
    metrics.forgetCanary("shop", "podinfo");
    const s = await samples(registry);
    assert.equal([...s.keys()].some((k) => k.startsWith("aviary_canary_") && k.includes("name=podinfo")), false);
    assert.equal(s.get(key("aviary_canary_weight", { namespace: "shop", name: "cart", workload: "canary" })), 20);
    assert.equal(s.get(key("aviary_canary_metric_value", { namespace: "shop", name: "cart", metric: "request-success-rate" })), 100);
  });

  it("times reconciles and counts errors by kind, rethrowing what the reconcile threw", async () => {
    const { registry, metrics } = setup();
    const reconcile = metrics.timeReconcile(async (key: string) => {
      if (key === "shop/broken") throw Object.assign(new Error("conflict"), { retryable: true });
      if (key === "bad key") throw Object.assign(new Error("bad work-queue key"), { retryable: false });
      return { requeueAfterMs: 1000 };
    });
    assert.deepEqual(await reconcile("shop/podinfo"), { requeueAfterMs: 1000 });
    await assert.rejects(reconcile("shop/broken"), /conflict/);
    await assert.rejects(reconcile("bad key"), /bad work-queue key/);
    metrics.observeReconcile(0.2);
    const s = await samples(registry);
    assert.equal(s.get(key("aviary_reconcile_duration_seconds_count", { result: "success" })), 2);
    assert.equal(s.get(key("aviary_reconcile_duration_seconds_count", { result: "error" })), 2);
    assert.equal(s.get(key("aviary_reconcile_duration_seconds_bucket", { result: "success", le: "0.25" })), 2);
    assert.equal(s.get(key("aviary_reconcile_errors_total", { kind: "retryable" })), 1);
    assert.equal(s.get(key("aviary_reconcile_errors_total", { kind: "terminal" })), 1);
  });

  it("classifies errors: retryable unless they say retryable false", () => {
    assert.equal(errorKind(new Error("x")), "retryable");
    assert.equal(errorKind(Object.assign(new Error("x"), { retryable: false })), "terminal");
    assert.equal(errorKind("a string"), "retryable");
  });

  it("reads the work-queue gauges at scrape time from the current source", async () => {
    const { registry, metrics } = setup();
    let s = await samples(registry);
    assert.equal(s.get(key("aviary_workqueue_depth")), 0, "no controller: zero");
    let depth = 3;
    metrics.setQueueSource(() => ({ depth: () => depth, inFlight: () => 2, delayed: () => 7 }));
    s = await samples(registry);
    assert.equal(s.get(key("aviary_workqueue_depth")), 3);
    assert.equal(s.get(key("aviary_workqueue_in_flight")), 2);
    assert.equal(s.get(key("aviary_workqueue_delayed")), 7);
    depth = 0;
    s = await samples(registry);
    assert.equal(s.get(key("aviary_workqueue_depth")), 0);
  });

  it("shows leader status, 0 until the lease is held", async () => {
    const { registry, metrics } = setup();
    assert.equal((await samples(registry)).get(key("aviary_leader_status")), 0);
    metrics.setLeader(true);
    assert.equal((await samples(registry)).get(key("aviary_leader_status")), 1);
    metrics.setLeader(false);
    assert.equal((await samples(registry)).get(key("aviary_leader_status")), 0);
  });

  it("drops the canary series when the lease is lost, keeping the process's totals", async () => {
    const { registry, metrics } = setup();
    metrics.setLeader(true);
    const running: CanaryStatus = { phase: "Progressing", analysisStartedAt: new Date(T0).toISOString() };
    metrics.observeStatus(canary(running), { phase: "Succeeded", lastAnalysis: [metricResult("request-success-rate", "pass", 100)] });
    metrics.setLeader(false);
    let s = await samples(registry);
    assert.equal([...s.keys()].some((k) => /^aviary_canary_(phase|weight|failed_checks|metric_)/.test(k)), false);
    assert.equal(s.get(key("aviary_canary_runs_total", { strategy: "canary", result: "succeeded" })), 1);
    // Leading again, the first reconcile publishes them anew (and the metric series are tracked again).
    metrics.setLeader(true);
    metrics.observeStatus(canary({ phase: "Succeeded" }), { phase: "Succeeded", lastAnalysis: [metricResult("request-success-rate", "pass", 99)] });
    metrics.forgetCanary("shop", "podinfo");
    s = await samples(registry);
    assert.equal([...s.keys()].some((k) => k.startsWith("aviary_canary_metric_")), false);
  });

  it("records admission latency by route and outcome, and counts only denials as rejections", async () => {
    const { registry, metrics } = setup();
    const admission: AdmissionMetrics = metrics.admission;
    admission.observe({ route: "/validate/canaries", outcome: "denied", seconds: 0.002 });
    admission.observe({ route: "/validate/canaries", outcome: "allowed", seconds: 0.001 });
    admission.observe({ route: "/mutate/deployments", outcome: "patched", seconds: 0.0008 });
    admission.observe({ route: "/mutate/deployments", outcome: "error", seconds: 2.1 });
    const s = await samples(registry);
    assert.equal(s.get(key("aviary_webhook_request_duration_seconds_count", { route: "/validate/canaries", outcome: "denied" })), 1);
    assert.equal(s.get(key("aviary_webhook_request_duration_seconds_bucket", { route: "/mutate/deployments", outcome: "patched", le: "0.001" })), 1);
    assert.equal(s.get(key("aviary_webhook_request_duration_seconds_bucket", { route: "/mutate/deployments", outcome: "error", le: "2.5" })), 1);
    assert.equal(s.get(key("aviary_webhook_rejections_total", { route: "/validate/canaries" })), 1);
    assert.equal(s.has(key("aviary_webhook_rejections_total", { route: "/mutate/deployments" })), false);
  });

  it("counts alert sends by provider and result", async () => {
    const { registry, metrics } = setup();
    const hook: AlertMetricsHook = metrics.alerts;
    hook.sent("slack", true);
    hook.sent("slack", true);
    hook.sent("msteams", false);
    const s = await samples(registry);
    assert.equal(s.get(key("aviary_alert_sends_total", { provider: "slack", result: "sent" })), 2);
    assert.equal(s.get(key("aviary_alert_sends_total", { provider: "msteams", result: "failed" })), 1);
  });

  it("keeps instances apart: two registries, two sets of series", async () => {
    const a = setup();
    const b = setup();
    a.metrics.setLeader(true);
    assert.equal((await samples(a.registry)).get(key("aviary_leader_status")), 1);
    assert.equal((await samples(b.registry)).get(key("aviary_leader_status")), 0);
  });
});
