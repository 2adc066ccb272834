/**
 * Reads what plan needs to see: the target and primary Deployments, the configs the target
 * references (as content hashes), the router's split and the request annotations.
 */
import {
  ANNOTATION_ABORT,
  ANNOTATION_DESIRED_REPLICAS,
  ANNOTATION_PAUSED,
  ANNOTATION_PROMOTE,
  ANNOTATION_RETRY,
  ANNOTATION_REVISION,
} from "../../api/types.ts";
import type { Canary } from "../../api/types.ts";
import type { KubeClient } from "../../kube/types.ts";
import type { Router } from "../../router/types.ts";
import { RouteStateError } from "../../router/types.ts";
import { hashPodTemplate, revisionOf } from "../../ground/hash.ts";
import { configRefKey, configRefs, requiredConfigRefs } from "./config-refs.ts";
import { primaryDeploymentName } from "../../ground/identity.ts";
import type { ConfigMapOrSecret } from "./config-refs.ts";
import type { Deployment } from "../../ground/workloads.ts";
import type { Observed, Requests, WorkloadState } from "./planner/plan.ts";
import type { Split } from "../../ground/split.ts";
import type { HashKeys } from "../../kube/hash-key.ts";
import { secretHashing } from "./tracked-configs.ts";
import { buildPrimaryDeployment } from "./objects.ts";
import { hasForeignRevisions, withoutFlaggerId } from "./adopt.ts";

export interface Observation {
  observed: Observed;
  /** The full target Deployment, for the actions that copy it. */
  target: Deployment | null;
}

interface DeploymentStatus {
  observedGeneration?: number;
  replicas?: number;
  readyReplicas?: number;
  updatedReplicas?: number;
  availableReplicas?: number;
  conditions?: { type: string; status: string; reason?: string }[];
}

export function workloadState(d: Deployment): WorkloadState {
  const status = (d.status ?? {}) as DeploymentStatus;
  const specReplicas = d.spec.replicas ?? 1;
  const desired = Number(d.metadata.annotations?.[ANNOTATION_DESIRED_REPLICAS]);
  const progressing = status.conditions?.find((c) => c.type === "Progressing");
  const state: WorkloadState = {
    name: d.metadata.name,
    generation: d.metadata.generation ?? 0,
    observedGeneration: status.observedGeneration ?? 0,
    specReplicas,
    replicas: status.replicas ?? 0,
    readyReplicas: status.readyReplicas ?? 0,
    updatedReplicas: status.updatedReplicas ?? 0,
    availableReplicas: status.availableReplicas ?? 0,
    desiredReplicas: Number.isInteger(desired) && desired >= 0 ? desired : specReplicas,
    progressDeadlineExceeded: progressing?.status === "False" && progressing.reason === "ProgressDeadlineExceeded",
    templateHash: hashPodTemplate(d.spec.template),
  };
  const revision = d.metadata.annotations?.[ANNOTATION_REVISION];
  if (revision !== undefined) state.revision = revision;
  if (d.metadata.deletionTimestamp !== undefined) state.deleting = true;
  return state;
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
  const ref = (name: string) => ({ apiVersion: "apps/v1", kind: "Deployment", namespace: ns, name });
  const [target, primary] = await Promise.all([
    deps.kube.get<Deployment>(ref(canary.spec.targetRef.name), { signal }),
    deps.kube.get<Deployment>(ref(primaryDeploymentName(canary)), { signal }),
  ]);

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
  const targetState = target ? workloadState(target) : null;
  // Secret content is hashed with a key only aviary holds, so the status never lets a reader
  // test guesses of a Secret; each hash records the id of its key (tracked-configs.ts).
  const hashing = secretHashing(canary, contents, targetState?.templateHash ?? "", deps.hashKeys);
  const trackedConfigs = hashing.trackedConfigs;
  const routes = deps.routes !== undefined ? deps.routes : await readRoutes(canary, deps.router, signal);
  const observed: Observed = {
    now: deps.now(),
    canary,
    target: targetState,
    primary: primary ? workloadState(primary) : null,
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
  };
  return { observed, target };
}

/**
 * The primary's pod template differs from the one aviary builds from the target with the
 * configs that exist (their `-primary` copies). Compared by the same hash as revisions;
 * the id Flagger stamps on the primaries it wrote is not part of the template.
 */
function primaryDrifted(canary: Canary, target: Deployment, primary: Deployment, presentConfigs: readonly string[]): boolean {
  const copied = configRefs(target.spec.template).filter((r) => presentConfigs.includes(configRefKey(r)));
  const built = buildPrimaryDeployment({ target, canary, replicas: 0, copiedConfigs: copied });
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
