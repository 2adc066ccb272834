/**
 * Graphite: the render API, `GET <address>/render?<query>&format=json`. The query is the
 * render URL's query string as Flagger takes it (`target=summarize(…)&from=-5min`), with
 * every run of whitespace collapsed to one space so templates may span lines (and none
 * kept around the `&` between parameters). Basic auth
 * from the Secret's `username` and `password` when secretRef is set.
 *
 * The value is the newest non-null datapoint. A series of nulls (Graphite's "no data for
 * that bucket") or no series at all is no data; several series with data is a query that
 * needs an aggregating function such as sumSeries().
 */
import type { MetricProvider, ProviderInit, QueryOptions } from "./types.ts";
import { MetricConfigError, MultipleValuesError, NoValuesError, ProviderError } from "./types.ts";
import type { HttpResponse } from "./http.ts";
import { assertOk, httpRequest, parseJsonBody, snippet, toFiniteNumber } from "./http.ts";

export interface GraphiteOptions {
  timeoutMs: number;
}

export function createGraphiteProvider(init: ProviderInit, opts: GraphiteOptions): MetricProvider {
  const address = init.spec.address?.trim();
  if (!address) throw new MetricConfigError("graphite provider needs spec.provider.address (e.g. http://graphite.monitoring)");
  let base: URL;
  try {
    base = new URL(address);
  } catch {
    throw new MetricConfigError(`graphite provider: spec.provider.address ${JSON.stringify(address)} is not a URL`);
  }
  const headers: Record<string, string> = { accept: "application/json", ...init.spec.headers };
  if (init.spec.secretRef?.name) {
    const { username, password } = init.secret;
    if (username === undefined || password === undefined) {
      throw new MetricConfigError("graphite provider needs username and password in its secretRef");
    }
    headers.authorization = `Basic ${Buffer.from(`${username}:${password}`, "utf8").toString("base64")}`;
  }

  const query = async (text: string, signal?: AbortSignal): Promise<number> => {
    const url = new URL(base);
    url.pathname = `${base.pathname.replace(/\/+$/, "")}/render`;
    url.search = renderParams(text).toString();
    const res = await httpRequest({ url: url.toString(), headers, insecureSkipVerify: init.spec.insecureSkipVerify, timeoutMs: opts.timeoutMs, signal });
    return parseGraphiteResponse(res);
  };

  return {
    type: "graphite",
    runQuery: (text: string, qopts?: QueryOptions) => query(text, qopts?.signal),
  };
}

/** The render parameters: the query's own, whitespace collapsed, plus `format=json`, sorted. */
export function renderParams(query: string): URLSearchParams {
  // A template may put each parameter on its own line: no space survives around the `&`.
  const params = new URLSearchParams(query.replace(/\s+/g, " ").split("&").map((p) => p.trim()).join("&"));
  if (!params.has("target")) throw new MetricConfigError(`graphite query must set target=…: ${snippet(query, 80)}`);
  params.set("format", "json");
  params.sort();
  return params;
}

const WHAT = "graphite render";

/** The newest non-null datapoint of the one series with data. */
export function parseGraphiteResponse(res: HttpResponse): number {
  assertOk(WHAT, res);
  const body = parseJsonBody(WHAT, res);
  if (!Array.isArray(body)) throw malformed(res, "the body is not a list of series");
  const newest: Array<{ target: string; value: number }> = [];
  for (const [i, series] of body.entries()) {
    const points = (series as { datapoints?: unknown } | null)?.datapoints;
    if (!Array.isArray(points)) throw malformed(res, `series ${i} has no datapoints list`);
    const target = String((series as { target?: unknown }).target ?? i);
    for (let j = points.length - 1; j >= 0; j--) {
      const point = points[j] as unknown;
      if (!Array.isArray(point) || point.length !== 2) throw malformed(res, `datapoint ${j} of ${target} is not [value, timestamp]`);
      if (point[0] === null) continue;
      const value = toFiniteNumber(point[0]);
      if (value === undefined) throw malformed(res, `datapoint ${j} of ${target} has value ${JSON.stringify(point[0])}`);
      newest.push({ target, value });
      break;
    }
  }
  if (newest.length === 0) throw new NoValuesError(`${WHAT} returned ${body.length === 0 ? "no series" : "only null datapoints"}`);
  if (newest.length > 1) {
    throw new MultipleValuesError(
      `${WHAT} returned ${newest.length} series with data (${newest.map((s) => s.target).join(", ")}); combine them, e.g. with sumSeries()`,
      newest.length,
    );
  }
  return newest[0]!.value;
}

function malformed(res: HttpResponse, why: string): ProviderError {
  return new ProviderError(`${WHAT}: malformed response: ${why}`, { status: res.status, code: "MalformedResponse", retryable: false });
}
