/**
 * Keptn (metrics.keptn.sh/v1beta1), read through the Kubernetes API as Flagger does; no
 * address and no Secret. The query names a Keptn object:
 *
 *   keptnmetric/<namespace>/<name>                      the KeptnMetric's status.value
 *   analysis/<namespace>/<definition>/<window>/<args>   a fresh Analysis of that
 *       AnalysisDefinition over the last <window> (default 1m), with args `k=v;k2=v2`;
 *       1 when it passes, 0 when it fails
 *
 * The kind also reads as `keptnmetrics` or `analyses`, in any case. Flagger lowercases the
 * whole query; aviary lowercases the kind, namespace and name (Kubernetes names are
 * lowercase anyway) and keeps argument values as written.
 *
 * An Analysis is created, polled until Keptn marks it Completed, and deleted afterwards,
 * whatever the outcome. A KeptnMetric that has no value yet is no data.
 */
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { KubeClient, KubeObject } from "../kube/types.ts";
import type { MetricProvider, ProviderInit, QueryOptions } from "./types.ts";
import { MetricConfigError, NoValuesError, ProviderError } from "./types.ts";

export const KEPTN_API_VERSION = "metrics.keptn.sh/v1beta1";

export interface KeptnOptions {
  /** The whole wait for an Analysis, and each read of a KeptnMetric. */
  timeoutMs: number;
  kube?: KubeClient | undefined;
  /** How often a running Analysis is read again (Flagger: 1s). */
  pollIntervalMs?: number;
  /** The suffix that makes each Analysis name unique (default: 6 random hex digits). */
  nameSuffix?: () => string;
}

export type KeptnQuery =
  | { kind: "KeptnMetric"; namespace: string; name: string }
  | { kind: "Analysis"; namespace: string; name: string; window: string; args: Record<string, string> };

export function createKeptnProvider(_init: ProviderInit, opts: KeptnOptions): MetricProvider {
  const kube = opts.kube;
  if (kube === undefined) throw new MetricConfigError("keptn provider has no Kubernetes connection");
  const pollMs = opts.pollIntervalMs ?? 1000;
  const suffix = opts.nameSuffix ?? (() => randomBytes(3).toString("hex"));

  const withTimeout = (signal?: AbortSignal) => {
    const timeout = AbortSignal.timeout(opts.timeoutMs);
    return { timeout, signal: signal ? AbortSignal.any([signal, timeout]) : timeout };
  };

  const readMetric = async (q: KeptnQuery, signal?: AbortSignal): Promise<number> => {
    const where = `KeptnMetric ${q.namespace}/${q.name}`;
    const call = withTimeout(signal);
    const obj = await kubeCall(where, call, () => kube.get({ apiVersion: KEPTN_API_VERSION, kind: "KeptnMetric", namespace: q.namespace, name: q.name }, { signal: call.signal }));
    if (obj === null) throw new ProviderError(`${where} not found`, { status: 404, code: "NotFound", retryable: false });
    const value = (obj.status as { value?: unknown } | undefined)?.value;
    if (value === undefined || value === null || value === "") throw new NoValuesError(`${where} has no value yet`);
    const n = typeof value === "number" ? value : Number(String(value).trim());
    if (!Number.isFinite(n) || String(value).trim() === "") {
      throw new ProviderError(`${where}: status.value ${JSON.stringify(value)} is not a number`, { code: "MalformedResponse", retryable: false });
    }
    return n;
  };

  const runAnalysis = async (q: Extract<KeptnQuery, { kind: "Analysis" }>, signal?: AbortSignal): Promise<number> => {
    const where = `Keptn Analysis of ${q.namespace}/${q.name}`;
    const call = withTimeout(signal);
    const analysis: KubeObject = {
      apiVersion: KEPTN_API_VERSION,
      kind: "Analysis",
      metadata: { name: `${q.name}-${suffix()}`, namespace: q.namespace },
      spec: { analysisDefinition: { name: q.name }, timeframe: { recent: q.window }, args: q.args },
    };
    const created = await kubeCall(where, call, () => kube.create(analysis, { signal: call.signal }));
    const ref = { apiVersion: KEPTN_API_VERSION, kind: "Analysis", namespace: q.namespace, name: created.metadata.name };
    try {
      for (;;) {
        await kubeCall(where, call, () => sleep(pollMs, undefined, { signal: call.signal }));
        const current = await kubeCall(where, call, () => kube.get(ref, { signal: call.signal }));
        if (current === null) throw new ProviderError(`${where}: ${ref.name} was deleted before it completed`, { retryable: true });
        const status = current.status as { state?: unknown; pass?: unknown } | undefined;
        if (status?.state !== "Completed") continue;
        if (typeof status.pass !== "boolean") {
          throw new ProviderError(`${where}: ${ref.name} completed without status.pass`, { code: "MalformedResponse", retryable: false });
        }
        return status.pass ? 1 : 0;
      }
    } finally {
      // Cleaned up whatever happened, on a budget of its own: the run's signal may be spent.
      await kube.delete(ref, { signal: AbortSignal.timeout(opts.timeoutMs) }).catch(() => false);
    }
  };

  return {
    type: "keptn",
    async runQuery(query: string, qopts?: QueryOptions): Promise<number> {
      const q = parseKeptnQuery(query);
      return q.kind === "KeptnMetric" ? readMetric(q, qopts?.signal) : runAnalysis(q, qopts?.signal);
    },
  };
}

