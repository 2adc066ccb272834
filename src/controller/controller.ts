/**
 * The canary controller: informers on Canaries, the workloads Canaries target (Deployments
 * and DaemonSets: aviary's by label, the rest as metadata), ConfigMaps, Secrets and
 * HorizontalPodAutoscalers whose handlers only map a change to the Canary keys it concerns
 * and enqueue them; a work queue feeds the reconciler. Caches keep slim views (what the mapping reads), never whole objects.
 */
import { KIND_CANARY, LABEL_CANARY } from "../api/types.ts";
import { DEFAULT_API } from "../api/groups.ts";
import type { ApiGroup } from "../api/groups.ts";
import type { Canary } from "../api/types.ts";
import type { ClusterClient } from "../kube/client.ts";
import { createInformer, objectKey, trimForCache } from "../kube/informer.ts";
import type { Informer, InformerEvent } from "../kube/informer.ts";
import type { KubeObject } from "../kube/types.ts";
import { isServerUnavailable } from "../kube/errors.ts";
import type { Logger } from "../observability/logger.ts";
import { configRefKey, configRefs } from "./canary/config-refs.ts";
import { primaryAutoscalerName, primaryDeploymentName } from "../ground/identity.ts";
import { TARGET_KIND_INFO } from "../ground/workloads.ts";
import { hashPodTemplate } from "../ground/hash.ts";
import { isDeepStrictEqual } from "node:util";
import { createWorkQueue, DEFAULT_WORKERS } from "./workqueue.ts";
import { createGeneratedWatch, owningCanaryKey } from "./generated-watch.ts";
import { reconcileFailureLevel } from "./failure-level.ts";
import type { KeyHandler, WorkQueue } from "./workqueue.ts";

export interface ControllerOptions {
  client: ClusterClient;
  logger: Logger;
  reconcile: KeyHandler;
  /** Watch one namespace; all when undefined. */
  namespace?: string | undefined;
  workers?: number;
  queue?: WorkQueue;
  /**
   * Every Canary is reconciled at least this often (default 5 min), so drift in objects aviary
   * does not watch — a route object edited by hand — is brought back without an event.
   */
  resyncMs?: number;
  /** Called with every reconcile error (metrics). */
  onError?: (key: string, err: unknown) => void;
  /** More informers whose caches reconcile relies on; started, stopped and awaited with the controller's. */
  informers?: readonly Informer<KubeObject>[];
  /**
   * The generated Services' changes reach `notify` from another watch (the reconciler's read
   * cache): the generated-object watch then leaves Services out instead of watching them twice.
   */
  servicesNotified?: boolean;
  /** The group Canaries are served in (--api-group); default aviary.dev. */
  api?: ApiGroup;
}

interface SlimHpa extends KubeObject {
  spec: string;
}

/** What a workload cache keeps: enough to map a change to its Canary and to tell a new revision. */
interface SlimWorkload extends KubeObject {
  configs: string[];
  /** Hash of the pod template: a change of it on a target is a new revision. */
  template: string;
}
interface SlimCanary extends KubeObject {
  target: string;
  primary: string;
  /** `autoscalerRef.name` when it names an HPA; "" otherwise. */
  hpa: string;
  /** What reconcile reacts to, besides the spec's generation: requests, finalizers, deletion. */
  intent: string;
}

/**
 * Whether a Canary update asks for a reconcile. aviary writes the status itself after every
 * reconcile that changed it; waking up again for that write would read and compare
 * everything once more for nothing. A new generation (spec), annotations (promote, abort,
 * pause…), labels, finalizers or a deletion still do.
 */
export function canaryChangeMatters(old: SlimCanary | undefined, next: SlimCanary): boolean {
  return old === undefined || old.metadata.generation !== next.metadata.generation || old.intent !== next.intent;
}

