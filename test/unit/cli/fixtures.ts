/** Canaries for the CLI's unit tests: only the fields the CLI reads. */
import type { Canary, CanaryStatus } from "../../../src/api/types.ts";

export function canary(status: CanaryStatus | undefined, opts: { annotations?: Record<string, string>; threshold?: number; iterations?: number; suspend?: boolean } = {}): Canary {
  const analysis: Record<string, unknown> = { interval: "1m", threshold: opts.threshold ?? 5, maxWeight: 50, stepWeight: 10 };
  if (opts.iterations !== undefined) analysis.iterations = opts.iterations;
  return {
    apiVersion: "aviary.dev/v1beta1",
    kind: "Canary",
    metadata: { name: "podinfo", namespace: "shop", resourceVersion: "7", ...(opts.annotations ? { annotations: opts.annotations } : {}) },
    spec: {
      targetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "podinfo" },
      service: { port: 9898 },
      analysis,
      ...(opts.suspend !== undefined ? { suspend: opts.suspend } : {}),
    },
    ...(status !== undefined ? { status } : {}),
  };
}
