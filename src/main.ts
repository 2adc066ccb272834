#!/usr/bin/env node
/**
 * Composition root: parse the config once, build every object, start. Nothing here decides
 * anything about canaries; it only wires the parts together and handles process signals.
 */
import { hostname } from "node:os";
import { Registry, collectDefaultMetrics } from "prom-client";
import { ConfigError, HELP, parseConfig, splitAddress } from "./config.ts";
import type { Config } from "./config.ts";
import { createCheckRunner } from "./controller/checks/runner.ts";
import { createCanaryReconciler } from "./controller/canary/reconcile.ts";
import { createCanaryController } from "./controller/controller.ts";
import { namespaceForCache } from "./controller/canary/restore.ts";
import { createApplySkip } from "./kube/apply-skip.ts";
import { createCachedReads } from "./kube/cached-reads.ts";
import { createKubeClient } from "./kube/client.ts";
import { loadKubeConfig, serverOf } from "./kube/config.ts";
import { createEventRecorder } from "./kube/events.ts";
import { createRequestCounter } from "./kube/request-counter.ts";
import { createLeaderElector } from "./kube/lease.ts";
import { createShardManager } from "./controller/shards.ts";
import { shardOf } from "./ground/shard.ts";
import { LABEL_CANARY, LABEL_MANAGED_BY, MANAGED_BY_VALUE } from "./api/types.ts";
import type { MetricTemplate } from "./api/types.ts";
import { TARGET_KIND_INFO } from "./ground/workloads.ts";
import { createMetricProviderRegistry } from "./metrics/registry.ts";
import { createAlertDispatcher } from "./notifier/dispatcher.ts";
import { createLogger } from "./observability/logger.ts";
import { createAviaryMetrics } from "./observability/metrics.ts";
import { registerKubeRequestMetric, registerRateLimitWaitMetric } from "./observability/kube-requests.ts";
import type { Logger } from "./observability/logger.ts";
import { startOpsServer } from "./observability/http.ts";
import { createRouterRegistry } from "./router/registry.ts";
import type { RunningWebhook } from "./webhook/run.ts";
import type * as LocalWebhookModule from "./webhook/local.ts";
import { whoAmI } from "./kube/identity.ts";
import { readSecretData } from "./kube/secrets.ts";
import { createExternalMetricsReader } from "./kube/external-metrics.ts";
import { loadHashKeys } from "./kube/hash-key.ts";

type LocalWebhooks = typeof LocalWebhookModule;

export interface Running {
  stop(): Promise<void>;
}

