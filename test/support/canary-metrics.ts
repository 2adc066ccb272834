/**
 * Peers and observers for the canary runs driven by real metrics: the Prometheus scrape
 * config that labels a simulated workload as a Canary's pods, a feed that keeps putting a
 * Synthetics SuccessPercent into moto while a run goes, and small readers of the Canary's
 * analysis, events and condition.
 */
import type { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { PutMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import { eventually, kubectlOk } from "./kubectl.ts";
import { CANARY_POD, PRIMARY_POD } from "./traffic-exporter.ts";
import type { TrafficExporter } from "./traffic-exporter.ts";
import { apply, canary, deployment, events, routeWeights, waitForCanary, waitForPhase } from "./canary-fixtures.ts";
import type { CanaryObject, CanaryOptions } from "./canary-fixtures.ts";

export { waitForCanary };

export interface AnalysisEntry {
  name: string;
  verdict: string;
  message: string;
  value?: number;
  query?: string;
}

/** A workload whose series Prometheus scrapes as the pods of Deployment `target` and its primary. */
export interface ScrapedWorkload {
  exporter: TrafficExporter;
  namespace: string;
  target: string;
}

/**
 * Pod names as a ReplicaSet makes them: the canary's `<target>-<rs hash>-<pod hash>` is what
 * the built-in `pod=~` matcher selects; `<target>-primary-…` serves worse than any canary
 * (traffic-exporter's primary), so a query that read the primary would show it.
 */
export const canaryPod = (target: string): string => `${target}-${CANARY_POD.split("-").slice(1).join("-")}`;
export const primaryPod = (target: string): string => `${target}-primary-${PRIMARY_POD.split("-").slice(2).join("-")}`;

/** Scrapes every workload every second, with the `namespace`/`pod` target labels the built-ins read. */
export function scrapeConfig(workloads: readonly ScrapedWorkload[]): string {
  const jobs = workloads.flatMap((w) => {
    const host = new URL(w.exporter.url).host;
    const job = (name: string, exportedPod: string, pod: string) => `
  - job_name: ${name}
    metrics_path: /metrics/app/${exportedPod}
    static_configs:
      - targets: ["${host}"]
        labels: { namespace: "${w.namespace}", pod: "${pod}" }`;
    return [job(`${w.target}-canary`, CANARY_POD, canaryPod(w.target)), job(`${w.target}-primary`, PRIMARY_POD, primaryPod(w.target))];
  });
  return `global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:${jobs.join("")}
`;
}

/**
 * Waits until Prometheus answers `query` with a sample. Prometheus scrapes its first
 * targets only some seconds after it is ready (service discovery updates are throttled),
 * and a run that started before would see no data for reasons of the test's making.
 */
export async function waitForSample(prometheusUrl: string, query: string, timeoutMs = 30_000): Promise<void> {
  await eventually(`Prometheus to answer ${query}`, async () => {
    const url = `${prometheusUrl}/api/v1/query?query=${encodeURIComponent(query)}`;
    const body = (await (await fetch(url, { signal: AbortSignal.timeout(2000) })).json()) as { data?: { result?: unknown[] } };
    return (body.data?.result?.length ?? 0) > 0 || undefined;
  }, timeoutMs, 250);
}

/** Puts `value` as the SuccessPercent of one Synthetics canary step every `everyMs`, stamped now. */
export interface SyntheticsFeed {
  value: number;
  puts: number;
  stop(): Promise<void>;
}

export function startSyntheticsFeed(sdk: CloudWatchClient, canaryName: string, stepName: string, value: number, everyMs = 500): SyntheticsFeed {
  let running = true;
  const feed: SyntheticsFeed = { value, puts: 0, stop: async () => { running = false; await loop; } };
  const loop = (async () => {
    while (running) {
      await sdk.send(new PutMetricDataCommand({
        Namespace: "CloudWatchSynthetics",
        MetricData: [{
          MetricName: "SuccessPercent",
          Dimensions: [{ Name: "CanaryName", Value: canaryName }, { Name: "StepName", Value: stepName }],
          Value: feed.value,
          Unit: "Percent",
          Timestamp: new Date(),
        }],
      }), { abortSignal: AbortSignal.timeout(5000) }).then(() => feed.puts++, () => undefined);
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return feed;
}

/** Applies a Deployment `<name>:1` and its Canary, waits for Initialized, then deploys `<name>:2`. */
export async function startRun(ns: string, name: string, opts: CanaryOptions): Promise<void> {
  await apply(ns, deployment(name, `${name}:1`, { replicas: 1 }));
  await apply(ns, canary(name, opts));
  await waitForPhase(ns, name, "Initialized", 60_000);
  await kubectlOk(["set", "image", `deployment/${name}`, `app=${name}:2`, "-n", ns]);
}

/**
 * Waits for the run to end (Succeeded or Failed) and fails at once, with the analysis and
 * the condition, when it ended the other way than `expected`.
 */
export async function waitForVerdict(ns: string, name: string, expected: "Succeeded" | "Failed", timeoutMs = 90_000): Promise<CanaryObject> {
  const c = await waitForCanary(ns, name, `canary ${name} to end ${expected}`, (x) => x.status?.phase === "Succeeded" || x.status?.phase === "Failed", timeoutMs);
  if (c.status?.phase !== expected) {
    throw new Error(`canary ${name} ended ${c.status?.phase}, expected ${expected}: ${promotedMessage(c)}; lastAnalysis ${JSON.stringify(analysisOf(c))}`);
  }
  return c;
}

export const analysisOf = (c: CanaryObject): AnalysisEntry[] => (c.status?.lastAnalysis ?? []) as AnalysisEntry[];

export const promotedMessage = (c: CanaryObject): string => c.status?.conditions?.find((x) => x.type === "Promoted")?.message ?? "";

export async function eventsWith(ns: string, name: string, reason: string): Promise<string[]> {
  return (await events(ns, name)).filter((e) => e.reason === reason).map((e) => e.message);
}

/** Waits until the HTTPRoute sends at least `weight`% to the canary (a check at the step below passed). */
export async function waitForWeight(ns: string, name: string, weight: number, timeoutMs = 60_000): Promise<void> {
  await eventually(`canary ${name} at weight >= ${weight}`, async () => ((await routeWeights(ns, name))?.canary ?? 0) >= weight || undefined, timeoutMs, 100);
}

/** The number printed in a verdict sentence such as `request-success-rate 93.1% < 99%`. */
export function measured(message: string, pattern: RegExp): number {
  const m = pattern.exec(message);
  if (!m?.[1]) throw new Error(`"${message}" does not match ${pattern}`);
  return Number(m[1]);
}
