/**
 * Flags and environment → one frozen, typed Config. Parsed once in main.ts; nothing else
 * reads process.argv or process.env.
 */
import { DEFAULT_WORKERS } from "./controller/workqueue.ts";
import { parseArgs } from "node:util";
import { isRouterProvider } from "./api/features.ts";
import { DEFAULT_ROUTER_PROVIDER, ROUTER_PROVIDERS } from "./api/types.ts";
import type { RouterProvider } from "./api/types.ts";
import type { Level } from "./observability/logger.ts";
import { DEFAULT_HASH_KEY_SECRET } from "./kube/hash-key.ts";
import { API_GROUPS, parseApiGroup } from "./api/groups.ts";
import type { ApiGroup } from "./api/groups.ts";

export interface Config {
  kubeconfig: string | undefined;
  /** Watch one namespace; undefined = all namespaces. */
  namespace: string | undefined;
  controller: boolean;
  webhook: boolean;
  workers: number;
  /** Client-side rate limit of requests to the API server: sustained per second, and at once. */
  kubeApiQps: number;
  kubeApiBurst: number;
  logLevel: Level;
  /** host:port of /metrics, /healthz and /readyz. */
  metricsAddress: string;
  /** The router for every Canary without spec.provider (Flagger's -mesh-provider). */
  meshProvider: RouterProvider;
  /** The group Canary, MetricTemplate and AlertProvider are served in (flagger.app: a drop-in for Flagger). */
  api: ApiGroup;
  /** Prometheus for built-in metrics when a Canary sets no spec.metricsServer. */
  metricsServer: string | undefined;
  webhookHost: string;
  webhookPort: number;
  /** Local runs keep the webhook certificate here. */
  certDir: string;
  /** In-cluster: the Secret `<namespace>/<name>` that stores the webhook certificate. */
  certSecret: string | undefined;
  /** DNS names for the serving certificate (in-cluster Service). */
  webhookDnsNames: string[];
  /** Register webhook configurations with `url` (local runs) instead of the in-cluster Service. */
  webhookUrl: string | undefined;
  leaderElect: boolean;
  leaseName: string;
  leaseNamespace: string;
  leaseDurationMs: number;
  /** Shards the Canaries are split into, each held through its own Lease; 1 = one leader Lease. */
  shards: number;
  /** The Secret, in the lease namespace (aviary's own), holding the key for Secret content hashes. */
  hashKeySecret: string;
  /** Annotation prefix of the nginx router's canary Ingress. */
  nginxAnnotationPrefix: string;
  /** Annotation prefix of the alb router's forward action (the AWS Load Balancer Controller's). */
  albAnnotationPrefix: string;
  /** Users whose requests the replica guard and the generated-object guard let through. */
  selfUsers: string[];
  identity: string;
  /** Port of the read-only dashboard page; off when undefined. */
  dashboardPort: number | undefined;
  dashboardHost: string;
  /** Offer promote/abort/retry/pause/resume on the dashboard, written as aviary's own user. */
  dashboardActions: boolean;
}

