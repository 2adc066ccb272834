import assert from "node:assert/strict";
import { generateKeyPairSync, verify } from "node:crypto";
import type { GoogleTokenCache } from "../../../src/metrics/google-auth.ts";
import { MONITORING_READ_SCOPE } from "../../../src/metrics/google-auth.ts";
import { createStackdriverProvider } from "../../../src/metrics/stackdriver.ts";
import { MetricConfigError, MultipleValuesError, NoValuesError, ProviderError } from "../../../src/metrics/types.ts";
import type { LocalServer, RecordedRequest, Reply } from "./local-server.ts";
import { startLocalServer } from "./local-server.ts";

const MQL = `fetch k8s_container
| metric 'istio.io/service/server/response_latencies'
| filter (metric.destination_service_name == 'podinfo-canary' && metric.destination_service_namespace == 'test')
| align delta(1m)
| every 1m
| group_by [], [value_response_latencies_percentile: percentile(value.response_latencies, 99)]`;

const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const PEM = privateKey.export({ type: "pkcs8", format: "pem" }).toString();

const series = (...list: Array<Array<Record<string, unknown>>>): Reply => ({
  body: {
    timeSeriesDescriptor: { pointDescriptors: [{ key: "value_response_latencies_percentile", valueType: "DOUBLE", metricKind: "GAUGE" }] },
    timeSeriesData: list.map((points) => ({
      labelValues: [],
      pointData: points.map((value, i) => ({ values: [value], timeInterval: { startTime: `2025-03-01T12:0${i}:00Z`, endTime: `2025-03-01T12:0${i}:00Z` } })),
    })),
  },
});

/** Checks a JWT bearer assertion the way Google's token endpoint would, returning its claims. */
function verifiedClaims(req: RecordedRequest): Record<string, unknown> {
  const form = new URLSearchParams(req.body);
  assert.equal(form.get("grant_type"), "urn:ietf:params:oauth:grant-type:jwt-bearer");
  const [header, claims, signature] = (form.get("assertion") ?? "").split(".") as [string, string, string];
  assert.deepEqual(JSON.parse(Buffer.from(header, "base64url").toString()), { alg: "RS256", typ: "JWT", kid: "key-1" });
  assert.ok(verify("RSA-SHA256", Buffer.from(`${header}.${claims}`), publicKey, Buffer.from(signature, "base64url")), "the assertion's signature verifies");
  return JSON.parse(Buffer.from(claims, "base64url").toString()) as Record<string, unknown>;
}

