/**
 * The analysis webhook client (Flagger semantics): a JSON POST of
 * `{name, namespace, phase, checksum, metadata}` to each webhook of one type; a 2xx answer
 * passes, anything else fails. An unreachable or slow webhook is a failed check with a
 * message that says so, never an exception; only the caller cancelling the signal throws.
 * `disableTLS` (Flagger's field) sends that webhook's request without verifying the server's
 * certificate, through a per-request agent so the choice never leaks into pooled connections.
 */
import { DEFAULT_WEBHOOK_TIMEOUT } from "../../api/defaults.ts";
import { parseDuration, tryParseDuration } from "../../api/duration.ts";
import { DEFAULT_WEBHOOK_TYPE } from "../../api/types.ts";
import type { AnalysisResult, Canary, CanaryPhase, CanaryWebhook, WebhookType } from "../../api/types.ts";
import { httpRequest } from "../../metrics/http.ts";
import { ProviderError } from "../../metrics/types.ts";

export interface WebhookPayload {
  name: string;
  namespace: string;
  phase: CanaryPhase;
  /** The revision under analysis (pod-template hash), Flagger's `checksum`. */
  checksum: string;
  metadata: Record<string, string>;
}

export interface WebhookOutcome {
  ok: boolean;
  /** HTTP status of the last attempt; 0 when no answer was received. */
  status: number;
  message: string;
  /** Wall time over all attempts, backoff included. */
  durationMs: number;
  attempts: number;
}

export interface CallOptions {
  signal: AbortSignal;
  /** Delay before retry `n` (1-based); default 1s doubling up to 30s. */
  backoffMs?: (retry: number) => number;
  /** The largest response body read for the message; default 4 KiB. */
  maxBodyBytes?: number;
  /** Skip verification of the server's TLS certificate (the webhook's `disableTLS`). */
  insecureSkipVerify?: boolean;
}

const HEADERS = { "content-type": "application/json", accept: "application/json, text/plain, */*" };

/** A response body as a one-line message snippet. */
function snippetOf(text: string, maxBytes: number): string {
  const cut = Buffer.from(text, "utf8").subarray(0, maxBytes).toString("utf8").replace(/\s+/g, " ").trim();
  return Buffer.byteLength(text, "utf8") > maxBytes ? `${cut}…` : cut;
}

/** One POST without certificate verification: the status and the start of the body. */
async function postInsecure(url: string, body: string, timeoutMs: number, signal: AbortSignal, maxBytes: number): Promise<{ status: number; snippet: string }> {
  // The body is read whole (up to 1 MiB) and cut for the message, as fetch's reader would.
  const res = await httpRequest({ url, method: "POST", headers: HEADERS, body, insecureSkipVerify: true, timeoutMs, signal, maxBytes: 1024 * 1024 });
  return { status: res.status, snippet: snippetOf(res.body, maxBytes) };
}

export const defaultBackoffMs = (retry: number): number => Math.min(1000 * 2 ** (retry - 1), 30_000);

/** The URL for messages: credentials and query string (which may carry tokens) removed. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return "<invalid URL>";
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** The start of a response body, for messages: a gate's "no" usually says why. */
async function readSnippet(res: Response, maxBytes: number): Promise<string> {
  if (res.body === null) return "";
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < maxBytes) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  const text = Buffer.concat(chunks).subarray(0, maxBytes).toString("utf8").replace(/\s+/g, " ").trim();
  return size > maxBytes ? `${text}…` : text;
}

/** Why a request got no answer, in words: timeout, refused, DNS, TLS, … */
function describeNetworkError(err: unknown, timeoutMs: number): string {
  if (err instanceof Error && err.name === "TimeoutError") return `no answer within ${timeoutMs}ms (timeout)`;
  const cause = err instanceof Error ? (err.cause as { code?: string; message?: string } | undefined) : undefined;
  if (cause?.code === "ECONNREFUSED") return `unreachable: connection refused (${cause.message ?? cause.code})`;
  if (cause?.code === "ENOTFOUND" || cause?.code === "EAI_AGAIN") return `unreachable: host not found (${cause.code})`;
  if (cause?.code) return `unreachable: ${cause.message ?? cause.code}`;
  return `unreachable: ${err instanceof Error ? err.message : String(err)}`;
}

/** A status worth retrying: the server may answer differently in a moment. */
const retryableStatus = (status: number): boolean => status === 408 || status === 429 || status >= 500;

/**
 * POSTs the payload, retrying network errors, timeouts, 408, 429 and 5xx up to `retries`
 * times with backoff. `timeoutMs` bounds each attempt. Throws only when `opts.signal` is
 * aborted (the caller gave up; that is not the webhook's verdict).
 */
