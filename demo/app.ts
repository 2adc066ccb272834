#!/usr/bin/env node
/**
 * The demo application: a small HTTP service whose behaviour is chosen by its version
 * (demo/behaviour.ts) and which exports the metrics aviary's kubernetes/gatewayapi built-in
 * queries read, the way any instrumented service would:
 *
 *   http_requests_total{method, status}          counter
 *   http_request_duration_seconds_bucket{le}     histogram, seconds
 *   demo_app_info{version}                       gauge, 1
 *
 * `namespace` and `pod` are not exported by the app: Prometheus adds them as target labels,
 * as a PodMonitor would (here the simulated mesh writes them into a file_sd target file).
 *
 *   node demo/app.ts --version 2.0.0 [--host 127.0.0.1] [--port 0]     (or VERSION=2.0.0)
 *
 * With DEMO_INCIDENT_FILE set, the app serves as during a shared incident while that file
 * exists (the simulated mesh's app processes inherit it, so one file hits both versions).
 *
 * On start it prints one JSON line `{"msg":"listening","url":…,"version":…}` to stdout.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { behaviourFor, duringIncident, responseFor } from "./behaviour.ts";
import type { Behaviour } from "./behaviour.ts";

/** Fine enough between 50 ms and 1 s that p99 reads close to the latency actually served. */
export const LATENCY_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.75, 1, 2.5, 5];

export interface DemoAppOptions {
  version: string;
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** While this file exists, the app serves as during a shared incident (demo/behaviour.ts). */
  incidentFile?: string | undefined;
}

export interface DemoApp {
  url: string;
  behaviour: Behaviour;
  /** Requests answered so far. */
  served(): number;
  /** Stops accepting, lets requests in flight finish, then resolves. */
  close(): Promise<void>;
}

export async function startDemoApp(opts: DemoAppOptions): Promise<DemoApp> {
  const behaviour = behaviourFor(opts.version);
  const registry = new Registry();
  const requests = new Counter({
    name: "http_requests_total",
    help: "HTTP requests answered, by method and status code",
    labelNames: ["method", "status"],
    registers: [registry],
  });
  const duration = new Histogram({
    name: "http_request_duration_seconds",
    help: "HTTP request latency in seconds",
    buckets: LATENCY_BUCKETS_SECONDS,
    registers: [registry],
  });
  // Exported at 0 from the start, so Prometheus has the series before the first request
  // and a rate over the first seconds of traffic is a number, not "no data".
  requests.inc({ method: "GET", status: "200" }, 0);
  new Gauge({ name: "demo_app_info", help: "The demo application's version", labelNames: ["version"], registers: [registry] }).set({ version: opts.version }, 1);

  let n = 0;
  const timers = new Set<NodeJS.Timeout>();
  // Checked a few times a second rather than per request: toggling the file starts or ends
  // the incident for every app process that was given it.
  const incident = { on: false };
  const incidentFile = opts.incidentFile;
  const incidentPoll = incidentFile === undefined ? undefined : setInterval(() => (incident.on = existsSync(incidentFile)), 100);
  incidentPoll?.unref();
  if (incidentFile !== undefined) incident.on = existsSync(incidentFile);
  const server = http.createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/metrics") {
      registry.metrics().then(
        (text) => res.writeHead(200, { "content-type": registry.contentType }).end(text),
        (err: unknown) => res.writeHead(500).end(String(err)),
      );
      return;
    }
    if (path === "/healthz") {
      res.writeHead(200).end("ok");
      return;
    }
    const started = process.hrtime.bigint();
    const answer = responseFor(incident.on ? duringIncident(behaviour) : behaviour, n++);
    const timer = setTimeout(() => {
      timers.delete(timer);
      requests.inc({ method: req.method ?? "GET", status: String(answer.status) });
      duration.observe(Number(process.hrtime.bigint() - started) / 1e9);
      const body = JSON.stringify({ version: opts.version, status: answer.status });
      res.writeHead(answer.status, { "content-type": "application/json" }).end(body);
    }, answer.delayMs);
    timers.add(timer);
  });
  server.keepAliveTimeout = 5_000;
  server.headersTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${address.address}:${address.port}`,
    behaviour,
    served: () => n,
    close: async () => {
      if (incidentPoll !== undefined) clearInterval(incidentPoll);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      // Requests still waiting on their delay are answered (up to 2 s) before the keep-alive
      // connections they leave behind are closed.
      const deadline = Date.now() + 2_000;
      while (timers.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      await closed;
    },
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: { version: { type: "string" }, host: { type: "string" }, port: { type: "string" }, help: { type: "boolean", short: "h" } },
  });
  if (values.help) {
    process.stdout.write("usage: node demo/app.ts --version VERSION [--host 127.0.0.1] [--port 0]   (or VERSION=…; DEMO_INCIDENT_FILE=path: an incident while it exists)\n");
    return;
  }
  const version = values.version ?? process.env.VERSION;
  if (!version) {
    console.error("demo app: --version (or VERSION) is required, e.g. 1.0.0, 2.0.0, 3.0.0-bad");
    process.exit(2);
  }
  const port = Number(values.port ?? process.env.PORT ?? 0);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`demo app: --port must be 0-65535, got ${values.port}`);
    process.exit(2);
  }
  const app = await startDemoApp({ version, host: values.host ?? "127.0.0.1", port, incidentFile: process.env.DEMO_INCIDENT_FILE || undefined });
  process.stdout.write(JSON.stringify({ msg: "listening", url: app.url, version, behaviour: app.behaviour }) + "\n");
  const stop = () => void app.close().then(() => process.exit(0));
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

if (import.meta.main) await main();
