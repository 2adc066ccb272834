/**
 * The metric-provider port: one small interface per backend (METRIC_PROVIDER_TYPES in
 * src/api/types.ts) and the typed errors every provider speaks.
 *
 * "No data" is an outcome the analysis decides on (onNoData), so it is its own error
 * type and never a zero, a NaN or a crash. Several values where one was expected is a
 * query mistake, also its own type. Everything else that goes wrong talking to a backend
 * is a ProviderError that says whether trying again later can help.
 */
import type { MetricTemplateProvider } from "../api/types.ts";

export interface QueryOptions {
  /** Aborts the call; providers also apply their own per-call timeout. */
  signal?: AbortSignal;
}

/** A span of time, [startMs, endMs). */
export interface TimeWindow {
  startMs: number;
  endMs: number;
}

export interface MetricProvider {
  readonly type: string;
  /** Runs one query and returns its single current value. */
  runQuery(query: string, opts?: QueryOptions): Promise<number>;
  /**
   * For backends that store counts as data points per period (CloudWatch): the sum of the
   * query's data points stamped within `window`, so that abutting windows count every data
   * point exactly once. Backends whose query language takes the window itself (PromQL's
   * `increase(...[{{ window }}] @ {{ windowEnd }})`) leave it out and use runQuery.
   */
  sumInWindow?(query: string, window: TimeWindow, opts?: QueryOptions): Promise<number>;
  /** The period of the query's data points in ms; windows given to sumInWindow are aligned to it. */
  periodMs?(query: string): number;
}

/**
 * `spec.provider` of a MetricTemplate with the fields aviary reads beyond Flagger's.
 * `headers` are sent with every request of the HTTP providers (all but cloudwatch, keptn and
 * externalmetrics through the cluster); for `web`,
 * `method` and `body` shape the request and `address` is the endpoint URL; for
 * `cloudwatch`, `address` is an endpoint override and `window` (a duration) is how far
 * back GetMetricData looks.
 */
export interface MetricProviderSpec extends Omit<MetricTemplateProvider, "headers"> {
  /** One value per name: a template's list of values is joined with ", " (RFC 9110 list syntax). */
  headers?: Record<string, string>;
}

/** A MetricTemplate's provider spec with its header value lists joined into one value each. */
export function providerSpecOf(provider: MetricTemplateProvider): MetricProviderSpec {
  const { headers, ...rest } = provider;
  if (headers === undefined) return rest;
  const joined = Object.entries(headers).map(([name, values]): [string, string] => [name, (Array.isArray(values) ? values : [String(values)]).join(", ")]);
  return { ...rest, headers: Object.fromEntries(joined) };
}

/** Everything a provider is built from: the template's provider spec and the Secret's data. */
export interface ProviderInit {
  spec: MetricProviderSpec;
  /** Decoded data of the Secret named by spec.secretRef ({} when there is none). */
  secret: Readonly<Record<string, string>>;
  /** The metric's interval in ms: look-back windows of CloudWatch and Datadog derive from it. */
  intervalMs?: number;
}

export type MetricErrorKind = "NoValues" | "MultipleValues" | "Provider" | "Config";

/** Base of every error a metric provider throws on purpose. */
export class MetricError extends Error {
  readonly kind: MetricErrorKind;
  readonly retryable: boolean;
  constructor(kind: MetricErrorKind, message: string, retryable: boolean, options?: ErrorOptions) {
    super(message, options);
    this.name = `${kind}Error`;
    this.kind = kind;
    this.retryable = retryable;
  }
}

/** The query ran and matched nothing, or only NaN/±Inf/null: the analysis applies onNoData. */
export class NoValuesError extends MetricError {
  constructor(message: string) {
    super("NoValues", message, false);
  }
}

/** The query returned several values where one was needed (aggregate it, e.g. with sum()). */
export class MultipleValuesError extends MetricError {
  readonly count: number;
  constructor(message: string, count: number) {
    super("MultipleValues", message, false);
    this.count = count;
  }
}

export interface ProviderErrorOptions {
  /** HTTP status of the backend's answer, when there was one. */
  status?: number;
  /** The SDK's error name or the backend's error type (e.g. `ThrottlingException`, `bad_data`). */
  code?: string;
  retryable: boolean;
  cause?: unknown;
}

/** The backend could not be asked or did not answer usefully (network, auth, 5xx, bad query, timeout). */
export class ProviderError extends MetricError {
  readonly status: number | undefined;
  readonly code: string | undefined;
  constructor(message: string, opts: ProviderErrorOptions) {
    super("Provider", message, opts.retryable, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.status = opts.status;
    this.code = opts.code;
  }
}

/** The template or the canary's metric entry is wrong (unknown provider, missing address, bad query JSON). */
export class MetricConfigError extends MetricError {
  constructor(message: string) {
    super("Config", message, false);
  }
}

/** Statuses worth retrying: the backend is overloaded, restarting or timed out. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** Default per-call timeout of a provider when the registry is not told otherwise. */
export const DEFAULT_PROVIDER_TIMEOUT_MS = 15_000;

/**
 * How far back CloudWatch and Datadog look when the template sets no window: at least the
 * metric's interval, and never under five minutes, because both backends publish data
 * points a minute or more late and a short window comes back empty.
 */
export function defaultLookbackMs(intervalMs: number | undefined): number {
  return Math.max(5 * 60_000, intervalMs ?? 0);
}
