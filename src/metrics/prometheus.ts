/**
 * Prometheus: instant queries over `GET /api/v1/query`.
 *
 * A query must come down to one number. An empty vector, and a sample that is NaN or
 * ±Inf (a rate over no requests divides 0 by 0), is "no values", which the analysis
 * decides on; several series is a query that forgot to aggregate. Auth comes from the
 * Secret (`token` → bearer, else `username`/`password` → basic); template headers are
 * sent as given.
 */
import type { MetricProvider, ProviderInit, QueryOptions } from "./types.ts";
import { MetricConfigError, MultipleValuesError, NoValuesError, ProviderError, isRetryableStatus } from "./types.ts";
import type { HttpResponse } from "./http.ts";
import { authHeaders, httpRequest, parseJsonBody, snippet } from "./http.ts";

export interface PrometheusOptions {
  timeoutMs: number;
}

export function createPrometheusProvider(init: ProviderInit, opts: PrometheusOptions): MetricProvider {
  const address = init.spec.address?.trim();
  if (!address) throw new MetricConfigError("prometheus provider needs spec.provider.address (e.g. http://prometheus:9090)");
  const base = address.replace(/\/+$/, "");
  const headers = { accept: "application/json", ...init.spec.headers, ...authHeaders(init.secret) };

  const query = async (promql: string, signal?: AbortSignal): Promise<number> => {
    const url = `${base}/api/v1/query?${new URLSearchParams({ query: promql }).toString()}`;
    const res = await httpRequest({
      url,
      headers,
      insecureSkipVerify: init.spec.insecureSkipVerify,
      timeoutMs: opts.timeoutMs,
      signal,
    });
    return parsePrometheusResponse(res);
  };

  return {
    type: "prometheus",
    runQuery: (promql: string, qopts?: QueryOptions) => query(promql, qopts?.signal),
  };
}

interface PrometheusEnvelope {
  status?: unknown;
  errorType?: unknown;
  error?: unknown;
  data?: { resultType?: unknown; result?: unknown };
}

const WHAT = "prometheus query";

/** The single value of an instant-query answer, or the typed error that explains why not. */
export function parsePrometheusResponse(res: HttpResponse): number {
  const body = parseJsonBody(WHAT, res) as PrometheusEnvelope | null;
  if (body === null || typeof body !== "object") {
    throw malformed(res, "the body is not a JSON object");
  }
  if (body.status !== "success") {
    const errorType = typeof body.errorType === "string" ? body.errorType : undefined;
    const message = typeof body.error === "string" ? body.error : snippet(res.body);
    // Prometheus answers 400 bad_data for a query it cannot parse, 422 for one it cannot
    // run, 503 for timeouts and cancellations.
    throw new ProviderError(`${WHAT} failed (HTTP ${res.status}${errorType ? `, ${errorType}` : ""}): ${message}`, {
      status: res.status,
      code: errorType,
      retryable: isRetryableStatus(res.status) || errorType === "timeout" || errorType === "canceled",
    });
  }
  if (res.status < 200 || res.status >= 300) throw malformed(res, `HTTP ${res.status} with status "success"`);
  const resultType = body.data?.resultType;
  const result = body.data?.result;
  switch (resultType) {
    case "scalar":
      return sampleValue(result, res);
    case "vector": {
      if (!Array.isArray(result)) throw malformed(res, "data.result of a vector is not an array");
      if (result.length === 0) throw new NoValuesError(`${WHAT} returned an empty vector (no matching series)`);
      if (result.length > 1) {
        throw new MultipleValuesError(
          `${WHAT} returned ${result.length} series; aggregate the query (e.g. sum(...)) to one`,
          result.length,
        );
      }
      const series = result[0] as { value?: unknown } | null;
      return sampleValue(series?.value, res);
    }
    case "matrix":
      throw new ProviderError(`${WHAT} returned a range vector; wrap the range selector in a function such as rate()`, {
        code: "bad_data",
        retryable: false,
      });
    default:
      throw malformed(res, `unexpected resultType ${JSON.stringify(resultType)}`);
  }
}

/** `[<unix seconds>, "<value>"]` → the value; NaN and ±Inf are no values. */
function sampleValue(sample: unknown, res: HttpResponse): number {
  if (!Array.isArray(sample) || sample.length !== 2 || typeof sample[1] !== "string") {
    throw malformed(res, `a sample is not [timestamp, "value"]: ${snippet(JSON.stringify(sample) ?? "undefined")}`);
  }
  const text = sample[1];
  if (text === "NaN" || text === "+Inf" || text === "-Inf") {
    throw new NoValuesError(`${WHAT} returned ${text} (typically a ratio over zero requests)`);
  }
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value)) throw malformed(res, `sample value ${JSON.stringify(text)} is not a number`);
  return value;
}

function malformed(res: HttpResponse, why: string): ProviderError {
  return new ProviderError(`${WHAT}: malformed response: ${why}`, {
    status: res.status,
    code: "MalformedResponse",
    retryable: false,
  });
}
