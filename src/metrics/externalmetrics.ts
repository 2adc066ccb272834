/**
 * The Kubernetes external metrics API (`external.metrics.k8s.io/v1beta1`), as Flagger's
 * `externalmetrics` provider reads it: the query is `<namespace>/<metric>?labelSelector=<selector>`
 * (namespace `default` when left out, the selector URL-encoded and optional) and becomes
 * `GET /apis/external.metrics.k8s.io/v1beta1/namespaces/<namespace>/<metric>?labelSelector=…`.
 *
 * By default the request goes to the cluster aviary runs against, with its credentials.
 * `spec.provider.address` sends it to another API server instead, with the Secret's
 * `token` as bearer token and `insecureSkipVerify` honoured, as in Flagger.
 *
 * The value is the one item's quantity. No items is no data; several items (several
 * series matched the selector) is an error.
 */
import type { MetricProvider, ProviderInit, QueryOptions } from "./types.ts";
import { MetricConfigError, MultipleValuesError, NoValuesError, ProviderError, isRetryableStatus } from "./types.ts";
import { assertOk, httpRequest, parseJsonBody } from "./http.ts";
import { parseQuantity } from "./quantity.ts";

export const EXTERNAL_METRICS_PATH = "/apis/external.metrics.k8s.io/v1beta1";

/** The port to the cluster's external metrics API (src/kube/external-metrics.ts). */
export interface ExternalMetricsPort {
  list(namespace: string, metricName: string, labelSelector: string | undefined, opts?: { signal?: AbortSignal; timeoutMs?: number }): Promise<unknown>;
}

export interface ExternalMetricsOptions {
  timeoutMs: number;
  /** The cluster's API; required unless the template sets an address. */
  cluster?: ExternalMetricsPort | undefined;
}

export interface ExternalMetricsQuery {
  namespace: string;
  metricName: string;
  labelSelector?: string;
}

export function createExternalMetricsProvider(init: ProviderInit, opts: ExternalMetricsOptions): MetricProvider {
  const address = init.spec.address?.trim();
  let list: (q: ExternalMetricsQuery, signal?: AbortSignal) => Promise<unknown>;
  if (address) {
    const base = address.replace(/\/+$/, "");
    const headers: Record<string, string> = { accept: "application/json", ...init.spec.headers };
    if (init.secret.token) headers.authorization = `Bearer ${init.secret.token}`;
    list = async (q, signal) => {
      const path = `${EXTERNAL_METRICS_PATH}/namespaces/${encodeURIComponent(q.namespace)}/${encodeURIComponent(q.metricName)}`;
      const search = q.labelSelector ? `?${new URLSearchParams({ labelSelector: q.labelSelector }).toString()}` : "";
      const res = await httpRequest({ url: `${base}${path}${search}`, headers, insecureSkipVerify: init.spec.insecureSkipVerify, timeoutMs: opts.timeoutMs, signal });
      const what = `external metric ${q.namespace}/${q.metricName}`;
      const body = parseJsonBody(what, res) as { message?: unknown } | null;
      assertOk(what, res, typeof body?.message === "string" ? body.message : undefined);
      return body;
    };
  } else {
    const cluster = opts.cluster;
    if (cluster === undefined) {
      throw new MetricConfigError("externalmetrics provider has no Kubernetes connection: set spec.provider.address");
    }
    list = async (q, signal) => {
      try {
        return await cluster.list(q.namespace, q.metricName, q.labelSelector, { timeoutMs: opts.timeoutMs, ...(signal ? { signal } : {}) });
      } catch (err) {
        throw fromKubeError(err);
      }
    };
  }

  return {
    type: "externalmetrics",
    async runQuery(query: string, qopts?: QueryOptions): Promise<number> {
      const q = parseExternalMetricsQuery(query);
      return valueOf(await list(q, qopts?.signal), q);
    },
  };
}

/** `<namespace>/<metric>?labelSelector=<url-encoded selector>`; only the metric is required. */
export function parseExternalMetricsQuery(query: string): ExternalMetricsQuery {
  const text = query.trim();
  const [path = "", search] = splitOnce(text, "?");
  const parts = path.replace(/^\//, "").split("/");
  if (parts.length > 2) throw new MetricConfigError(`externalmetrics query has too many slashes: expected <namespace>/<metric>?labelSelector=<selector>, got "${text}"`);
  const metricName = parts.length === 2 ? parts[1]! : parts[0]!;
  const namespace = parts.length === 2 && parts[0] !== "" ? parts[0]! : "default";
  if (metricName === "") throw new MetricConfigError(`externalmetrics query names no metric: "${text}"`);
  const labelSelector = search === undefined ? undefined : new URLSearchParams(search).get("labelSelector") ?? undefined;
  return { namespace, metricName, ...(labelSelector ? { labelSelector } : {}) };
}

function splitOnce(text: string, sep: string): [string, string | undefined] {
  const at = text.indexOf(sep);
  return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)];
}

/** The one item's value of an ExternalMetricValueList. */
export function valueOf(body: unknown, q: ExternalMetricsQuery): number {
  const what = `external metric ${q.namespace}/${q.metricName}${q.labelSelector ? ` {${q.labelSelector}}` : ""}`;
  const items = (body as { items?: unknown } | null)?.items;
  if (!Array.isArray(items)) {
    throw new ProviderError(`${what}: malformed response: no items list`, { code: "MalformedResponse", retryable: false });
  }
  if (items.length === 0) throw new NoValuesError(`${what} has no values`);
  if (items.length > 1) throw new MultipleValuesError(`${what} has ${items.length} values; narrow the labelSelector to one series`, items.length);
  const raw = (items[0] as { value?: unknown } | null)?.value;
  const value = typeof raw === "string" ? parseQuantity(raw) : typeof raw === "number" ? raw : undefined;
  if (value === undefined) {
    throw new ProviderError(`${what}: malformed response: value ${JSON.stringify(raw)} is not a quantity`, { code: "MalformedResponse", retryable: false });
  }
  return value;
}

/** A KubeApiError (or any failure of the cluster port) as a ProviderError. */
function fromKubeError(err: unknown): ProviderError {
  if (err instanceof ProviderError) return err;
  const e = err as { message?: unknown; status?: unknown; reason?: unknown; retryable?: unknown };
  const status = typeof e.status === "number" && e.status > 0 ? e.status : undefined;
  const reason = typeof e.reason === "string" ? e.reason : undefined;
  const message = typeof e.message === "string" ? e.message : String(err);
  const retryable = typeof e.retryable === "boolean" ? e.retryable : status === undefined || isRetryableStatus(status);
  return new ProviderError(message, { ...(status !== undefined ? { status } : {}), ...(reason ? { code: reason } : {}), retryable, cause: err });
}
