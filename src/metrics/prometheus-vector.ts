/**
 * A Prometheus instant query that keeps its series apart: the judge's latency counts come
 * back as one series per histogram bucket (`sum by (le) (...)`), which the one-number port
 * of metric providers cannot carry. Same request, same errors as prometheus.ts; an empty
 * vector is an empty list here (a window without requests), not an error.
 */
import type { ProviderInit } from "./types.ts";
import { MetricConfigError, ProviderError, isRetryableStatus } from "./types.ts";
import { authHeaders, httpRequest, parseJsonBody, snippet } from "./http.ts";

export interface Sample {
  labels: Record<string, string>;
  /** NaN and ±Inf are kept as such: the caller decides what they mean. */
  value: number;
}

export interface VectorQueryOptions {
  timeoutMs: number;
  signal?: AbortSignal | undefined;
}

const WHAT = "prometheus query";

export async function queryPrometheusVector(init: ProviderInit, promql: string, opts: VectorQueryOptions): Promise<Sample[]> {
  const address = init.spec.address?.trim();
  if (!address) throw new MetricConfigError("prometheus provider needs spec.provider.address (e.g. http://prometheus:9090)");
  const url = `${address.replace(/\/+$/, "")}/api/v1/query?${new URLSearchParams({ query: promql }).toString()}`;
  const res = await httpRequest({
    url,
    headers: { accept: "application/json", ...init.spec.headers, ...authHeaders(init.secret) },
    insecureSkipVerify: init.spec.insecureSkipVerify,
    timeoutMs: opts.timeoutMs,
    signal: opts.signal,
  });
  const body = parseJsonBody(WHAT, res) as { status?: unknown; error?: unknown; data?: { resultType?: unknown; result?: unknown } } | null;
  if (body === null || typeof body !== "object") throw malformed(res.status, "the body is not a JSON object");
  if (body.status !== "success") {
    const message = typeof body.error === "string" ? body.error : snippet(res.body);
    throw new ProviderError(`${WHAT} failed (HTTP ${res.status}): ${message}`, { status: res.status, retryable: isRetryableStatus(res.status) });
  }
  const result = body.data?.result;
  if (body.data?.resultType !== "vector" || !Array.isArray(result)) throw malformed(res.status, "expected a vector");
  return result.map((series: unknown) => {
    const s = series as { metric?: unknown; value?: unknown } | null;
    const value = Array.isArray(s?.value) && typeof s.value[1] === "string" ? Number(s.value[1]) : NaN;
    if (!Array.isArray(s?.value) || (Number.isNaN(value) && s.value[1] !== "NaN")) throw malformed(res.status, "a sample is not [timestamp, \"value\"]");
    const labels: Record<string, string> = {};
    if (typeof s?.metric === "object" && s.metric !== null) {
      for (const [k, v] of Object.entries(s.metric)) if (typeof v === "string") labels[k] = v;
    }
    return { labels, value };
  });
}

function malformed(status: number, why: string): ProviderError {
  return new ProviderError(`${WHAT}: malformed response: ${why}`, { status, code: "MalformedResponse", retryable: false });
}
