import assert from "node:assert/strict";
import { createPrometheusProvider } from "../../../src/metrics/prometheus.ts";
import { MetricConfigError, MultipleValuesError, NoValuesError, ProviderError } from "../../../src/metrics/types.ts";
import type { LocalServer, Reply } from "../../support/local-server.ts";
import { closedPort, startLocalServer } from "../../support/local-server.ts";

const vector = (...values: string[]): Reply => ({
  body: {
    status: "success",
    data: { resultType: "vector", result: values.map((v, i) => ({ metric: { pod: `p${i}` }, value: [1700000000.123, v] })) },
  },
});

describe("metrics/prometheus", () => {
  let server: LocalServer;
  before(async () => {
    server = await startLocalServer(() => vector("1"));
  });
  after(() => server.close());
  beforeEach(() => {
    server.requests.length = 0;
    server.handle(() => vector("1"));
  });

  const provider = (secret: Record<string, string> = {}, headers?: Record<string, string>) =>
    createPrometheusProvider({ spec: { type: "prometheus", address: `${server.url}/`, headers }, secret }, { timeoutMs: 2000 });

  it("sends an instant query to /api/v1/query and returns the single sample", async () => {
    server.handle(() => vector("99.5"));
    assert.equal(await provider().runQuery('sum(rate(http_requests_total{status!~"5.."}[1m]))'), 99.5);
    const req = server.requests[0]!;
    assert.equal(req.method, "GET");
    assert.equal(req.path, "/api/v1/query");
    assert.equal(req.url.searchParams.get("query"), 'sum(rate(http_requests_total{status!~"5.."}[1m]))');
  });

  it("handles scalar results", async () => {
    server.handle(() => ({ body: { status: "success", data: { resultType: "scalar", result: [1700000000, "42"] } } }));
    assert.equal(await provider().runQuery("scalar(vector(42))"), 42);
  });

  it("reports an empty vector as no values", async () => {
    server.handle(() => vector());
    await assert.rejects(provider().runQuery("up"), NoValuesError);
  });

  for (const special of ["NaN", "+Inf", "-Inf"]) {
    it(`reports ${special} as no values`, async () => {
      server.handle(() => vector(special));
      await assert.rejects(provider().runQuery("x"), (err: unknown) => err instanceof NoValuesError && err.message.includes(special));
    });
  }

  it("rejects several series with MultipleValuesError", async () => {
    server.handle(() => vector("1", "2", "3"));
    await assert.rejects(provider().runQuery("up"), (err: unknown) => err instanceof MultipleValuesError && err.count === 3);
  });

  it("rejects a range vector with advice to use a function", async () => {
    server.handle(() => ({ body: { status: "success", data: { resultType: "matrix", result: [] } } }));
    await assert.rejects(provider().runQuery("up[1m]"), /range vector/);
  });

  it("turns a query error into a terminal ProviderError carrying Prometheus' message", async () => {
    server.handle(() => ({
      status: 400,
      body: { status: "error", errorType: "bad_data", error: 'parse error: unexpected "}"' },
    }));
    await assert.rejects(provider().runQuery("sum(}"), (err: unknown) => {
      assert.ok(err instanceof ProviderError);
      assert.equal(err.status, 400);
      assert.equal(err.code, "bad_data");
      assert.equal(err.retryable, false);
      assert.match(err.message, /parse error/);
      return true;
    });
  });

  it("treats 503 and non-JSON gateway pages as retryable", async () => {
    server.handle(() => ({ status: 503, body: { status: "error", errorType: "timeout", error: "query timed out" } }));
    await assert.rejects(provider().runQuery("up"), (err: unknown) => err instanceof ProviderError && err.retryable && err.status === 503);
    server.handle(() => ({ status: 502, text: "<html>Bad Gateway</html>" }));
    await assert.rejects(provider().runQuery("up"), (err: unknown) => err instanceof ProviderError && err.retryable && /not JSON/.test(err.message));
  });

  it("rejects malformed answers as terminal provider errors", async () => {
    const malformed: Reply[] = [
      { text: "not json" },
      { body: { status: "success", data: { resultType: "vector", result: {} } } },
      { body: { status: "success", data: { resultType: "vector", result: [{ value: [1, 2] }] } } },
      { body: { status: "success", data: { resultType: "vector", result: [{ value: [1, "abc"] }] } } },
      { body: { status: "success", data: { resultType: "string", result: [1, "x"] } } },
      { body: [] },
    ];
    for (const reply of malformed) {
      server.handle(() => reply);
      await assert.rejects(provider().runQuery("up"), (err: unknown) => err instanceof ProviderError && !err.retryable, JSON.stringify(reply));
    }
  });

  it("sends bearer auth from the secret's token, and template headers", async () => {
    await provider({ token: "s3cret-token" }, { "X-Scope-OrgID": "tenant-a" }).runQuery("up");
    assert.equal(server.requests[0]!.headers.authorization, "Bearer s3cret-token");
    assert.equal(server.requests[0]!.headers["x-scope-orgid"], "tenant-a");
  });

  it("sends basic auth from the secret's username and password", async () => {
    await provider({ username: "aviary", password: "pa:ss" }).runQuery("up");
    assert.equal(server.requests[0]!.headers.authorization, `Basic ${Buffer.from("aviary:pa:ss").toString("base64")}`);
  });

  it("times out a hanging server with a retryable error", async () => {
    server.handle(() => ({ hang: true }));
    const p = createPrometheusProvider({ spec: { type: "prometheus", address: server.url }, secret: {} }, { timeoutMs: 150 });
    const started = Date.now();
    await assert.rejects(p.runQuery("up"), (err: unknown) => err instanceof ProviderError && err.retryable && err.code === "Timeout");
    assert.ok(Date.now() - started < 2000);
  });

  it("honours the caller's AbortSignal", async () => {
    server.handle(() => ({ hang: true }));
    const ctrl = new AbortController();
    const pending = provider().runQuery("up", { signal: ctrl.signal });
    setTimeout(() => ctrl.abort(), 50);
    await assert.rejects(pending, (err: unknown) => err instanceof ProviderError && err.code === "Aborted");
  });

  it("reports an unreachable server as retryable", async () => {
    const port = await closedPort();
    const p = createPrometheusProvider({ spec: { type: "prometheus", address: `http://127.0.0.1:${port}` }, secret: {} }, { timeoutMs: 2000 });
    await assert.rejects(p.runQuery("up"), (err: unknown) => err instanceof ProviderError && err.retryable && /ECONNREFUSED/.test(err.message));
  });

  it("needs an address", () => {
    assert.throws(() => createPrometheusProvider({ spec: { type: "prometheus" }, secret: {} }, { timeoutMs: 1000 }), MetricConfigError);
  });

  describe("over HTTPS with a self-signed certificate", () => {
    let tls: LocalServer;
    before(async () => {
      tls = await startLocalServer(() => vector("7"), { tls: true });
    });
    after(() => tls.close());

    it("fails verification by default, terminally", async () => {
      const p = createPrometheusProvider({ spec: { type: "prometheus", address: tls.url }, secret: {} }, { timeoutMs: 2000 });
      await assert.rejects(p.runQuery("up"), (err: unknown) => err instanceof ProviderError && !err.retryable);
    });

    it("connects with insecureSkipVerify", async () => {
      const p = createPrometheusProvider(
        { spec: { type: "prometheus", address: tls.url, insecureSkipVerify: true }, secret: {} },
        { timeoutMs: 2000 },
      );
      assert.equal(await p.runQuery("up"), 7);
    });
  });
});
