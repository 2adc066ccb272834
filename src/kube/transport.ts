/**
 * HTTP to the API server through @kubernetes/client-node's own plumbing: the KubeConfig
 * authenticates each request (client certificates, bearer tokens, exec plugins with their
 * refresh) and the library's undici-based fetch sends it. aviary adds what the generated
 * clients lack: a timeout and an AbortSignal on every call, raw JSON in and out (the
 * library's typed models turn timestamps into Date objects and drop unknown fields), and a
 * streaming GET for watches.
 *
 * The library builds a new connection pool for every request it authenticates; the transport
 * keeps the first one and reuses it, so requests share keep-alive connections and `close()`
 * has one pool to tear down.
 *
 * Requests other than watches pass a client-side rate limit first (rate-limit.ts), when one is
 * given: bursts are spread out instead of arriving at the API server all at once.
 *
 * Every request is sent over HTTP/1.1. The pool would negotiate HTTP/2 with the API server
 * (undici allows it by default), and Node's HTTP/2 session does not survive an API server
 * restart well: with dozens of watches multiplexed on one session, the broken session kept
 * the process busy and growing by gigabytes instead of failing the streams. With HTTP/1.1
 * each watch has its own connection, and a restart is a handful of ECONNRESETs that the
 * informers already retry.
 */
import { IsomorphicFetchHttpLibrary, RequestContext } from "./client-node.ts";
import type { KubeConfig } from "./client-node.ts";
import { apiErrorFromException, apiErrorFromResponse } from "./errors.ts";
import type { RequestCounter } from "./request-counter.ts";
import { createRateLimiter } from "./rate-limit.ts";
import type { RateLimitOptions, RateLimiter } from "./rate-limit.ts";

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export interface HttpRequest {
  method: HttpMethod;
  /** Absolute API path, e.g. `/apis/apps/v1/namespaces/ns/deployments/web`. */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  /** Sent as JSON. */
  body?: unknown;
  contentType?: string;
  /** The Accept header (default application/json); e.g. a PartialObjectMetadata media type. */
  accept?: string | undefined;
  signal?: AbortSignal | undefined;
  /** Overrides the transport's default timeout. */
  timeoutMs?: number | undefined;
  /** For error messages: "get Deployment apps/v1 ns/web". */
  action: string;
}

export interface HttpResponse {
  status: number;
  text: string;
}

export interface StreamOptions {
  /** The stream is abandoned when no bytes arrive for this long. */
  idleTimeoutMs: number;
}

export interface KubeTransport {
  readonly server: string;
  /** Sends one request and reads the whole body. Non-2xx responses are returned, not thrown. */
  request(req: HttpRequest): Promise<HttpResponse>;
  /**
   * Opens a streaming GET and yields its body line by line; a non-2xx status throws a
   * KubeApiError before the first line. Breaking out of the loop closes the connection.
   */
  streamLines(req: HttpRequest, opts: StreamOptions): AsyncGenerator<string, void, void>;
  /** Closes pooled connections; in-flight requests fail. */
  close(): Promise<void>;
}

export interface TransportOptions {
  /** Default per-request timeout. */
  timeoutMs?: number;
  userAgent?: string;
  /** Told about every request sent (a watch once, when it opens). */
  counter?: RequestCounter | undefined;
  /** Client-side rate limit of requests (watches are not limited); none when absent. */
  rateLimit?: RateLimitOptions | undefined;
  /** Told how long each request waited for the rate limit (0 when it went at once). */
  onRateLimitWait?: ((waitedMs: number, action: string) => void) | undefined;
}

type Dispatcher = NonNullable<ReturnType<RequestContext["getDispatcher"]>>;

/** The same pool, with HTTP/2 turned off on every request it dispatches. */
export function http1Only(pool: Dispatcher): Dispatcher {
  return pool.compose((dispatch) => (options, handler) => dispatch({ ...options, allowH2: false } as typeof options, handler));
}

