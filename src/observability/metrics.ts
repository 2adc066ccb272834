/**
 * aviary's own Prometheus metrics, registered on a Registry that main.ts owns and serves on
 * /metrics. One instance per process; nothing here is a module global.
 *
 * The canary series are level-triggered like the reconciler: `observeStatus` makes them
 * mirror the status just written (phase, weights, failed checks, the last analysis), so a
 * new leader shows the right values after its first reconcile. Run totals and durations
 * count transitions (previous phase → terminal phase), which the status write makes happen
 * exactly once per run, whichever replica wrote it.
 */
import { Counter, Gauge, Histogram } from "prom-client";
import type { Registry } from "prom-client";
import { strategyOf } from "../api/features.ts";
import { ANALYSIS_VERDICTS, CANARY_PHASES } from "../api/types.ts";
import type { Canary, CanaryPhase, CanaryStatus } from "../api/types.ts";
import { errorKind } from "../ground/errors.ts";

/** The strategy label of run metrics. Mirroring is blue/green on a mirrored copy of traffic. */
export type RunStrategyLabel = "canary" | "blue-green" | "blue-green-mirroring" | "ab-testing";

/** What became of an admission request (the webhook server's AdmissionOutcome). */
export type AdmissionOutcomeLabel = "allowed" | "patched" | "denied" | "error" | "invalid";

/** The work queue as the depth gauges read it (controller/workqueue.ts's WorkQueue fits). */
export interface QueueGauges {
  depth(): number;
  inFlight(): number;
  delayed(): number;
}

export interface AviaryMetricsOptions {
  /** Clock for run durations (ms since the epoch). Default Date.now. */
  now?: () => number;
}

export interface AviaryMetrics {
  /**
   * Mirrors a Canary's status into the canary series. `canary.status` is the status the
   * reconcile read, `status` the one it wrote: a change into Succeeded or Failed counts one
   * run and observes its duration (from `analysisStartedAt`).
   */
  observeStatus(canary: Canary, status: CanaryStatus): void;
  /** Drops every series of a Canary that no longer exists. */
  forgetCanary(namespace: string, name: string): void;
  /** One reconcile; `error` is what it threw (absent on success). */
  observeReconcile(seconds: number, error?: unknown): void;
  /** Wraps a reconcile function so each call is timed and its failure counted; rethrows. */
  timeReconcile<A extends unknown[], R>(reconcile: (...args: A) => Promise<R>): (...args: A) => Promise<R>;
  /** Where the queue gauges read from at scrape time; the source may return undefined (no controller). */
  setQueueSource(source: () => QueueGauges | undefined): void;
  /** Leader status; losing the lease drops the canary series (a standby's would go stale). */
  setLeader(leading: boolean): void;
  /** With --shards: how many shards this replica holds (it reconciles only their Canaries). */
  setShardsHeld(held: number): void;
  /** For the webhook server (its AdmissionMetrics interface). */
  readonly admission: { observe(sample: { route: string; outcome: AdmissionOutcomeLabel; seconds: number }): void };
  /** For the alert dispatcher (its AlertMetricsHook interface). */
  readonly alerts: { sent(provider: string, ok: boolean): void };
}

const TERMINAL_PHASES: ReadonlySet<CanaryPhase> = new Set(["Succeeded", "Failed"]);
const FULL_WEIGHT = 100;

/** Runs last minutes to hours: one analysis interval is 1 min by default. */
const RUN_BUCKETS = [30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 28800];
/** A reconcile is a handful of API calls, plus metric queries and webhooks on a check. */
const RECONCILE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Admission sits on every deploy's path; the Deployment webhook's timeout is 2 s. */
const ADMISSION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** The run strategy an analysis selects, named as Flagger's docs name them. */
export function runStrategyOf(canary: Pick<Canary, "spec">): RunStrategyLabel {
  const analysis = canary.spec.analysis;
  switch (strategyOf(analysis)) {
    case "canary":
      return "canary";
    case "ab-testing":
      return "ab-testing";
    // "none" (only reachable with skipAnalysis) runs as blue/green, as the controller does.
    case "blue-green":
    case "none":
      return analysis?.mirror === true ? "blue-green-mirroring" : "blue-green";
  }
}


const parseTime = (iso: string | undefined): number | undefined => {
  if (iso === undefined) return undefined;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? undefined : t;
};

