/**
 * web: any JSON endpoint. `spec.provider.address` is the URL, `method` GET or POST (default
 * POST when a `body` is set, else GET), `headers` and `body` are sent as given (both may use
 * the query template's placeholders; the caller renders them). The metric's query is a
 * JSONPath expression (jsonpath-plus, safe evaluation) that must select exactly one number
 * or numeric string; nothing selected, or null, is no data. Auth from the Secret as for
 * Prometheus: `token` → bearer, else `username`/`password` → basic.
 */
import { JSONPath } from "jsonpath-plus";
import type { MetricProvider, ProviderInit, QueryOptions } from "./types.ts";
import { MetricConfigError, MultipleValuesError, NoValuesError, ProviderError } from "./types.ts";
import { assertOk, authHeaders, httpRequest, parseJsonBody, redactUrl, toFiniteNumber } from "./http.ts";

export interface WebOptions {
  timeoutMs: number;
}

export function createWebProvider(init: ProviderInit, opts: WebOptions): MetricProvider {
  const url = init.spec.address?.trim();
  if (!url) throw new MetricConfigError("web provider needs spec.provider.address (the JSON endpoint's URL)");
  const method = (init.spec.method ?? (init.spec.body !== undefined ? "POST" : "GET")).toUpperCase();
  if (method !== "GET" && method !== "POST") {
    throw new MetricConfigError(`web provider method must be GET or POST, got "${init.spec.method}"`);
  }
  if (method === "GET" && init.spec.body !== undefined) {
    throw new MetricConfigError("web provider: a body needs method POST");
  }
  const headers: Record<string, string> = {
    accept: "application/json",
    ...(init.spec.body !== undefined ? { "content-type": "application/json" } : {}),
    ...init.spec.headers,
    ...authHeaders(init.secret),
  };
  const what = `web ${method} ${redactUrl(url)}`;

  const fetchJson = async (signal?: AbortSignal): Promise<unknown> => {
    const res = await httpRequest({
      url,
      method,
      headers,
      body: init.spec.body,
      insecureSkipVerify: init.spec.insecureSkipVerify,
      timeoutMs: opts.timeoutMs,
      signal,
    });
    assertOk(what, res);
    return parseJsonBody(what, res);
  };

  return {
    type: "web",
    async runQuery(jsonPath: string, qopts?: QueryOptions): Promise<number> {
      const json = await fetchJson(qopts?.signal);
      return pickValue(what, json, jsonPath);
    },
  };
}

/** The one number a JSONPath selects from a document. */
export function pickValue(what: string, json: unknown, jsonPath: string): number {
  const path = jsonPath.trim();
  if (path === "") throw new MetricConfigError("web provider: the query (a JSONPath expression) is empty");
  let matches: unknown[];
  try {
    matches = JSONPath({ path, json: json as object, wrap: true, eval: "safe" }) as unknown[];
  } catch (err) {
    throw new MetricConfigError(`web provider: invalid JSONPath "${path}": ${(err as Error).message}`);
  }
  if (!Array.isArray(matches) || matches.length === 0) throw new NoValuesError(`${what}: JSONPath ${path} selected nothing`);
  if (matches.length > 1) {
    throw new MultipleValuesError(`${what}: JSONPath ${path} selected ${matches.length} values; select one`, matches.length);
  }
  const value = matches[0];
  if (value === null || value === undefined) throw new NoValuesError(`${what}: JSONPath ${path} selected null`);
  if (value === "NaN" || (typeof value === "number" && !Number.isFinite(value))) {
    throw new NoValuesError(`${what}: JSONPath ${path} selected ${String(value)}`);
  }
  const n = toFiniteNumber(value);
  if (n === undefined) {
    throw new ProviderError(`${what}: JSONPath ${path} selected ${JSON.stringify(value)}, not a number`, {
      code: "MalformedResponse",
      retryable: false,
    });
  }
  return n;
}
