/**
 * The dashboard's HTTP server: the page, a snapshot API, one server-sent-event stream per
 * browser fed from the store's single set of watches, and (when enabled) the action
 * endpoints.
 *
 * Fan-out: a change marks a Canary's key dirty; one timer per server turns the dirty keys
 * into messages, each serialized once and written to every stream that wants it, so twenty
 * running releases cost the same work for one browser or fifty. A stream that connects (or
 * reconnects after a restart: EventSource retries on its own) gets the full state first.
 *
 * Actions are POSTs that must carry the X-Aviary-Action header (a cross-origin page cannot
 * send it without a CORS preflight, which this server never grants) and, when the browser
 * says where the request came from, come from this very origin.
 */
import type { ApiGroup } from "../api/groups.ts";
import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { KubeClient } from "../kube/types.ts";
import type { Logger } from "../observability/logger.ts";
import { isRequestKind, runAction } from "./actions.ts";
import type { Asset } from "./assets.ts";
import type { DashboardStore } from "./store.ts";

export const ACTION_HEADER = "x-aviary-action";

export interface DashboardServerOptions {
  store: DashboardStore;
  assets: Map<string, Asset>;
  host: string;
  port: number;
  logger: Logger;
  /** The client actions are written with; no actions (read-only) when absent. */
  actions?: Pick<KubeClient, "get" | "mergePatch"> | undefined;
  /** The group Canaries are served in; default aviary.dev. */
  api?: ApiGroup;
  /** Shown in the page header: whose view this is ("all namespaces", "namespace shop"). */
  scope: string;
  /** Why actions are off, for the page (read-only mode). */
  readOnlyReason?: string;
  /** Delay that coalesces bursts of changes into one message per Canary (default 100 ms). */
  flushMs?: number;
  /** Keep-alive comments on idle streams (default 15 s). */
  heartbeatMs?: number;
}

export interface DashboardServer {
  url: string;
  port: number;
  /** Open event streams. */
  streams(): number;
  close(): Promise<void>;
}

interface Stream {
  res: ServerResponse;
  /** The Canary whose detail this page shows, if any. */
  focus: string | undefined;
}

const SECURITY_HEADERS = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "content-security-policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'",
};

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]", "::1"]);

const sse = (event: string, data: unknown): string => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

