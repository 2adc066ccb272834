/**
 * `aviary_kube_requests_total{verb,kind}`: the requests aviary sent to the API server,
 * read from the client's RequestCounter at scrape time (the counter is the one source of
 * truth; this only exposes it).
 */
import { Counter, Histogram } from "prom-client";
import type { Registry } from "prom-client";
import type { RequestCounter } from "../kube/request-counter.ts";

export function registerKubeRequestMetric(registry: Registry, counter: RequestCounter): void {
  new Counter({
    name: "aviary_kube_requests_total",
    help: "Requests sent to the Kubernetes API server, by verb and kind (a watch counts once when it opens)",
    labelNames: ["verb", "kind"],
    registers: [registry],
    collect() {
      this.reset();
      for (const [key, count] of Object.entries(counter.snapshot().byVerbKind)) {
        const [verb = "", kind = ""] = key.split(" ");
        this.inc({ verb, kind }, count);
      }
    },
  });
}

/**
 * `aviary_kube_rate_limit_wait_seconds`: how long requests waited for the client-side rate
 * limit (--kube-api-qps, --kube-api-burst) before they were sent; most wait 0. Requests in the
 * buckets above 1 s are stalls: the limit, not the API server, held the controller back.
 */
export function registerRateLimitWaitMetric(registry: Registry): (waitedMs: number) => void {
  const histogram = new Histogram({
    name: "aviary_kube_rate_limit_wait_seconds",
    help: "Time requests to the Kubernetes API server waited for the client-side rate limit (--kube-api-qps, --kube-api-burst)",
    buckets: [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5],
    registers: [registry],
  });
  return (waitedMs) => histogram.observe(waitedMs / 1000);
}
