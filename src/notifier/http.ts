/**
 * The one outbound call of every notifier: POST a JSON body, with a timeout and the
 * caller's AbortSignal, and turn whatever goes wrong into a NotifierError whose message
 * shows the URL only as `scheme://host/…` (a webhook URL's path is its credential).
 *
 * Direct sends use node's fetch. fetch takes no per-request proxy without the undici
 * package, so a send through an AlertProvider's `proxy` goes over node:http(s) with an
 * agent built from that proxy alone (node's `proxyEnv` agent option); the environment's
 * HTTP(S)_PROXY variables are never consulted, so every provider goes where it says.
 */
import http from "node:http";
import https from "node:https";
import type { AlertProviderType } from "../api/types.ts";
import { DEFAULT_NOTIFIER_TIMEOUT_MS, NotifierError } from "./types.ts";
import type { AlertMessage, Notifier, NotifierInit } from "./types.ts";

export interface PostJsonRequest {
  url: string;
  body: unknown;
  headers?: Record<string, string>;
  /** HTTP(S) proxy URL; absent: connect directly. */
  proxy?: string | undefined;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  /** Values (tokens) to elide from error messages besides the URL itself. */
  secrets?: readonly string[];
}

export interface PostJsonResponse {
  status: number;
  body: string;
}

/** Only this much of an error response is read into a message. */
const MAX_ERROR_BODY_CHARS = 200;

/** `scheme://host/…`: enough to tell which service, nothing of the path, query or userinfo. */
export function redactAddress(raw: string): string {
  try {
    const url = new URL(raw);
    return `${url.protocol}//${url.host}/…`;
  } catch {
    return "(not a valid URL)";
  }
}

/** Posts `body` as JSON; resolves on 2xx, rejects with a NotifierError otherwise. */
export async function postJson(req: PostJsonRequest): Promise<PostJsonResponse> {
  const what = `POST ${redactAddress(req.url)}${req.proxy ? ` via proxy ${redactAddress(req.proxy)}` : ""}`;
  const url = parseHttpUrl(what, req.url, "address");
  if (req.proxy) parseHttpUrl(what, req.proxy, "proxy");
  const timeout = AbortSignal.timeout(req.timeoutMs);
  const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
  const headers = { "content-type": "application/json", ...req.headers };
  const payload = JSON.stringify(req.body);
  const elide = (text: string) => elideSecrets(text, [req.url, url.pathname, url.search, req.proxy ?? "", ...(req.secrets ?? [])]);

  let res: PostJsonResponse;
  try {
    if (signal.aborted) throw signal.reason;
    res = req.proxy
      ? await postViaProxy(url, req.proxy, headers, payload, signal)
      : await postDirect(url, headers, payload, signal);
  } catch (err) {
    throw toNotifierError(what, err, signal, timeout, req.timeoutMs, elide);
  }
  if (res.status < 200 || res.status >= 300) {
    const detail = snippet(elide(res.body));
    throw new NotifierError("Http", `${what}: HTTP ${res.status}${detail ? `: ${detail}` : ""}`, { status: res.status });
  }
  return res;
}

function parseHttpUrl(what: string, raw: string, field: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new NotifierError("Config", `${what}: the ${field} is not a valid URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new NotifierError("Config", `${what}: the ${field} must be an http or https URL`);
  }
  return url;
}

async function postDirect(url: URL, headers: Record<string, string>, payload: string, signal: AbortSignal): Promise<PostJsonResponse> {
  // A redirect would turn the POST into a GET elsewhere: report it instead of following it.
  const res = await fetch(url, { method: "POST", headers, body: payload, signal, redirect: "manual" });
  return { status: res.status, body: await res.text() };
}

function postViaProxy(
  url: URL,
  proxy: string,
  headers: Record<string, string>,
  payload: string,
  signal: AbortSignal,
): Promise<PostJsonResponse> {
  const tls = url.protocol === "https:";
  const proxyEnv = { HTTP_PROXY: proxy, HTTPS_PROXY: proxy };
  // A fresh agent per send: a proxy belongs to one AlertProvider and must not leak into a shared pool.
  const agent = tls ? new https.Agent({ proxyEnv, keepAlive: false }) : new http.Agent({ proxyEnv, keepAlive: false });
  const transport = tls ? https : http;
  const options: http.RequestOptions = {
    method: "POST",
    headers: { ...headers, "content-length": String(Buffer.byteLength(payload)) },
    agent,
    signal,
  };
  return new Promise<PostJsonResponse>((resolve, reject) => {
    const request = transport.request(url, options, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (chunk: Buffer) => {
        // Keep only the start: an error body is quoted, never processed.
        if (size < 64 * 1024) chunks.push(chunk);
        size += chunk.length;
      });
      res.on("error", reject);
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
    });
    request.on("error", reject);
    request.end(payload);
  }).finally(() => agent.destroy());
}

function toNotifierError(
  what: string,
  err: unknown,
  signal: AbortSignal,
  timeout: AbortSignal,
  timeoutMs: number,
  elide: (text: string) => string,
): NotifierError {
  if (err instanceof NotifierError) return err;
  if (timeout.aborted) return new NotifierError("Timeout", `${what}: no answer within ${timeoutMs}ms`);
  if (signal.aborted) return new NotifierError("Aborted", `${what}: aborted`);
  // fetch wraps the socket error ("fetch failed"); the cause says what actually happened.
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new NotifierError("Network", `${what}: ${elide(detail)}`);
}

/** The text with each non-trivial secret value replaced by `***`, longest first. */
export function elideSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  const values = secrets.filter((s) => s.length >= 4 && s !== "/").sort((a, b) => b.length - a.length);
  for (const value of values) out = out.split(value).join("***");
  return out;
}

function snippet(body: string): string {
  const flat = body.replace(/\s+/g, " ").trim();
  return flat.length > MAX_ERROR_BODY_CHARS ? `${flat.slice(0, MAX_ERROR_BODY_CHARS)}…` : flat;
}

/**
 * A notifier that renders a message with `payload` and posts it to the target's address
 * (through its proxy, if any). Every service here is one JSON POST; only the body differs.
 */
export function postingNotifier(
  type: AlertProviderType,
  init: NotifierInit,
  payload: (message: AlertMessage) => unknown,
  headers: Record<string, string> = {},
): Notifier {
  const { target } = init;
  const timeoutMs = init.timeoutMs ?? DEFAULT_NOTIFIER_TIMEOUT_MS;
  return {
    type,
    async send(message, signal) {
      await postJson({
        url: target.address,
        body: payload(message),
        headers,
        proxy: target.proxy,
        timeoutMs,
        signal,
        secrets: target.token !== undefined ? [target.token] : [],
      });
    },
  };
}
