/**
 * Bringing back generated objects that were deleted or edited by hand (by an admin, or while
 * the admission webhook was down — its failurePolicy for them is Ignore), before the planner
 * decides anything. Routes are restored by the router (reconcile.ts); the primary by the
 * planner's `initialize` action; the three Services and the `-primary` config copies here.
 *
 * The Services derive only from the Canary and the target's selector, so they can be
 * restored at any time. A config copy holds what was promoted, so it is only rebuilt from its
 * source while the target carries the promoted revision (the source then has that content).
 */
import { isDeepStrictEqual } from "node:util";
import type { Canary } from "../../api/types.ts";
import { canaryOwnerReference, managedLabels, primaryConfigName } from "../../ground/identity.ts";
import type { Service, Workload } from "../../ground/workloads.ts";
import type { KubeClient, KubeObject } from "../../kube/types.ts";
import { buildConfigCopy, configRefs } from "./config-refs.ts";
import type { ConfigMapOrSecret } from "./config-refs.ts";
import { buildServices, serviceForApply } from "./objects.ts";

interface NamespaceObject extends KubeObject {
  status?: { phase?: string };
}

/** What namespaceTerminating reads of a Namespace, and all a watch of them needs to keep. */
export function namespaceForCache(ns: KubeObject): KubeObject {
  const { name, resourceVersion, deletionTimestamp } = ns.metadata;
  const phase = (ns as NamespaceObject).status?.phase;
  return {
    apiVersion: ns.apiVersion, kind: ns.kind,
    metadata: { name, ...(resourceVersion !== undefined ? { resourceVersion } : {}), ...(deletionTimestamp !== undefined ? { deletionTimestamp } : {}) },
    ...(phase !== undefined ? { status: { phase } } : {}),
  } as NamespaceObject;
}

/**
 * The namespace is being deleted (or is already gone): nothing may be created in it any more.
 * The controller serves this read from a watch of namespaces (main.ts), so it costs no request.
 */
export async function namespaceTerminating(kube: KubeClient, namespace: string, signal: AbortSignal): Promise<boolean> {
  const ns = await kube.get<NamespaceObject>({ apiVersion: "v1", kind: "Namespace", name: namespace }, { signal });
  return ns === null || ns.metadata.deletionTimestamp !== undefined || ns.status?.phase === "Terminating";
}

export interface RestoreResult {
  /** `Service/<name>` and `Secret/<name>-primary` objects written back. */
  restored: string[];
  /** Services that are missing and were not written back (`write` off, or the write failed). */
  missing: string[];
  /** Why a missing Service could not be written back (`Service/<name>: <error>`). */
  failures?: string[];
}

/** The parts of a generated Service aviary decides: the selector, the ports and the traffic distribution. */
function serviceDrifted(stored: Service | null, desired: Service): boolean {
  if (stored === null) return true;
  const labels = stored.metadata.labels ?? {};
  const labelled = Object.entries(desired.metadata.labels ?? {}).every(([k, v]) => labels[k] === v);
  const ports = (p: Service["spec"]["ports"]) => (p ?? []).map((x) => ({ name: x.name, port: x.port, targetPort: x.targetPort, protocol: x.protocol ?? "TCP" }));
  return (
    !labelled || !isDeepStrictEqual(stored.spec.selector ?? {}, desired.spec.selector ?? {}) || !isDeepStrictEqual(ports(stored.spec.ports), ports(desired.spec.ports)) ||
    stored.spec.trafficDistribution !== desired.spec.trafficDistribution
  );
}

/**
 * Re-applies each generated Service that is missing or whose selector, ports or labels were
 * edited. With `write` off (the Canary is suspended) it only reports the missing ones. A
 * missing Service whose write fails (an admission policy refuses it, the API server is
 * unavailable) is reported missing too: the run then holds its weight (planner/lifecycle.ts)
 * instead of the reconcile failing before plan could say why.
 */
export async function restoreServices(kube: KubeClient, canary: Canary, target: Workload, write: boolean, signal: AbortSignal): Promise<RestoreResult> {
  const services = buildServices(canary, target);
  // The three are independent: read (and, when needed, written back) side by side.
  const outcomes = await Promise.all([services.primary, services.canary, services.apex].map(async (desired): Promise<{ name: string; outcome: "ok" | "restored" | "missing"; failure?: string }> => {
    const ref = { apiVersion: "v1", kind: "Service", namespace: desired.metadata.namespace ?? "default", name: desired.metadata.name };
    const name = `Service/${desired.metadata.name}`;
    const stored = await kube.get<Service>(ref, { signal });
    if (!serviceDrifted(stored, desired)) return { name, outcome: "ok" };
    if (!write) return { name, outcome: stored === null ? "missing" : "ok" };
    try {
      await kube.apply(serviceForApply(desired, stored), { signal, force: true });
    } catch (err) {
      if (stored !== null || signal.aborted) throw err; // an edited Service still routes: the reconcile retries
      return { name, outcome: "missing", failure: `${name}: ${err instanceof Error ? err.message : String(err)}` };
    }
    return { name, outcome: "restored" };
  }));
  const restored = outcomes.filter((o) => o.outcome === "restored").map((o) => o.name);
  const missing = outcomes.filter((o) => o.outcome === "missing").map((o) => o.name);
  const failures = outcomes.flatMap((o) => (o.failure !== undefined ? [o.failure] : []));
  return failures.length > 0 ? { restored, missing, failures } : { restored, missing };
}

/**
 * While the target carries the promoted revision, every `-primary` config copy must exist
 * with its source's content; a missing or edited copy is written again.
 */
export async function restoreConfigCopies(kube: KubeClient, canary: Canary, target: Workload, signal: AbortSignal): Promise<string[]> {
  const ns = target.metadata.namespace ?? "default";
  const restored: string[] = [];
  for (const ref of configRefs(target.spec.template)) {
    const get = (name: string) => kube.get<ConfigMapOrSecret>({ apiVersion: "v1", kind: ref.kind, namespace: ns, name }, { signal });
    const [source, copy] = await Promise.all([get(ref.name), get(primaryConfigName(ref.name))]);
    if (source === null) continue;
    const same = copy !== null && isDeepStrictEqual(copy.data ?? {}, source.data ?? {}) && isDeepStrictEqual(copy.binaryData ?? {}, source.binaryData ?? {});
    if (same) continue;
    await kube.apply(buildConfigCopy(source, canaryOwnerReference(canary), managedLabels(canary)), { signal, force: true });
    restored.push(`${ref.kind}/${primaryConfigName(ref.name)}`);
  }
  return restored;
}