export async function start(config: Config, log: Logger): Promise<Running> {
  const kubeConfig = loadKubeConfig(config.kubeconfig);
  const requests = createRequestCounter();
  const registry = new Registry();
  const rateLimitWait = registerRateLimitWaitMetric(registry);
  const client = createKubeClient(kubeConfig, {
    userAgent: "aviary", requestCounter: requests,
    rateLimit: { qps: config.kubeApiQps, burst: config.kubeApiBurst },
    onRateLimitWait: (ms) => rateLimitWait(ms),
  });
  log.info("starting aviary", { server: serverOf(kubeConfig), namespace: config.namespace ?? "(all)", controller: config.controller, webhook: config.webhook, meshProvider: config.meshProvider, apiGroup: config.api.name, workers: config.workers, kubeApiQps: config.kubeApiQps, kubeApiBurst: config.kubeApiBurst });

  collectDefaultMetrics({ register: registry, prefix: "aviary_process_" });
  const metrics = createAviaryMetrics(registry);
  registerKubeRequestMetric(registry, requests);
  const events = createEventRecorder({ client, logger: log, instance: config.identity });
  // Reconcile reads the Canary, its workloads and generated Services from watch caches and
  // skips applies that would change nothing; the webhook and the CLI paths use the plain client.
  const reads = config.controller
    ? createCachedReads({
        client, logger: log, namespace: config.namespace,
        sources: [
          config.api.canary,
          ...Object.values(TARGET_KIND_INFO).map((k) => ({ apiVersion: k.apiVersion, kind: k.kind, labelSelector: LABEL_CANARY })),
          { apiVersion: "v1", kind: "Service", labelSelector: `${LABEL_MANAGED_BY}=${MANAGED_BY_VALUE}` },
          // Every reconcile asks whether its namespace is being deleted.
          { apiVersion: "v1", kind: "Namespace", transform: namespaceForCache, confirmMisses: true, ...(config.namespace ? { fieldSelector: `metadata.name=${config.namespace}` } : {}) },
        ],
      })
    : undefined;
  const reconcileKube = reads ? createApplySkip({ client: reads.client, observed: reads.observed }).client : client;
  const routers = createRouterRegistry({ kube: reconcileKube, logger: log }, { defaultProvider: config.meshProvider, nginx: { annotationPrefix: config.nginxAnnotationPrefix }, alb: { annotationPrefix: config.albAnnotationPrefix } });
  const externalMetrics = createExternalMetricsReader(kubeConfig, { userAgent: "aviary" });
  const metricProviders = createMetricProviderRegistry({ externalMetrics, kube: client });
  const checks = createCheckRunner({
    metrics: {
      registry: metricProviders,
      getTemplate: async (ns, name, signal) =>
        (await client.get<MetricTemplate>({ ...config.api.metricTemplate, namespace: ns, name }, { signal })) ?? undefined,
      getSecret: (ns, name, signal) => readSecretData(client, ns, name, { signal }),
      ...(config.metricsServer ? { defaultMetricsServer: config.metricsServer } : {}),
    },
  });
  const alerts = createAlertDispatcher({ kube: client, logger: log, metrics: metrics.alerts, api: config.api });
  // Read once at start: a rotated key takes effect at the next start (kube/hash-key.ts).
  const hashKeys = config.controller ? await loadHashKeys(client, config.leaseNamespace, config.hashKeySecret, log) : undefined;
  const reconcile = createCanaryReconciler({
    kube: reconcileKube, routers, checks, events, alerts, logger: log, meshProvider: config.meshProvider, api: config.api,
    ...(hashKeys ? { hashKeys } : {}),
    onStatus: (canary, status) => metrics.observeStatus(canary, status),
    onGone: (ns, name) => metrics.forgetCanary(ns, name),
  });
  // With --shards N > 1 every replica runs its workers; each reconciles only the Canaries of
  // the shards it holds (controller/shards.ts).
  const shards = config.controller && config.shards > 1
    ? createShardManager({
        client, namespace: config.leaseNamespace, leaderLeaseName: config.leaseName, identity: config.identity, shards: config.shards, logger: log,
        ...electionTiming(config.leaseDurationMs),
        onGained: (shard, held) => {
          metrics.setShardsHeld(held.length);
          metrics.setLeader(true);
          // Every run of the shard resumes from its status at once.
          for (const key of controller?.canaryKeys() ?? []) if (shardOf(key, config.shards) === shard) controller?.queue.add(key);
        },
        onLost: (shard, held) => {
          metrics.setShardsHeld(held.length);
          if (held.length === 0) metrics.setLeader(false);
          // Another replica exports these Canaries' series now.
          for (const key of controller?.canaryKeys() ?? []) {
            const [ns = "", name = ""] = key.split("/");
            if (shardOf(key, config.shards) === shard) metrics.forgetCanary(ns, name);
          }
        },
      })
    : undefined;
  const timed = metrics.timeReconcile(reconcile);
  const controller = config.controller
    ? createCanaryController({ client, logger: log, reconcile: shards ? shards.guard(timed) : timed, namespace: config.namespace, workers: config.workers, informers: reads?.informers, servicesNotified: reads !== undefined, api: config.api })
    : undefined;
  if (controller) metrics.setQueueSource(() => controller.queue);
  if (controller) reads?.onChange((e) => controller.notify(e));

  const { host, port } = splitAddress(config.metricsAddress);
  const ops = await startOpsServer({ host, port, registry, ready: () => controller?.ready() ?? true });
  log.info("serving /metrics, /healthz and /readyz", { address: `${host}:${ops.port}` });

  // The dashboard, the admission webhook (express, node-forge) and the local registration
  // (yaml) are loaded only when configured: a controller-only process does not carry them.
  const dashboard = config.dashboardPort === undefined ? undefined : await (await import("./dashboard/run.ts")).startDashboard({
    client, api: config.api, namespace: config.namespace, host: config.dashboardHost, port: config.dashboardPort, logger: log,
    actions: config.dashboardActions, readOnlyReason: "read-only: the operator serves this page without --dashboard-actions",
  });
  if (dashboard) log.info("serving the dashboard", { url: dashboard.url, actions: config.dashboardActions });

  let webhook: RunningWebhook | undefined;
  let registered: string[] = [];
  let local: LocalWebhooks | undefined;
  if (config.webhook) {
    const [{ startWebhook }, { createApiLookups }] = await Promise.all([import("./webhook/run.ts"), import("./webhook/lookups.ts")]);
    // aviary's own writes must pass its replica guard and generated-object guard.
    const me = await whoAmI(client);
    if (config.webhookUrl) {
      local = await import("./webhook/local.ts");
      registered = await local.registerLocalWebhooks(client, config.webhookUrl, me.username, { group: config.api.name });
      log.info("registered the webhooks by URL for a local run", { url: config.webhookUrl, configurations: registered });
    }
    const [secretNamespace, secretName] = config.certSecret?.split("/") ?? [];
    webhook = await startWebhook(
      {
        host: config.webhookHost,
        port: config.webhookPort,
        certificates: secretNamespace && secretName ? { secret: { namespace: secretNamespace, name: secretName } } : { dir: config.certDir },
        dnsNames: [...config.webhookDnsNames, "localhost"],
        ipAddresses: ["127.0.0.1"],
        webhookConfigurations: { mutating: ["aviary"], validating: ["aviary"] },
        aviaryUsers: [me.username, ...config.selfUsers],
        defaultProvider: config.meshProvider,
        api: config.api,
      },
      {
        log,
        kube: client,
        lookups: createApiLookups(client, config.api),
        metrics: metrics.admission,
        onRevision: (ns, name) => controller?.wake(ns, name),
        onManualEdit: (edit) => {
          const ref = { ...config.api.canary, metadata: { name: edit.canary, namespace: edit.namespace } };
          const message = `${edit.user} ${edit.operation === "DELETE" ? "deleted" : "edited"} generated ${edit.kind} ${edit.name} (aviary.dev/allow-manual-edits)`;
          void events.record(ref, "Warning", "ManualEdit", message);
        },
      },
    );
    log.info("admission webhook serving", { address: `${webhook.address.address}:${webhook.address.port}`, user: me.username });
  }

  let elector: ReturnType<typeof createLeaderElector> | undefined;
  if (controller) {
    controller.start();
    if (shards) {
      controller.startWorkers();
      shards.run();
      log.info("campaigning for shards", { shards: config.shards, leaseNamespace: config.leaseNamespace });
    } else if (config.leaderElect) {
      elector = createLeaderElector({
        client, namespace: config.leaseNamespace, name: config.leaseName, identity: config.identity, logger: log,
        ...electionTiming(config.leaseDurationMs),
        onStartedLeading: () => {
          metrics.setLeader(true);
          controller.startWorkers();
        },
        onStoppedLeading: () => {
          metrics.setLeader(false);
          void controller.stopWorkers();
        },
      });
      void elector.run();
    } else {
      controller.startWorkers();
      metrics.setLeader(true);
    }
  }

  return {
    async stop() {
      await elector?.stop();
      if (shards) {
        // Stop acting before the Leases are released and another replica takes them.
        await controller?.stopWorkers();
        await shards.stop();
      }
      await controller?.stop();
      await webhook?.stop();
      if (local && registered.length > 0) {
        await local.unregisterLocalWebhooks(client, registered).catch((err: unknown) => log.warn("could not remove the local webhook configurations", { err }));
      }
      await ops.close();
      await dashboard?.stop();
      await client.close();
      await externalMetrics.close();
    },
  };
}

/** client-go's proportions (15 s / 10 s / 2 s), scaled to the configured lease. */
function electionTiming(leaseDurationMs: number) {
  return {
    leaseDurationMs,
    renewDeadlineMs: Math.floor((leaseDurationMs * 2) / 3),
    retryPeriodMs: Math.max(100, Math.floor(leaseDurationMs / 7.5)),
  };
}

async function main(): Promise<void> {
  let config: Config | "help";
  try {
    config = parseConfig(process.argv.slice(2), process.env, hostname(), process.pid);
  } catch (err) {
    console.error(`aviary: ${err instanceof Error ? err.message : String(err)}\n(try --help)`);
    process.exit(2);
  }
  if (config === "help") {
    process.stdout.write(HELP);
    return;
  }
  const log = createLogger({ level: config.logLevel });
  let running: Running;
  try {
    running = await start(config, log);
  } catch (err) {
    log.error("aviary could not start", { err });
    process.exit(err instanceof ConfigError ? 2 : 1);
  }
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`received ${signal}; stopping`);
    running.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error("stopping failed", { err });
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
}

if (import.meta.main) await main();
