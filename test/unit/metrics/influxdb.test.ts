import assert from "node:assert/strict";
import { createInfluxDbProvider } from "../../../src/metrics/influxdb.ts";
import { parseAnnotatedCsv } from "../../../src/metrics/influxdb-csv.ts";
import { MetricConfigError, MultipleValuesError, NoValuesError, ProviderError } from "../../../src/metrics/types.ts";
import type { LocalServer } from "./local-server.ts";
import { startLocalServer } from "./local-server.ts";

const FLUX = `from(bucket: "default")
|> range(start: -2h)
|> filter(fn: (r) => r["_measurement"] == "istio_requests_total")
|> filter(fn: (r) => r["response_code"] == "500")
|> count()
|> yield(name: "count")`;

/** One table per value, as InfluxDB writes annotated CSV (CRLF line ends, a blank line after each table). */
function csv(values: Array<string>, datatype = "long"): string {
  const tables = values.map((v, i) =>
    [
      "#group,false,false,true,true,false,true,true",
      `#datatype,string,long,dateTime:RFC3339,dateTime:RFC3339,${datatype},string,string`,
      "#default,count,,,,,,",
      ",result,table,_start,_stop,_value,_field,_measurement",
      `,,${i},2025-03-01T10:00:00Z,2025-03-01T12:00:00Z,${v},value,istio_requests_total`,
    ].join("\r\n"),
  );
  return tables.join("\r\n\r\n") + "\r\n\r\n";
}

describe("metrics/influxdb", () => {
  let server: LocalServer;
  before(async () => {
    server = await startLocalServer(() => ({ text: csv([]) }));
  });
  after(() => server.close());
  beforeEach(() => {
    server.requests.length = 0;
  });

  const provider = (timeoutMs = 2000) =>
    createInfluxDbProvider(
      { spec: { type: "influxdb", address: `${server.url}/`, secretRef: { name: "influx-token" } }, secret: { token: "influx-tok", org: "my-org" } },
      { timeoutMs },
    );

  it("posts the Flux query to /api/v2/query for the org, with the token, asking for annotated CSV", async () => {
    server.handle(() => ({ text: csv(["42"]) }));
    assert.equal(await provider().runQuery(FLUX), 42);
    const req = server.requests[0]!;
    assert.equal(req.method, "POST");
    assert.equal(req.path, "/api/v2/query");
    assert.equal(req.url.searchParams.get("org"), "my-org");
    assert.equal(req.headers.authorization, "Token influx-tok");
    assert.equal(req.headers["content-type"], "application/json");
    const body = JSON.parse(req.body) as { query: string; type: string; dialect: { header: boolean; annotations: string[] } };
    assert.equal(body.query, FLUX);
    assert.equal(body.type, "flux");
    assert.equal(body.dialect.header, true);
    assert.deepEqual(body.dialect.annotations, ["datatype", "group", "default"]);
  });

  it("reads doubles, and quoted cells", async () => {
    server.handle(() => ({ text: csv(["0.25"], "double") }));
    assert.equal(await provider().runQuery(FLUX), 0.25);
    assert.deepEqual(parseAnnotatedCsv(',result,table,_value,msg\n,,0,1,"a, ""b""\nc"\n').records[0]!.cells, { result: null, table: "0", _value: "1", msg: 'a, "b"\nc' });
  });

  it("reports no records and an empty _value as no values", async () => {
    server.handle(() => ({ text: "\r\n" }));
    await assert.rejects(provider().runQuery(FLUX), NoValuesError);
    server.handle(() => ({ text: csv([""], "double") }));
    await assert.rejects(provider().runQuery(FLUX), NoValuesError);
  });

  it("rejects several records (several tables)", async () => {
    server.handle(() => ({ text: csv(["1", "2"]) }));
    await assert.rejects(provider().runQuery(FLUX), (err: unknown) => err instanceof MultipleValuesError && err.count === 2);
  });

  it("rejects a _value that is not a number", async () => {
    server.handle(() => ({ text: csv(["abc"], "string") }));
    await assert.rejects(provider().runQuery(FLUX), (err: unknown) => err instanceof ProviderError && /type string/.test(err.message));
  });

  it("reports InfluxDB's error message, an error table, and server errors", async () => {
    server.handle(() => ({ status: 400, body: { code: "invalid", message: "compilation failed: error at @1:1-1:5: undefined identifier fro" } }));
    await assert.rejects(provider().runQuery("fro()"), (err: unknown) => err instanceof ProviderError && err.status === 400 && !err.retryable && /undefined identifier/.test(err.message));
    server.handle(() => ({ status: 401, body: { code: "unauthorized", message: "unauthorized access" } }));
    await assert.rejects(provider().runQuery(FLUX), /unauthorized access/);
    server.handle(() => ({ text: '#datatype,string,string\r\n#group,true,true\r\n#default,,\r\n,error,reference\r\n,"failed to read bucket: not found",897\r\n\r\n' }));
    await assert.rejects(provider().runQuery(FLUX), (err: unknown) => err instanceof ProviderError && /bucket: not found/.test(err.message));
    server.handle(() => ({ status: 503, text: "" }));
    await assert.rejects(provider().runQuery(FLUX), (err: unknown) => err instanceof ProviderError && err.retryable);
  });

  it("times out, and stops when aborted", async () => {
    server.handle(() => ({ hang: true }));
    await assert.rejects(provider(100).runQuery(FLUX), (err: unknown) => err instanceof ProviderError && err.code === "Timeout");
    const controller = new AbortController();
    const pending = provider().runQuery(FLUX, { signal: controller.signal });
    controller.abort();
    await assert.rejects(pending, (err: unknown) => err instanceof ProviderError && err.code === "Aborted");
  });

  it("needs an address, and token and org when a secretRef is set", () => {
    assert.throws(() => createInfluxDbProvider({ spec: { type: "influxdb" }, secret: {} }, { timeoutMs: 1 }), MetricConfigError);
    assert.throws(() => createInfluxDbProvider({ spec: { type: "influxdb", address: server.url, secretRef: { name: "s" } }, secret: { token: "t" } }, { timeoutMs: 1 }), /org/);
    assert.throws(() => createInfluxDbProvider({ spec: { type: "influxdb", address: server.url, secretRef: { name: "s" } }, secret: { org: "o" } }, { timeoutMs: 1 }), /token/);
  });
});
