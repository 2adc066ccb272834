/**
 * Dynatrace: the metrics API v2, `GET <address>/api/v2/metrics/query` with the query as
 * `metricSelector`, `resolution=Inf` (one value for the whole window) and a window of ten
 * metric intervals ending now (`from`/`to` in epoch milliseconds), as Flagger asks it. The
 * token comes from the Secret's `dynatrace_token` and is sent as `Authorization: Api-Token …`.
 * `spec.provider.address` is the environment URL (https://<id>.live.dynatrace.com).
 *
 * The value is the newest non-null value of the one series. No series, or only nulls, is
 * no data; several metrics or several dimension series is a selector that needs
 * aggregating (`:splitBy()`).
 */
import type { MetricProvider, ProviderInit, QueryOptions } from "./types.ts";
import { MetricConfigError, MultipleValuesError, NoValuesError, ProviderError } from "./types.ts";
import type { HttpResponse } from "./http.ts";
import { assertOk, httpRequest, parseJsonBody, snippet, toFiniteNumber } from "./http.ts";

/** Flagger looks back ten metric intervals. */
export const DYNATRACE_WINDOW_INTERVALS = 10;

export interface DynatraceOptions {
  timeoutMs: number;
  now: () => Date;
}

export function createDynatraceProvider(init: ProviderInit, opts: DynatraceOptions): MetricProvider {
  const address = init.spec.address?.trim();
  if (!address) throw new MetricConfigError("dynatrace provider needs spec.provider.address (e.g. https://abc12345.live.dynatrace.com)");
  const token = init.secret.dynatrace_token;
  if (!token) throw new MetricConfigError("dynatrace provider needs dynatrace_token in its secretRef");
  const base = address.replace(/\/+$/, "");
  const headers = { accept: "application/json", ...init.spec.headers, authorization: `Api-Token ${token}` };
  const windowMs = DYNATRACE_WINDOW_INTERVALS * (init.intervalMs ?? 60_000);

  const get = (pathAndQuery: string, signal?: AbortSignal) =>
    httpRequest({ url: `${base}${pathAndQuery}`, headers, insecureSkipVerify: init.spec.insecureSkipVerify, timeoutMs: opts.timeoutMs, signal });

  return {
    type: "dynatrace",
    async runQuery(selector: string, qopts?: QueryOptions): Promise<number> {
      const to = opts.now().getTime();
      const params = new URLSearchParams({ metricSelector: selector.trim(), resolution: "Inf", from: String(to - windowMs), to: String(to) });
      return parseDynatraceResponse(await get(`/api/v2/metrics/query?${params.toString()}`, qopts?.signal));
    },
  };
}

const WHAT = "dynatrace metrics query";

/** The single value of a `/api/v2/metrics/query` answer. */
export function parseDynatraceResponse(res: HttpResponse): number {
  const body = parseJsonBody(WHAT, res) as { result?: unknown; error?: { message?: unknown } } | null;
  const apiError = typeof body?.error?.message === "string" ? body.error.message : undefined;
  assertOk(WHAT, res, apiError ?? snippet(res.body));
  if (body === null || typeof body !== "object" || !Array.isArray(body.result)) throw malformed(res, "no result list");
  if (body.result.length === 0) throw new NoValuesError(`${WHAT} returned no metric`);
  if (body.result.length > 1) {
    throw new MultipleValuesError(`${WHAT} returned ${body.result.length} metrics; select one`, body.result.length);
  }
  const data = (body.result[0] as { data?: unknown } | null)?.data;
  if (!Array.isArray(data)) throw malformed(res, "the metric has no data list");
  if (data.length === 0) throw new NoValuesError(`${WHAT} returned no series (nothing matched the selector in the window)`);
  if (data.length > 1) {
    throw new MultipleValuesError(`${WHAT} returned ${data.length} series; aggregate them, e.g. with :splitBy()`, data.length);
  }
  const values = (data[0] as { values?: unknown } | null)?.values;
  if (!Array.isArray(values)) throw malformed(res, "the series has no values list");
  for (let i = values.length - 1; i >= 0; i--) {
    if (values[i] === null) continue;
    const value = toFiniteNumber(values[i]);
    if (value === undefined) throw malformed(res, `value ${i} is ${JSON.stringify(values[i])}`);
    return value;
  }
  throw new NoValuesError(`${WHAT} returned a series with no values`);
}

function malformed(res: HttpResponse, why: string): ProviderError {
  return new ProviderError(`${WHAT}: malformed response: ${why}`, { status: res.status, code: "MalformedResponse", retryable: false });
}
