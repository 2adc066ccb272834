#!/usr/bin/env node
/**
 * The simulated mesh: test and demo infrastructure, not part of aviary. Pods on kwok nodes
 * run no containers and serve no traffic, so this process plays the data plane for one
 * Canary:
 *
 * - it watches the Canary and the Deployments in its namespace, and runs one local demo
 *   application process (demo/app.ts) for the primary and one for the canary, each with the
 *   version its Deployment's image tag names, replaced when that image changes;
 * - every ~250 ms it reads the current split through the router's own `getRoutes` (the
 *   HTTPRoute, VirtualService, VirtualRouter, TrafficSplit or canary Ingress aviary wrote);
 * - it sends a steady load (50 req/s by default; 0 for a quiet service) divided by that split,
 *   like a proxy would;
 * - it plays the `-primary` and `-canary` Services on local ports (mesh/service-ports.ts), so
 *   traffic from elsewhere (a load tester called by the Canary's webhooks) reaches the
 *   processes and is counted like its own;
 * - it is Prometheus's scrape target (named in a file_sd target file): it serves the two
 *   application processes' own metrics, labelled `namespace`/`pod` as their pods would be
 *   (what the kubernetes/gatewayapi built-ins read), and the Istio, Envoy (App Mesh),
 *   ingress-nginx and Linkerd series of the same requests, as those proxies would.
 *
 * Everything aviary talks to stays real: the API server, the route objects, Prometheus.
 *
 *   node demo/mesh.ts --namespace aviary-demo --canary storefront --target-file DIR/storefront.json
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { rm } from "node:fs/promises";
import { parseArgs } from "node:util";
import { withDefaults } from "../src/api/defaults.ts";
import { API_VERSION, KIND_CANARY } from "../src/api/types.ts";
import type { Canary } from "../src/api/types.ts";
import { createKubeClient } from "../src/kube/client.ts";
import type { ClusterClient } from "../src/kube/client.ts";
import { loadKubeConfig } from "../src/kube/config.ts";
import { createInformer } from "../src/kube/informer.ts";
import type { KubeObject } from "../src/kube/types.ts";
import { createLogger } from "../src/observability/logger.ts";
import type { Logger } from "../src/observability/logger.ts";
import { createRouterRegistry } from "../src/router/registry.ts";
import type { RouterRegistry } from "../src/router/registry.ts";
import { RouteStateError } from "../src/router/types.ts";
import { startAppProcess } from "./mesh/app-process.ts";
import type { AppProcess } from "./mesh/app-process.ts";
import { createProxyMetrics } from "./mesh/proxy-metrics.ts";
import { desiredRoles, imageOf, sameRole } from "./mesh/roles.ts";
import type { DeploymentView, Role } from "./mesh/roles.ts";
import { dueRequests, INITIAL_SPLIT, pickBackend } from "./mesh/split.ts";
import type { Backend, Weights } from "./mesh/split.ts";
import { mergeExpositions } from "./mesh/exposition.ts";
import { startServicePorts } from "./mesh/service-ports.ts";
import { meshTargetGroup, writeTargetFile } from "./mesh/targets.ts";

export interface SimulatedMeshOptions {
  client: Pick<ClusterClient, "listPages" | "watch">;
  /** The routers aviary uses; the mesh reads weights only through their getRoutes. */
  routers: RouterRegistry;
  logger: Logger;
  namespace: string;
  /** The Canary's name. */
  canary: string;
  /** The file_sd target file to keep current (Prometheus globs a directory of them). */
  targetFile: string;
  /** Default 50; 0 sends no background traffic (a quiet service: only a load tester calls it). */
  requestsPerSecond?: number;
  /** How often the split is read back from the route object. Default 250 ms. */
  routesEveryMs?: number;
  /** Per request. Default 5 s. */
  requestTimeoutMs?: number;
  /** Every answer the mesh saw, for extra exporters (CloudWatch). */
  onResponse?: (role: Role, status: number, latencyMs: number) => void;
}