const FORMAT = "<keptnmetric|analysis>/<namespace>/<name>/<window>/<args>";

/** Flagger's query format, `<keptnmetric|analysis>/<namespace>/<name>/<window>/<k=v;k2=v2>`. */
export function parseKeptnQuery(query: string): KeptnQuery {
  const parts = query.trim().split("/");
  if (parts.length < 3) throw new MetricConfigError(`keptn query must be ${FORMAT}, got "${query.trim()}"`);
  const [kindText, namespaceText, nameText] = parts as [string, string, string];
  const namespace = namespaceText.toLowerCase();
  const name = nameText.toLowerCase();
  if (namespace === "" || name === "") throw new MetricConfigError(`keptn query needs a namespace and a name: ${FORMAT}`);
  switch (kindText.toLowerCase()) {
    case "keptnmetric":
    case "keptnmetrics":
      return { kind: "KeptnMetric", namespace, name };
    case "analysis":
    case "analyses": {
      const args: Record<string, string> = {};
      for (const pair of (parts[4] ?? "").split(";")) {
        const kv = pair.split("=");
        if (kv.length === 2 && kv[0] !== "") args[kv[0]!] = kv[1]!;
      }
      return { kind: "Analysis", namespace, name, window: parts[3] || "1m", args };
    }
    default:
      throw new MetricConfigError(`keptn query names kind "${kindText}"; expected keptnmetric or analysis (${FORMAT})`);
  }
}

/** Runs a Kubernetes call, turning its failure (KubeApiError, timeout, abort) into a ProviderError. */
async function kubeCall<T>(where: string, call: { timeout: AbortSignal; signal: AbortSignal }, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ProviderError) throw err;
    if (call.timeout.aborted) {
      throw new ProviderError(`${where}: timed out waiting for Keptn`, { code: "Timeout", retryable: true, cause: err });
    }
    if (call.signal.aborted) throw new ProviderError(`${where}: aborted`, { code: "Aborted", retryable: true, cause: err });
    const e = err as { message?: unknown; status?: unknown; reason?: unknown; retryable?: unknown };
    const status = typeof e.status === "number" && e.status > 0 ? e.status : undefined;
    throw new ProviderError(`${where}: ${typeof e.message === "string" ? e.message : String(err)}`, {
      ...(status !== undefined ? { status } : {}),
      ...(typeof e.reason === "string" ? { code: e.reason } : {}),
      retryable: typeof e.retryable === "boolean" ? e.retryable : true,
      cause: err,
    });
  }
}
