/**
 * InfluxDB 2: a Flux query through `POST <address>/api/v2/query?org=<org>` (what Flagger's
 * InfluxDB client sends), asking for annotated CSV. With a secretRef, the Secret holds
 * `token` (sent as `Authorization: Token …`) and `org`; both are required, as in Flagger.
 *
 * The value is the `_value` of the one record the query yields. No record, or an empty
 * `_value`, is no data; several records (several tables or rows) is a query that needs
 * an aggregate such as `sum()` or `last()`; a non-numeric `_value` is an error.
 */
import type { MetricProvider, ProviderInit, QueryOptions } from "./types.ts";
import { MetricConfigError, MultipleValuesError, NoValuesError, ProviderError } from "./types.ts";
import type { HttpResponse } from "./http.ts";
import { httpRequest, assertOk, snippet } from "./http.ts";
import { parseAnnotatedCsv } from "./influxdb-csv.ts";

export interface InfluxDbOptions {
  timeoutMs: number;
}

/** The CSV dialect Flagger's client asks for: a header row and every annotation. */
export const FLUX_DIALECT = {
  header: true,
  delimiter: ",",
  annotations: ["datatype", "group", "default"],
  commentPrefix: "#",
  dateTimeFormat: "RFC3339",
} as const;

const NUMERIC_TYPES = new Set(["double", "long", "unsignedLong"]);

export function createInfluxDbProvider(init: ProviderInit, opts: InfluxDbOptions): MetricProvider {
  const address = init.spec.address?.trim();
  if (!address) throw new MetricConfigError("influxdb provider needs spec.provider.address (e.g. http://influxdb.monitoring:8086)");
  const base = address.replace(/\/+$/, "");
  const headers: Record<string, string> = { accept: "application/csv", ...init.spec.headers, "content-type": "application/json" };
  let org = "";
  if (init.spec.secretRef?.name) {
    const { token } = init.secret;
    if (!token) throw new MetricConfigError("influxdb provider needs token in its secretRef");
    if (!init.secret.org) throw new MetricConfigError("influxdb provider needs org in its secretRef");
    org = init.secret.org;
    headers.authorization = `Token ${token}`;
  }

  const request = (path: string, body: string | undefined, signal?: AbortSignal) =>
    httpRequest({
      url: `${base}${path}`,
      method: body === undefined ? "GET" : "POST",
      headers,
      ...(body === undefined ? {} : { body }),
      insecureSkipVerify: init.spec.insecureSkipVerify,
      timeoutMs: opts.timeoutMs,
      signal,
    });

  return {
    type: "influxdb",
    async runQuery(flux: string, qopts?: QueryOptions): Promise<number> {
      const body = JSON.stringify({ query: flux, type: "flux", dialect: FLUX_DIALECT });
      return parseInfluxDbResponse(await request(`/api/v2/query?${new URLSearchParams({ org }).toString()}`, body, qopts?.signal));
    },
  };
}

const WHAT = "influxdb flux query";

/** The single `_value` of an annotated-CSV answer. */
export function parseInfluxDbResponse(res: HttpResponse): number {
  if (res.status < 200 || res.status >= 300) {
    // InfluxDB explains failures as JSON: {"code":"invalid","message":"compilation failed: …"}.
    let detail: string | undefined;
    try {
      const parsed = JSON.parse(res.body) as { message?: unknown };
      if (typeof parsed.message === "string") detail = parsed.message;
    } catch {
      detail = undefined;
    }
    assertOk(WHAT, res, detail ?? snippet(res.body));
  }
  const result = parseAnnotatedCsv(res.body);
  if (result.error !== undefined) {
    throw new ProviderError(`${WHAT} failed: ${result.error}`, { status: res.status, code: "QueryError", retryable: false });
  }
  if (result.records.length === 0) throw new NoValuesError(`${WHAT} returned no records`);
  if (result.records.length > 1) {
    throw new MultipleValuesError(`${WHAT} returned ${result.records.length} records; reduce them to one (e.g. with sum() or last())`, result.records.length);
  }
  const record = result.records[0]!;
  if (!("_value" in record.cells)) throw malformed(res, "the record has no _value column");
  const text = record.cells._value;
  if (text === null || text === undefined) throw new NoValuesError(`${WHAT} returned an empty _value`);
  const type = record.types._value;
  if (type !== undefined && !NUMERIC_TYPES.has(type)) {
    throw new ProviderError(`${WHAT}: _value is of type ${type}, not a number`, { status: res.status, code: "NotANumber", retryable: false });
  }
  const value = Number(text);
  if (text.trim() === "" || Number.isNaN(value)) throw malformed(res, `_value ${JSON.stringify(text)} is not a number`);
  if (!Number.isFinite(value)) throw new NoValuesError(`${WHAT} returned ${text}`);
  return value;
}

function malformed(res: HttpResponse, why: string): ProviderError {
  return new ProviderError(`${WHAT}: malformed response: ${why}`, { status: res.status, code: "MalformedResponse", retryable: false });
}
