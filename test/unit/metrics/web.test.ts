import assert from "node:assert/strict";
import { createWebProvider } from "../../../src/metrics/web.ts";
import type { MetricProviderSpec } from "../../../src/metrics/types.ts";
import { MetricConfigError, MultipleValuesError, NoValuesError, ProviderError } from "../../../src/metrics/types.ts";
import type { LocalServer } from "../../support/local-server.ts";
import { startLocalServer } from "../../support/local-server.ts";

describe("metrics/web", () => {
  let server: LocalServer;
  before(async () => {
    server = await startLocalServer(() => ({ body: {} }));
  });
  after(() => server.close());
  beforeEach(() => {
    server.requests.length = 0;
  });

  const provider = (spec: Partial<MetricProviderSpec> = {}, secret: Record<string, string> = {}) =>
    createWebProvider({ spec: { type: "web", address: `${server.url}/slo?service=podinfo`, ...spec }, secret }, { timeoutMs: 2000 });

  it("GETs the endpoint and picks the value with a JSONPath", async () => {
    server.handle(() => ({ body: { data: { successRate: 99.9, latency: { p99: "212.5" } } } }));
    assert.equal(await provider().runQuery("$.data.successRate"), 99.9);
    assert.equal(await provider().runQuery("$.data.latency.p99"), 212.5);
    assert.equal(server.requests[0]!.method, "GET");
    assert.equal(server.requests[0]!.url.searchParams.get("service"), "podinfo");
  });

  it("POSTs the template's body and headers, with bearer auth from the secret", async () => {
    server.handle((req) => ({ body: { echo: JSON.parse(req.body) as unknown, value: 3 } }));
    const p = provider({ body: '{"window":"1m"}', headers: { "X-Team": "birds" } }, { token: "tok-1234" });
    assert.equal(await p.runQuery("$.value"), 3);
    const req = server.requests[0]!;
    assert.equal(req.method, "POST");
    assert.equal(req.body, '{"window":"1m"}');
    assert.equal(req.headers["content-type"], "application/json");
    assert.equal(req.headers["x-team"], "birds");
    assert.equal(req.headers.authorization, "Bearer tok-1234");
  });

  it("selects from arrays with filters", async () => {
    server.handle(() => ({ body: { checks: [{ name: "a", value: 1 }, { name: "b", value: 2 }] } }));
    assert.equal(await provider().runQuery("$.checks[?(@.name === 'b')].value"), 2);
    await assert.rejects(provider().runQuery("$.checks[*].value"), MultipleValuesError);
  });

  it("reports nothing selected, null and NaN as no values", async () => {
    server.handle(() => ({ body: { a: null, b: "NaN", c: [] } }));
    await assert.rejects(provider().runQuery("$.missing"), NoValuesError);
    await assert.rejects(provider().runQuery("$.a"), NoValuesError);
    await assert.rejects(provider().runQuery("$.b"), NoValuesError);
    await assert.rejects(provider().runQuery("$.c[*]"), NoValuesError);
  });

  it("rejects non-numeric values and malformed bodies", async () => {
    server.handle(() => ({ body: { a: "high", b: { c: 1 } } }));
    await assert.rejects(provider().runQuery("$.a"), (err: unknown) => err instanceof ProviderError && /not a number/.test(err.message));
    await assert.rejects(provider().runQuery("$.b"), ProviderError);
    server.handle(() => ({ text: "{broken" }));
    await assert.rejects(provider().runQuery("$.a"), ProviderError);
  });

  it("reports HTTP errors with their status", async () => {
    server.handle(() => ({ status: 500, body: { error: "db down" } }));
    await assert.rejects(provider().runQuery("$.a"), (err: unknown) => err instanceof ProviderError && err.status === 500 && err.retryable);
  });

  it("rejects an empty JSONPath and bad configuration", async () => {
    server.handle(() => ({ body: { a: 1 } }));
    await assert.rejects(provider().runQuery("  "), MetricConfigError);
    assert.throws(() => createWebProvider({ spec: { type: "web" }, secret: {} }, { timeoutMs: 1 }), MetricConfigError);
    assert.throws(() => provider({ method: "PUT" }), /GET or POST/);
    assert.throws(() => provider({ method: "GET", body: "{}" }), /needs method POST/);
  });

  it("keeps query-string secrets out of error messages", async () => {
    server.handle(() => ({ status: 503, text: "unavailable" }));
    const p = createWebProvider({ spec: { type: "web", address: `${server.url}/x?apikey=hunter22` }, secret: {} }, { timeoutMs: 2000 });
    await assert.rejects(p.runQuery("$.a"), (err: unknown) => err instanceof ProviderError && !err.message.includes("hunter22"));
  });
});
