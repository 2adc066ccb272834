/**
 * The dashboard's view of the cluster: one informer per kind it shows (Canaries, their
 * Events, Deployments, aviary's Services and route objects), shared by every browser. Each
 * change is folded into per-Canary history and announced to subscribers by key, so the
 * server can fan one watch out to any number of pages without a request per browser.
 */
import { DEFAULT_API } from "../api/groups.ts";
import type { ApiGroup } from "../api/groups.ts";
import { KIND_CANARY, LABEL_CANARY, LABEL_MANAGED_BY, MANAGED_BY_VALUE } from "../api/types.ts";
import type { Canary } from "../api/types.ts";
import type { ClusterClient } from "../kube/client.ts";
import { createInformer } from "../kube/informer.ts";
import type { Informer } from "../kube/informer.ts";
import type { KubeObject } from "../kube/types.ts";
import type { Logger } from "../observability/logger.ts";
import { createCanaryHistory } from "./history.ts";
import type { CanaryHistory } from "./history.ts";
import { describeObject, keyOf, summarize, toTimelineEvent } from "./model.ts";
import type { CanaryDetail, CanarySummary, TimelineEvent } from "./model.ts";

/** The route kinds aviary's routers write, by provider; only the installed ones are watched. */
export const ROUTE_KINDS: readonly { apiVersion: string; kind: string; group: string; plural: string }[] = [
  { apiVersion: "gateway.networking.k8s.io/v1", kind: "HTTPRoute", group: "gateway.networking.k8s.io", plural: "httproutes" },
  { apiVersion: "networking.istio.io/v1", kind: "VirtualService", group: "networking.istio.io", plural: "virtualservices" },
  { apiVersion: "networking.istio.io/v1", kind: "DestinationRule", group: "networking.istio.io", plural: "destinationrules" },
  { apiVersion: "appmesh.k8s.aws/v1beta2", kind: "VirtualNode", group: "appmesh.k8s.aws", plural: "virtualnodes" },
  { apiVersion: "appmesh.k8s.aws/v1beta2", kind: "VirtualRouter", group: "appmesh.k8s.aws", plural: "virtualrouters" },
  { apiVersion: "appmesh.k8s.aws/v1beta2", kind: "VirtualService", group: "appmesh.k8s.aws", plural: "virtualservices" },
  { apiVersion: "split.smi-spec.io/v1alpha2", kind: "TrafficSplit", group: "split.smi-spec.io", plural: "trafficsplits" },
];

/** Events kept per Canary for the timeline. */
const MAX_EVENTS = 100;

export interface StoreOptions {
  client: ClusterClient;
  /** One namespace, or all when undefined. */
  namespace: string | undefined;
  logger: Logger;
  now?: () => number;
  /** The group Canaries are served in; default aviary.dev. */
  api?: ApiGroup;
}

export type StoreListener = (key: string) => void;

export interface DashboardStore {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Resolves once the Canary list has loaded (the other kinds follow as they can). */
  waitForSync(signal?: AbortSignal): Promise<void>;
  synced(): boolean;
  list(): CanarySummary[];
  summary(key: string): CanarySummary | undefined;
  detail(key: string): CanaryDetail | undefined;
  /** Called with a Canary's key whenever anything shown about it changes. */
  subscribe(listener: StoreListener): () => void;
}

/** Keeps what the page shows of a Deployment: identity, annotations, replica counts. */
function trimDeployment(obj: KubeObject): KubeObject {
  const spec = (obj.spec ?? {}) as { replicas?: number };
  const status = (obj.status ?? {}) as Record<string, unknown>;
  const m = obj.metadata;
  return {
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    metadata: {
      name: m.name,
      ...(m.namespace ? { namespace: m.namespace } : {}),
      ...(m.generation !== undefined ? { generation: m.generation } : {}),
      ...(m.labels ? { labels: m.labels } : {}),
      ...(m.annotations ? { annotations: m.annotations } : {}),
    },
    spec: { ...(spec.replicas !== undefined ? { replicas: spec.replicas } : {}) },
    status: { readyReplicas: status.readyReplicas, observedGeneration: status.observedGeneration },
  };
}

function trimEvent(obj: KubeObject): KubeObject {
  const e = obj as KubeObject & { involvedObject?: { kind?: string; name?: string; namespace?: string } };
  const { managedFields: _dropped, ...metadata } = obj.metadata;
  return { ...obj, metadata, involvedObject: e.involvedObject };
}

