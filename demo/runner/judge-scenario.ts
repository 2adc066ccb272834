/**
 * The demo's judge scenario: after the fixed-threshold releases, the same Canary is switched
 * to the judge (`compare` on the success rate: the canary against its primary, over the
 * same windows) and two more releases go out:
 *
 *   4.0.0          a good release, shipped during a shared incident (both versions answer 5%
 *                  of requests with 500 and twice as slowly while the incident file exists):
 *                  a fixed 99% threshold would roll it back, the judge promotes it;
 *   5.0.0-errors2  a subtle regression, 2 more points of 500: the judge rolls it back, and
 *                  its sentence says by how much the canary is worse.
 */
import { rm, writeFile } from "node:fs/promises";
import type { KubeObject } from "../../src/kube/types.ts";
import { appCanary } from "../manifests.ts";
import { KubectlError } from "./kubectl.ts";

export const JUDGE_RELEASES = [
  {
    version: "4.0.0",
    expect: "Succeeded",
    story: "the judge, a good release during a shared incident: 4.0.0 is healthy, but for 20 s both versions answer 5% with 500",
    incidentMs: 20_000,
  },
  {
    version: "5.0.0-errors2",
    expect: "Failed",
    story: "the judge, a subtle regression: 5.0.0-errors2 answers 2% of requests with 500, the primary none",
    incidentMs: 0,
  },
] as const;

/** The demo's Canary with the judge: more, smaller steps, so each run sees enough requests. */
export function judgedCanary(name: string, namespace: string, interval: string): KubeObject {
  return appCanary(name, namespace, {
    interval,
    threshold: 2,
    stepWeight: 10,
    maxWeight: 90,
    metricInterval: interval,
    successMin: 99,
    durationMaxMs: 500,
    metrics: [
      // Not enough data (no 5xx in either arm yet) holds nothing back: skip counts neither way.
      { name: "request-success-rate", onNoData: "skip", compare: { tolerance: 1.2, confidence: 0.99, minRequests: 100 } },
      { name: "request-duration", interval, thresholdRange: { max: 1000 } },
    ],
  });
}

/** Starts the incident now and ends it after `ms` (or at `stop()`, whichever comes first). */
export async function startIncident(file: string, ms: number): Promise<{ stop(): Promise<void> }> {
  await writeFile(file, "");
  const timer = setTimeout(() => void rm(file, { force: true }), ms);
  return {
    stop: async () => {
      clearTimeout(timer);
      await rm(file, { force: true });
    },
  };
}

/**
 * Applies the judged Canary. Right after the CRDs are applied the API server may still
 * decode with the schema it had (it rebuilds its handler in the background), and refuse
 * `compare` as an unknown field: that is retried for up to 30 s, anything else is not.
 */
export async function applyJudgedCanary(apply: () => Promise<unknown>, signal: AbortSignal): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await apply();
      return;
    } catch (err) {
      const stale = err instanceof KubectlError && err.message.includes('unknown field "spec.analysis.metrics[0].compare"');
      if (!stale || Date.now() > deadline || signal.aborted) throw err;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}
