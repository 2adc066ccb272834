/**
 * What a load command asks for, tool-neutral: where requests go, how they look, how many
 * workers send them, at what rate and for how long. Parsing produces it (hey.ts, ghz.ts);
 * bounds.ts checks it against the service's limits; run.ts carries it out.
 */

export interface HttpRequestTarget {
  kind: "http";
  url: URL;
  method: string;
  headers: Record<string, string>;
  body?: string;
  keepAlive: boolean;
}

/** A gRPC health check (grpc.health.v1.Health/Check) over plaintext HTTP/2. */
export interface GrpcHealthTarget {
  kind: "grpc-health";
  /** `host:port` as written. */
  authority: string;
  /** HealthCheckRequest.service; "" asks about the server as a whole. */
  service: string;
}

export type LoadTarget = HttpRequestTarget | GrpcHealthTarget;

export interface LoadPlan {
  tool: "hey" | "ghz";
  target: LoadTarget;
  /** The host the requests go to, for the target policy (no port, no brackets). */
  host: string;
  /** Workers sending requests one after another. */
  concurrency: number;
  /** Requests per second over all workers; undefined asks for "as fast as possible". */
  ratePerSecond?: number;
  /** Send for this long (hey -z, ghz -z); when set, `requests` is ignored, as the tools do. */
  durationMs?: number;
  /** Send this many requests in all (hey -n, ghz -n). */
  requests: number;
  /** Per-request timeout; 0 asks for none (the run's bound still applies). */
  timeoutMs: number;
}