export interface RoleStats {
  version: string | undefined;
  requests: number;
  errors: number;
}

export interface MeshStats {
  weights: Weights;
  primary: RoleStats;
  canary: RoleStats;
  /** Requests not sent because the backend's process was not up. */
  skipped: number;
}

export interface SimulatedMesh {
  /**
   * The exporter: /metrics (what Prometheus scrapes), /stats (MeshStats as JSON) and
   * /gates/canary-ready, a confirm-rollout webhook that opens (200) once the canary's new
   * version serves and Prometheus has scraped it twice, else answers 423.
   */
  url: string;
  /** `127.0.0.1:port` standing in for the `-primary` and `-canary` Services. */
  services: Record<Backend, string>;
  stats(): MeshStats;
  stop(): Promise<void>;
}

/** Scrapes of a new canary process before the readiness gate opens: what rate() needs. */
const MIN_SCRAPES = 2;
const NO_ROUTE: Weights = { primary: 100, canary: 0, mirror: false };
const BACKENDS: readonly Backend[] = ["primary", "canary"];

export async function startSimulatedMesh(opts: SimulatedMeshOptions): Promise<SimulatedMesh> {
  const { namespace, canary: name } = opts;
  const log = opts.logger.child({ component: "simulated-mesh", canary: `${namespace}/${name}` });
  const perSecond = opts.requestsPerSecond ?? 50;
  const routesEveryMs = opts.routesEveryMs ?? 250;
  const requestTimeoutMs = opts.requestTimeoutMs ?? 5_000;
  const proxy = createProxyMetrics();
  const stopping = new AbortController();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

  let weights: Weights = NO_ROUTE;
  /** `exposed`: how many scrapes served this process's metrics. */
  const running: Partial<Record<Backend, { role: Role; proc: AppProcess; exposed: number }>> = {};
  const counts: Record<Backend, { requests: number; errors: number }> = { primary: { requests: 0, errors: 0 }, canary: { requests: 0, errors: 0 } };
  let skipped = 0;
  const retiring = new Set<Promise<void>>();

  const stats = (): MeshStats => ({
    weights,
    primary: { version: running.primary?.role.version, ...counts.primary },
    canary: { version: running.canary?.role.version, ...counts.canary },
    skipped,
  });

  // One stable scrape target: the proxy-shaped series plus each app process's own metrics,
  // labelled with the pod it stands for (mesh/exposition.ts says why not one target each).
  const exposition = async (): Promise<string> => {
    const apps = await Promise.all(BACKENDS.map(async (b) => {
      const r = running[b];
      if (r === undefined) return undefined;
      const text = await fetchText(`${r.proc.url}/metrics`, agent, 800).catch(() => undefined);
      if (text === undefined) return undefined;
      r.exposed++;
      return { text, labels: { namespace, pod: r.role.upstream.pod, role: b, version: r.role.version } };
    }));
    return mergeExpositions([{ text: await proxy.registry.metrics() }, ...apps.filter((p) => p !== undefined)]);
  };
  const server = http.createServer((req, res) => {
    if (req.url === "/stats") {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(stats()));
      return;
    }
    if (req.url === "/gates/canary-ready") {
      req.resume();
      const gate = canaryReadiness();
      res.writeHead(gate.ready ? 200 : 423, { "content-type": "application/json" }).end(JSON.stringify(gate));
      return;
    }
    if (req.url !== "/metrics") {
      res.writeHead(404).end();
      return;
    }
    exposition().then(
      (text) => res.writeHead(200, { "content-type": proxy.registry.contentType }).end(text),
      (err: unknown) => res.writeHead(500).end(String(err)),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const exporter = `127.0.0.1:${(server.address() as AddressInfo).port}`;

  // --- which processes run: follows the Canary and the Deployments' images --------------------
  const syncBackend = async (backend: Backend, want: Role | undefined): Promise<void> => {
    const have = running[backend];
    if (want !== undefined && have !== undefined && sameRole(want, have.role)) {
      have.role = want;
      return;
    }
    if (want === undefined) delete running[backend];
    else {
      log.info(`${backend} now runs ${want.version}`, { deployment: want.deployment, image: want.image });
      running[backend] = { role: want, proc: await startAppProcess(want.image, want.version, log), exposed: 0 };
      proxy.prime(want.upstream);
    }
    // The old process finishes what it has in flight; nothing new is sent to it.
    if (have !== undefined) {
      const done = have.proc.stop().finally(() => retiring.delete(done));
      retiring.add(done);
    }
  };

  const syncProcesses = async () => {
    if (stopping.signal.aborted) return;
    const stored = canaries.get(namespace, name);
    const desired = stored ? desiredRoles(withDefaults(stored), (n) => deployments.get(namespace, n)) : {};
    const outcomes = await Promise.allSettled(BACKENDS.map((b) => syncBackend(b, desired[b])));
    const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === "rejected");
    if (failed) throw failed.reason;
  };

  let queued = false;
  let chain: Promise<void> = Promise.resolve();
  const scheduleSync = () => {
    if (queued || stopping.signal.aborted) return;
    queued = true;
    chain = chain.then(async () => {
      queued = false;
      await syncProcesses();
    }).catch((err: unknown) => {
      log.warn("could not sync the demo application processes; retrying", { err });
      setTimeout(scheduleSync, 1_000).unref();
    });
  };

  const canaries = createInformer<Canary>({
    client: opts.client, apiVersion: API_VERSION, kind: KIND_CANARY, namespace, fieldSelector: `metadata.name=${name}`,
    logger: log, onEvent: scheduleSync,
  });
  const deployments = createInformer<DeploymentView & KubeObject>({
    client: opts.client, apiVersion: "apps/v1", kind: "Deployment", namespace, logger: log, onEvent: scheduleSync,
  });
  canaries.start();
  deployments.start();

  // Pods on kwok nodes are Ready the moment they exist; real ones take seconds, by which time
  // Prometheus has scraped them. This gate (a confirm-rollout webhook) stands in for that.
  const canaryReadiness = (): { ready: boolean; message: string } => {
    const stored = canaries.get(namespace, name);
    const image = stored ? imageOf(deployments.get(namespace, stored.spec.targetRef.name)) : undefined;
    const r = running.canary;
    if (image === undefined) return { ready: false, message: `no target Deployment for Canary ${name} yet` };
    if (r === undefined || r.role.image !== image) return { ready: false, message: `the canary process for ${image} is starting` };
    if (r.exposed < MIN_SCRAPES) return { ready: false, message: `Prometheus scraped ${r.role.version} ${r.exposed} of ${MIN_SCRAPES} times` };
    return { ready: true, message: `${r.role.version} serves and Prometheus has scraped it` };
  };
  await writeTargetFile(opts.targetFile, [meshTargetGroup(exporter, name)]);

  // --- the split: read back from the route object, as aviary itself does --------------------
  let lastRouteError = "";
  const readRoutes = async () => {
    const stored = canaries.get(namespace, name);
    if (stored === undefined) {
      weights = NO_ROUTE;
      return;
    }
    const canary = withDefaults(stored);
    try {
      const routes = await opts.routers.get(canary.spec.provider).getRoutes(canary, AbortSignal.any([stopping.signal, AbortSignal.timeout(5_000)]));
      weights = { primary: routes.primary, canary: routes.canary, mirror: routes.mirror };
      lastRouteError = "";
    } catch (err) {
      // Before aviary's first reconcile there is no route object: everything goes to the primary.
      if (err instanceof RouteStateError) weights = NO_ROUTE;
      const message = err instanceof Error ? err.message : String(err);
      if (message !== lastRouteError && !stopping.signal.aborted) log.info("no split to read yet; keeping the last one", { reason: message });
      lastRouteError = message;
    }
  };
  const routesLoop = (async () => {
    while (!stopping.signal.aborted) {
      await readRoutes();
      await sleep(routesEveryMs, stopping.signal);
    }
  })();

  // --- the load -------------------------------------------------------------------------------
  const record = (backend: Backend, role: Role, status: number, latencyMs: number) => {
    counts[backend].requests++;
    if (status >= 500) counts[backend].errors++;
    proxy.record(role.upstream, status, latencyMs);
    opts.onResponse?.(role, status, latencyMs);
  };
  const services = await startServicePorts({
    upstream: (backend) => running[backend]?.proc.url,
    record: (backend, status, latencyMs) => {
      const r = running[backend];
      if (r !== undefined) record(backend, r.role, status, latencyMs);
    },
    timeoutMs: requestTimeoutMs,
    agent,
  });
  const send = (backend: Backend) => {
    const target = running[backend];
    if (target === undefined) {
      skipped++;
      return;
    }
    const { role, proc } = target;
    const started = performance.now();
    const done = (status: number) => record(backend, role, status, performance.now() - started);
    const req = http.get(`${proc.url}/`, { agent, timeout: requestTimeoutMs }, (res) => {
      res.resume();
      res.once("end", () => done(res.statusCode ?? 502));
      res.once("error", () => done(502));
    });
    // What a proxy answers when the upstream does not: 504 on timeout, 503 when unreachable.
    req.once("timeout", () => req.destroy(new Error("timeout")));
    req.once("error", (err) => done(err.message === "timeout" ? 504 : 503));
  };

  const startedAt = performance.now();
  let sent = 0;
  let split = INITIAL_SPLIT;
  const load = setInterval(() => {
    const due = dueRequests(performance.now() - startedAt, perSecond, sent);
    sent += due.send + due.skipped;
    skipped += due.skipped;
    for (let i = 0; i < due.send; i++) {
      const pick = pickBackend(weights, split);
      split = pick.state;
      send(pick.backend);
      if (pick.mirror) send("canary");
    }
  }, 10);
  const resync = setInterval(scheduleSync, 2_000);

  log.info("simulated mesh started", { exporter, targetFile: opts.targetFile, requestsPerSecond: perSecond, services: services.addresses });
  return {
    url: `http://${exporter}`,
    services: services.addresses,
    stats,
    async stop() {
      stopping.abort();
      clearInterval(load);
      clearInterval(resync);
      await routesLoop;
      await canaries.stop();
      await deployments.stop();
      await chain;
      await services.close();
      await Promise.all([...BACKENDS.map((b) => running[b]?.proc.stop()), ...retiring]);
      await rm(opts.targetFile, { force: true });
      agent.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      log.info("simulated mesh stopped", { ...stats() });
    },
  };
}

function fetchText(url: string, agent: http.Agent, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.once("end", () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks).toString("utf8")) : reject(new Error(`HTTP ${res.statusCode}`))));
      res.once("error", reject);
    });
    req.once("timeout", () => req.destroy(new Error(`no answer from ${url} within ${timeoutMs} ms`)));
    req.once("error", reject);
  });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      namespace: { type: "string" },
      canary: { type: "string" },
      "target-file": { type: "string" },
      rps: { type: "string" },
      kubeconfig: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help || !values.namespace || !values.canary || !values["target-file"]) {
    process.stdout.write("usage: node demo/mesh.ts --namespace NS --canary NAME --target-file FILE.json [--rps 50 (0: a quiet service)] [--kubeconfig PATH]\n");
    process.exit(values.help ? 0 : 2);
  }
  const logger = createLogger({ level: "info" });
  const client = createKubeClient(loadKubeConfig(values.kubeconfig), { userAgent: "aviary-simulated-mesh" });
  const mesh = await startSimulatedMesh({
    client, routers: createRouterRegistry({ kube: client, logger }), logger,
    namespace: values.namespace, canary: values.canary, targetFile: values["target-file"],
    requestsPerSecond: Number(values.rps ?? 50),
  });
  const stop = () => void mesh.stop().then(() => client.close()).then(() => process.exit(0));
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

if (import.meta.main) await main();
