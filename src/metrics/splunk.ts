/**
 * Splunk Observability Cloud (SignalFx): a SignalFlow program run over the window of ten
 * metric intervals that ends now, with `immediate=true` so the computation ends with the
 * window, as Flagger runs it. Flagger speaks SignalFlow's WebSocket transport; aviary uses
 * the same computation over HTTP, `POST <stream>/v2/signalflow/execute?start=&stop=&immediate=true`
 * with the program as the body, whose answer is a stream of server-sent events. The token
 * comes from the Secret's `sf_token_key` and travels in `X-SF-Token`.
 *
 * `spec.provider.address` is the realm's API or stream URL (https://api.us1.signalfx.com):
 * an `api.` host is turned into its `stream.` sibling for the computation, and back for
 * the online check (`GET /v2/metric?limit=1`).
 *
 * The value is the newest non-null point. No points is no data; points of several time
 * series (several tsIds) is a program that needs aggregating, e.g. `.sum()`.
 */
import type { MetricProvider, ProviderInit, QueryOptions } from "./types.ts";
import { MetricConfigError, MultipleValuesError, NoValuesError, ProviderError } from "./types.ts";
import type { HttpResponse } from "./http.ts";
import { assertOk, httpRequest, snippet, toFiniteNumber } from "./http.ts";

/** Flagger looks back ten metric intervals. */
export const SPLUNK_WINDOW_INTERVALS = 10;

export interface SplunkOptions {
  timeoutMs: number;
  now: () => Date;
}

export function createSplunkProvider(init: ProviderInit, opts: SplunkOptions): MetricProvider {
  const address = init.spec.address?.trim();
  if (!address) throw new MetricConfigError("splunk provider needs spec.provider.address (e.g. https://api.us1.signalfx.com)");
  const token = init.secret.sf_token_key;
  if (!token) throw new MetricConfigError("splunk provider needs sf_token_key in its secretRef");
  const streamBase = realmUrl(address, "stream");
  const headers = { ...init.spec.headers, "X-SF-Token": token };
  const windowMs = SPLUNK_WINDOW_INTERVALS * (init.intervalMs ?? 60_000);
  const send = (url: string, method: string, extra: Record<string, string>, body: string | undefined, signal?: AbortSignal) =>
    httpRequest({
      url,
      method,
      headers: { ...headers, ...extra },
      ...(body === undefined ? {} : { body }),
      insecureSkipVerify: init.spec.insecureSkipVerify,
      timeoutMs: opts.timeoutMs,
      signal,
    });

  return {
    type: "splunk",
    async runQuery(program: string, qopts?: QueryOptions): Promise<number> {
      const stop = opts.now().getTime();
      const params = new URLSearchParams({ start: String(stop - windowMs), stop: String(stop), immediate: "true" });
      const res = await send(
        `${streamBase}/v2/signalflow/execute?${params.toString()}`,
        "POST",
        { "content-type": "text/plain", accept: "text/event-stream" },
        program,
        qopts?.signal,
      );
      return parseSignalFlowResponse(res);
    },
  };
}

/** The realm's `api.` or `stream.` URL for an address that names either (others are used as given). */
export function realmUrl(address: string, service: "api" | "stream"): string {
  let url: URL;
  try {
    url = new URL(address.replace(/^ws(s?):/, "http$1:"));
  } catch {
    throw new MetricConfigError(`splunk provider: spec.provider.address ${JSON.stringify(address)} is not a URL`);
  }
  url.hostname = url.hostname.replace(/^(api|stream)\./, `${service}.`);
  return url.toString().replace(/\/+$/, "");
}

export interface ServerSentEvent {
  event: string;
  data: string;
}

/** Splits a text/event-stream body into events; several `data:` lines of one event join with "\n". */
export function parseServerSentEvents(body: string): ServerSentEvent[] {
  const events: ServerSentEvent[] = [];
  let event = "message";
  let data: string[] = [];
  const flush = () => {
    if (data.length > 0) events.push({ event, data: data.join("\n") });
    event = "message";
    data = [];
  };
  for (const line of body.split(/\r\n|\r|\n/)) {
    if (line === "") {
      flush();
      continue;
    }
    if (line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
  }
  flush();
  return events;
}

const WHAT = "splunk signalflow";

/** The newest non-null point of the one time series a SignalFlow computation produced. */
export function parseSignalFlowResponse(res: HttpResponse): number {
  assertOk(WHAT, res, apiMessage(res.body));
  const points: Array<{ tsId: string; value: number }> = [];
  for (const { event, data } of parseServerSentEvents(res.body)) {
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(data) as Record<string, unknown>;
    } catch {
      throw malformed(res, `a ${event} event is not JSON: ${snippet(data, 80)}`);
    }
    if (event === "error" || message.type === "error") {
      throw new ProviderError(`${WHAT} failed: ${describeError(message)}`, { status: res.status, code: String(message.errorType ?? "SignalFlowError"), retryable: false });
    }
    if (event === "control-message" && message.event === "CHANNEL_ABORT") {
      throw new ProviderError(`${WHAT} aborted: ${snippet(JSON.stringify(message.abortInfo ?? message), 200)}`, { status: res.status, code: "ChannelAbort", retryable: true });
    }
    if (event !== "data") continue;
    if (!Array.isArray(message.data)) throw malformed(res, "a data event has no data list");
    for (const point of message.data as unknown[]) {
      const p = point as { tsId?: unknown; value?: unknown } | null;
      if (typeof p?.tsId !== "string") throw malformed(res, "a data point has no tsId");
      if (p.value === null || p.value === undefined) continue;
      const value = toFiniteNumber(p.value);
      if (value === undefined) throw malformed(res, `data point of ${p.tsId} has value ${JSON.stringify(p.value)}`);
      points.push({ tsId: p.tsId, value });
    }
  }
  if (points.length === 0) throw new NoValuesError(`${WHAT} returned no data points`);
  const series = new Set(points.map((p) => p.tsId));
  if (series.size > 1) {
    throw new MultipleValuesError(`${WHAT} returned ${series.size} time series; aggregate the program (e.g. .sum()) to one`, series.size);
  }
  return points[points.length - 1]!.value;
}

function apiMessage(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { message?: unknown };
    return typeof parsed.message === "string" ? parsed.message : undefined;
  } catch {
    return undefined;
  }
}

function describeError(message: Record<string, unknown>): string {
  const text = typeof message.message === "string" ? message.message : snippet(JSON.stringify(message), 200);
  return typeof message.errorType === "string" ? `${message.errorType}: ${text}` : text;
}

function malformed(res: HttpResponse, why: string): ProviderError {
  return new ProviderError(`${WHAT}: malformed response: ${why}`, { status: res.status, code: "MalformedResponse", retryable: false });
}
