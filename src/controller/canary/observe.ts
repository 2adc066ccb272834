/**
 * Reads what plan needs to see: the target and primary workloads (Deployments or
 * DaemonSets, read through their kind's descriptor), the configs the target references (as
 * content hashes), the router's split and the request annotations; with the primary missing,
 * its snapshot (primary-snapshot.ts).
 */
import { ANNOTATION_ABORT, ANNOTATION_PAUSED, ANNOTATION_PROMOTE, ANNOTATION_RETRY } from "../../api/types.ts";
import type { Canary } from "../../api/types.ts";
import type { KubeClient } from "../../kube/types.ts";
import type { Router } from "../../router/types.ts";
import { RouteStateError } from "../../router/types.ts";
import { hashPodTemplate, revisionOf } from "../../ground/hash.ts";
import { configRefKey, configRefs, requiredConfigRefs } from "./config-refs.ts";
import { primaryDeploymentName } from "../../ground/identity.ts";
import type { ConfigMapOrSecret } from "./config-refs.ts";
import { workloadRef } from "../../ground/workloads.ts";
import type { Workload } from "../../ground/workloads.ts";
import type { Observed, Requests } from "./planner/plan.ts";
import type { Split } from "../../ground/split.ts";
import type { HashKeys } from "../../kube/hash-key.ts";
import { secretHashing } from "./tracked-configs.ts";
import { buildPrimaryWorkload } from "./objects.ts";
import { workloadKind } from "./workload-kinds.ts";
import { readPrimarySnapshot } from "./primary-snapshot.ts";
import { hasForeignRevisions, withoutFlaggerId } from "./adopt.ts";

export interface Observation {
  observed: Observed;
  /** The full target workload, for the actions that copy it. */
  target: Workload | null;
}

/** A request annotation counts while present (plan clears it once acted on); `paused` only when "true". */
export function requestsOf(canary: Canary): Requests {
  const a = canary.metadata.annotations ?? {};
  const requests: Requests = {};
  if (a[ANNOTATION_PROMOTE] !== undefined) requests.promote = true;
  if (a[ANNOTATION_ABORT] !== undefined) requests.abort = true;
  if (a[ANNOTATION_RETRY] !== undefined) requests.retry = true;
  if (a[ANNOTATION_PAUSED] === "true") requests.paused = true;
  return requests;
}

export interface ObserveDeps {
  kube: KubeClient;
  router: Router;
  now: () => number;
  /**
   * The split the route objects carry, when this reconcile has already read (and corrected)
   * them through `router.reconcile`: they are not read a second time.
   */
  routes?: Split | null;
  /** The namespace is being deleted (read by the reconciler before anything is written). */
  namespaceTerminating?: boolean;
  /** Generated objects still missing after the reconciler's restore (`Service/<name>`). */
  missingObjects?: string[];
  /** aviary's own keys for Secret content (kube/hash-key.ts); the Canary's uid when absent (tests). */
  hashKeys?: HashKeys;
}

export async function observe(canary: Canary, deps: ObserveDeps, signal: AbortSignal): Promise<Observation> {
  const ns = canary.metadata.namespace ?? "default";
  const kind = workloadKind(canary.spec.targetRef.kind);
  // The route objects are read (when the reconciler has not already) alongside the workloads;
  // a failure to read them counts only after the target's own problems.
  const [target, primary, routesRead] = await Promise.all([
    deps.kube.get<Workload>(workloadRef(canary), { signal }),
    deps.kube.get<Workload>(workloadRef(canary, primaryDeploymentName(canary)), { signal }),
    deps.routes !== undefined ? { routes: deps.routes } : readRoutes(canary, deps.router, signal).then((routes) => ({ routes }), (err: unknown) => ({ err })),
  ]);
  // A target of this kind aviary cannot run canaries of: a terminal problem, reported on the Canary.
  const problem = target && canary.metadata.deletionTimestamp === undefined ? kind.problem(target) : null;
  if (problem !== null) throw problem;
  if ("err" in routesRead) throw routesRead.err;
  const { routes } = routesRead;

  const missingConfigs: string[] = [];
  const contents: { key: string; kind: "ConfigMap" | "Secret"; obj: ConfigMapOrSecret }[] = [];
  if (target) {
    const required = new Set(requiredConfigRefs(target.spec.template).map(configRefKey));
    const configs = await Promise.all(
      configRefs(target.spec.template).map(async (r) => ({
        ref: r,
        obj: await deps.kube.get<ConfigMapOrSecret>({ apiVersion: "v1", kind: r.kind, namespace: ns, name: r.name }, { signal }),
      })),
    );
    for (const { ref: r, obj } of configs) {
      if (!obj || obj.metadata.deletionTimestamp !== undefined) {
        if (required.has(configRefKey(r))) missingConfigs.push(configRefKey(r));
        continue;
      }
      contents.push({ key: configRefKey(r), kind: r.kind, obj });
    }
  }
  const targetState = target ? kind.state(target) : null;
  // Secret content is hashed with a key only aviary holds, so the status never lets a reader
  // test guesses of a Secret; each hash records the id of its key (tracked-configs.ts).
  const hashing = secretHashing(canary, contents, targetState?.templateHash ?? "", deps.hashKeys);
  const trackedConfigs = hashing.trackedConfigs;
  const observed: Observed = {
    now: deps.now(),
    canary,
    target: targetState,
    primary: primary ? kind.state(primary) : null,
    revision: targetState ? revisionOf(targetState.templateHash, trackedConfigs) : "",
    trackedConfigs,
    ...(hashing.rekeyedFrom !== undefined ? { rekeyedFrom: hashing.rekeyedFrom } : {}),
    ...(hasForeignRevisions(canary.status) ? { foreignStatus: true } : {}),
    primaryTemplateDrifted: target !== null && primary !== null && primaryDrifted(canary, target, primary, contents.map((c) => c.key)),
    routes,
    checks: {},
    requests: requestsOf(canary),
    deleting: canary.metadata.deletionTimestamp !== undefined,
    namespaceTerminating: deps.namespaceTerminating === true,
    missingConfigs,
    missingObjects: deps.missingObjects ?? [],
    // Read only when it is needed: a primary that exists is never rebuilt from it.
    primarySnapshot: primary === null && canary.status?.lastPromotedSpec !== undefined ? await readPrimarySnapshot(deps.kube, canary, signal) : null,
  };
  return { observed, target };
}

/**
 * The primary's pod template differs from the one aviary builds from the target with the
 * configs that exist (their `-primary` copies). Compared by the same hash as revisions;
 * the id Flagger stamps on the primaries it wrote is not part of the template.
 */
function primaryDrifted(canary: Canary, target: Workload, primary: Workload, presentConfigs: readonly string[]): boolean {
  const copied = configRefs(target.spec.template).filter((r) => presentConfigs.includes(configRefKey(r)));
  const built = buildPrimaryWorkload({ target, canary, replicas: 0, copiedConfigs: copied });
  return hashPodTemplate(built.spec.template) !== hashPodTemplate(withoutFlaggerId(primary.spec.template));
}

/** null when the route object is missing or no longer points at aviary's Services. */
async function readRoutes(canary: Canary, router: Router, signal: AbortSignal): Promise<Split | null> {
  try {
    return await router.getRoutes(canary, signal);
  } catch (err) {
    if (err instanceof RouteStateError) return null;
    throw err;
  }
}
