/**
 * Reads the Kubernetes external metrics API (`external.metrics.k8s.io/v1beta1`, served by
 * an adapter such as KEDA's or Datadog's cluster agent through an APIService) with the
 * controller's own credentials. It is not a resource with kinds in discovery, so it gets
 * its own GET rather than the object client.
 */
import type { KubeConfig } from "@kubernetes/client-node";
import { apiErrorFromResponse } from "./errors.ts";
import { createTransport } from "./transport.ts";
import type { KubeTransport } from "./transport.ts";
import { KubeApiError } from "./types.ts";
import type { CallOptions } from "./types.ts";

export const EXTERNAL_METRICS_API = "external.metrics.k8s.io/v1beta1";

export interface ExternalMetricsReader {
  /** The ExternalMetricValueList of one metric in a namespace; throws KubeApiError. */
  list(namespace: string, metricName: string, labelSelector: string | undefined, opts?: CallOptions & { timeoutMs?: number }): Promise<unknown>;
  close(): Promise<void>;
}

export function createExternalMetricsReader(kubeConfig: KubeConfig, opts: { timeoutMs?: number; userAgent?: string } = {}): ExternalMetricsReader {
  return externalMetricsReaderOn(createTransport(kubeConfig, opts));
}

export function externalMetricsReaderOn(transport: KubeTransport): ExternalMetricsReader {
  return {
    async list(namespace, metricName, labelSelector, callOpts = {}) {
      const path = `/apis/${EXTERNAL_METRICS_API}/namespaces/${encodeURIComponent(namespace)}/${encodeURIComponent(metricName)}`;
      const action = `get external metric ${namespace}/${metricName}`;
      const res = await transport.request({
        method: "GET",
        path,
        ...(labelSelector ? { query: { labelSelector } } : {}),
        signal: callOpts.signal,
        timeoutMs: callOpts.timeoutMs,
        action,
      });
      if (res.status < 200 || res.status > 299) throw apiErrorFromResponse(action, res.status, res.text);
      try {
        return JSON.parse(res.text) as unknown;
      } catch {
        throw new KubeApiError(`${action}: the API server answered HTTP ${res.status} with a body that is not JSON`, 0, "InvalidResponse");
      }
    },
    close: () => transport.close(),
  };
}
