/**
 * New Relic: an NRQL query through NerdGraph (`POST /graphql`, header `API-Key`), with the
 * account id and key from the Secret (`newrelic_account_id`, `newrelic_query_key`).
 * `spec.provider.address` selects the region (default https://api.newrelic.com; EU:
 * https://api.eu.newrelic.com).
 *
 * The value is the single numeric field of the single result row, e.g. `{"count": 12}`,
 * `{"percentage": 99.2}` or a percentile's `{"percentile.duration": {"99": 0.31}}`; time
 * bounds (`beginTimeSeconds`, `endTimeSeconds`) are ignored. No rows, or a null value, is
 * no data; several rows (TIMESERIES, FACET) or several numeric fields is an error.
 */
import type { MetricProvider, ProviderInit, QueryOptions } from "./types.ts";
import { MetricConfigError, MultipleValuesError, NoValuesError, ProviderError } from "./types.ts";
import type { HttpResponse } from "./http.ts";
import { assertOk, httpRequest, parseJsonBody, snippet } from "./http.ts";

export const NEWRELIC_DEFAULT_ADDRESS = "https://api.newrelic.com";

const NRQL_QUERY =
  "query AviaryNrql($accountId: Int!, $nrql: Nrql!) { actor { account(id: $accountId) { nrql(query: $nrql) { results } } } }";

export interface NewRelicOptions {
  timeoutMs: number;
}

export function createNewRelicProvider(init: ProviderInit, opts: NewRelicOptions): MetricProvider {
  const key = init.secret.newrelic_query_key;
  const accountText = init.secret.newrelic_account_id;
  if (!key || !accountText) {
    throw new MetricConfigError("newrelic provider needs newrelic_account_id and newrelic_query_key in its secretRef");
  }
  const accountId = Number(accountText.trim());
  if (!Number.isSafeInteger(accountId) || accountId <= 0) {
    throw new MetricConfigError(`newrelic_account_id must be a positive integer, got "${accountText}"`);
  }
  const url = `${(init.spec.address?.trim() || NEWRELIC_DEFAULT_ADDRESS).replace(/\/+$/, "")}/graphql`;
  const headers = {
    accept: "application/json",
    ...init.spec.headers,
    "content-type": "application/json",
    "API-Key": key,
  };

  const post = (body: unknown, signal?: AbortSignal) =>
    httpRequest({
      url,
      method: "POST",
      headers,
      body: JSON.stringify(body),
      insecureSkipVerify: init.spec.insecureSkipVerify,
      timeoutMs: opts.timeoutMs,
      signal,
    });

  return {
    type: "newrelic",
    async runQuery(nrql: string, qopts?: QueryOptions): Promise<number> {
      const res = await post({ query: NRQL_QUERY, variables: { accountId, nrql } }, qopts?.signal);
      return parseNewRelicResponse(res);
    },
  };
}

const WHAT = "newrelic NRQL query";
const TIME_BOUNDS = new Set(["beginTimeSeconds", "endTimeSeconds", "timestamp"]);

/** The single value of a NerdGraph NRQL answer, or the typed error that explains why not. */
export function parseNewRelicResponse(res: HttpResponse): number {
  const data = graphqlData(WHAT, res) as { actor?: { account?: { nrql?: { results?: unknown } | null } | null } } | null;
  const results = data?.actor?.account?.nrql?.results;
  if (!Array.isArray(results)) throw malformed(res, "data.actor.account.nrql.results is not an array");
  if (results.length === 0) throw new NoValuesError(`${WHAT} returned no results`);
  if (results.length > 1) {
    throw new MultipleValuesError(
      `${WHAT} returned ${results.length} rows; remove TIMESERIES/FACET so it returns one`,
      results.length,
    );
  }
  const row = results[0] as unknown;
  if (row === null || typeof row !== "object" || Array.isArray(row)) throw malformed(res, "the result row is not an object");
  const fields = Object.entries(row).filter(([name]) => !TIME_BOUNDS.has(name));
  if (fields.length === 0) throw new NoValuesError(`${WHAT} returned a row with no value`);
  if (fields.length > 1) {
    throw new MultipleValuesError(
      `${WHAT} returned ${fields.length} fields (${fields.map(([n]) => n).join(", ")}); select one`,
      fields.length,
    );
  }
  const [name, value] = fields[0] as [string, unknown];
  return fieldValue(name, value, res);
}

/** A field's number; percentile-style objects `{"99": 0.3}` must hold exactly one. */
function fieldValue(name: string, value: unknown, res: HttpResponse): number {
  if (value === null) throw new NoValuesError(`${WHAT}: ${name} is null`);
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new NoValuesError(`${WHAT}: ${name} is ${value}`);
    return value;
  }
  if (typeof value === "object" && !Array.isArray(value)) {
    const inner = Object.entries(value as Record<string, unknown>);
    if (inner.length === 1) {
      const [innerName, innerValue] = inner[0] as [string, unknown];
      return fieldValue(`${name}.${innerName}`, innerValue, res);
    }
    if (inner.length > 1) throw new MultipleValuesError(`${WHAT}: ${name} holds ${inner.length} values; select one`, inner.length);
    throw new NoValuesError(`${WHAT}: ${name} is empty`);
  }
  throw malformed(res, `${name} is ${JSON.stringify(value)}, not a number`);
}

/** `data` of a GraphQL answer; GraphQL errors (sent with HTTP 200) become ProviderErrors. */
function graphqlData(what: string, res: HttpResponse): unknown {
  const body = parseJsonBody(what, res) as { data?: unknown; errors?: unknown } | null;
  const errors = Array.isArray(body?.errors) ? body.errors : [];
  const messages = errors.map((e) =>
    e !== null && typeof e === "object" && typeof (e as { message?: unknown }).message === "string"
      ? (e as { message: string }).message
      : snippet(JSON.stringify(e)),
  );
  assertOk(what, res, messages.length > 0 ? messages.join("; ") : undefined);
  if (body === null || typeof body !== "object") throw malformed(res, "the body is not a JSON object");
  if (messages.length > 0) {
    throw new ProviderError(`${what} failed: ${messages.join("; ")}`, { status: res.status, code: "GraphQLError", retryable: false });
  }
  return body.data ?? null;
}

function malformed(res: HttpResponse, why: string): ProviderError {
  return new ProviderError(`${WHAT}: malformed response: ${why}`, { status: res.status, code: "MalformedResponse", retryable: false });
}
