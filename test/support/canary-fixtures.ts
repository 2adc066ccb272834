/** Manifests and observers shared by the canary engine's integration tests. */
import { applyManifest, eventually, kubectlJson } from "./kubectl.ts";

export interface Condition { type: string; status: string; reason?: string; message?: string }
export interface CanaryObject {
  metadata: { name: string; uid?: string; generation?: number; finalizers?: string[]; deletionTimestamp?: string };
  status?: {
    phase?: string; canaryWeight?: number; failedChecks?: number; iterations?: number;
    lastAppliedSpec?: string; lastPromotedSpec?: string; trackedConfigs?: Record<string, string>;
    conditions?: Condition[]; observedGeneration?: number;
    lastAnalysis?: { name: string; verdict: string; message: string }[];
  };
}
export interface DeploymentObject {
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string>; ownerReferences?: { kind: string; name: string }[] };
  spec: { replicas: number; template: { spec: { containers: { image: string; env?: unknown[]; envFrom?: { configMapRef?: { name: string } }[] }[] } } };
  status?: { readyReplicas?: number };
}

export function deployment(name: string, image: string, opts: { replicas?: number; configMap?: string } = {}): Record<string, unknown> {
  const container: Record<string, unknown> = { name: "app", image, ports: [{ name: "http", containerPort: 9898 }] };
  if (opts.configMap) container.envFrom = [{ configMapRef: { name: opts.configMap } }];
  return {
    apiVersion: "apps/v1", kind: "Deployment", metadata: { name, labels: { app: name } },
    spec: {
      replicas: opts.replicas ?? 2,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [container] } },
    },
  };
}

export interface CanaryOptions {
  provider?: string;
  analysis?: Record<string, unknown>;
  spec?: Record<string, unknown>;
}

export function canary(name: string, opts: CanaryOptions = {}): Record<string, unknown> {
  return {
    apiVersion: "aviary.dev/v1beta1", kind: "Canary", metadata: { name },
    spec: {
      provider: opts.provider ?? "gatewayapi",
      targetRef: { apiVersion: "apps/v1", kind: "Deployment", name },
      service: { port: 9898, gatewayRefs: [{ name: "public", namespace: "default" }] },
      analysis: { interval: "1s", threshold: 2, stepWeight: 20, maxWeight: 60, ...(opts.analysis ?? {}) },
      ...(opts.spec ?? {}),
    },
  };
}

export async function apply(ns: string, manifest: unknown): Promise<void> {
  const r = await applyManifest(ns, manifest);
  if (r.code !== 0) throw new Error(`kubectl apply failed: ${r.stderr}`);
}

export const getCanary = (ns: string, name: string) => kubectlJson<CanaryObject>(["get", "canaries.aviary.dev", name, "-n", ns]);
export const getDeployment = (ns: string, name: string) => kubectlJson<DeploymentObject>(["get", "deployment", name, "-n", ns]);

export async function waitForPhase(ns: string, name: string, phase: string, timeoutMs = 60_000): Promise<CanaryObject> {
  return waitForCanary(ns, name, `canary ${name} to reach ${phase}`, (c) => c.status?.phase === phase, timeoutMs);
}

/** The Canary once `probe` accepts it; a timeout says where the Canary stood last. */
export async function waitForCanary(ns: string, name: string, what: string, probe: (c: CanaryObject) => boolean, timeoutMs = 60_000): Promise<CanaryObject> {
  let last = "never read";
  try {
    return await eventually(what, async () => {
      const c = await getCanary(ns, name);
      if (probe(c)) return c;
      last = `phase ${c.status?.phase ?? "(none)"}: ${c.status?.conditions?.find((x) => x.type === "Promoted")?.message ?? "(no Promoted condition)"}`;
      return undefined;
    }, timeoutMs, 200);
  } catch (err) {
    throw new Error(`${(err as Error).message}; last seen ${last}`, { cause: err });
  }
}

export interface HTTPRouteObject {
  spec: { rules: { matches?: unknown[]; backendRefs?: { name: string; weight?: number }[] }[] };
}

/** The canary's weight in the HTTPRoute's default (weighted) rule. */
export async function routeWeights(ns: string, name: string): Promise<{ primary: number; canary: number } | undefined> {
  const route = await kubectlJson<HTTPRouteObject>(["get", "httproutes.gateway.networking.k8s.io", name, "-n", ns]).catch(() => undefined);
  if (!route) return undefined;
  const rule = route.spec.rules.find((r) => !r.matches || r.matches.length === 0 || (r.backendRefs?.length ?? 0) === 2) ?? route.spec.rules.at(-1);
  const refs = rule?.backendRefs ?? [];
  const primary = refs.find((b) => b.name.endsWith("-primary"))?.weight ?? 0;
  const canaryW = refs.find((b) => b.name.endsWith("-canary"))?.weight ?? 0;
  return { primary, canary: canaryW };
}

/**
 * Polls `read` every 100 ms and records each value that `differs` from the last one recorded
 * (undefined, for an object not there yet, is skipped) until stopped.
 */
export function watchDistinct<T>(read: () => Promise<T | undefined>, differs: (last: T, next: T) => boolean): { seen: T[]; stop: () => Promise<T[]> } {
  const seen: T[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const next = await read();
      const last = seen.at(-1);
      if (next !== undefined && (last === undefined || differs(last, next))) seen.push(next);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return { seen, stop: async () => { running = false; await loop; return seen; } };
}

/** Records every distinct canary weight the HTTPRoute shows until stopped. */
export function watchWeights(ns: string, name: string): { seen: number[]; stop: () => Promise<number[]> } {
  return watchDistinct(async () => (await routeWeights(ns, name).catch(() => undefined))?.canary, (last, next) => last !== next);
}

export interface EventObject { reason: string; message: string; type: string; count?: number; lastTimestamp?: string; eventTime?: string; firstTimestamp?: string }

export async function events(ns: string, name: string): Promise<EventObject[]> {
  const list = await kubectlJson<{ items: (EventObject & { involvedObject: { kind: string; name: string } })[] }>(["get", "events", "-n", ns]);
  return list.items.filter((e) => e.involvedObject.kind === "Canary" && e.involvedObject.name === name);
}

export const image = (d: DeploymentObject): string | undefined => d.spec.template.spec.containers[0]?.image;