export const HELP = `aviary — progressive delivery for plain Kubernetes Deployments and DaemonSets

Usage: node dist/main.js [flags]    (the container image's entrypoint)

Runs the canary controller and the admission webhook in one process (either can be
turned off). Every flag can also be set with the environment variable in brackets.

Flags:
  --kubeconfig PATH        kubeconfig to use [KUBECONFIG]; in a pod, the service account
  --namespace NS           only watch this namespace [AVIARY_NAMESPACE]; default all
  --no-controller          do not run the controller (webhook only)
  --no-webhook             do not run the admission webhook (controller only)
  --workers N              canaries reconciled in parallel [AVIARY_WORKERS] (default 16)
  --kube-api-qps N         requests per second to the API server, sustained [AVIARY_KUBE_API_QPS]
                           (default 100); beyond it requests wait their turn, never fail
  --kube-api-burst N       requests sent at once before the rate applies [AVIARY_KUBE_API_BURST]
                           (default 250)
  --log-level LEVEL        debug | info | warn | error [AVIARY_LOG_LEVEL] (default info)
  --metrics-address ADDR   /metrics, /healthz, /readyz [AVIARY_METRICS_ADDRESS] (default 0.0.0.0:8080)
  --metrics-server URL     Prometheus for built-in metrics [AVIARY_METRICS_SERVER]
  --mesh-provider NAME     router for every Canary without spec.provider [AVIARY_MESH_PROVIDER]
                           (default kubernetes): ${ROUTER_PROVIDERS.join(", ")}
  --api-group GROUP        the API group of Canary, MetricTemplate and AlertProvider
                           [AVIARY_API_GROUP] (default aviary.dev): ${API_GROUPS.join(", ")};
                           flagger.app reconciles Flagger's Canaries as they are and takes
                           over the objects Flagger created (README "Migrating from Flagger")
  --webhook-host HOST      webhook listen address [AVIARY_WEBHOOK_HOST] (default 0.0.0.0)
  --webhook-port PORT      webhook HTTPS port [AVIARY_WEBHOOK_PORT] (default 9443)
  --cert-dir DIR           local webhook certificate directory [AVIARY_CERT_DIR] (default certs)
  --cert-secret NS/NAME    keep the webhook certificate in this Secret [AVIARY_CERT_SECRET]
  --webhook-dns-name NAME  DNS name for the serving certificate (repeatable)
  --webhook-url URL        register the webhooks by URL for a local run; removed on exit [AVIARY_WEBHOOK_URL]
  --leader-elect           elect a leader on a Lease before reconciling [AVIARY_LEADER_ELECT]
  --lease-name NAME        (default aviary-leader)
  --lease-namespace NS     (default aviary-system) [AVIARY_LEASE_NAMESPACE]
  --lease-duration SECS    (default 15)
  --shards N               split the Canaries into N shards by a hash of namespace/name, each
                           held through its own Lease (<lease name without -leader>-shard-<i>-of-<N>);
                           every replica holds about N/replicas of them and reconciles only their
                           Canaries; implies --leader-elect when N > 1 [AVIARY_SHARDS] (default 1:
                           one leader Lease, --lease-name; at most 256)
  --hash-key-secret NAME   Secret in the lease namespace holding the key that hashes Secret
                           content in Canary statuses; created on first start
                           [AVIARY_HASH_KEY_SECRET] (default aviary-config-hash-key)
  --self-user NAME         aviary's own user, let through the guards (repeatable)
  --nginx-annotation-prefix PREFIX
                           annotation prefix of the canary Ingress (default nginx.ingress.kubernetes.io)
  --alb-annotation-prefix PREFIX
                           annotation prefix of the alb router's action (default alb.ingress.kubernetes.io)
  --identity ID            leader-election identity [POD_NAME] (default hostname-pid)
  --dashboard-port PORT    serve the dashboard page on this port [AVIARY_DASHBOARD_PORT] (default off)
  --dashboard-host HOST    the dashboard's listen address [AVIARY_DASHBOARD_HOST] (default 127.0.0.1)
  --dashboard-actions      let the dashboard promote/abort/retry/pause/resume, as aviary's own
                           user (default read-only; \`aviary dashboard\` acts as its user instead)
  -h, --help               print this help
`;

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

const LEVELS: readonly Level[] = ["debug", "info", "warn", "error"];

