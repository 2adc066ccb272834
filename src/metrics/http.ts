/**
 * The one HTTP client of the HTTP metric providers, on node:http/node:https so that
 * `insecureSkipVerify` is a per-request agent option and no dispatcher package is needed.
 * Every request has a timeout and honours the caller's AbortSignal; failures come back as
 * ProviderError values that say whether retrying can help.
 */
import http from "node:http";
import https from "node:https";
import { ProviderError, isRetryableStatus } from "./types.ts";

export interface HttpRequest {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  insecureSkipVerify?: boolean;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  /** Responses larger than this are cut off with an error (default 10 MiB). */
  maxBytes?: number;
}

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

const DEFAULT_MAX_BYTES = 10 * 1024 * 1024;

/** Sends one request; resolves with any HTTP status, rejects only when no answer was read. */
export function httpRequest(req: HttpRequest): Promise<HttpResponse> {
  const method = (req.method ?? "GET").toUpperCase();
  const what = `${method} ${redactUrl(req.url)}`;
  let url: URL;
  try {
    url = new URL(req.url);
  } catch {
    return Promise.reject(new ProviderError(`${what}: not a valid URL`, { retryable: false }));
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return Promise.reject(new ProviderError(`${what}: only http and https URLs are supported`, { retryable: false }));
  }
  const timeout = AbortSignal.timeout(req.timeoutMs);
  const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
  const maxBytes = req.maxBytes ?? DEFAULT_MAX_BYTES;
  const headers: Record<string, string> = { ...req.headers };
  if (req.body !== undefined) headers["content-length"] = String(Buffer.byteLength(req.body));
  const options: https.RequestOptions = { method, headers, signal };
  if (url.protocol === "https:" && req.insecureSkipVerify) {
    // A fresh agent per request: the verification choice must not leak into pooled sockets.
    options.agent = new https.Agent({ rejectUnauthorized: false, keepAlive: false });
  }
  const transport = url.protocol === "https:" ? https : http;

  return new Promise<HttpResponse>((resolve, reject) => {
    const fail = (err: unknown) => reject(toProviderError(what, err, signal, timeout, req.timeoutMs));
    if (signal.aborted) {
      fail(signal.reason);
      return;
    }
    const request = transport.request(url, options, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) {
          res.destroy(new ProviderError(`${what}: response larger than ${maxBytes} bytes`, { retryable: false }));
          return;
        }
        chunks.push(chunk);
      });
      res.on("error", fail);
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }),
      );
    });
    request.on("error", fail);
    request.end(req.body);
  });
}

function toProviderError(
  what: string,
  err: unknown,
  signal: AbortSignal,
  timeout: AbortSignal,
  timeoutMs: number,
): ProviderError {
  if (err instanceof ProviderError) return err;
  if (timeout.aborted) {
    return new ProviderError(`${what}: timed out after ${timeoutMs}ms`, { retryable: true, code: "Timeout", cause: err });
  }
  if (signal.aborted) return new ProviderError(`${what}: aborted`, { retryable: true, code: "Aborted", cause: err });
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const detail = err instanceof Error ? err.message : String(err);
  // TLS verification failures do not heal by themselves; connection errors usually do.
  const tls = typeof code === "string" && /CERT|SELF_SIGNED|TLS|SSL/.test(code);
  return new ProviderError(`${what}: ${detail}`, { retryable: !tls, code, cause: err });
}

/** A URL fit for messages and logs: userinfo and query-string values removed. */
export function redactUrl(raw: string): string {
  try {
    const url = new URL(raw);
    url.username = "";
    url.password = "";
    for (const key of [...url.searchParams.keys()]) url.searchParams.set(key, "…");
    return url.toString();
  } catch {
    return raw;
  }
}

/** Up to `max` characters of a response body for an error message, on one line. */
export function snippet(body: string, max = 200): string {
  const flat = body.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

/** The body as JSON; a ProviderError naming the request when it is not. */
export function parseJsonBody(what: string, res: HttpResponse): unknown {
  try {
    return JSON.parse(res.body) as unknown;
  } catch {
    throw new ProviderError(`${what}: HTTP ${res.status} with a body that is not JSON: ${snippet(res.body)}`, {
      status: res.status,
      code: "MalformedResponse",
      retryable: isRetryableStatus(res.status),
    });
  }
}

/** Throws a ProviderError for a non-2xx answer, quoting the start of its body. */
export function assertOk(what: string, res: HttpResponse, detail?: string): void {
  if (res.status >= 200 && res.status < 300) return;
  throw new ProviderError(`${what}: HTTP ${res.status}: ${detail ?? snippet(res.body)}`, {
    status: res.status,
    retryable: isRetryableStatus(res.status),
  });
}

/** Basic or bearer auth from the conventional Secret keys (`username`/`password`, `token`). */
export function authHeaders(secret: Readonly<Record<string, string>>): Record<string, string> {
  const headers: Record<string, string> = {};
  if (secret.token !== undefined && secret.token !== "") {
    headers.authorization = `Bearer ${secret.token}`;
  } else if (secret.username !== undefined && secret.username !== "") {
    const pair = `${secret.username}:${secret.password ?? ""}`;
    headers.authorization = `Basic ${Buffer.from(pair, "utf8").toString("base64")}`;
  }
  return headers;
}

/** A number from a JSON value: finite numbers and numeric strings; undefined otherwise. */
export function toFiniteNumber(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? value : undefined;
  if (typeof value === "string" && value.trim() !== "") {
    const n = Number(value);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}