export function createDashboardStore(opts: StoreOptions): DashboardStore {
  const now = opts.now ?? Date.now;
  const log = opts.logger.child({ component: "dashboard" });
  const since = now();
  const listeners = new Set<StoreListener>();
  const histories = new Map<string, CanaryHistory>();
  const events = new Map<string, Map<string, TimelineEvent>>();
  const informers: Informer<KubeObject>[] = [];
  const ns = opts.namespace !== undefined ? { namespace: opts.namespace } : {};

  const notify = (key: string) => {
    for (const listener of listeners) {
      try {
        listener(key);
      } catch (err) {
        log.error("dashboard listener threw", { err, key });
      }
    }
  };
  const historyOf = (key: string) => {
    let h = histories.get(key);
    if (!h) {
      h = createCanaryHistory({ since });
      histories.set(key, h);
    }
    return h;
  };

  const canaries = createInformer<Canary>({
    client: opts.client, ...(opts.api ?? DEFAULT_API).canary, ...ns, logger: log,
    onEvent: (e) => {
      if (e.type === "deleted") {
        histories.delete(e.key);
        events.delete(e.key);
      } else {
        historyOf(e.key).observe(e.object, now());
      }
      notify(e.key);
    },
  });
  const eventInformer = createInformer<KubeObject>({
    client: opts.client, apiVersion: "v1", kind: "Event", ...ns, fieldSelector: `involvedObject.kind=${KIND_CANARY}`, logger: log, transform: trimEvent,
    onEvent: (e) => {
      const involved = (e.object as { involvedObject?: { name?: string; namespace?: string } }).involvedObject;
      if (!involved?.name) return;
      const key = keyOf(involved.namespace ?? e.object.metadata.namespace ?? "", involved.name);
      let list = events.get(key);
      if (e.type === "deleted") {
        list?.delete(e.object.metadata.name);
        return notify(key);
      }
      if (!list) {
        list = new Map();
        events.set(key, list);
      }
      const event = toTimelineEvent(e.object);
      list.set(e.object.metadata.name, event);
      if (list.size > MAX_EVENTS) {
        const oldest = [...list.entries()].sort((a, b) => a[1].time.localeCompare(b[1].time))[0];
        if (oldest) list.delete(oldest[0]);
      }
      historyOf(key).applyEvent(event);
      notify(key);
    },
  });
  /** A Deployment or generated object changed: tell the Canaries it belongs to. */
  const notifyOwner = (obj: KubeObject) => {
    const namespace = obj.metadata.namespace ?? "";
    const owner = obj.metadata.labels?.[LABEL_CANARY];
    if (owner) notify(keyOf(namespace, owner));
    if (obj.kind === "Deployment") {
      for (const c of canaries.list(namespace)) {
        if (c.spec?.targetRef?.name === obj.metadata.name) notify(keyOf(namespace, c.metadata.name));
      }
    }
  };
  const deployments = createInformer<KubeObject>({
    client: opts.client, apiVersion: "apps/v1", kind: "Deployment", ...ns, logger: log, transform: trimDeployment,
    onEvent: (e) => notifyOwner(e.object),
  });
  const managed = `${LABEL_MANAGED_BY}=${MANAGED_BY_VALUE}`;
  const generated: Informer<KubeObject>[] = [
    createInformer<KubeObject>({ client: opts.client, apiVersion: "v1", kind: "Service", ...ns, labelSelector: managed, logger: log, onEvent: (e) => notifyOwner(e.object) }),
    createInformer<KubeObject>({ client: opts.client, apiVersion: "networking.k8s.io/v1", kind: "Ingress", ...ns, labelSelector: managed, logger: log, onEvent: (e) => notifyOwner(e.object) }),
  ];
  informers.push(canaries as unknown as Informer<KubeObject>, eventInformer, deployments);

  const summaryOf = (c: Canary) => summarize(c, deployments.get(c.metadata.namespace, c.spec?.targetRef?.name ?? ""));

  return {
    async start() {
      for (const inf of informers) inf.start();
      for (const inf of generated) inf.start();
      // Route kinds from providers that are not installed would only fail their lists forever.
      const probe = AbortSignal.timeout(10_000);
      for (const route of ROUTE_KINDS) {
        const installed = await opts.client.crdInstalled(route.group, route.plural, { signal: probe }).catch(() => false);
        if (!installed) continue;
        const inf = createInformer<KubeObject>({ client: opts.client, apiVersion: route.apiVersion, kind: route.kind, ...ns, labelSelector: managed, logger: log, onEvent: (e) => notifyOwner(e.object) });
        generated.push(inf);
        inf.start();
      }
    },
    async stop() {
      listeners.clear();
      await Promise.all([...informers, ...generated].map((inf) => inf.stop()));
    },
    waitForSync: (signal) => canaries.waitForSync(signal),
    synced: () => canaries.hasSynced(),
    list: () => canaries.list().map(summaryOf).sort((a, b) => a.key.localeCompare(b.key)),
    summary(key) {
      const [namespace, name] = key.split("/");
      const c = canaries.get(namespace, name ?? "");
      return c ? summaryOf(c) : undefined;
    },
    detail(key) {
      const [namespace = "", name = ""] = key.split("/");
      const c = canaries.get(namespace, name);
      if (!c) return undefined;
      const objects = [deployments, ...generated]
        .flatMap((inf) => inf.list(namespace))
        .filter((o) => o.metadata.labels?.[LABEL_CANARY] === name)
        .map(describeObject)
        .sort((a, b) => a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name));
      const timeline = [...(events.get(key)?.values() ?? [])].sort((a, b) => b.time.localeCompare(a.time));
      return {
        summary: summaryOf(c),
        runs: historyOf(key).runs(),
        events: timeline,
        objects,
        lastAnalysis: c.status?.lastAnalysis ?? [],
      };
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
