import assert from "node:assert/strict";
import { createNewRelicProvider } from "../../../src/metrics/newrelic.ts";
import { MetricConfigError, MultipleValuesError, NoValuesError, ProviderError } from "../../../src/metrics/types.ts";
import type { LocalServer, Reply } from "../../support/local-server.ts";
import { startLocalServer } from "../../support/local-server.ts";

const secret = { newrelic_account_id: "1234567", newrelic_query_key: "NRAK-abc" };
const results = (rows: unknown[]): Reply => ({ body: { data: { actor: { account: { nrql: { results: rows } } } } } });

describe("metrics/newrelic", () => {
  let server: LocalServer;
  before(async () => {
    server = await startLocalServer(() => results([]));
  });
  after(() => server.close());
  beforeEach(() => {
    server.requests.length = 0;
  });

  const provider = () => createNewRelicProvider({ spec: { type: "newrelic", address: server.url }, secret }, { timeoutMs: 2000 });

  it("posts the NRQL to NerdGraph with the account id and API-Key", async () => {
    server.handle(() => results([{ percentage: 99.25 }]));
    const nrql = "SELECT percentage(count(*), WHERE httpResponseCode < 500) FROM Transaction WHERE appName = 'podinfo' SINCE 1 minute ago";
    assert.equal(await provider().runQuery(nrql), 99.25);
    const req = server.requests[0]!;
    assert.equal(req.method, "POST");
    assert.equal(req.path, "/graphql");
    assert.equal(req.headers["api-key"], "NRAK-abc");
    const body = JSON.parse(req.body) as { query: string; variables: { accountId: number; nrql: string } };
    assert.deepEqual(body.variables, { accountId: 1234567, nrql });
    assert.match(body.query, /nrql\(query: \$nrql\)/);
  });

  it("reads percentile objects and ignores time bounds", async () => {
    server.handle(() => results([{ "percentile.duration": { "99": 0.31 }, beginTimeSeconds: 1, endTimeSeconds: 2 }]));
    assert.equal(await provider().runQuery("SELECT percentile(duration, 99) FROM Transaction"), 0.31);
  });

  it("reports no rows and null values as no values", async () => {
    server.handle(() => results([]));
    await assert.rejects(provider().runQuery("q"), NoValuesError);
    server.handle(() => results([{ average: null }]));
    await assert.rejects(provider().runQuery("q"), NoValuesError);
  });

  it("rejects several rows or several fields", async () => {
    server.handle(() => results([{ count: 1 }, { count: 2 }]));
    await assert.rejects(provider().runQuery("q"), MultipleValuesError);
    server.handle(() => results([{ count: 1, average: 2 }]));
    await assert.rejects(provider().runQuery("q"), MultipleValuesError);
  });

  it("reports GraphQL errors sent with HTTP 200", async () => {
    server.handle(() => ({ body: { data: { actor: { account: { nrql: null } } }, errors: [{ message: "NRQL Syntax Error: Error at line 1" }] } }));
    await assert.rejects(provider().runQuery("SELEC"), (err: unknown) => err instanceof ProviderError && /NRQL Syntax Error/.test(err.message));
  });

  it("rejects malformed answers", async () => {
    for (const reply of [
      { text: "nope" },
      { body: { data: null } },
      { body: { data: { actor: { account: { nrql: { results: {} } } } } } },
      ...[[1], [{ count: "many" }]].map((rows) => results(rows)),
    ] as Reply[]) {
      server.handle(() => reply);
      await assert.rejects(provider().runQuery("q"), ProviderError, JSON.stringify(reply));
    }
  });

  it("reports HTTP failures with their status", async () => {
    server.handle(() => ({ status: 401, body: { errors: [{ message: "Invalid API key" }] } }));
    await assert.rejects(provider().runQuery("q"), (err: unknown) => err instanceof ProviderError && err.status === 401 && /Invalid API key/.test(err.message));
  });

  it("validates its secret", () => {
    const make = (s: Record<string, string>) => () => createNewRelicProvider({ spec: { type: "newrelic" }, secret: s }, { timeoutMs: 1 });
    assert.throws(make({ newrelic_query_key: "k" }), MetricConfigError);
    assert.throws(make({ newrelic_query_key: "k", newrelic_account_id: "abc" }), /positive integer/);
  });
});
