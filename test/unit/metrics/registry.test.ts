import assert from "node:assert/strict";
import { METRIC_PROVIDER_TYPES } from "../../../src/api/types.ts";
import type { CloudWatchPort } from "../../../src/metrics/cloudwatch.ts";
import { createMetricProviderRegistry } from "../../../src/metrics/registry.ts";
import type { MetricProviderSpec } from "../../../src/metrics/types.ts";
import { MetricConfigError } from "../../../src/metrics/types.ts";
import { memoryClient } from "../kube/fake-client.ts";

describe("metrics/registry", () => {
  const registry = createMetricProviderRegistry({
    kube: memoryClient(),
    createCloudWatchClient: () => ({ send: async () => ({}) }) as unknown as CloudWatchPort,
  });

  it("registers exactly the provider types of the API", () => {
    assert.deepEqual(registry.types(), [...METRIC_PROVIDER_TYPES].sort());
    assert.equal(registry.has("prometheus"), true);
    assert.equal(registry.has("skywalking"), false);
  });

  it("throws for an unknown type, listing the known ones", () => {
    assert.throws(
      () => registry.create({ spec: { type: "skywalking" } as unknown as MetricProviderSpec, secret: {} }),
      (err: unknown) => err instanceof MetricConfigError && /unknown metric provider type "skywalking"; expected one of cloudwatch, datadog/.test(err.message),
    );
  });

  it("builds each provider from its spec and secret", () => {
    const inits: Array<[MetricProviderSpec, Record<string, string>]> = [
      [{ type: "prometheus", address: "http://prometheus:9090" }, {}],
      [{ type: "cloudwatch", region: "us-east-1" }, {}],
      [{ type: "datadog" }, { datadog_api_key: "a", datadog_application_key: "b" }],
      [{ type: "newrelic" }, { newrelic_account_id: "1", newrelic_query_key: "k" }],
      [{ type: "web", address: "http://slo:8080/" }, {}],
      [{ type: "graphite", address: "http://graphite.monitoring" }, {}],
      [{ type: "influxdb", address: "http://influxdb:8086" }, {}],
      [{ type: "dynatrace", address: "https://abc.live.dynatrace.com" }, { dynatrace_token: "t" }],
      [{ type: "splunk", address: "https://api.us1.signalfx.com" }, { sf_token_key: "t" }],
      [{ type: "externalmetrics", address: "https://kubernetes.default.svc" }, {}],
      [{ type: "keptn" }, {}],
      [{ type: "stackdriver" }, { project: "my-project" }],
    ];
    for (const [spec, secret] of inits) assert.equal(registry.create({ spec, secret }).type, spec.type);
  });
});