export function parseConfig(argv: string[], env: Record<string, string | undefined>, hostname: string, pid: number): Config | "help" {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      kubeconfig: { type: "string" },
      namespace: { type: "string" },
      "no-controller": { type: "boolean" },
      "no-webhook": { type: "boolean" },
      workers: { type: "string" },
      "kube-api-qps": { type: "string" },
      "kube-api-burst": { type: "string" },
      "log-level": { type: "string" },
      "metrics-address": { type: "string" },
      "metrics-server": { type: "string" },
      "mesh-provider": { type: "string" },
      "api-group": { type: "string" },
      "webhook-host": { type: "string" },
      "webhook-port": { type: "string" },
      "cert-dir": { type: "string" },
      "cert-secret": { type: "string" },
      "webhook-dns-name": { type: "string", multiple: true },
      "webhook-url": { type: "string" },
      "leader-elect": { type: "boolean" },
      "lease-name": { type: "string" },
      "lease-namespace": { type: "string" },
      "lease-duration": { type: "string" },
      shards: { type: "string" },
      "hash-key-secret": { type: "string" },
      "self-user": { type: "string", multiple: true },
      "nginx-annotation-prefix": { type: "string" },
      "alb-annotation-prefix": { type: "string" },
      identity: { type: "string" },
      "dashboard-port": { type: "string" },
      "dashboard-host": { type: "string" },
      "dashboard-actions": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return "help";

  const int = (flag: string, raw: string | undefined, fallback: number, min: number): number => {
    if (raw === undefined || raw === "") return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) throw new ConfigError(`--${flag}: must be an integer >= ${min}, got "${raw}"`);
    return n;
  };
  const positive = (flag: string, raw: string | undefined, fallback: number): number => {
    if (raw === undefined || raw === "") return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n <= 0) throw new ConfigError(`--${flag}: must be a number > 0, got "${raw}"`);
    return n;
  };
  const logLevel = (values["log-level"] ?? env.AVIARY_LOG_LEVEL ?? "info") as Level;
  if (!LEVELS.includes(logLevel)) throw new ConfigError(`--log-level: must be one of ${LEVELS.join(", ")}, got "${logLevel}"`);
  const certSecret = values["cert-secret"] ?? env.AVIARY_CERT_SECRET;
  if (certSecret !== undefined && !/^[a-z0-9-]+\/[a-z0-9.-]+$/.test(certSecret)) {
    throw new ConfigError(`--cert-secret: must be NAMESPACE/NAME, got "${certSecret}"`);
  }
  const meshProvider = values["mesh-provider"] ?? env.AVIARY_MESH_PROVIDER ?? DEFAULT_ROUTER_PROVIDER;
  // An unknown name would otherwise surface only as rejected Canaries: stop at start-up instead.
  if (!isRouterProvider(meshProvider)) throw new ConfigError(`--mesh-provider: must be one of ${ROUTER_PROVIDERS.join(", ")}, got "${meshProvider}"`);
  let api: ApiGroup;
  try {
    api = parseApiGroup(values["api-group"] ?? env.AVIARY_API_GROUP, "--api-group");
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  const controller = !values["no-controller"];
  const webhook = !values["no-webhook"];
  if (!controller && !webhook) throw new ConfigError("--no-controller and --no-webhook together leave nothing to run");

  return Object.freeze({
    kubeconfig: values.kubeconfig ?? env.KUBECONFIG,
    namespace: values.namespace ?? env.AVIARY_NAMESPACE,
    controller,
    webhook,
    workers: int("workers", values.workers ?? env.AVIARY_WORKERS, DEFAULT_WORKERS, 1),
    kubeApiQps: positive("kube-api-qps", values["kube-api-qps"] ?? env.AVIARY_KUBE_API_QPS, 100),
    kubeApiBurst: int("kube-api-burst", values["kube-api-burst"] ?? env.AVIARY_KUBE_API_BURST, 250, 1),
    logLevel,
    metricsAddress: values["metrics-address"] ?? env.AVIARY_METRICS_ADDRESS ?? "0.0.0.0:8080",
    meshProvider,
    api,
    metricsServer: values["metrics-server"] ?? env.AVIARY_METRICS_SERVER,
    webhookHost: values["webhook-host"] ?? env.AVIARY_WEBHOOK_HOST ?? "0.0.0.0",
    webhookPort: int("webhook-port", values["webhook-port"] ?? env.AVIARY_WEBHOOK_PORT, 9443, 0),
    certDir: values["cert-dir"] ?? env.AVIARY_CERT_DIR ?? "certs",
    certSecret,
    webhookDnsNames: values["webhook-dns-name"] ?? [],
    webhookUrl: values["webhook-url"] ?? env.AVIARY_WEBHOOK_URL,
    leaderElect: values["leader-elect"] ?? env.AVIARY_LEADER_ELECT === "true",
    leaseName: values["lease-name"] ?? "aviary-leader",
    leaseNamespace: values["lease-namespace"] ?? env.AVIARY_LEASE_NAMESPACE ?? "aviary-system",
    leaseDurationMs: int("lease-duration", values["lease-duration"], 15, 2) * 1000,
    shards: shardCount(values.shards ?? env.AVIARY_SHARDS),
    hashKeySecret: values["hash-key-secret"] ?? env.AVIARY_HASH_KEY_SECRET ?? DEFAULT_HASH_KEY_SECRET,
    selfUsers: values["self-user"] ?? [],
    nginxAnnotationPrefix: values["nginx-annotation-prefix"] ?? "nginx.ingress.kubernetes.io",
    albAnnotationPrefix: values["alb-annotation-prefix"] ?? "alb.ingress.kubernetes.io",
    identity: values.identity ?? env.POD_NAME ?? `${hostname}-${pid}`,
    dashboardPort: dashboardPort(values["dashboard-port"] ?? env.AVIARY_DASHBOARD_PORT),
    dashboardHost: values["dashboard-host"] ?? env.AVIARY_DASHBOARD_HOST ?? "127.0.0.1",
    dashboardActions: values["dashboard-actions"] ?? env.AVIARY_DASHBOARD_ACTIONS === "true",
  });
}

/** Each shard is a Lease every replica renews or polls every few seconds: a bound keeps that load sane. */
export const MAX_SHARDS = 256;

function shardCount(raw: string | undefined): number {
  if (raw === undefined || raw === "") return 1;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > MAX_SHARDS) throw new ConfigError(`--shards: must be an integer from 1 to ${MAX_SHARDS}, got "${raw}"`);
  return n;
}

function dashboardPort(raw: string | undefined): number | undefined {
  if (raw === undefined || raw === "") return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new ConfigError(`--dashboard-port: must be a port number 0-65535, got "${raw}"`);
  return n;
}

/** `host:port` → parts; a bare port listens on all interfaces. */
export function splitAddress(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(":");
  const host = i > 0 ? address.slice(0, i) : "0.0.0.0";
  const port = Number(address.slice(i + 1));
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`invalid address "${address}": the port must be 0-65535`);
  return { host, port };
}
