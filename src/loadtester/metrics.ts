/**
 * The load tester's own Prometheus series, on a Registry its owner passes in. Labels are
 * closed sets (tool, outcome class, mode, result), never canary names or URLs from a
 * payload, so a caller cannot grow the series without bound.
 */
import { Counter, Gauge, Histogram } from "prom-client";
import type { Registry } from "prom-client";

export type RunMode = "background" | "blocking";
export type RunResult = "completed" | "cancelled" | "deduplicated" | "refused" | "busy";

export interface LoadTesterMetrics {
  request(tool: string, outcome: string, latencySeconds: number): void;
  run(mode: RunMode | "none", result: RunResult): void;
  setActive(count: number): void;
}

export function createLoadTesterMetrics(registry: Registry): LoadTesterMetrics {
  const requests = new Counter({
    name: "aviary_loadtester_requests_total",
    help: "Requests sent by load-test runs, by tool (hey, ghz) and outcome (ok or the class of failure)",
    labelNames: ["tool", "outcome"] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: "aviary_loadtester_request_duration_seconds",
    help: "Time from sending a load-test request to the end of its answer",
    labelNames: ["tool"] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const runs = new Counter({
    name: "aviary_loadtester_runs_total",
    help: "Webhook calls by mode and result: completed, cancelled, deduplicated (already running), refused (bad command or bound), busy (too many runs)",
    labelNames: ["mode", "result"] as const,
    registers: [registry],
  });
  const active = new Gauge({ name: "aviary_loadtester_active_runs", help: "Load-test runs in progress", registers: [registry] });
  return {
    request(tool, outcome, seconds) {
      requests.inc({ tool, outcome });
      latency.observe({ tool }, seconds);
    },
    run: (mode, result) => runs.inc({ mode, result }),
    setActive: (count) => active.set(count),
  };
}
