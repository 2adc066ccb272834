import assert from "node:assert/strict";
import { createGraphiteProvider } from "../../../src/metrics/graphite.ts";
import { MetricConfigError, MultipleValuesError, NoValuesError, ProviderError } from "../../../src/metrics/types.ts";
import type { LocalServer, Reply } from "./local-server.ts";
import { startLocalServer } from "./local-server.ts";

const series = (...list: Array<{ target: string; datapoints: Array<[number | string | null, number]> }>): Reply => ({ body: list });

describe("metrics/graphite", () => {
  let server: LocalServer;
  before(async () => {
    server = await startLocalServer(() => series());
  });
  after(() => server.close());
  beforeEach(() => {
    server.requests.length = 0;
  });

  const provider = (secretRef = false, address = `${server.url}/graphite`) =>
    createGraphiteProvider(
      {
        spec: { type: "graphite", address, ...(secretRef ? { secretRef: { name: "graphite-basic-auth" } } : {}) },
        secret: secretRef ? { username: "flagger", password: "s3cret" } : {},
      },
      { timeoutMs: 2000 },
    );

  it("sends the query as render parameters, whitespace collapsed, with format=json and basic auth", async () => {
    server.handle(() => series({ target: "summarize(asPercent(a,b),\"1m\",\"avg\")", datapoints: [[98.5, 1700000000], [99.25, 1700000060]] }));
    const query = "target=summarize(\n  asPercent(\n    sumSeries(stats.app.podinfo.ok.count),\n    sumSeries(stats.app.podinfo.*.count)),\n  1m,\n  'avg'\n)\n&from=-10min\n";
    assert.equal(await provider(true).runQuery(query), 99.25);
    const req = server.requests[0]!;
    assert.equal(req.method, "GET");
    assert.equal(req.path, "/graphite/render");
    assert.equal(req.url.searchParams.get("format"), "json");
    assert.equal(req.url.searchParams.get("from"), "-10min");
    assert.equal(
      req.url.searchParams.get("target"),
      "summarize( asPercent( sumSeries(stats.app.podinfo.ok.count), sumSeries(stats.app.podinfo.*.count)), 1m, 'avg' )",
    );
    assert.equal(req.headers.authorization, `Basic ${Buffer.from("flagger:s3cret").toString("base64")}`);
  });

  it("sends no credentials without a secretRef", async () => {
    server.handle(() => series({ target: "x", datapoints: [[1, 1]] }));
    await provider().runQuery("target=x");
    assert.equal(server.requests[0]!.headers.authorization, undefined);
  });

  it("takes the newest non-null datapoint, also when Graphite sends it as a string", async () => {
    server.handle(() => series({ target: "x", datapoints: [[3, 1], ["4.5", 2], [null, 3], [null, 4]] }));
    assert.equal(await provider().runQuery("target=x"), 4.5);
  });

  it("reports no series, and only nulls, as no values", async () => {
    server.handle(() => series());
    await assert.rejects(provider().runQuery("target=x"), NoValuesError);
    server.handle(() => series({ target: "x", datapoints: [[null, 1], [null, 2]] }));
    await assert.rejects(provider().runQuery("target=x"), NoValuesError);
  });

  it("rejects several series that carry data, naming them; a series of nulls beside one with data is fine", async () => {
    server.handle(() => series({ target: "a", datapoints: [[1, 1]] }, { target: "b", datapoints: [[2, 1]] }));
    await assert.rejects(provider().runQuery("target=x"), (err: unknown) => err instanceof MultipleValuesError && err.count === 2 && /a, b/.test(err.message));
    server.handle(() => series({ target: "a", datapoints: [[null, 1]] }, { target: "b", datapoints: [[2, 1]] }));
    assert.equal(await provider().runQuery("target=x"), 2);
  });

  it("reports server errors and malformed answers", async () => {
    server.handle(() => ({ status: 400, text: "<h1>Bad Request</h1> unknown function sumSerie" }));
    await assert.rejects(provider().runQuery("target=x"), (err: unknown) => err instanceof ProviderError && err.status === 400 && !err.retryable && /sumSerie/.test(err.message));
    server.handle(() => ({ status: 503, text: "busy" }));
    await assert.rejects(provider().runQuery("target=x"), (err: unknown) => err instanceof ProviderError && err.retryable);
    for (const reply of [{ text: "<html>" }, { body: {} }, { body: [{ target: "x" }] }, { body: [{ target: "x", datapoints: [[1]] }] }, { body: [{ target: "x", datapoints: [["x", 1]] }] }] as Reply[]) {
      server.handle(() => reply);
      await assert.rejects(provider().runQuery("target=x"), ProviderError, JSON.stringify(reply));
    }
  });

  it("times out, and stops when aborted", async () => {
    server.handle(() => ({ hang: true }));
    const slow = createGraphiteProvider({ spec: { type: "graphite", address: server.url }, secret: {} }, { timeoutMs: 100 });
    await assert.rejects(slow.runQuery("target=x"), (err: unknown) => err instanceof ProviderError && err.code === "Timeout");
    const controller = new AbortController();
    const pending = provider().runQuery("target=x", { signal: controller.signal });
    controller.abort();
    await assert.rejects(pending, (err: unknown) => err instanceof ProviderError && err.code === "Aborted");
  });

  it("needs an address, a target, and both credentials when a secretRef is set", async () => {
    assert.throws(() => createGraphiteProvider({ spec: { type: "graphite" }, secret: {} }, { timeoutMs: 1 }), MetricConfigError);
    assert.throws(
      () => createGraphiteProvider({ spec: { type: "graphite", address: server.url, secretRef: { name: "s" } }, secret: { username: "u" } }, { timeoutMs: 1 }),
      /username and password/,
    );
    await assert.rejects(provider().runQuery("from=-5min"), MetricConfigError);
  });
});