export interface CanaryController {
  /** Starts the informers (watching begins at once; reconciling waits for `startWorkers`). */
  start(): void;
  /** Starts reconciling: for the leader, or at once without leader election. */
  startWorkers(): void;
  /** Stops reconciling at once (lease lost); informers keep the caches warm. */
  stopWorkers(): Promise<void>;
  stop(): Promise<void>;
  /** Every informer has synced its first list. */
  ready(): boolean;
  waitForSync(signal?: AbortSignal): Promise<void>;
  /** Reconcile this Canary now (the admission webhook saw a new revision). */
  wake(namespace: string, name: string): void;
  /** The keys (`namespace/name`) of every Canary the watch knows. */
  canaryKeys(): string[];
  /**
   * An object reconcile reads changed, as another watch saw it (the reconciler's read cache):
   * wake the Canaries it concerns — a Canary itself (unless only its status moved), or the
   * Canaries whose target or primary a workload is.
   */
  notify(event: InformerEvent<KubeObject>): void;
  readonly queue: WorkQueue;
}

const URGENT = { urgent: true } as const;

const slimMeta = (o: KubeObject) => ({
  name: o.metadata.name,
  ...(o.metadata.namespace !== undefined ? { namespace: o.metadata.namespace } : {}),
  ...(o.metadata.resourceVersion !== undefined ? { resourceVersion: o.metadata.resourceVersion } : {}),
});

/** Names and version only: for watches that only map a change to the Canaries it concerns. */
const slimObject = (o: KubeObject): KubeObject => ({ apiVersion: o.apiVersion, kind: o.kind, metadata: slimMeta(o) });

function canaryTransform(o: KubeObject): SlimCanary {
  const c = o as Canary;
  const target = c.spec?.targetRef?.name ?? "";
  const m = trimForCache(o).metadata;
  const intent = JSON.stringify([m.annotations ?? {}, m.labels ?? {}, m.finalizers ?? [], m.deletionTimestamp ?? null]);
  const metadata = { ...slimMeta(o), ...(m.generation !== undefined ? { generation: m.generation } : {}) };
  const scaler = c.spec?.autoscalerRef;
  const hpa = scaler && scaler.kind !== "ScaledObject" ? (scaler.name ?? "") : "";
  return { apiVersion: o.apiVersion, kind: o.kind, metadata, target, primary: target ? primaryDeploymentName(c) : "", hpa, intent };
}