describe("metrics/stackdriver", () => {
  let server: LocalServer;
  let monitoring: Reply;
  let now: Date;
  let cache: GoogleTokenCache;
  before(async () => {
    server = await startLocalServer((req) => route(req));
  });
  after(() => server.close());
  beforeEach(() => {
    server.requests.length = 0;
    monitoring = series([{ doubleValue: 245.3 }]);
    now = new Date("2025-03-01T12:00:00Z");
    cache = new Map();
  });

  let issued = 0;
  const route = (req: RecordedRequest): Reply => {
    if (req.path === "/token") return { body: { access_token: `ya29.token-${++issued}`, expires_in: 3599, token_type: "Bearer" } };
    if (req.path === "/computeMetadata/v1/instance/service-accounts/default/token") {
      return req.headers["metadata-flavor"] === "Google" ? { body: { access_token: "ya29.metadata", expires_in: 3599, token_type: "Bearer" } } : { status: 403 };
    }
    if (req.path === "/v3/projects/my-project/timeSeries:query") return monitoring;
    return { status: 404, body: { error: { code: 404, message: "not found", status: "NOT_FOUND" } } };
  };
  const keyFile = () => JSON.stringify({ type: "service_account", project_id: "my-project", private_key_id: "key-1", private_key: PEM, client_email: "flagger@my-project.iam.gserviceaccount.com", token_uri: `${server.url}/token` });
  const provider = (secret: Record<string, string> = { project: "my-project", serviceAccountKey: keyFile() }, timeoutMs = 2000) =>
    createStackdriverProvider(
      { spec: { type: "stackdriver", address: server.url, secretRef: { name: "gcloud-sa" } }, secret },
      { timeoutMs, now: () => now, tokenCache: cache, metadataAddress: server.url },
    );

  it("exchanges a signed JWT for a token, then posts the MQL query to timeSeries:query", async () => {
    assert.equal(await provider().runQuery(MQL), 245.3);
    const [tokenReq, queryReq] = server.requests as [RecordedRequest, RecordedRequest];
    assert.equal(tokenReq.method, "POST");
    assert.equal(tokenReq.headers["content-type"], "application/x-www-form-urlencoded");
    const claims = verifiedClaims(tokenReq);
    const iat = now.getTime() / 1000;
    assert.deepEqual(claims, { iss: "flagger@my-project.iam.gserviceaccount.com", scope: MONITORING_READ_SCOPE, aud: `${server.url}/token`, iat, exp: iat + 3600 });
    assert.equal(queryReq.method, "POST");
    assert.equal(queryReq.path, "/v3/projects/my-project/timeSeries:query");
    assert.equal(queryReq.headers.authorization, `Bearer ya29.token-${issued}`);
    assert.deepEqual(JSON.parse(queryReq.body), { query: MQL });
  });

  it("reuses the token until a minute before it expires", async () => {
    await provider().runQuery(MQL);
    await provider().runQuery(MQL);
    assert.equal(server.requests.filter((r) => r.path === "/token").length, 1);
    now = new Date(now.getTime() + 3599_000 - 30_000);
    await provider().runQuery(MQL);
    assert.equal(server.requests.filter((r) => r.path === "/token").length, 2);
  });

  it("asks the metadata server when the Secret holds no key", async () => {
    assert.equal(await provider({ project: "my-project" }).runQuery(MQL), 245.3);
    assert.equal(server.requests[0]!.path, "/computeMetadata/v1/instance/service-accounts/default/token");
    assert.equal(server.requests[1]!.headers.authorization, "Bearer ya29.metadata");
  });

  it("takes the newest point, and reads int64 values", async () => {
    monitoring = series([{ doubleValue: 2 }, { doubleValue: 1 }]);
    assert.equal(await provider().runQuery(MQL), 2);
    monitoring = series([{ int64Value: "42" }]);
    assert.equal(await provider().runQuery(MQL), 42);
  });

  it("reports no series, no points and NaN as no values", async () => {
    for (const reply of [{ body: {} }, { body: { timeSeriesDescriptor: {}, timeSeriesData: [] } }, series([]), series([{ doubleValue: "NaN" }])] as Reply[]) {
      monitoring = reply;
      await assert.rejects(provider().runQuery(MQL), NoValuesError, JSON.stringify(reply));
    }
  });

  it("rejects several series and several value columns", async () => {
    monitoring = series([{ doubleValue: 1 }], [{ doubleValue: 2 }]);
    await assert.rejects(provider().runQuery(MQL), (err: unknown) => err instanceof MultipleValuesError && err.count === 2);
    monitoring = { body: { timeSeriesData: [{ pointData: [{ values: [{ doubleValue: 1 }, { int64Value: "2" }] }] }] } };
    await assert.rejects(provider().runQuery(MQL), MultipleValuesError);
  });

  it("reports API errors, a refused token and malformed answers", async () => {
    monitoring = { status: 400, body: { error: { code: 400, message: "Line 1: Expected table operation.", status: "INVALID_ARGUMENT" } } };
    await assert.rejects(provider().runQuery("fetc"), (err: unknown) => err instanceof ProviderError && err.status === 400 && !err.retryable && /INVALID_ARGUMENT: Line 1/.test(err.message));
    monitoring = { status: 503, body: { error: { code: 503, message: "unavailable", status: "UNAVAILABLE" } } };
    await assert.rejects(provider().runQuery(MQL), (err: unknown) => err instanceof ProviderError && err.retryable);
    monitoring = { body: { timeSeriesData: [{ pointData: [{ values: [{ stringValue: "x" }] }] }] } };
    await assert.rejects(provider().runQuery(MQL), (err: unknown) => err instanceof ProviderError && err.code === "MalformedResponse");
  });

  it("reports a token the token endpoint refuses", async () => {
    server.handle((req) => (req.path === "/token" ? { status: 400, body: { error: "invalid_grant", error_description: "Invalid JWT Signature." } } : route(req)));
    try {
      await assert.rejects(provider().runQuery(MQL), (err: unknown) => err instanceof ProviderError && err.status === 400 && !err.retryable && /Invalid JWT Signature/.test(err.message));
      assert.equal(server.requests.some((r) => r.path.endsWith(":query")), false);
    } finally {
      server.handle(route);
    }
  });

  it("times out, and stops when aborted", async () => {
    monitoring = { hang: true };
    await assert.rejects(provider(undefined, 150).runQuery(MQL), (err: unknown) => err instanceof ProviderError && err.code === "Timeout");
    const controller = new AbortController();
    const pending = provider().runQuery(MQL, { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await assert.rejects(pending, (err: unknown) => err instanceof ProviderError && err.code === "Aborted");
  });

  it("needs a project, and a key that is a service account key", () => {
    assert.throws(() => provider({}), /project/);
    assert.throws(() => provider({ project: "p", serviceAccountKey: "not json" }), MetricConfigError);
    assert.throws(() => provider({ project: "p", serviceAccountKey: JSON.stringify({ type: "service_account", client_email: "a@b", private_key: "nope" }) }), /PEM/);
    assert.throws(() => provider({ project: "p", serviceAccountKey: JSON.stringify({ type: "authorized_user" }) }), /service_account/);
  });
});
