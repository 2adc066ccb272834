import assert from "node:assert/strict";
import { createDatadogProvider } from "../../../src/metrics/datadog.ts";
import { MetricConfigError, MultipleValuesError, NoValuesError, ProviderError } from "../../../src/metrics/types.ts";
import type { LocalServer, Reply } from "../../support/local-server.ts";
import { startLocalServer } from "../../support/local-server.ts";

const secret = { datadog_api_key: "api-key-123", datadog_application_key: "app-key-456" };
const NOW = new Date("2025-01-01T00:10:00Z");

const series = (...pointlists: Array<Array<[number, number | null]>>): Reply => ({
  body: { status: "ok", res_type: "time_series", series: pointlists.map((pointlist) => ({ metric: "m", pointlist })) },
});

describe("metrics/datadog", () => {
  let server: LocalServer;
  before(async () => {
    server = await startLocalServer(() => series());
  });
  after(() => server.close());
  beforeEach(() => {
    server.requests.length = 0;
  });

  const provider = (intervalMs = 60_000) =>
    createDatadogProvider({ spec: { type: "datadog", address: server.url }, secret, intervalMs }, { timeoutMs: 2000, now: () => NOW });

  it("queries /api/v1/query with keys in headers and a window ending now", async () => {
    server.handle(() => series([[1, 5], [2, 7.5]]));
    assert.equal(await provider(10 * 60_000).runQuery("sum:trace.http.request.errors{service:podinfo}.as_count()"), 7.5);
    const req = server.requests[0]!;
    assert.equal(req.path, "/api/v1/query");
    assert.equal(req.headers["dd-api-key"], "api-key-123");
    assert.equal(req.headers["dd-application-key"], "app-key-456");
    const to = NOW.getTime() / 1000;
    assert.equal(req.url.searchParams.get("to"), String(to));
    assert.equal(req.url.searchParams.get("from"), String(to - 600));
    assert.equal(req.url.searchParams.get("query"), "sum:trace.http.request.errors{service:podinfo}.as_count()");
  });

  it("skips trailing null points to the newest value", async () => {
    server.handle(() => series([[1, 3], [2, null], [3, null]]));
    assert.equal(await provider().runQuery("q"), 3);
  });

  it("reports no series, and only null points, as no values", async () => {
    server.handle(() => series());
    await assert.rejects(provider().runQuery("q"), NoValuesError);
    server.handle(() => series([[1, null]]));
    await assert.rejects(provider().runQuery("q"), NoValuesError);
    server.handle(() => series([]));
    await assert.rejects(provider().runQuery("q"), NoValuesError);
  });

  it("rejects several series", async () => {
    server.handle(() => series([[1, 1]], [[1, 2]]));
    await assert.rejects(provider().runQuery("q"), MultipleValuesError);
  });

  it("reports API errors and bad keys", async () => {
    server.handle(() => ({ status: 400, body: { status: "error", error: "Error parsing query: unable to parse q" } }));
    await assert.rejects(provider().runQuery("q"), (err: unknown) => err instanceof ProviderError && err.status === 400 && /unable to parse/.test(err.message));
    server.handle(() => ({ status: 403, body: { errors: ["Forbidden"] } }));
    await assert.rejects(provider().runQuery("q"), (err: unknown) => err instanceof ProviderError && !err.retryable && /Forbidden/.test(err.message));
    server.handle(() => ({ status: 429, body: { errors: ["Rate limit"] } }));
    await assert.rejects(provider().runQuery("q"), (err: unknown) => err instanceof ProviderError && err.retryable);
  });

  it("rejects malformed answers", async () => {
    for (const reply of [
      { text: "<html>" },
      { body: { status: "ok" } },
      { body: { status: "ok", series: [{ pointlist: [[1]] }] } },
      { body: { status: "ok", series: [{ pointlist: [[1, "x"]] }] } },
      { body: { status: "ok", series: [{}] } },
    ] as Reply[]) {
      server.handle(() => reply);
      await assert.rejects(provider().runQuery("q"), ProviderError, JSON.stringify(reply));
    }
  });

  it("needs both keys", () => {
    assert.throws(
      () => createDatadogProvider({ spec: { type: "datadog" }, secret: { datadog_api_key: "x" } }, { timeoutMs: 1, now: () => NOW }),
      MetricConfigError,
    );
  });
});
