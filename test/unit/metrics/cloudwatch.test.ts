import assert from "node:assert/strict";
import type { CloudWatchClientConfig, GetMetricDataCommandInput, GetMetricDataCommandOutput } from "@aws-sdk/client-cloudwatch";
import { GetMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import type { CloudWatchPort } from "../../../src/metrics/cloudwatch.ts";
import { createCloudWatchProvider } from "../../../src/metrics/cloudwatch.ts";
import { parseCloudWatchQuery, returnedQueryId } from "../../../src/metrics/cloudwatch-query.ts";
import type { MetricProviderSpec } from "../../../src/metrics/types.ts";
import { MetricConfigError, NoValuesError, ProviderError } from "../../../src/metrics/types.ts";

const NOW = new Date("2025-01-01T12:00:00Z");

/** Synthetics SuccessPercent of one canary step, as the walkthrough writes it (camelCase). */
const SYNTHETICS = JSON.stringify([
  {
    id: "success",
    metricStat: {
      metric: {
        namespace: "CloudWatchSynthetics",
        metricName: "SuccessPercent",
        dimensions: [
          { name: "CanaryName", value: "podinfo-canary" },
          { name: "StepName", value: "navigateToUrl" },
        ],
      },
      period: 60,
      stat: "Average",
    },
  },
]);

/** A 5xx count over `failure_threshold_time`, in Flagger's PascalCase with a math expression. */
const FIVE_XX = JSON.stringify([
  {
    Id: "errors",
    MetricStat: {
      Metric: { Namespace: "AWS/VpcLattice", MetricName: "HTTPCode_5XX_Count", Dimensions: [{ Name: "TargetGroup", Value: "tg-1" }] },
      Period: "300",
      Stat: "Sum",
    },
    ReturnData: false,
  },
  { Id: "e1", Expression: "FILL(errors, 0)", ReturnData: true },
]);

interface StubCall {
  input: GetMetricDataCommandInput;
  abortSignal: AbortSignal | undefined;
}

/** A CloudWatch port that answers GetMetricData from a list of pages and records the calls. */
function stubPort(pages: Array<Partial<GetMetricDataCommandOutput> | Error>): { port: CloudWatchPort; calls: StubCall[] } {
  const calls: StubCall[] = [];
  const send = async (command: unknown, options?: { abortSignal?: AbortSignal }) => {
    assert.ok(command instanceof GetMetricDataCommand, "only GetMetricData is expected");
    calls.push({ input: command.input, abortSignal: options?.abortSignal });
    const page = pages[calls.length - 1];
    if (page === undefined) throw new Error("no more stub pages");
    if (page instanceof Error) throw page;
    return { $metadata: {}, ...page };
  };
  return { port: { send } as unknown as CloudWatchPort, calls };
}

function provider(port: CloudWatchPort, spec: Partial<MetricProviderSpec> = {}, secret: Record<string, string> = {}, intervalMs = 60_000) {
  const configs: CloudWatchClientConfig[] = [];
  const p = createCloudWatchProvider(
    { spec: { type: "cloudwatch", region: "eu-west-1", ...spec }, secret, intervalMs },
    { timeoutMs: 2000, now: () => NOW, createClient: (c) => (configs.push(c), port) },
  );
  return { p, configs };
}

describe("metrics/cloudwatch", () => {
  it("asks for the newest data point first over a window ending now", async () => {
    const { port, calls } = stubPort([{ MetricDataResults: [{ Id: "success", Values: [100, 50], Timestamps: [] }] }]);
    assert.equal(await provider(port).p.runQuery(SYNTHETICS), 100);
    const input = calls[0]!.input;
    assert.equal(input.ScanBy, "TimestampDescending");
    assert.equal(input.EndTime?.getTime(), NOW.getTime());
    assert.equal(NOW.getTime() - (input.StartTime?.getTime() ?? 0), 5 * 60_000);
    assert.ok(calls[0]!.abortSignal instanceof AbortSignal);
    // camelCase keys reach the API in its PascalCase shape, values untouched
    assert.deepEqual(input.MetricDataQueries, [
      {
        Id: "success",
        MetricStat: {
          Metric: {
            Namespace: "CloudWatchSynthetics",
            MetricName: "SuccessPercent",
            Dimensions: [
              { Name: "CanaryName", Value: "podinfo-canary" },
              { Name: "StepName", Value: "navigateToUrl" },
            ],
          },
          Period: 60,
          Stat: "Average",
        },
      },
    ]);
  });

  it("reads the query whose ReturnData is true and widens the window to cover its period", async () => {
    const { port, calls } = stubPort([
      { MetricDataResults: [{ Id: "e1", Values: [3] }] },
    ]);
    assert.equal(await provider(port).p.runQuery(FIVE_XX), 3);
    assert.equal(NOW.getTime() - (calls[0]!.input.StartTime?.getTime() ?? 0), 600_000);
    assert.equal(calls[0]!.input.MetricDataQueries?.[0]?.MetricStat?.Period, 300);
  });

  it("uses the template's window and the metric's interval when longer", async () => {
    const a = stubPort([{ MetricDataResults: [{ Id: "success", Values: [1] }] }]);
    await provider(a.port, { window: "15m" }).p.runQuery(SYNTHETICS);
    assert.equal(NOW.getTime() - (a.calls[0]!.input.StartTime?.getTime() ?? 0), 15 * 60_000);
    const b = stubPort([{ MetricDataResults: [{ Id: "success", Values: [1] }] }]);
    await provider(b.port, {}, {}, 20 * 60_000).p.runQuery(SYNTHETICS);
    assert.equal(NOW.getTime() - (b.calls[0]!.input.StartTime?.getTime() ?? 0), 20 * 60_000);
  });

  it("follows NextToken until the result has a value", async () => {
    const { port, calls } = stubPort([
      { MetricDataResults: [{ Id: "success", Values: [], StatusCode: "PartialData" }], NextToken: "t1" },
      { MetricDataResults: [{ Id: "success", Values: [97.5], StatusCode: "Complete" }] },
    ]);
    assert.equal(await provider(port).p.runQuery(SYNTHETICS), 97.5);
    assert.equal(calls.length, 2);
    assert.equal(calls[1]!.input.NextToken, "t1");
    assert.equal(calls[0]!.input.NextToken, undefined);
  });

  it("reports an empty result as no values, naming the window", async () => {
    const { port } = stubPort([{ MetricDataResults: [{ Id: "success", Values: [], StatusCode: "Complete" }] }]);
    await assert.rejects(provider(port).p.runQuery(SYNTHETICS), (err: unknown) => err instanceof NoValuesError && /2025-01-01T11:55:00/.test(err.message));
    const missing = stubPort([{ MetricDataResults: [] }]);
    await assert.rejects(provider(missing.port).p.runQuery(SYNTHETICS), NoValuesError);
  });

  it("turns Forbidden and InternalError results into provider errors", async () => {
    const forbidden = stubPort([{ MetricDataResults: [{ Id: "success", StatusCode: "Forbidden", Messages: [{ Code: "Forbidden", Value: "no access" }] }] }]);
    await assert.rejects(provider(forbidden.port).p.runQuery(SYNTHETICS), (err: unknown) => err instanceof ProviderError && !err.retryable);
    const internal = stubPort([{ MetricDataResults: [{ Id: "success", StatusCode: "InternalError" }] }]);
    await assert.rejects(provider(internal.port).p.runQuery(SYNTHETICS), (err: unknown) => err instanceof ProviderError && err.retryable);
  });

  it("classifies SDK errors by fault and status", async () => {
    const throttled = Object.assign(new Error("Rate exceeded"), {
      name: "ThrottlingException",
      $fault: "client",
      $retryable: { throttling: true },
      $metadata: { httpStatusCode: 400 },
    });
    const denied = Object.assign(new Error("not authorized to perform cloudwatch:GetMetricData"), {
      name: "AccessDenied",
      $fault: "client",
      $metadata: { httpStatusCode: 403 },
    });
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" });
    const cases: Array<[Error, boolean, number | undefined]> = [
      [throttled, true, 400],
      [denied, false, 403],
      [refused, true, undefined],
    ];
    for (const [error, retryable, status] of cases) {
      const { port } = stubPort([error]);
      await assert.rejects(provider(port).p.runQuery(SYNTHETICS), (err: unknown) => {
        assert.ok(err instanceof ProviderError);
        assert.equal(err.retryable, retryable, error.message);
        assert.equal(err.status, status);
        assert.ok(err.message.includes(error.message));
        return true;
      });
    }
  });

  it("times out a call that never answers", async () => {
    const port = { send: (_c: unknown, o: { abortSignal: AbortSignal }) => new Promise((_, reject) => o.abortSignal.addEventListener("abort", () => reject(new Error("Request aborted")))) };
    const p = createCloudWatchProvider(
      { spec: { type: "cloudwatch" }, secret: {} },
      { timeoutMs: 100, now: () => NOW, createClient: () => port as unknown as CloudWatchPort },
    );
    await assert.rejects(p.runQuery(SYNTHETICS), (err: unknown) => err instanceof ProviderError && err.code === "Timeout" && err.retryable);
  });

  it("builds its client from region, endpoint and the secret's keys", () => {
    const { port } = stubPort([]);
    const withKeys = provider(port, { address: "http://127.0.0.1:5000" }, {
      aws_access_key_id: "AKIA",
      aws_secret_access_key: "shh",
      aws_session_token: "tok",
    });
    assert.deepEqual(withKeys.configs[0], {
      region: "eu-west-1",
      endpoint: "http://127.0.0.1:5000/",
      credentials: { accessKeyId: "AKIA", secretAccessKey: "shh", sessionToken: "tok" },
    });
    const chain = provider(port);
    assert.deepEqual(chain.configs[0], { region: "eu-west-1" });
    assert.throws(() => provider(port, {}, { aws_access_key_id: "AKIA" }), MetricConfigError);
  });
});

describe("metrics/cloudwatch query", () => {
  it("accepts a single object as well as an array", () => {
    const one = parseCloudWatchQuery(JSON.stringify({ id: "x", expression: "SUM(METRICS())" }));
    assert.deepEqual(one, [{ Id: "x", Expression: "SUM(METRICS())" }]);
  });

  it("names unknown keys, wrong types and missing fields", () => {
    const bad: Array<[unknown, RegExp]> = [
      [[{ Id: "a", MetricStat: { Metric: { Namespace: "n", MetricName: "m" }, Period: 60, Stat: "Sum" }, Foo: 1 }], /\[0\]\.Foo: unknown key/],
      [[{ Id: "a", MetricStat: { Metric: { Namespace: "n", MetricName: "m" }, Period: "soon", Stat: "Sum" } }], /\[0\]\.MetricStat\.Period: expected a number/],
      [[{ Id: "a", MetricStat: { Metric: { Namespace: "n" }, Period: 60, Stat: "Sum" } }], /Namespace and MetricName/],
      [[{ Id: "a" }], /exactly one of MetricStat and Expression/],
      [[{ Expression: "x" }], /Id is required/],
      [[{ Id: "a", Expression: "x" }, { Id: "a", Expression: "y" }], /used twice/],
      [[], /empty array/],
    ];
    for (const [query, message] of bad) {
      assert.throws(() => parseCloudWatchQuery(JSON.stringify(query)), (err: unknown) => err instanceof MetricConfigError && message.test(err.message), JSON.stringify(query));
    }
    assert.throws(() => parseCloudWatchQuery("[{"), /not valid JSON/);
  });

  it("picks the one query that returns data", () => {
    const q = (id: string, returnData?: boolean) => ({ Id: id, Expression: "x", ...(returnData === undefined ? {} : { ReturnData: returnData }) });
    assert.equal(returnedQueryId([q("a")]), "a");
    assert.equal(returnedQueryId([q("a", false), q("b")]), "b");
    assert.equal(returnedQueryId([q("a"), q("b", true)]), "b");
    assert.throws(() => returnedQueryId([q("a"), q("b")]), /several queries \(a, b\)/);
    assert.throws(() => returnedQueryId([q("a", false), q("b", false)]), /every query/);
  });
});

describe("metrics/cloudwatch: counts summed over a window", () => {
  const START = Date.parse("2025-01-01T11:55:00Z");
  const END = Date.parse("2025-01-01T11:58:00Z");
  const minute = (m: number) => new Date(START + m * 60_000);

  it("adds up every data point stamped in [start, end), over all pages, and none is zero", async () => {
    const { port, calls } = stubPort([
      { MetricDataResults: [{ Id: "e1", Values: [3, 4], Timestamps: [minute(0), minute(1)] }], NextToken: "next" },
      // A point stamped at the window's end belongs to the next window.
      { MetricDataResults: [{ Id: "e1", Values: [5, 100], Timestamps: [minute(2), minute(3)] }] },
    ]);
    const { p } = provider(port);
    assert.equal(await p.sumInWindow!(FIVE_XX, { startMs: START, endMs: END }), 12);
    assert.equal(calls.length, 2);
    assert.equal(calls[0]!.input.StartTime?.getTime(), START);
    assert.equal(calls[0]!.input.EndTime?.getTime(), END);
    assert.equal(calls[0]!.input.ScanBy, "TimestampAscending");
    assert.equal(calls[1]!.input.NextToken, "next");

    const empty = stubPort([{ MetricDataResults: [{ Id: "e1", Values: [], Timestamps: [] }] }]);
    assert.equal(await provider(empty.port).p.sumInWindow!(FIVE_XX, { startMs: START, endMs: END }), 0);
  });

  it("refuses a statistic that does not count, naming it", async () => {
    const { port, calls } = stubPort([]);
    await assert.rejects(
      provider(port).p.sumInWindow!(SYNTHETICS, { startMs: START, endMs: END }),
      (err: unknown) => err instanceof MetricConfigError && /MetricStat.Stat must be Sum or SampleCount .*not Average/.test(err.message),
    );
    assert.equal(calls.length, 0);
  });

  it("reports a failed result as a provider error", async () => {
    const { port } = stubPort([{ MetricDataResults: [{ Id: "e1", StatusCode: "Forbidden", Messages: [{ Code: "AccessDenied", Value: "no" }] }] }]);
    await assert.rejects(provider(port).p.sumInWindow!(FIVE_XX, { startMs: START, endMs: END }), (err: unknown) => err instanceof ProviderError && /Forbidden/.test(err.message));
  });

  it("tells the period windows must align to: the largest in the query, else CloudWatch's minute", () => {
    const { p } = provider(stubPort([]).port);
    assert.equal(p.periodMs!(FIVE_XX), 300_000);
    assert.equal(p.periodMs!(JSON.stringify([{ Id: "x", Expression: "SEARCH('x', 'Sum')" }])), 60_000);
  });
});
