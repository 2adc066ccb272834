/**
 * `aviary_kube_requests_total{verb,kind}`: the requests aviary sent to the API server,
 * read from the client's RequestCounter at scrape time (the counter is the one source of
 * truth; this only exposes it).
 */
import { Counter } from "prom-client";
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