export async function startDashboardServer(opts: DashboardServerOptions): Promise<DashboardServer> {
  const log = opts.logger.child({ component: "dashboard" });
  const streams = new Set<Stream>();
  const dirty = new Set<string>();
  const flushMs = opts.flushMs ?? 100;
  let flushTimer: NodeJS.Timeout | undefined;
  const loopbackOnly = LOOPBACK_HOSTS.has(opts.host);
  const hello = { scope: opts.scope, actions: opts.actions !== undefined, ...(opts.readOnlyReason ? { readOnlyReason: opts.readOnlyReason } : {}) };

  const flush = () => {
    flushTimer = undefined;
    const keys = [...dirty];
    dirty.clear();
    for (const key of keys) {
      const summary = opts.store.summary(key);
      const listMessage = summary ? sse("summary", summary) : sse("removed", { key });
      let detailMessage: string | undefined;
      for (const s of streams) {
        s.res.write(listMessage);
        if (s.focus !== key) continue;
        detailMessage ??= sse("detail", opts.store.detail(key) ?? { missing: key });
        s.res.write(detailMessage);
      }
    }
  };
  const unsubscribe = opts.store.subscribe((key) => {
    if (streams.size === 0) return;
    dirty.add(key);
    flushTimer ??= setTimeout(flush, flushMs);
  });
  const heartbeat = setInterval(() => {
    for (const s of streams) s.res.write(": keep-alive\n\n");
  }, opts.heartbeatMs ?? 15_000);
  heartbeat.unref();

  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { ...SECURITY_HEADERS, "content-type": "application/json; charset=utf-8", "cache-control": "no-store" }).end(JSON.stringify(body));
  };

  const openStream = (req: IncomingMessage, res: ServerResponse, url: URL) => {
    const focus = url.searchParams.get("canary") ?? undefined;
    res.writeHead(200, { ...SECURITY_HEADERS, "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store", connection: "keep-alive" });
    const stream: Stream = { res, focus };
    // The full state first: a page that reconnects (after a restart too) starts from the truth.
    res.write("retry: 2000\n\n");
    res.write(sse("hello", { ...hello, synced: opts.store.synced() }));
    res.write(sse("list", opts.store.list()));
    if (focus) res.write(sse("detail", opts.store.detail(focus) ?? { missing: focus }));
    streams.add(stream);
    req.on("close", () => streams.delete(stream));
  };

  /** A state-changing request must name itself and come from this origin (CSRF). */
  const csrfProblem = (req: IncomingMessage): string | undefined => {
    if (req.headers[ACTION_HEADER] !== "1") return `a request that changes a Canary needs the ${ACTION_HEADER} header`;
    const site = req.headers["sec-fetch-site"];
    if (site !== undefined && site !== "same-origin") return `cross-site request refused (sec-fetch-site: ${String(site)})`;
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== `http://${req.headers.host ?? ""}`) return `request from another origin (${origin}) refused`;
    return undefined;
  };

  const handleAction = async (req: IncomingMessage, res: ServerResponse, parts: string[]) => {
    const [namespace = "", name = "", action = ""] = parts.map(decodeURIComponent);
    if (!opts.actions) return json(res, 403, { ok: false, message: opts.readOnlyReason ?? "this dashboard is read-only" });
    const problem = csrfProblem(req);
    if (problem) return json(res, 403, { ok: false, message: problem });
    if (!isRequestKind(action)) return json(res, 404, { ok: false, message: `unknown action "${action}"` });
    // The body is not used; drain it so keep-alive connections stay usable.
    req.resume();
    const answer = await runAction(opts.actions, namespace, name, action, AbortSignal.timeout(30_000), opts.api);
    log.info("dashboard action", { namespace, name, action, status: answer.status, message: answer.body.message });
    json(res, answer.status, answer.body);
  };

  const server: Server = createServer((req, res) => {
    const host = (req.headers.host ?? "").replace(/:\d+$/, "");
    // Bound to loopback, only loopback names: a rebound DNS name must not reach the user's cluster through here.
    if (loopbackOnly && !LOOPBACK_HOSTS.has(host)) return json(res, 421, { ok: false, message: `unexpected Host "${req.headers.host ?? ""}"` });
    const url = new URL(req.url ?? "/", "http://dashboard.invalid");
    const path = url.pathname;
    if (req.method === "POST") {
      const m = /^\/api\/canaries\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(path);
      if (!m) return json(res, 404, { ok: false, message: "not found" });
      handleAction(req, res, m.slice(1)).catch((err: unknown) => {
        log.error("dashboard action failed", { err });
        if (!res.headersSent) json(res, 500, { ok: false, message: String(err) });
      });
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD, POST" }).end();
      return;
    }
    if (path === "/api/stream") return openStream(req, res, url);
    if (path === "/api/canaries") return json(res, 200, { hello: { ...hello, synced: opts.store.synced() }, canaries: opts.store.list() });
    const detail = /^\/api\/canaries\/([^/]+)\/([^/]+)$/.exec(path);
    if (detail) {
      const found = opts.store.detail(`${decodeURIComponent(detail[1]!)}/${decodeURIComponent(detail[2]!)}`);
      return found ? json(res, 200, found) : json(res, 404, { ok: false, message: "canary not found" });
    }
    const asset = opts.assets.get(path);
    if (!asset) return json(res, 404, { ok: false, message: "not found" });
    res.writeHead(200, { ...SECURITY_HEADERS, "content-type": asset.contentType, "content-length": asset.body.length, "cache-control": "no-cache" });
    res.end(req.method === "HEAD" ? undefined : asset.body);
  });
  server.keepAliveTimeout = 5_000;
  server.headersTimeout = 10_000;
  // Event streams stay open; the per-request limit would cut them.
  server.requestTimeout = 0;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = opts.host === "0.0.0.0" || opts.host === "::" ? "127.0.0.1" : opts.host.includes(":") ? `[${opts.host}]` : opts.host;
  return {
    url: `http://${shownHost}:${port}/`,
    port,
    streams: () => streams.size,
    async close() {
      unsubscribe();
      clearInterval(heartbeat);
      if (flushTimer) clearTimeout(flushTimer);
      for (const s of streams) s.res.end();
      streams.clear();
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}