export function createTransport(kubeConfig: KubeConfig, opts: TransportOptions = {}): KubeTransport {
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) throw new Error("the kubeconfig has no current cluster (check current-context)");
  const server = cluster.server.replace(/\/+$/, "");
  const defaultTimeoutMs = opts.timeoutMs ?? 30_000;
  const userAgent = opts.userAgent ?? "aviary";
  const http = new IsomorphicFetchHttpLibrary();
  const limiter: RateLimiter | undefined = opts.rateLimit ? createRateLimiter(opts.rateLimit) : undefined;
  let dispatcher: Dispatcher | undefined;
  let closed = false;

  const prepare = async (req: HttpRequest, signal: AbortSignal): Promise<RequestContext> => {
    const url = new URL(server + req.path);
    for (const [k, v] of Object.entries(req.query ?? {})) {
      if (v !== undefined) url.searchParams.set(k, String(v));
    }
    const ctx = new RequestContext(url.toString(), req.method);
    await kubeConfig.applySecurityAuthentication(ctx);
    const fresh = ctx.getDispatcher();
    if (fresh) {
      dispatcher ??= http1Only(fresh);
      ctx.setDispatcher(dispatcher);
    }
    ctx.setHeaderParam("Accept", req.accept ?? "application/json");
    ctx.setHeaderParam("User-Agent", userAgent);
    if (req.body !== undefined) {
      ctx.setHeaderParam("Content-Type", req.contentType ?? "application/json");
      ctx.setBody(JSON.stringify(req.body));
    }
    ctx.setSignal(signal);
    opts.counter?.record(req.action);
    return ctx;
  };

  /** An AbortController that fires on the caller's signal or on the timer; `dispose` detaches both. */
  const guard = (req: HttpRequest, timeoutMs: number) => {
    const controller = new AbortController();
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    const arm = (ms: number) => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => {
        timedOut = true;
        controller.abort(new Error(`timed out after ${ms}ms`));
      }, ms);
    };
    const onAbort = () => controller.abort(req.signal?.reason);
    if (req.signal?.aborted) controller.abort(req.signal.reason);
    else req.signal?.addEventListener("abort", onAbort, { once: true });
    arm(timeoutMs);
    return {
      signal: controller.signal,
      abort: () => controller.abort(new Error("closed by the caller")),
      rearm: arm,
      failure: (err: unknown) => apiErrorFromException(req.action, err, timedOut, req.signal?.aborted ?? false),
      dispose: () => {
        if (timer) clearTimeout(timer);
        req.signal?.removeEventListener("abort", onAbort);
      },
    };
  };

  const ensureOpen = (req: HttpRequest) => {
    if (closed) throw apiErrorFromException(req.action, new Error("the Kubernetes client is closed"), false, false);
  };

  return {
    server,

    async request(req) {
      ensureOpen(req);
      if (limiter) {
        // The wait is not part of the request's timeout: the request has not been sent yet.
        let waited: number;
        try {
          waited = await limiter.acquire(req.signal);
        } catch (err) {
          throw apiErrorFromException(req.action, err, false, true);
        }
        opts.onRateLimitWait?.(waited, req.action);
      }
      const g = guard(req, req.timeoutMs ?? defaultTimeoutMs);
      try {
        if (g.signal.aborted) throw g.signal.reason;
        const ctx = await prepare(req, g.signal);
        const res = await http.send(ctx).toPromise();
        return { status: res.httpStatusCode, text: await res.body.text() };
      } catch (err) {
        throw g.failure(err);
      } finally {
        g.dispose();
      }
    },

    async *streamLines(req, streamOpts) {
      ensureOpen(req);
      // The connect phase uses the request timeout; then the idle timeout takes over.
      const g = guard(req, req.timeoutMs ?? defaultTimeoutMs);
      let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
      try {
        if (g.signal.aborted) throw g.signal.reason;
        const ctx = await prepare(req, g.signal);
        const res = await http.send(ctx).toPromise();
        if (res.httpStatusCode < 200 || res.httpStatusCode > 299) {
          throw apiErrorFromResponse(req.action, res.httpStatusCode, await res.body.text());
        }
        const stream = res.body.stream();
        if (!stream) return;
        reader = stream.getReader();
        const decoder = new TextDecoder();
        let buffered = "";
        for (;;) {
          g.rearm(streamOpts.idleTimeoutMs);
          const { done, value } = await reader.read();
          if (done) break;
          buffered += decoder.decode(value, { stream: true });
          let newline: number;
          while ((newline = buffered.indexOf("\n")) >= 0) {
            const line = buffered.slice(0, newline).trim();
            buffered = buffered.slice(newline + 1);
            if (line) yield line;
          }
        }
        const rest = (buffered + decoder.decode()).trim();
        if (rest) yield rest;
      } catch (err) {
        throw g.failure(err);
      } finally {
        g.dispose();
        // Ends the HTTP exchange when the consumer stops early or the stream failed.
        g.abort();
        reader?.cancel().catch(() => {});
      }
    },

    async close() {
      closed = true;
      const d = dispatcher;
      dispatcher = undefined;
      // destroy, not close: close would wait for open watches, which never end on their own.
      if (d) await d.destroy();
    },
  };
}
