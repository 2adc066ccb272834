/**
 * The admission webhook's HTTPS server: express 5 over node:https.
 *
 * Every admission route is built from an AdmissionHandler. The server owns everything a
 * handler should not have to think about: TLS (1.2+, the certificate swapped in place when
 * it is renewed), body limits and content types, timeouts, parsing the AdmissionReview,
 * echoing the uid, encoding the patch, and turning a handler's exception or overrun into
 * the answer its failurePolicy calls for. Nothing a client sends yields a stack trace.
 */
import { createServer } from "node:https";
import type { Server } from "node:https";
import type { AddressInfo } from "node:net";
import type { SecureContextOptions } from "node:tls";
import express from "express";
import type { NextFunction, Request, Response } from "express";
import type { Logger } from "../observability/logger.ts";
import type { AdmissionHandler, AdmissionRequest, AdmissionResult } from "./admission.ts";
import { parseAdmissionReview, routePath, toResponse, toReview } from "./admission.ts";
import type { KeyPairPem } from "./certs.ts";

/** What became of one request. "invalid" is a 4xx: not an AdmissionReview we could answer. */
export type AdmissionOutcome = "allowed" | "patched" | "denied" | "error" | "invalid";

/** Where latency and outcomes go; main.ts adapts it to prom-client. */
export interface AdmissionMetrics {
  observe(sample: { route: string; outcome: AdmissionOutcome; seconds: number }): void;
}

export interface WebhookServerOptions {
  handlers: readonly AdmissionHandler[];
  /** The serving certificate and key (PEM). Replace later with setCertificate(). */
  tls: KeyPairPem;
  log: Logger;
  metrics?: AdmissionMetrics;
  /** Default "0.0.0.0". */
  host?: string;
  /** Default 9443; 0 picks a free port (tests). */
  port?: number;
  /** An AdmissionReview carries the object twice; the API server caps objects at 3 MiB. Default 7 MiB. */
  maxBodyBytes?: number;
  /** Time budget of a handler when it names none. Default 8 s (the API server's default wait is 10 s). */
  handlerTimeoutMs?: number;
  /** Idle keep-alive: longer than the API server's client idle timeout (90 s), so it closes first. Default 120 s. */
  keepAliveTimeoutMs?: number;
  /** Default 10 s. */
  headersTimeoutMs?: number;
  /** Whole request, body included. Default 30 s (the longest webhook timeout Kubernetes allows). */
  requestTimeoutMs?: number;
}

export const DEFAULT_WEBHOOK_PORT = 9443;
const MAX_MESSAGE_LENGTH = 1024;

const UNMATCHED_ROUTE = "unmatched";
/** When a request arrived, stamped by the first middleware, for the latency metric. */
const START = Symbol("aviary.webhook.start");

class HandlerTimeout extends Error {
  constructor(ms: number) {
    super(`handler did not answer within ${ms} ms`);
    this.name = "HandlerTimeout";
  }
}

const errorMessage = (err: unknown): string => {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.length > MAX_MESSAGE_LENGTH ? msg.slice(0, MAX_MESSAGE_LENGTH) + "…" : msg;
};

export class WebhookServer {
  readonly #opts: Required<Omit<WebhookServerOptions, "metrics" | "handlers" | "tls" | "log">> & { metrics?: AdmissionMetrics };
  readonly #log: Logger;
  readonly #server: Server;
  readonly #routes = new Map<string, AdmissionHandler>();

