/**
 * Google Cloud Monitoring (Stackdriver): an MQL query through the Monitoring API's
 * `POST <address>/v3/projects/<project>/timeSeries:query` (the QueryTimeSeries call
 * Flagger's client makes), `address` defaulting to https://monitoring.googleapis.com.
 * The Secret holds `project` (required) and, optionally, `serviceAccountKey` (a key file);
 * without a key the token comes from the metadata server (Workload Identity), as in Flagger.
 *
 * The value is the newest point of the one time series: MQL lists points newest first,
 * and a point's value is a `doubleValue` or an `int64Value`. No series or no points is no
 * data; several series, or several value columns, is a query that needs a `group_by`.
 */
import type { MetricProvider, ProviderInit, QueryOptions } from "./types.ts";
import { MetricConfigError, MultipleValuesError, NoValuesError, ProviderError } from "./types.ts";
import type { HttpResponse } from "./http.ts";
import { assertOk, httpRequest, parseJsonBody, toFiniteNumber } from "./http.ts";
import type { GoogleTokenCache, ServiceAccountKey } from "./google-auth.ts";
import { googleAccessToken, parseServiceAccountKey } from "./google-auth.ts";

export const MONITORING_DEFAULT_ADDRESS = "https://monitoring.googleapis.com";

export interface StackdriverOptions {
  timeoutMs: number;
  now: () => Date;
  tokenCache: GoogleTokenCache;
  /** The metadata server for keyless credentials (default http://metadata.google.internal). */
  metadataAddress?: string | undefined;
}

export function createStackdriverProvider(init: ProviderInit, opts: StackdriverOptions): MetricProvider {
  const project = init.secret.project?.trim();
  if (!project) throw new MetricConfigError("stackdriver provider needs project in its secretRef");
  const keyJson = init.secret.serviceAccountKey;
  const key: ServiceAccountKey | undefined = keyJson ? parseServiceAccountKey(keyJson) : undefined;
  const base = (init.spec.address?.trim() || MONITORING_DEFAULT_ADDRESS).replace(/\/+$/, "");
  const url = `${base}/v3/projects/${encodeURIComponent(project)}/timeSeries:query`;
  const tokenOpts = {
    timeoutMs: opts.timeoutMs,
    now: opts.now,
    cache: opts.tokenCache,
    ...(opts.metadataAddress ? { metadataAddress: opts.metadataAddress } : {}),
  };

  const post = async (query: string, signal?: AbortSignal): Promise<HttpResponse> => {
    const token = await googleAccessToken(key, tokenOpts, signal);
    return httpRequest({
      url,
      method: "POST",
      headers: { accept: "application/json", ...init.spec.headers, "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ query }),
      insecureSkipVerify: init.spec.insecureSkipVerify,
      timeoutMs: opts.timeoutMs,
      signal,
    });
  };

  return {
    type: "stackdriver",
    async runQuery(mql: string, qopts?: QueryOptions): Promise<number> {
      return parseTimeSeriesQueryResponse(await post(mql, qopts?.signal));
    },
  };
}

const WHAT = "stackdriver MQL query";

/** The newest value of the one series in a `timeSeries:query` answer. */
export function parseTimeSeriesQueryResponse(res: HttpResponse): number {
  const body = parseJsonBody(WHAT, res) as { timeSeriesData?: unknown; error?: { message?: unknown; status?: unknown } } | null;
  const apiError = typeof body?.error?.message === "string" ? `${typeof body.error.status === "string" ? `${body.error.status}: ` : ""}${body.error.message}` : undefined;
  assertOk(WHAT, res, apiError);
  if (body === null || typeof body !== "object") throw malformed(res, "the body is not a JSON object");
  const series = body.timeSeriesData ?? [];
  if (!Array.isArray(series)) throw malformed(res, "timeSeriesData is not a list");
  if (series.length === 0) throw new NoValuesError(`${WHAT} returned no time series`);
  if (series.length > 1) throw new MultipleValuesError(`${WHAT} returned ${series.length} time series; aggregate them with group_by`, series.length);
  const points = (series[0] as { pointData?: unknown } | null)?.pointData ?? [];
  if (!Array.isArray(points)) throw malformed(res, "pointData is not a list");
  if (points.length === 0) throw new NoValuesError(`${WHAT} returned a time series with no points`);
  const values = (points[0] as { values?: unknown } | null)?.values;
  if (!Array.isArray(values) || values.length === 0) throw new NoValuesError(`${WHAT} returned a point with no values`);
  if (values.length > 1) throw new MultipleValuesError(`${WHAT} returned ${values.length} value columns; keep one`, values.length);
  const typed = values[0] as { doubleValue?: unknown; int64Value?: unknown } | null;
  const raw = typed?.doubleValue ?? typed?.int64Value;
  // The JSON mapping writes NaN and infinities as strings: no usable value.
  if (raw === "NaN" || raw === "Infinity" || raw === "-Infinity") throw new NoValuesError(`${WHAT} returned ${raw}`);
  const value = toFiniteNumber(raw);
  if (value === undefined) throw malformed(res, `the value ${JSON.stringify(values[0])} is not a doubleValue or int64Value`);
  return value;
}

function malformed(res: HttpResponse, why: string): ProviderError {
  return new ProviderError(`${WHAT}: malformed response: ${why}`, { status: res.status, code: "MalformedResponse", retryable: false });
}
