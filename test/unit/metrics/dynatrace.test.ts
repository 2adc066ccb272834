import assert from "node:assert/strict";
import { createDynatraceProvider } from "../../../src/metrics/dynatrace.ts";
import { MetricConfigError, MultipleValuesError, NoValuesError, ProviderError } from "../../../src/metrics/types.ts";
import type { LocalServer, Reply } from "./local-server.ts";
import { startLocalServer } from "./local-server.ts";

const NOW = new Date("2025-03-01T12:00:00Z");
const SELECTOR = "builtin:service.response.time:filter(eq(dt.entity.service,SERVICE-ABCDEFG0123456789)):percentile(95)";

const answer = (...series: Array<Array<number | null>>): Reply => ({
  body: {
    totalCount: series.length,
    nextPageKey: null,
    resolution: "Inf",
    result: [
      {
        metricId: SELECTOR,
        dataPointCountRatio: 0.0001,
        dimensionCountRatio: 0.0001,
        data: series.map((values, i) => ({ dimensions: [`SERVICE-${i}`], dimensionMap: { "dt.entity.service": `SERVICE-${i}` }, timestamps: values.map(() => NOW.getTime()), values })),
      },
    ],
  },
});

describe("metrics/dynatrace", () => {
  let server: LocalServer;
  before(async () => {
    server = await startLocalServer(() => answer());
  });
  after(() => server.close());
  beforeEach(() => {
    server.requests.length = 0;
  });

  const provider = (intervalMs = 60_000, timeoutMs = 2000) =>
    createDynatraceProvider(
      { spec: { type: "dynatrace", address: `${server.url}/e/abc`, secretRef: { name: "dynatrace" } }, secret: { dynatrace_token: "dt0c01.TOKEN" }, intervalMs },
      { timeoutMs, now: () => NOW },
    );

  it("asks /api/v2/metrics/query for one value over ten intervals, with the API token", async () => {
    server.handle(() => answer([812.5]));
    assert.equal(await provider(2 * 60_000).runQuery(`${SELECTOR}\n`), 812.5);
    const req = server.requests[0]!;
    assert.equal(req.method, "GET");
    assert.equal(req.path, "/e/abc/api/v2/metrics/query");
    assert.equal(req.headers.authorization, "Api-Token dt0c01.TOKEN");
    assert.equal(req.url.searchParams.get("metricSelector"), SELECTOR);
    assert.equal(req.url.searchParams.get("resolution"), "Inf");
    assert.equal(req.url.searchParams.get("to"), String(NOW.getTime()));
    assert.equal(req.url.searchParams.get("from"), String(NOW.getTime() - 20 * 60_000));
  });

  it("takes the newest non-null value", async () => {
    server.handle(() => answer([1, 2, null]));
    assert.equal(await provider().runQuery(SELECTOR), 2);
  });

  it("reports no metric, no series and only nulls as no values", async () => {
    for (const reply of [{ body: { totalCount: 0, result: [] } }, answer(), answer([null])] as Reply[]) {
      server.handle(() => reply);
      await assert.rejects(provider().runQuery(SELECTOR), NoValuesError, JSON.stringify(reply));
    }
  });

  it("rejects several series and several metrics", async () => {
    server.handle(() => answer([1], [2]));
    await assert.rejects(provider().runQuery(SELECTOR), (err: unknown) => err instanceof MultipleValuesError && err.count === 2);
    server.handle(() => ({ body: { result: [{ metricId: "a", data: [] }, { metricId: "b", data: [] }] } }));
    await assert.rejects(provider().runQuery("a,b"), MultipleValuesError);
  });

  it("reports Dynatrace's error message, and malformed answers", async () => {
    server.handle(() => ({ status: 400, body: { error: { code: 400, message: "Metric selector parse error" } } }));
    await assert.rejects(provider().runQuery("bad("), (err: unknown) => err instanceof ProviderError && err.status === 400 && !err.retryable && /parse error/.test(err.message));
    server.handle(() => ({ status: 401, body: { error: { code: 401, message: "Token Authentication failed" } } }));
    await assert.rejects(provider().runQuery(SELECTOR), /Token Authentication failed/);
    server.handle(() => ({ status: 503, text: "unavailable" }));
    await assert.rejects(provider().runQuery(SELECTOR), (err: unknown) => err instanceof ProviderError && err.retryable);
    for (const reply of [{ text: "<html>" }, { body: {} }, { body: { result: [{}] } }, { body: { result: [{ data: [{}] }] } }, { body: { result: [{ data: [{ values: ["x"] }] }] } }] as Reply[]) {
      server.handle(() => reply);
      await assert.rejects(provider().runQuery(SELECTOR), ProviderError, JSON.stringify(reply));
    }
  });

  it("times out, and stops when aborted", async () => {
    server.handle(() => ({ hang: true }));
    await assert.rejects(provider(60_000, 100).runQuery(SELECTOR), (err: unknown) => err instanceof ProviderError && err.code === "Timeout");
    const controller = new AbortController();
    const pending = provider().runQuery(SELECTOR, { signal: controller.signal });
    controller.abort();
    await assert.rejects(pending, (err: unknown) => err instanceof ProviderError && err.code === "Aborted");
  });

  it("needs an address and dynatrace_token", () => {
    assert.throws(() => createDynatraceProvider({ spec: { type: "dynatrace" }, secret: { dynatrace_token: "t" } }, { timeoutMs: 1, now: () => NOW }), MetricConfigError);
    assert.throws(() => createDynatraceProvider({ spec: { type: "dynatrace", address: server.url }, secret: {} }, { timeoutMs: 1, now: () => NOW }), /dynatrace_token/);
  });
});
