/**
 * The simulated mesh's answers as CloudWatch metrics, in the shape an Application Load
 * Balancer publishes per target group: every second, for each backend that served requests,
 * `RequestCount`, `HTTPCode_Target_5XX_Count` (zero included, so "no data" means no traffic)
 * and `TargetResponseTime` (seconds, average), dimension `TargetGroup=<namespace>/<deployment>`.
 * PutMetricData goes to whatever endpoint the client points at (moto in the tests).
 */
import { PutMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import type { CloudWatchClient, MetricDatum } from "@aws-sdk/client-cloudwatch";
import type { Logger } from "../../src/observability/logger.ts";
import type { Role } from "./roles.ts";

export const ALB_NAMESPACE = "AWS/ApplicationELB";

export interface TargetGroupTally {
  requests: number;
  errors5xx: number;
  latencySumMs: number;
}

/** The metric data of one interval's tallies, stamped `time`. Pure. */
export function albMetricData(tallies: ReadonlyMap<string, TargetGroupTally>, time: Date): MetricDatum[] {
  return [...tallies].flatMap(([targetGroup, t]) => {
    if (t.requests === 0) return [];
    const Dimensions = [{ Name: "TargetGroup", Value: targetGroup }];
    return [
      { MetricName: "RequestCount", Dimensions, Value: t.requests, Unit: "Count", Timestamp: time },
      { MetricName: "HTTPCode_Target_5XX_Count", Dimensions, Value: t.errors5xx, Unit: "Count", Timestamp: time },
      { MetricName: "TargetResponseTime", Dimensions, Value: t.latencySumMs / t.requests / 1000, Unit: "Seconds", Timestamp: time },
    ];
  });
}

export interface CloudWatchPublisher {
  /** Hand to the mesh as `onResponse`. */
  observe(role: Role, status: number, latencyMs: number): void;
  /** Puts what is left and stops. */
  stop(): Promise<void>;
  /** PutMetricData calls that succeeded. */
  puts(): number;
}

export function startCloudWatchPublisher(opts: { client: Pick<CloudWatchClient, "send">; logger: Logger; everyMs?: number; namespace?: string }): CloudWatchPublisher {
  let tallies = new Map<string, TargetGroupTally>();
  let puts = 0;
  let lastError = "";
  let inFlight: Promise<void> = Promise.resolve();
  const flush = () => {
    const data = albMetricData(tallies, new Date());
    tallies = new Map();
    if (data.length === 0) return;
    inFlight = inFlight.then(() =>
      opts.client
        .send(new PutMetricDataCommand({ Namespace: opts.namespace ?? ALB_NAMESPACE, MetricData: data }), { abortSignal: AbortSignal.timeout(5_000) })
        .then(() => {
          puts++;
          lastError = "";
        })
        .catch((err: unknown) => {
          const message = err instanceof Error ? err.message : String(err);
          if (message !== lastError) opts.logger.warn("PutMetricData failed; the next interval tries again", { err });
          lastError = message;
        }),
    );
  };
  const timer = setInterval(flush, opts.everyMs ?? 1_000);
  return {
    observe(role, status, latencyMs) {
      const key = `${role.upstream.namespace}/${role.deployment}`;
      const t = tallies.get(key) ?? { requests: 0, errors5xx: 0, latencySumMs: 0 };
      t.requests++;
      if (status >= 500) t.errors5xx++;
      t.latencySumMs += latencyMs;
      tallies.set(key, t);
    },
    async stop() {
      clearInterval(timer);
      flush();
      await inFlight;
    },
    puts: () => puts,
  };
}