export function createCanaryController(opts: ControllerOptions): CanaryController {
  const { client, logger, namespace } = opts;
  const log = logger.child({ component: "controller" });
  let queue = opts.queue ?? createWorkQueue({ isOutage: isServerUnavailable });
  const workers = opts.workers ?? DEFAULT_WORKERS;
  let running: Promise<void> | undefined;
  let resync: NodeJS.Timeout | undefined;

  // `namespace/workload` → keys of the Canaries whose target or primary it is, so a
  // Deployment or DaemonSet event finds its Canaries without scanning all of them.
  const byDeployment = new Map<string, Set<string>>();
  const indexCanary = (c: SlimCanary, add: boolean) => {
    const ns = c.metadata.namespace ?? "";
    for (const name of new Set([c.target, c.primary])) {
      if (!name) continue;
      const k = `${ns}/${name}`;
      const keys = byDeployment.get(k) ?? new Set<string>();
      if (add) keys.add(objectKey(c));
      else keys.delete(objectKey(c));
      if (keys.size > 0) byDeployment.set(k, keys);
      else byDeployment.delete(k);
    }
  };

  const canaries: Informer<SlimCanary> = createInformer<SlimCanary>({
    client, ...(opts.api ?? DEFAULT_API).canary, namespace, logger: log,
    transform: canaryTransform,
    onEvent: (e) => {
      if (e.old) indexCanary(e.old, false);
      indexCanary(e.object, e.type !== "deleted");
      // A spec edit or a request (promote, abort…) is someone waiting; a new or deleted Canary is routine.
      if (e.type !== "updated") queue.add(e.key);
      else if (canaryChangeMatters(e.old, e.object)) queue.add(e.key, URGENT);
    },
  });

  /** Canary keys in `ns` whose target or primary is the workload `name`. */
  const canariesOfDeployment = (ns: string, name: string): string[] => [...(byDeployment.get(`${ns}/${name}`) ?? [])];

  /**
   * Wakes the Canaries of a workload. A new pod template on a Canary's target is a new
   * revision: it goes to the urgent lane, ahead of the routine re-checks of running releases,
   * so it is seen within one reconcile however many releases run. Everything else (readiness,
   * scaling, the primary's own changes) is routine.
   */
  const wakeCanariesOf = (ns: string, name: string, templateChanged: boolean) => {
    for (const key of canariesOfDeployment(ns, name)) {
      const target = templateChanged && canaries.get(ns, key.slice(ns.length + 1))?.target === name;
      queue.add(key, target ? URGENT : undefined);
    }
  };

  // One informer per kind a Canary can target, on the workloads aviary has labelled: targets
  // from their initialization on, and primaries. Unrelated workloads never reach this cache.
  const workloads: Informer<SlimWorkload>[] = Object.values(TARGET_KIND_INFO).map((info) =>
    createInformer<SlimWorkload>({
      client, apiVersion: info.apiVersion, kind: info.kind, namespace, logger: log, labelSelector: LABEL_CANARY,
      transform: (o) => {
        const template = (o as { spec?: { template?: unknown } }).spec?.template;
        return { apiVersion: o.apiVersion, kind: o.kind, metadata: slimMeta(o), configs: configRefs(template).map(configRefKey), template: hashPodTemplate(template ?? null) };
      },
      onEvent: (e) => {
        const changed = e.type === "updated" && e.old !== undefined && e.old.template !== e.object.template;
        wakeCanariesOf(e.object.metadata.namespace ?? "", e.object.metadata.name, changed);
      },
    }),
  );
  // Every other workload as metadata only (names and versions): a target created after its
  // Canary, changed before aviary labels it or deleted meanwhile still wakes the Canary at
  // once. A removal that is aviary's own label moving the workload to the labelled watch
  // (when that watch has already reported it) wakes no one: that watch's event did.
  const unlabelledWorkloads = Object.values(TARGET_KIND_INFO).map((info, i) =>
    createInformer<KubeObject>({
      client, apiVersion: info.apiVersion, kind: info.kind, namespace, logger: log, labelSelector: `!${LABEL_CANARY}`, metadataOnly: true,
      transform: slimObject,
      onEvent: (e) => {
        const { namespace: ns = "", name } = e.object.metadata;
        if (e.type === "deleted" && workloads[i]!.get(ns, name) !== undefined) return;
        wakeCanariesOf(ns, name, false);
      },
    }),
  );

  /** A ConfigMap or Secret changed: every Canary whose target references it. */
  const onConfig = (kind: "ConfigMap" | "Secret") => (e: InformerEvent<KubeObject>) => {
    if (e.type === "added" && !canaries.hasSynced()) return; // the first list: nothing changed yet
    const ns = e.object.metadata.namespace ?? "";
    const ref = `${kind}/${e.object.metadata.name}`;
    for (const d of workloads.flatMap((w) => w.list(ns))) {
      if (!d.configs.includes(ref)) continue;
      // New content of a config a target references is a new revision.
      for (const key of canariesOfDeployment(ns, d.metadata.name)) queue.add(key, URGENT);
    }
  };
  // Metadata only: a change shows as a new resourceVersion; reconcile reads the content of
  // the few that a target references. Secrets can be megabytes each (TLS bundles, dockerconfigs).
  const configMaps = createInformer({ client, apiVersion: "v1", kind: "ConfigMap", namespace, logger: log, metadataOnly: true, transform: slimObject, onEvent: onConfig("ConfigMap") });
  const secrets = createInformer({ client, apiVersion: "v1", kind: "Secret", namespace, logger: log, metadataOnly: true, transform: slimObject, onEvent: onConfig("Secret") });
  // An HPA's spec edit or its `-primary` copy's removal: the Canary whose autoscalerRef names
  // it keeps the copy in step. HPAs carry no generation, so the cache keeps the spec as text
  // to tell a spec edit from the HPA controller's status writes (every 15 s).
  const hpas = createInformer<SlimHpa>({
    client, apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler", namespace, logger: log,
    transform: (o) => ({ apiVersion: o.apiVersion, kind: o.kind, metadata: slimMeta(o), spec: JSON.stringify(o.spec ?? null) }),
    onEvent: (e) => {
      if (e.type === "added" && !canaries.hasSynced()) return;
      if (e.type === "updated" && e.old?.spec === e.object.spec) return;
      const ns = e.object.metadata.namespace ?? "";
      const name = e.object.metadata.name;
      for (const c of canaries.list(ns)) {
        if (c.hpa !== "" && (c.hpa === name || primaryAutoscalerName(c.hpa) === name)) queue.add(objectKey(c));
      }
    },
  });
  const informers = [canaries, ...workloads, ...unlabelledWorkloads, configMaps, secrets, hpas, ...(opts.informers ?? [])];
  // Generated Services and route objects: a hand deletion or edit wakes its Canary at once.
  const generated = createGeneratedWatch({ client, logger: log, namespace, enqueue: (key) => queue.add(key), skipServices: opts.servicesNotified ?? false });

  return {
    get queue() {
      return queue;
    },
    start() {
      for (const i of informers) i.start();
      generated.start().catch((err: unknown) => log.warn("could not watch generated objects; hand edits are restored at the next resync", { err }));
    },
    startWorkers() {
      if (running) return;
      if (queue.isShuttingDown()) queue = createWorkQueue({ isOutage: isServerUnavailable });
      // Everything known is looked at once: a new leader resumes every run from its status.
      for (const c of canaries.list()) queue.add(objectKey(c));
      running = queue.run(opts.reconcile, workers, (key, err) => {
        opts.onError?.(key, err);
        // numRequeues counts the failures before this one.
        const failures = queue.numRequeues(key) + 1;
        log[reconcileFailureLevel(err, failures)]("reconcile failed; retrying with backoff", { key, err, failures });
      });
      resync = setInterval(() => {
        for (const c of canaries.list()) queue.add(objectKey(c));
      }, opts.resyncMs ?? 5 * 60_000);
      resync.unref();
      log.info("reconciling", { workers });
    },
    async stopWorkers() {
      clearInterval(resync);
      if (!running) return;
      await queue.shutdown({ drain: false });
      await running;
      running = undefined;
    },
    async stop() {
      await this.stopWorkers();
      await Promise.all([...informers.map((i) => i.stop()), generated.stop()]);
    },
    ready: () => informers.every((i) => i.hasSynced()),
    waitForSync: async (signal) => {
      await Promise.all(informers.map((i) => i.waitForSync(signal)));
    },
    wake: (ns, name) => queue.add(`${ns}/${name}`, URGENT),
    canaryKeys: () => canaries.list().map(objectKey),
    notify(e) {
      const { kind, metadata } = e.object;
      if (kind === KIND_CANARY) {
        const slim = (o: KubeObject) => canaryTransform(o);
        if (e.type !== "updated") queue.add(e.key);
        else if (canaryChangeMatters(e.old && slim(e.old), slim(e.object))) queue.add(e.key, URGENT);
      } else if (Object.hasOwn(TARGET_KIND_INFO, kind)) {
        const template = (o: KubeObject | undefined) => (o as { spec?: { template?: unknown } } | undefined)?.spec?.template;
        const changed = e.type === "updated" && e.old !== undefined && !isDeepStrictEqual(template(e.old), template(e.object));
        wakeCanariesOf(metadata.namespace ?? "", metadata.name, changed);
      } else if (kind === "Service" && e.type !== "added") {
        // A generated Service deleted or edited by hand: the reconcile restores it.
        const key = owningCanaryKey(e.object);
        if (key !== undefined) queue.add(key);
      }
    },
  };
}
