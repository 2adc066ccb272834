import assert from "node:assert/strict";
import { createSplunkProvider, parseServerSentEvents, realmUrl } from "../../../src/metrics/splunk.ts";
import { MetricConfigError, MultipleValuesError, NoValuesError, ProviderError } from "../../../src/metrics/types.ts";
import type { LocalServer } from "./local-server.ts";
import { startLocalServer } from "./local-server.ts";

const NOW = new Date("2025-03-01T12:00:00Z");
const PROGRAM = "data('spans.count', filter=filter('sf_service', 'podinfo') and filter('sf_error', 'true')).sum().publish()";

/** A computation's event stream as SignalFlow writes it (the data message spread over two data: lines). */
function stream(...batches: Array<Array<{ tsId: string; value: number | null }>>): string {
  const events = [
    'event: control-message\ndata: {"event":"STREAM_START","timestampMs":1740830400000}',
    'event: control-message\ndata: {"event":"JOB_START","handle":"ChkVxy0AEAA","timestampMs":1740830400010}',
    'event: metadata\ndata: {"tsId":"AAAAAOsfgK8","properties":{"sf_metric":"spans.count","sf_streamLabel":"A"}}',
    ...batches.map((data, i) => `event: data\ndata: {"logicalTimestampMs":${1740830340000 + i * 60000},\ndata: "data":${JSON.stringify(data)}}`),
    'event: control-message\ndata: {"event":"END_OF_CHANNEL","timestampMs":1740830400100}',
  ];
  return `${events.join("\n\n")}\n\n`;
}

describe("metrics/splunk", () => {
  let server: LocalServer;
  before(async () => {
    server = await startLocalServer(() => ({ text: stream() }));
  });
  after(() => server.close());
  beforeEach(() => {
    server.requests.length = 0;
  });

  const provider = (intervalMs = 60_000, timeoutMs = 2000) =>
    createSplunkProvider(
      { spec: { type: "splunk", address: server.url, secretRef: { name: "splunk" } }, secret: { sf_token_key: "sf-token" }, intervalMs },
      { timeoutMs, now: () => NOW },
    );

  it("posts the program to /v2/signalflow/execute over ten intervals, immediate, with X-SF-Token", async () => {
    server.handle(() => ({ text: stream([{ tsId: "AAAAAOsfgK8", value: 3 }], [{ tsId: "AAAAAOsfgK8", value: 7 }]) }));
    assert.equal(await provider(30_000).runQuery(PROGRAM), 7);
    const req = server.requests[0]!;
    assert.equal(req.method, "POST");
    assert.equal(req.path, "/v2/signalflow/execute");
    assert.equal(req.headers["x-sf-token"], "sf-token");
    assert.equal(req.headers["content-type"], "text/plain");
    assert.equal(req.body, PROGRAM);
    assert.equal(req.url.searchParams.get("stop"), String(NOW.getTime()));
    assert.equal(req.url.searchParams.get("start"), String(NOW.getTime() - 300_000));
    assert.equal(req.url.searchParams.get("immediate"), "true");
  });

  it("skips null points to the newest value", async () => {
    server.handle(() => ({ text: stream([{ tsId: "A", value: 2.5 }], [{ tsId: "A", value: null }]) }));
    assert.equal(await provider().runQuery(PROGRAM), 2.5);
  });

  it("reports no points, and only nulls, as no values", async () => {
    server.handle(() => ({ text: stream() }));
    await assert.rejects(provider().runQuery(PROGRAM), NoValuesError);
    server.handle(() => ({ text: stream([{ tsId: "A", value: null }]) }));
    await assert.rejects(provider().runQuery(PROGRAM), NoValuesError);
  });

  it("rejects points of several time series", async () => {
    server.handle(() => ({ text: stream([{ tsId: "A", value: 1 }, { tsId: "B", value: 2 }]) }));
    await assert.rejects(provider().runQuery(PROGRAM), (err: unknown) => err instanceof MultipleValuesError && err.count === 2);
  });

  it("reports program errors, aborted channels, rejected tokens and server errors", async () => {
    server.handle(() => ({ text: 'event: error\ndata: {"error":400,"errorType":"ANALYTICS_PROGRAM_NAME_ERROR","message":"Unknown function data2"}\n\n' }));
    await assert.rejects(provider().runQuery("data2('x').publish()"), (err: unknown) => err instanceof ProviderError && !err.retryable && /Unknown function data2/.test(err.message));
    server.handle(() => ({ text: 'event: control-message\ndata: {"event":"CHANNEL_ABORT","abortInfo":{"sf_job_abortReason":"too many MTS"}}\n\n' }));
    await assert.rejects(provider().runQuery(PROGRAM), /too many MTS/);
    server.handle(() => ({ status: 401, body: { code: 401, message: "Unauthorized" } }));
    await assert.rejects(provider().runQuery(PROGRAM), (err: unknown) => err instanceof ProviderError && err.status === 401 && /Unauthorized/.test(err.message));
    server.handle(() => ({ status: 503, text: "" }));
    await assert.rejects(provider().runQuery(PROGRAM), (err: unknown) => err instanceof ProviderError && err.retryable);
    server.handle(() => ({ text: "event: data\ndata: {not json\n\n" }));
    await assert.rejects(provider().runQuery(PROGRAM), (err: unknown) => err instanceof ProviderError && err.code === "MalformedResponse");
  });

  it("times out, and stops when aborted", async () => {
    server.handle(() => ({ hang: true }));
    await assert.rejects(provider(60_000, 100).runQuery(PROGRAM), (err: unknown) => err instanceof ProviderError && err.code === "Timeout");
    const controller = new AbortController();
    const pending = provider().runQuery(PROGRAM, { signal: controller.signal });
    controller.abort();
    await assert.rejects(pending, (err: unknown) => err instanceof ProviderError && err.code === "Aborted");
  });

  it("maps a realm's api and stream hosts onto each other", () => {
    assert.equal(realmUrl("https://api.us1.signalfx.com", "stream"), "https://stream.us1.signalfx.com");
    assert.equal(realmUrl("wss://stream.eu0.signalfx.com/", "api"), "https://api.eu0.signalfx.com");
    assert.equal(realmUrl("http://127.0.0.1:8080", "stream"), "http://127.0.0.1:8080");
  });

  it("reads events as the SSE format defines them", () => {
    assert.deepEqual(parseServerSentEvents(": comment\r\nevent: data\r\ndata: a\r\ndata:b\r\n\r\ndata: c\n"), [
      { event: "data", data: "a\nb" },
      { event: "message", data: "c" },
    ]);
  });

  it("needs an address and sf_token_key", () => {
    assert.throws(() => createSplunkProvider({ spec: { type: "splunk" }, secret: { sf_token_key: "t" } }, { timeoutMs: 1, now: () => NOW }), MetricConfigError);
    assert.throws(() => createSplunkProvider({ spec: { type: "splunk", address: server.url }, secret: {} }, { timeoutMs: 1, now: () => NOW }), /sf_token_key/);
  });
});
