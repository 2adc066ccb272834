/**
 * The benchmark's side of the cluster: namespaces, the target Deployments, the Canaries,
 * image changes, and watchers that note when each object reaches a state. It uses aviary's
 * own client (src/kube) with a bounded number of requests in flight, so creating a thousand
 * objects takes seconds, not minutes of kubectl start-ups.
 */
import type { ClusterClient } from "../../../src/kube/client.ts";
import { createInformer } from "../../../src/kube/informer.ts";
import type { Informer } from "../../../src/kube/informer.ts";
import type { KubeObject } from "../../../src/kube/types.ts";
import type { Logger } from "../../../src/observability/logger.ts";

export const IMAGE = "ghcr.io/stefanprodan/podinfo";

/** Runs `work` over `items` with at most `limit` in flight. */
export async function inParallel<T>(items: readonly T[], limit: number, work: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await work(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export const names = (n: number, prefix = "app"): string[] => Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(4, "0")}`);

/** A plain Deployment like the ones a team keeps, one replica (the primaries will be the same). */
export function deploymentManifest(namespace: string, name: string, replicas = 1, tag = "6.0.0"): KubeObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace, labels: { app: name } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: "app", image: `${IMAGE}:${tag}`, ports: [{ name: "http", containerPort: 9898 }] }] },
      },
    },
  } as KubeObject;
}

export async function createNamespace(client: ClusterClient, name: string): Promise<void> {
  await client.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name, labels: { "aviary.dev/bench": "scale" } } });
}

/** Deletes the namespace and waits until it is gone, so the next measurement starts from a quiet cluster. */
export async function deleteNamespace(client: ClusterClient, name: string, timeoutMs = 300_000): Promise<void> {
  await client.delete({ apiVersion: "v1", kind: "Namespace", name }).catch(() => false);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await client.get({ apiVersion: "v1", kind: "Namespace", name }).catch(() => null)) === null) return;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** What the watchers keep of a Deployment or a Canary. */
interface Seen extends KubeObject {
  ready: number;
  /** Pods the Deployment still has (status.replicas): 0 once a scale-down has finished. */
  replicas: number;
  phase: string;
}

const seenOf = (o: KubeObject): Seen => {
  const status = (o as { status?: { readyReplicas?: number; replicas?: number; phase?: string } }).status ?? {};
  return { apiVersion: o.apiVersion, kind: o.kind, metadata: { name: o.metadata.name, namespace: o.metadata.namespace ?? "" }, ready: status.readyReplicas ?? 0, replicas: status.replicas ?? 0, phase: status.phase ?? "" };
};

/**
 * Watches one collection in one namespace and resolves `until(predicate)` when the predicate
 * holds over the whole cache; `onChange` sees every object as it changes (with the time).
 */
export function watchCollection(client: ClusterClient, logger: Logger, namespace: string, apiVersion: string, kind: string, onChange?: (o: Seen, at: number) => void) {
  const waiters = new Set<{ check: () => void }>();
  const informer: Informer<Seen> = createInformer<Seen>({
    client, apiVersion, kind, namespace, logger, transform: seenOf,
    onEvent: (e) => {
      if (e.type !== "deleted") onChange?.(e.object, Date.now());
      for (const w of [...waiters]) w.check();
    },
  });
  informer.start();
  return {
    list: () => informer.list(),
    stop: () => informer.stop(),
    until(what: string, predicate: (all: Seen[]) => boolean, timeoutMs: number): Promise<number> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`));
        }, timeoutMs);
        const waiter = {
          check: () => {
            if (!informer.hasSynced() || !predicate(informer.list())) return;
            clearTimeout(timer);
            waiters.delete(waiter);
            resolve(Date.now());
          },
        };
        waiters.add(waiter);
        void informer.waitForSync().then(() => waiter.check());
      });
    },
  };
}

/**
 * Fails at once when the cluster's nodes cannot hold the pods a run needs (each target and its
 * primary run one pod while a Canary initializes), instead of timing out on Pending pods.
 */
export async function assertPodCapacity(client: ClusterClient, pods: number): Promise<void> {
  const nodes = await client.list<KubeObject & { status?: { allocatable?: { pods?: string } } }>("v1", "Node", undefined);
  const running = await client.list("v1", "Pod", undefined, { fieldSelector: "status.phase!=Succeeded,status.phase!=Failed" });
  const capacity = nodes.reduce((sum, n) => sum + Number(n.status?.allocatable?.pods ?? 0), 0);
  if (capacity - running.length < pods) {
    throw new Error(`the cluster's ${nodes.length} nodes have room for ${capacity - running.length} more pods; this run needs ${pods} (the local control plane: AVIARY_KWOK_NODES=${Math.ceil((pods + running.length) / 110)} bash hack/cluster up)`);
  }
}

/** `kubectl set image`: a new revision of the target's pod template. */
export async function setImage(client: ClusterClient, namespace: string, name: string, tag: string): Promise<void> {
  await client.mergePatch(
    { apiVersion: "apps/v1", kind: "Deployment", namespace, name },
    { spec: { template: { spec: { containers: [{ name: "app", image: `${IMAGE}:${tag}` }] } } } },
  );
}

/**
 * Unrelated objects a real cluster holds: Deployments no Canary targets (scaled to zero, so
 * they add objects, not pods) and Secrets of `secretKiB` each (TLS bundles, dockerconfigs).
 */
export async function createNoise(client: ClusterClient, namespace: string, deployments: number, secrets: number, secretKiB: number): Promise<void> {
  await inParallel(names(deployments, "noise"), 16, async (name) => {
    await client.create(deploymentManifest(namespace, name, 0));
  });
  const payload = Buffer.alloc(secretKiB * 1024, 7).toString("base64");
  await inParallel(names(secrets, "noise"), 16, async (name) => {
    await client.create({ apiVersion: "v1", kind: "Secret", metadata: { name, namespace }, type: "Opaque", data: { blob: payload } } as KubeObject);
  });
}
