/**
 * The explicit registry of metric providers: a provider type maps to one factory, and an
 * unknown type is an error (never a silent fallback to Prometheus). Built once in the
 * composition root with its dependencies; tests build their own.
 */
import type { KubeClient } from "../kube/types.ts";
import type { MetricProvider, ProviderInit } from "./types.ts";
import { DEFAULT_PROVIDER_TIMEOUT_MS, MetricConfigError } from "./types.ts";
import type { CloudWatchClientFactory } from "./cloudwatch.ts";
import { createCloudWatchClient, createCloudWatchProvider } from "./cloudwatch.ts";
import { createDatadogProvider } from "./datadog.ts";
import { createDynatraceProvider } from "./dynatrace.ts";
import type { ExternalMetricsPort } from "./externalmetrics.ts";
import { createExternalMetricsProvider } from "./externalmetrics.ts";
import type { GoogleTokenCache } from "./google-auth.ts";
import { createGraphiteProvider } from "./graphite.ts";
import { createInfluxDbProvider } from "./influxdb.ts";
import { createKeptnProvider } from "./keptn.ts";
import { createNewRelicProvider } from "./newrelic.ts";
import { createPrometheusProvider } from "./prometheus.ts";
import { createSplunkProvider } from "./splunk.ts";
import { createStackdriverProvider } from "./stackdriver.ts";
import { createWebProvider } from "./web.ts";

export interface MetricProviderDeps {
  /** Per-call timeout of every provider request (default 15s). */
  timeoutMs?: number;
  /** The clock that ends the CloudWatch, Datadog, Dynatrace and Splunk windows and ages Google tokens. */
  now?: () => Date;
  /** Builds CloudWatch clients (default: a real SDK client). */
  createCloudWatchClient?: CloudWatchClientFactory;
  /** The cluster's external metrics API, for externalmetrics templates without an address. */
  externalMetrics?: ExternalMetricsPort;
  /** The cluster, for keptn templates (they read and create Keptn objects). */
  kube?: KubeClient;
  /** The GCE/GKE metadata server for stackdriver templates without a key (default http://metadata.google.internal). */
  gceMetadataAddress?: string;
}

export type MetricProviderFactory = (init: ProviderInit) => MetricProvider;

export interface MetricProviderRegistry {
  /** The provider for a template's `spec.provider`; throws MetricConfigError for an unknown type. */
  create(init: ProviderInit): MetricProvider;
  /** Whether `type` names a registered provider (for validation). */
  has(type: string): boolean;
  /** Registered provider types, sorted. */
  types(): string[];
}

/** The registry of every provider aviary ships (METRIC_PROVIDER_TYPES). */
export function createMetricProviderRegistry(deps: MetricProviderDeps = {}): MetricProviderRegistry {
  const timeoutMs = deps.timeoutMs ?? DEFAULT_PROVIDER_TIMEOUT_MS;
  const now = deps.now ?? (() => new Date());
  const createClient = deps.createCloudWatchClient ?? createCloudWatchClient;
  // Google access tokens outlive a single check: one cache per registry.
  const googleTokens: GoogleTokenCache = new Map();
  return registryOf({
    prometheus: (init) => createPrometheusProvider(init, { timeoutMs }),
    cloudwatch: (init) => createCloudWatchProvider(init, { timeoutMs, now, createClient }),
    datadog: (init) => createDatadogProvider(init, { timeoutMs, now }),
    newrelic: (init) => createNewRelicProvider(init, { timeoutMs }),
    web: (init) => createWebProvider(init, { timeoutMs }),
    graphite: (init) => createGraphiteProvider(init, { timeoutMs }),
    influxdb: (init) => createInfluxDbProvider(init, { timeoutMs }),
    dynatrace: (init) => createDynatraceProvider(init, { timeoutMs, now }),
    splunk: (init) => createSplunkProvider(init, { timeoutMs, now }),
    externalmetrics: (init) => createExternalMetricsProvider(init, { timeoutMs, cluster: deps.externalMetrics }),
    keptn: (init) => createKeptnProvider(init, { timeoutMs, kube: deps.kube }),
    stackdriver: (init) => createStackdriverProvider(init, { timeoutMs, now, tokenCache: googleTokens, metadataAddress: deps.gceMetadataAddress }),
  });
}

/** A registry over the given factories (for tests and for embedding custom providers). */
export function registryOf(factories: Readonly<Record<string, MetricProviderFactory>>): MetricProviderRegistry {
  const table = new Map(Object.entries(factories));
  return {
    create(init) {
      const type = init.spec.type as string | undefined;
      const factory = type === undefined ? undefined : table.get(type);
      if (factory === undefined) {
        throw new MetricConfigError(
          `unknown metric provider type ${JSON.stringify(type ?? "")}; expected one of ${[...table.keys()].sort().join(", ")}`,
        );
      }
      return factory(init);
    },
    has: (type) => table.has(type),
    types: () => [...table.keys()].sort(),
  };
}
