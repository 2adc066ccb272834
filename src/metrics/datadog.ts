/**
 * Datadog: the metrics query API `GET /api/v1/query?from=&to=&query=` over a window that
 * ends now, with the keys from the Secret (`datadog_api_key` → `DD-API-KEY`,
 * `datadog_application_key` → `DD-APPLICATION-KEY`). The value is the newest non-null
 * point of the only series; no series or only null points is no data. `spec.provider.address`
 * selects the site (default https://api.datadoghq.com).
 */
import type { MetricProvider, ProviderInit, QueryOptions } from "./types.ts";
import { MetricConfigError, MultipleValuesError, NoValuesError, ProviderError, defaultLookbackMs } from "./types.ts";
import type { HttpResponse } from "./http.ts";
import { assertOk, httpRequest, parseJsonBody, toFiniteNumber } from "./http.ts";
import { parseWindowMs } from "./duration.ts";

export const DATADOG_DEFAULT_ADDRESS = "https://api.datadoghq.com";

export interface DatadogOptions {
  timeoutMs: number;
  now: () => Date;
}

export function createDatadogProvider(init: ProviderInit, opts: DatadogOptions): MetricProvider {
  const apiKey = init.secret.datadog_api_key;
  const appKey = init.secret.datadog_application_key;
  if (!apiKey || !appKey) {
    throw new MetricConfigError("datadog provider needs datadog_api_key and datadog_application_key in its secretRef");
  }
  const base = (init.spec.address?.trim() || DATADOG_DEFAULT_ADDRESS).replace(/\/+$/, "");
  const headers = {
    accept: "application/json",
    ...init.spec.headers,
    "DD-API-KEY": apiKey,
    "DD-APPLICATION-KEY": appKey,
  };
  const lookbackMs = init.spec.window ? parseWindowMs(init.spec.window, "datadog") : defaultLookbackMs(init.intervalMs);

  const get = (path: string, signal?: AbortSignal) =>
    httpRequest({
      url: `${base}${path}`,
      headers,
      insecureSkipVerify: init.spec.insecureSkipVerify,
      timeoutMs: opts.timeoutMs,
      signal,
    });

  return {
    type: "datadog",
    async runQuery(query: string, qopts?: QueryOptions): Promise<number> {
      const to = Math.floor(opts.now().getTime() / 1000);
      const from = to - Math.ceil(lookbackMs / 1000);
      const params = new URLSearchParams({ from: String(from), to: String(to), query });
      return parseDatadogResponse(await get(`/api/v1/query?${params.toString()}`, qopts?.signal));
    },
  };
}

const WHAT = "datadog query";

/** The newest non-null point of the single series in a `/api/v1/query` answer. */
export function parseDatadogResponse(res: HttpResponse): number {
  const body = parseJsonBody(WHAT, res) as { status?: unknown; error?: unknown; errors?: unknown; series?: unknown } | null;
  const apiError = errorText(body);
  assertOk(WHAT, res, apiError);
  if (body === null || typeof body !== "object") throw malformed(res, "the body is not a JSON object");
  if (body.status === "error" || apiError !== undefined) {
    throw new ProviderError(`${WHAT} failed: ${apiError ?? "status error"}`, { status: res.status, retryable: false });
  }
  if (!Array.isArray(body.series)) throw malformed(res, "no series array");
  if (body.series.length === 0) throw new NoValuesError(`${WHAT} returned no series`);
  if (body.series.length > 1) {
    throw new MultipleValuesError(`${WHAT} returned ${body.series.length} series; aggregate the query to one`, body.series.length);
  }
  const pointlist = (body.series[0] as { pointlist?: unknown } | null)?.pointlist;
  if (!Array.isArray(pointlist)) throw malformed(res, "the series has no pointlist");
  for (let i = pointlist.length - 1; i >= 0; i--) {
    const point = pointlist[i] as unknown;
    if (!Array.isArray(point) || point.length < 2) throw malformed(res, `point ${i} is not [timestamp, value]`);
    if (point[1] === null) continue;
    const value = toFiniteNumber(point[1]);
    if (value === undefined) throw malformed(res, `point ${i} value ${JSON.stringify(point[1])} is not a number`);
    return value;
  }
  throw new NoValuesError(`${WHAT} returned a series with no non-null points`);
}

function errorText(body: unknown): string | undefined {
  if (body === null || typeof body !== "object") return undefined;
  const b = body as { error?: unknown; errors?: unknown };
  if (typeof b.error === "string" && b.error !== "") return b.error;
  if (Array.isArray(b.errors) && b.errors.length > 0) return b.errors.map(String).join("; ");
  return undefined;
}

function malformed(res: HttpResponse, why: string): ProviderError {
  return new ProviderError(`${WHAT}: malformed response: ${why}`, { status: res.status, code: "MalformedResponse", retryable: false });
}
