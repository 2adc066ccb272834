/**
 * The load tester's HTTP service, answering Flagger's load-tester webhook calls:
 *   POST /          {name, namespace, phase, checksum, metadata: {type, cmd, ...}}
 *                   202 a background run started (or that command is already running),
 *                   200/500 a blocking run's report (500 when any request failed),
 *                   400 a refused command, naming the field, flag or bound; 429 too many runs
 *   /gate/*, /rollback/*   Flagger's manual gates (gates.ts)
 *   GET /runs       the runs in progress; GET /healthz; GET /metrics (its own registry)
 * `startLoadTester` is the whole service in-process: the CLI runs it, and so can a demo.
 */
import { createServer } from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Registry } from "prom-client";
import type { AddressMap } from "./address-map.ts";
import { DEFAULT_LIMITS } from "./bounds.ts";
import type { LoadLimits } from "./bounds.ts";
import { realClock } from "./clock.ts";
import type { Clock } from "./clock.ts";
import { taskFromMetadata } from "./command.ts";
import { GATE_ROUTES, Gates } from "./gates.ts";
import { createLoadTesterMetrics } from "./metrics.ts";
import { LoadRuns, TooManyRunsError } from "./runs.ts";
import { CommandRefusedError } from "./tokenize.ts";
import { createLogger } from "../observability/logger.ts";
import type { Logger } from "../observability/logger.ts";

export interface LoadTesterOptions {
  /** Default 0.0.0.0 (in a pod); tests use 127.0.0.1. */
  host?: string;
  /** Default 8080; 0 picks a free port. */
  port?: number;
  limits?: Partial<LoadLimits>;
  clusterDomain?: string;
  allowHosts?: readonly string[];
  logger?: Logger;
  /** Default: a new Registry (with the process's default metrics not registered). */
  registry?: Registry;
  clock?: Clock;
  /** Seeds each run's latency sample, for reproducible reports. */
  seed?: number;
  /**
   * Outside a cluster only (a local demo, tests): connect to these local addresses instead of
   * the in-cluster `service.namespace:port` a command names (address-map.ts).
   */
  addressMap?: AddressMap;
}

