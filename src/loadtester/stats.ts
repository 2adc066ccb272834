/**
 * What a run sent and what came back: counts by outcome and latency percentiles. Latencies
 * are kept in a fixed-size uniform sample (reservoir sampling, seeded so a run's summary is
 * reproducible), so a 10-minute run at 1000 requests/s costs the same memory as a short one.
 */
import { seededRandom } from "../ground/random.ts";

/** `ok`, or the class of a failure: `http_5xx`, `http_4xx`, `timeout`, `refused`, `reset`, `dns`, `grpc_unavailable`... */
export type Outcome = string;

export interface LatencySummary {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export interface RunTotals {
  requests: number;
  succeeded: number;
  /** Failed requests by class. */
  errors: Record<string, number>;
  /** Answers by HTTP status (hey) or gRPC status (ghz) code. */
  codes: Record<string, number>;
  /** Milliseconds, over every answered or failed request; zeros when none was sent. */
  latencyMs: LatencySummary;
}

const SAMPLE_SIZE = 10_000;

export class RunStats {
  private requests = 0;
  private succeeded = 0;
  private readonly errors: Record<string, number> = {};
  private readonly codes: Record<string, number> = {};
  private readonly sample: number[] = [];
  private latencySum = 0;
  private latencyMax = 0;
  private readonly random: () => number;
  private readonly sampleSize: number;

  constructor(opts: { seed?: number; sampleSize?: number } = {}) {
    this.random = seededRandom(opts.seed ?? 1);
    this.sampleSize = opts.sampleSize ?? SAMPLE_SIZE;
  }

  record(outcome: Outcome, latencyMs: number, code?: string): void {
    this.requests++;
    if (outcome === "ok") this.succeeded++;
    else this.errors[outcome] = (this.errors[outcome] ?? 0) + 1;
    if (code !== undefined) this.codes[code] = (this.codes[code] ?? 0) + 1;
    this.latencySum += latencyMs;
    this.latencyMax = Math.max(this.latencyMax, latencyMs);
    if (this.sample.length < this.sampleSize) {
      this.sample.push(latencyMs);
    } else {
      const slot = Math.floor(this.random() * this.requests);
      if (slot < this.sampleSize) this.sample[slot] = latencyMs;
    }
  }

  totals(): RunTotals {
    const sorted = [...this.sample].sort((a, b) => a - b);
    const round = (x: number) => Math.round(x * 100) / 100;
    return {
      requests: this.requests,
      succeeded: this.succeeded,
      errors: { ...this.errors },
      codes: { ...this.codes },
      latencyMs: {
        p50: round(percentile(sorted, 0.5)),
        p90: round(percentile(sorted, 0.9)),
        p99: round(percentile(sorted, 0.99)),
        max: round(this.latencyMax),
        mean: round(this.requests === 0 ? 0 : this.latencySum / this.requests),
      },
    };
  }
}

/** Nearest-rank percentile of an ascending list; 0 for an empty one. */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[rank - 1]!;
}