export async function callWebhook(url: string, payload: WebhookPayload, timeoutMs: number, retries: number, opts: CallOptions): Promise<WebhookOutcome> {
  const started = performance.now();
  const target = `POST ${redactUrl(url)}`;
  const backoff = opts.backoffMs ?? defaultBackoffMs;
  const body = JSON.stringify(payload);
  let last = { ok: false, status: 0, message: "" };
  let attempts = 0;
  for (let attempt = 0; attempt <= Math.max(0, retries); attempt++) {
    if (attempt > 0) await sleep(backoff(attempt), opts.signal);
    opts.signal.throwIfAborted();
    attempts++;
    try {
      const maxBytes = opts.maxBodyBytes ?? 4096;
      let status: number;
      let snippet: string;
      if (opts.insecureSkipVerify === true && url.startsWith("https:")) {
        ({ status, snippet } = await postInsecure(url, body, timeoutMs, opts.signal, maxBytes));
      } else {
        const res = await fetch(url, { method: "POST", headers: HEADERS, body, signal: AbortSignal.any([opts.signal, AbortSignal.timeout(timeoutMs)]), redirect: "manual" });
        status = res.status;
        snippet = await readSnippet(res, maxBytes);
      }
      const ok = status >= 200 && status < 300;
      last = { ok, status, message: `${target} answered ${status}${snippet ? `: ${snippet}` : ""}` };
      if (ok || !retryableStatus(status)) break;
    } catch (err) {
      opts.signal.throwIfAborted();
      // The insecure path's errors already name the request (metrics/http.ts).
      last = { ok: false, status: 0, message: err instanceof ProviderError ? err.message : `${target}: ${describeNetworkError(err, timeoutMs)}` };
    }
  }
  const suffix = attempts > 1 ? ` (after ${attempts} attempts)` : "";
  return { ...last, message: last.message + suffix, attempts, durationMs: Math.round(performance.now() - started) };
}

export interface RunWebhooksOptions extends Omit<CallOptions, "signal"> {
  signal: AbortSignal;
  /** The phase reported to the webhooks; default the Canary's status phase. */
  phase?: CanaryPhase;
  /** The revision under analysis. */
  checksum: string;
  /** Merged over each webhook's own metadata (event hooks carry eventMessage, eventType, timestamp). */
  extraMetadata?: Record<string, string>;
  now?: () => Date;
}

/** The webhooks of one type, in spec order; a webhook without `type` is a `rollout` hook. */
export function webhooksOfType(canary: Canary, type: WebhookType): CanaryWebhook[] {
  return (canary.spec.analysis?.webhooks ?? []).filter((w) => (w.type || DEFAULT_WEBHOOK_TYPE) === type);
}

/**
 * Calls every webhook of `type`, one after another (order can matter: a pre-rollout hook
 * may seed what the next one tests), and reports each as an AnalysisResult. All are called
 * even after a failure; the engine decides what a failure means for each type.
 */
export async function runWebhooks(canary: Canary, type: WebhookType, opts: RunWebhooksOptions): Promise<AnalysisResult[]> {
  const now = opts.now ?? (() => new Date());
  const results: AnalysisResult[] = [];
  for (const hook of webhooksOfType(canary, type)) {
    const timeout = tryParseDuration(hook.timeout || DEFAULT_WEBHOOK_TIMEOUT);
    if (!timeout.ok) {
      results.push({ name: hook.name, kind: "webhook", verdict: "fail", message: `timeout ${timeout.error}`, time: now().toISOString() });
      continue;
    }
    // "0s" would abort before connecting; like an empty field, it means the default.
    const timeoutMs = timeout.ms > 0 ? timeout.ms : parseDuration(DEFAULT_WEBHOOK_TIMEOUT);
    const payload: WebhookPayload = {
      name: canary.metadata.name,
      namespace: canary.metadata.namespace ?? "",
      phase: opts.phase ?? canary.status?.phase ?? "Initializing",
      checksum: opts.checksum,
      metadata: { ...(hook.metadata ?? {}), ...(opts.extraMetadata ?? {}) },
    };
    const outcome = await callWebhook(hook.url, payload, timeoutMs, hook.retries ?? 0, { ...opts, ...(hook.disableTLS === true ? { insecureSkipVerify: true } : {}) });
    results.push({
      name: hook.name,
      kind: "webhook",
      verdict: outcome.ok ? "pass" : "fail",
      message: outcome.message,
      time: now().toISOString(),
    });
  }
  return results;
}

/** True when every result passed (also for none: no webhook is no objection). */
export const allPassed = (results: readonly AnalysisResult[]): boolean => results.every((r) => r.verdict === "pass");