  constructor(opts: WebhookServerOptions) {
    // `??` rather than a spread: an option passed as undefined still gets its default.
    this.#opts = {
      metrics: opts.metrics,
      host: opts.host ?? "0.0.0.0",
      port: opts.port ?? DEFAULT_WEBHOOK_PORT,
      maxBodyBytes: opts.maxBodyBytes ?? 7 * 1024 * 1024,
      handlerTimeoutMs: opts.handlerTimeoutMs ?? 8_000,
      keepAliveTimeoutMs: opts.keepAliveTimeoutMs ?? 120_000,
      headersTimeoutMs: opts.headersTimeoutMs ?? 10_000,
      requestTimeoutMs: opts.requestTimeoutMs ?? 30_000,
    };
    this.#log = opts.log;
    for (const handler of opts.handlers) {
      const path = routePath(handler);
      if (this.#routes.has(path)) throw new Error(`two admission handlers for ${path}`);
      if (!/^[a-z0-9-]+$/.test(handler.name)) throw new Error(`handler name ${JSON.stringify(handler.name)} is not a path segment`);
      this.#routes.set(path, handler);
    }
    const o = this.#opts;
    this.#server = createServer(
      {
        ...this.#secureOptions(opts.tls),
        keepAliveTimeout: o.keepAliveTimeoutMs,
        headersTimeout: o.headersTimeoutMs,
        requestTimeout: o.requestTimeoutMs,
        // How often the header/request timeouts are enforced (node's default is 30 s).
        connectionsCheckingInterval: Math.max(250, Math.min(o.headersTimeoutMs, o.requestTimeoutMs) / 4),
        handshakeTimeout: o.headersTimeoutMs,
      },
      this.#app(),
    );
    this.#server.on("tlsClientError", (err) => this.#log.debug("TLS handshake failed", { err }));
  }

  /** Routes served, e.g. ["/mutate/deployments", "/validate/canaries"]. */
  routes(): string[] {
    return [...this.#routes.keys()];
  }

  #secureOptions(tls: KeyPairPem): SecureContextOptions {
    return { cert: tls.cert, key: tls.key, minVersion: "TLSv1.2" };
  }

  /**
   * Serves a new certificate to new connections, without a restart. Throws (and keeps
   * serving the old one) when the pair is unusable, e.g. a key that does not match.
   */
  setCertificate(tls: KeyPairPem): void {
    // setSecureContext resets every TLS option it is not given, so minVersion goes again.
    this.#server.setSecureContext(this.#secureOptions(tls));
    this.#log.info("webhook serving certificate reloaded");
  }

  async listen(): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.#server.once("error", onError);
      this.#server.listen(this.#opts.port, this.#opts.host, () => {
        this.#server.off("error", onError);
        // A later server error (e.g. out of file descriptors) is logged, not an unhandled event.
        this.#server.on("error", (err) => this.#log.error("webhook server error", { err }));
        resolve();
      });
    });
    const address = this.address();
    this.#log.info("admission webhook listening", { host: address.address, port: address.port, routes: this.routes() });
    return address;
  }

  address(): AddressInfo {
    const address = this.#server.address();
    if (address === null || typeof address === "string") throw new Error("webhook server is not listening");
    return address;
  }

  /** Stops accepting, lets requests in flight finish for up to `graceMs`, then cuts the rest. */
  async close(graceMs = 5_000): Promise<void> {
    if (!this.#server.listening) return;
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeIdleConnections();
    const timer = setTimeout(() => this.#server.closeAllConnections(), graceMs);
    await closed;
    clearTimeout(timer);
  }

  #app(): express.Express {
    const app = express();
    app.disable("x-powered-by");
    app.set("etag", false);
    app.set("query parser", false);
    app.use((req: Request, _res: Response, next: NextFunction) => {
      (req as Request & { [START]?: number })[START] = performance.now();
      next();
    });

    app.get("/healthz", (_req, res) => {
      res.type("text/plain").send("ok");
    });

    const parseJson = express.json({
      limit: this.#opts.maxBodyBytes,
      type: "application/json",
      strict: true,
      // The API server never compresses; a compressed body is a decompression bomb risk.
      inflate: false,
    });
    // 415 for anything but JSON, 400 for no body at all.
    const requireJson = (req: Request, res: Response, next: NextFunction): void => {
      const type = req.is("application/json");
      if (type === null || type === false) {
        this.#record(req.path, "invalid", req);
        if (type === null) res.status(400).json({ error: "request has no body; expected an AdmissionReview" });
        else res.status(415).json({ error: "Content-Type must be application/json" });
        return;
      }
      next();
    };
    for (const [path, handler] of this.#routes) {
      app.post(path, requireJson, parseJson, (req: Request, res: Response) => this.#admit(handler, path, req, res));
      app.all(path, (_req, res) => {
        res.status(405).set("Allow", "POST").json({ error: `${path} accepts POST only` });
      });
    }
    app.use((req: Request, res: Response) => {
      this.#record(UNMATCHED_ROUTE, "invalid", req);
      res.status(404).json({ error: `no admission route ${req.method} ${req.path}` });
    });
    app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => this.#fail(err, req, res));
    return app;
  }

  async #admit(handler: AdmissionHandler, route: string, req: Request, res: Response): Promise<void> {
    const parsed = parseAdmissionReview(req.body);
    if (!parsed.ok) {
      this.#record(route, "invalid", req);
      res.status(400).json({ error: `invalid AdmissionReview: ${parsed.error}` });
      return;
    }
    const request = parsed.request;
    const log = this.#log.child({
      route,
      uid: request.uid,
      kind: request.kind.kind,
      namespace: request.namespace,
      name: request.name,
      operation: request.operation,
      user: request.userInfo.username,
    });
    let result: AdmissionResult;
    let outcome: AdmissionOutcome;
    try {
      result = await this.#runHandler(handler, request, log);
      outcome = !result.allowed ? "denied" : result.patch && result.patch.length > 0 ? "patched" : "allowed";
    } catch (err) {
      outcome = "error";
      log.error("admission handler failed", { err, failurePolicy: handler.failurePolicy });
      result =
        handler.failurePolicy === "Ignore"
          ? { allowed: true, warnings: [`aviary ${route} skipped: ${errorMessage(err)}`] }
          : { allowed: false, code: 500, reason: "InternalError", message: `aviary ${route} failed: ${errorMessage(err)}` };
    }
    if (outcome === "denied") log.info("admission denied", { message: result.message });
    else log.debug("admission answered", { outcome, patchOps: result.patch?.length ?? 0, warnings: result.warnings?.length ?? 0 });
    res.status(200).json(toReview(toResponse(request.uid, result)));
    this.#record(route, outcome, req);
  }

  async #runHandler(handler: AdmissionHandler, request: AdmissionRequest, log: Logger): Promise<AdmissionResult> {
    const ms = handler.timeoutMs ?? this.#opts.handlerTimeoutMs;
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const overrun = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        const err = new HandlerTimeout(ms);
        controller.abort(err);
        reject(err);
      }, ms);
    });
    try {
      const work = Promise.resolve().then(() => handler.handle(request, { signal: controller.signal, log }));
      return await Promise.race([work, overrun]);
    } finally {
      clearTimeout(timer);
    }
  }

  #fail(err: unknown, req: Request, res: Response): void {
    const e = (typeof err === "object" && err !== null ? err : {}) as { status?: unknown; type?: unknown };
    const status = typeof e.status === "number" && e.status >= 400 && e.status < 500 ? e.status : 500;
    const message =
      e.type === "entity.too.large"
        ? `request body exceeds ${this.#opts.maxBodyBytes} bytes`
        : e.type === "entity.parse.failed"
          ? "request body is not valid JSON"
          : e.type === "encoding.unsupported"
            ? "compressed request bodies are not accepted"
            : e.type === "charset.unsupported"
              ? "request body must be UTF-8 JSON"
              : status < 500
                ? "bad request"
                : "internal error";
    if (status >= 500) this.#log.error("webhook request failed", { err, path: req.path });
    this.#record(this.#routes.has(req.path) ? req.path : UNMATCHED_ROUTE, status >= 500 ? "error" : "invalid", req);
    if (res.headersSent) {
      res.end();
      return;
    }
    res.status(status).json({ error: message });
  }

  #record(route: string, outcome: AdmissionOutcome, req: Request): void {
    if (!this.#opts.metrics) return;
    const started = (req as Request & { [START]?: number })[START] ?? performance.now();
    try {
      this.#opts.metrics.observe({ route, outcome, seconds: (performance.now() - started) / 1000 });
    } catch (err) {
      this.#log.warn("admission metrics recorder failed", { err });
    }
  }
}