export function createAviaryMetrics(registry: Registry, opts: AviaryMetricsOptions = {}): AviaryMetrics {
  const now = opts.now ?? Date.now;
  const registers = [registry];

  const phase = new Gauge({
    name: "aviary_canary_phase",
    help: "1 for the Canary's current phase, 0 for every other phase",
    labelNames: ["namespace", "name", "phase"] as const,
    registers,
  });
  const weight = new Gauge({
    name: "aviary_canary_weight",
    help: "Percent of traffic routed to each workload of a Canary",
    labelNames: ["namespace", "name", "workload"] as const,
    registers,
  });
  const failedChecks = new Gauge({
    name: "aviary_canary_failed_checks",
    help: "Failed checks of the Canary's current run",
    labelNames: ["namespace", "name"] as const,
    registers,
  });
  const metricValue = new Gauge({
    name: "aviary_canary_metric_value",
    help: "The last value of each metric check (absent when the last check returned no value)",
    labelNames: ["namespace", "name", "metric"] as const,
    registers,
  });
  const metricVerdict = new Gauge({
    name: "aviary_canary_metric_verdict",
    help: "1 for the last verdict of each metric check, 0 for the other verdicts",
    labelNames: ["namespace", "name", "metric", "verdict"] as const,
    registers,
  });
  const runDuration = new Histogram({
    name: "aviary_canary_run_duration_seconds",
    help: "Duration of finished canary runs, from the start of analysis to the verdict",
    labelNames: ["strategy", "result"] as const,
    buckets: RUN_BUCKETS,
    registers,
  });
  const runs = new Counter({
    name: "aviary_canary_runs_total",
    help: "Finished canary runs by strategy and result (succeeded, failed)",
    labelNames: ["strategy", "result"] as const,
    registers,
  });
  const reconcileDuration = new Histogram({
    name: "aviary_reconcile_duration_seconds",
    help: "Duration of Canary reconciles by result (success, error)",
    labelNames: ["result"] as const,
    buckets: RECONCILE_BUCKETS,
    registers,
  });
  const reconcileErrors = new Counter({
    name: "aviary_reconcile_errors_total",
    help: "Reconciles that threw, by error kind (retryable errors are requeued with backoff)",
    labelNames: ["kind"] as const,
    registers,
  });
  let queueSource: () => QueueGauges | undefined = () => undefined;
  const queueGauge = (name: string, help: string, read: (q: QueueGauges) => number) =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        const q = queueSource();
        this.set(q ? read(q) : 0);
      },
    });
  queueGauge("aviary_workqueue_depth", "Canary keys ready to be reconciled", (q) => q.depth());
  queueGauge("aviary_workqueue_in_flight", "Canary keys being reconciled", (q) => q.inFlight());
  queueGauge("aviary_workqueue_delayed", "Canary keys waiting for their requeue time or backoff", (q) => q.delayed());
  const admissionDuration = new Histogram({
    name: "aviary_webhook_request_duration_seconds",
    help: "Admission webhook request latency by route and outcome",
    labelNames: ["route", "outcome"] as const,
    buckets: ADMISSION_BUCKETS,
    registers,
  });
  const admissionRejections = new Counter({
    name: "aviary_webhook_rejections_total",
    help: "Admission requests denied, by route",
    labelNames: ["route"] as const,
    registers,
  });
  const leader = new Gauge({
    name: "aviary_leader_status",
    help: "1 while this replica holds the leader lease (with --shards: at least one shard) and reconciles, else 0",
    registers,
  });
  leader.set(0);
  const shardsHeld = new Gauge({
    name: "aviary_shards_held",
    help: "Shards this replica holds and reconciles the Canaries of (--shards; 0 without sharding)",
    registers,
  });
  shardsHeld.set(0);
  const alertSends = new Counter({
    name: "aviary_alert_sends_total",
    help: "Alert deliveries by provider type and result (sent, failed)",
    labelNames: ["provider", "result"] as const,
    registers,
  });

  /** Metric names with series per Canary key, so checks that left the status lose theirs. */
  const metricNames = new Map<string, Set<string>>();

  const removeMetricSeries = (namespace: string, name: string, metric: string) => {
    metricValue.remove({ namespace, name, metric });
    for (const verdict of ANALYSIS_VERDICTS) metricVerdict.remove({ namespace, name, metric, verdict });
  };

  const observeAnalysis = (namespace: string, name: string, status: CanaryStatus) => {
    const key = `${namespace}/${name}`;
    const seen = new Set<string>();
    for (const result of status.lastAnalysis ?? []) {
      if (result.kind !== "metric") continue;
      const metric = result.name;
      seen.add(metric);
      if (typeof result.value === "number" && Number.isFinite(result.value)) metricValue.set({ namespace, name, metric }, result.value);
      else metricValue.remove({ namespace, name, metric });
      for (const verdict of ANALYSIS_VERDICTS) {
        metricVerdict.set({ namespace, name, metric, verdict }, verdict === result.verdict ? 1 : 0);
      }
    }
    for (const metric of metricNames.get(key) ?? []) {
      if (!seen.has(metric)) removeMetricSeries(namespace, name, metric);
    }
    if (seen.size > 0) metricNames.set(key, seen);
    else metricNames.delete(key);
  };

  const countRun = (canary: Canary, status: CanaryStatus) => {
    const before = canary.status?.phase;
    const after = status.phase;
    if (after === undefined || after === before || !TERMINAL_PHASES.has(after)) return;
    const labels = { strategy: runStrategyOf(canary), result: after === "Succeeded" ? "succeeded" : "failed" };
    runs.inc(labels);
    const started = parseTime(canary.status?.analysisStartedAt) ?? parseTime(status.analysisStartedAt);
    // A run that never started its analysis (rejected at the gate) has no duration to report.
    if (started !== undefined) runDuration.observe(labels, Math.max(0, (now() - started) / 1000));
  };

  const observeReconcile = (seconds: number, error?: unknown) => {
    const failed = error !== undefined;
    reconcileDuration.observe({ result: failed ? "error" : "success" }, Math.max(0, seconds));
    if (failed) reconcileErrors.inc({ kind: errorKind(error) });
  };

  return {
    observeStatus(canary, status) {
      const namespace = canary.metadata.namespace ?? "";
      const name = canary.metadata.name;
      for (const p of CANARY_PHASES) phase.set({ namespace, name, phase: p }, p === status.phase ? 1 : 0);
      const canaryWeight = Math.min(FULL_WEIGHT, Math.max(0, status.canaryWeight ?? 0));
      weight.set({ namespace, name, workload: "canary" }, canaryWeight);
      weight.set({ namespace, name, workload: "primary" }, FULL_WEIGHT - canaryWeight);
      failedChecks.set({ namespace, name }, status.failedChecks ?? 0);
      observeAnalysis(namespace, name, status);
      countRun(canary, status);
    },

    forgetCanary(namespace, name) {
      for (const p of CANARY_PHASES) phase.remove({ namespace, name, phase: p });
      for (const workload of ["primary", "canary"]) weight.remove({ namespace, name, workload });
      failedChecks.remove({ namespace, name });
      const key = `${namespace}/${name}`;
      for (const metric of metricNames.get(key) ?? []) removeMetricSeries(namespace, name, metric);
      metricNames.delete(key);
    },

    observeReconcile,

    timeReconcile(reconcile) {
      return async (...args) => {
        const started = performance.now();
        try {
          const result = await reconcile(...args);
          observeReconcile((performance.now() - started) / 1000);
          return result;
        } catch (err) {
          observeReconcile((performance.now() - started) / 1000, err ?? new Error("reconcile rejected without a reason"));
          throw err;
        }
      };
    },

    setQueueSource(source) {
      queueSource = source;
    },

    setLeader(leading) {
      leader.set(leading ? 1 : 0);
      if (leading) return;
      // A standby reconciles nothing, so its canary series would only go stale; the new
      // leader publishes them from the status after its first reconcile of each Canary.
      for (const gauge of [phase, weight, failedChecks, metricValue, metricVerdict]) gauge.reset();
      metricNames.clear();
    },

    setShardsHeld(held) {
      shardsHeld.set(held);
    },

    admission: {
      observe({ route, outcome, seconds }) {
        admissionDuration.observe({ route, outcome }, Math.max(0, seconds));
        if (outcome === "denied") admissionRejections.inc({ route });
      },
    },

    alerts: {
      sent(provider, ok) {
        alertSends.inc({ provider, result: ok ? "sent" : "failed" });
      },
    },
  };
}