export interface LoadTester {
  /** `http://host:port`, for webhooks. */
  url: string;
  port: number;
  runs: LoadRuns;
  registry: Registry;
  /** Stops every run, then the server. */
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 64 * 1024;

export interface WebhookPayload {
  name: string;
  namespace: string;
  metadata?: Record<string, string>;
}

class BadRequest extends Error {
  readonly status: number;
  constructor(message: string, status = 400) {
    super(message);
    this.status = status;
  }
}

export async function startLoadTester(options: LoadTesterOptions = {}): Promise<LoadTester> {
  const logger = options.logger ?? createLogger({}, { component: "loadtester" });
  const registry = options.registry ?? new Registry();
  const metrics = createLoadTesterMetrics(registry);
  const limits: LoadLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const runs = new LoadRuns({
    limits,
    policy: { clusterDomain: options.clusterDomain ?? "cluster.local", allowHosts: options.allowHosts ?? [] },
    clock: options.clock ?? realClock,
    logger,
    metrics,
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    ...(options.addressMap !== undefined ? { addressMap: options.addressMap } : {}),
  });
  const gates = new Gates();

  const handleTask = async (payload: WebhookPayload, res: ServerResponse): Promise<void> => {
    const canary = `${payload.name}.${payload.namespace}`;
    if (payload.metadata === undefined || Object.keys(payload.metadata).length === 0) {
      throw new BadRequest("metadata not found in payload: give metadata.cmd with a hey or ghz command");
    }
    const task = taskFromMetadata(payload.metadata);
    // A blocking caller that goes away (its webhook timeout) stops the run it was waiting for.
    const gone = new AbortController();
    if (task.blocking) res.on("close", () => gone.abort());
    const started = runs.start(task, canary, task.blocking ? gone.signal : undefined);
    if (!started.started) {
      send(res, 202, { accepted: true, run: started.id, message: `${task.plan.tool} command already running for ${canary}` });
      return;
    }
    if (!task.blocking) {
      started.report.catch((err: unknown) => logger.error("load run failed", { run: started.id, err }));
      send(res, 202, { accepted: true, run: started.id, message: `${task.plan.tool} command started for ${canary}` });
      return;
    }
    const report = await started.report;
    const failed = report.requests - report.succeeded;
    send(res, failed === 0 && !report.cancelled ? 200 : 500, report);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    if (req.method === "GET" || req.method === "HEAD") {
      if (path === "/healthz") return void res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
      if (path === "/metrics") return void res.writeHead(200, { "content-type": registry.contentType }).end(await registry.metrics());
      if (path === "/runs") return send(res, 200, { runs: runs.list() });
    }
    const gate = GATE_ROUTES[path];
    if (path !== "/" && gate === undefined) return void res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
    if (gate?.kind === "fixed") {
      return void res.writeHead(gate.allow ? 200 : 403, { "content-type": "text/plain" }).end(gate.allow ? "Approved\n" : "Forbidden\n");
    }
    if (req.method !== "POST") throw new BadRequest(`${req.method} ${path} is not served; webhooks POST a JSON payload`, 405);
    const payload = parsePayload(await readBody(req));
    if (gate === undefined) return handleTask(payload, res);
    const key = `${gate.gate}/${payload.name}.${payload.namespace}`;
    if (gate.kind === "set") {
      gates.set(key, gate.open);
      logger.info(gate.open ? "gate opened" : "gate closed", { gate: gate.gate, canary: `${payload.name}.${payload.namespace}` });
      return void res.writeHead(202).end();
    }
    const open = gates.isOpen(key);
    res.writeHead(open ? 200 : 403, { "content-type": "text/plain" }).end(open ? "Approved\n" : "Forbidden\n");
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const refused = err instanceof CommandRefusedError;
      const status = refused ? 400 : err instanceof TooManyRunsError ? 429 : err instanceof BadRequest ? err.status : 500;
      const message = err instanceof Error ? err.message : String(err);
      if (refused) runs.noteRefused();
      logger[status >= 500 ? "error" : "warn"]("webhook call refused", { status, error: message, path: req.url });
      if (!res.headersSent) send(res, status, { error: message, ...(refused ? { subject: err.subject } : {}) });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5_000;
  server.headersTimeout = 10_000;
  // The time to receive a request, not to answer it: a blocking run answers when it ends.
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 8080, options.host ?? "0.0.0.0", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = (options.host ?? "0.0.0.0").includes(":") ? `[${options.host}]` : (options.host ?? "0.0.0.0");
  logger.info("load tester listening", { port, limits });
  return {
    url: `http://${shownHost}:${port}`,
    port,
    runs,
    registry,
    async close() {
      await runs.stopAll();
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body) + "\n");
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new BadRequest(`the payload is larger than ${MAX_BODY_BYTES} bytes`, 413);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** Flagger's CanaryWebhookPayload; name and namespace identify the canary, metadata values are strings. */
export function parsePayload(text: string): WebhookPayload {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new BadRequest("the payload is not JSON: expected {name, namespace, phase, metadata}");
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new BadRequest("the payload must be a JSON object {name, namespace, phase, metadata}");
  const o = raw as Record<string, unknown>;
  for (const field of ["name", "namespace"] as const) {
    if (typeof o[field] !== "string" || o[field] === "") throw new BadRequest(`payload field "${field}" must be a non-empty string`);
  }
  let metadata: Record<string, string> | undefined;
  if (o.metadata !== undefined && o.metadata !== null) {
    if (typeof o.metadata !== "object" || Array.isArray(o.metadata)) throw new BadRequest('payload field "metadata" must be an object of strings');
    metadata = {};
    for (const [k, v] of Object.entries(o.metadata)) {
      if (typeof v !== "string") throw new BadRequest(`payload field "metadata.${k}" must be a string, got ${typeof v}`);
      metadata[k] = v;
    }
  }
  return { name: o.name as string, namespace: o.namespace as string, ...(metadata !== undefined ? { metadata } : {}) };
}
