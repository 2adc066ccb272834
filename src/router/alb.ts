/**
 * The `alb` router (AWS Load Balancer Controller, weighted target groups): aviary writes
 * the forward action `<prefix>/actions.<svc>` on the user's own Ingress named by
 * `spec.ingressRef` (alb-spec.ts builds it). One Ingress is one load balancer, so a copy
 * would not share the user's listener: like Argo Rollouts, aviary patches the user's
 * Ingress in place, touching only that annotation, the record of what it replaced
 * (`aviary.dev/original-alb-action`) and the label `aviary.dev/canary` (which lets aviary
 * see a hand edit at once). Every other annotation, label and the spec stay the user's.
 * When the Canary is deleted, finalize puts the original action back (or removes it) and
 * drops the record and the label; the router asks for aviary's finalizer for that.
 */
import { capabilitiesOf } from "../api/features.ts";
import { LABEL_CANARY } from "../api/types.ts";
import type { Canary } from "../api/types.ts";
import type { KubeObject, ObjectRef } from "../kube/types.ts";
import { ALL_TO_PRIMARY } from "../ground/split.ts";
import type { Split } from "../ground/split.ts";
import { DEFAULT_ALB_ANNOTATION_PREFIX, actionAnnotation, checkActionBackend, forwardAction, readForwardAction } from "./alb-spec.ts";
import { INGRESS, ingressRefName } from "./ingress-spec.ts";
import { reconciled } from "./route-objects.ts";
import { RouteStateError, RouterSpecError } from "./types.ts";
import type { ReconcileResult, Router, RouterDeps } from "./types.ts";

/** On the user's Ingress while aviary holds its action: `{"annotation": key, "value": the user's value or null}`. */
export const ANNOTATION_ORIGINAL_ACTION = "aviary.dev/original-alb-action";

export interface AlbRouterOptions {
  /** The AWS Load Balancer Controller's annotation prefix; default `alb.ingress.kubernetes.io`. */
  annotationPrefix?: string;
}

interface OriginalAction {
  annotation: string;
  value: string | null;
}

function readOriginal(text: string | undefined): OriginalAction | undefined {
  if (text === undefined) return undefined;
  try {
    const o = JSON.parse(text) as Partial<OriginalAction>;
    if (typeof o.annotation === "string" && (typeof o.value === "string" || o.value === null)) return { annotation: o.annotation, value: o.value };
  } catch {
    // unreadable: treated as absent
  }
  return undefined;
}

export function createAlbRouter(deps: RouterDeps, opts: AlbRouterOptions = {}): Router {
  const prefix = opts.annotationPrefix ?? DEFAULT_ALB_ANNOTATION_PREFIX;
  const { kube } = deps;

  const ref = (canary: Canary): ObjectRef => ({ apiVersion: INGRESS.apiVersion, kind: INGRESS.kind, namespace: canary.metadata.namespace!, name: ingressRefName(canary, "alb") });

  /** The user's Ingress; it must exist and must not carry another Canary's action. */
  async function readIngress(canary: Canary, signal: AbortSignal): Promise<KubeObject> {
    const r = ref(canary);
    const ingress = await kube.get(r, { signal });
    if (ingress === null) throw new RouteStateError(`Ingress ${r.namespace}/${r.name} named by spec.ingressRef does not exist`);
    const owner = ingress.metadata.labels?.[LABEL_CANARY];
    if (owner !== undefined && owner !== canary.metadata.name) {
      throw new RouterSpecError("spec.ingressRef", `Ingress ${r.namespace}/${r.name} carries the weighted action of Canary ${owner}`);
    }
    return ingress;
  }

  const readRoutes = (canary: Canary, ingress: KubeObject) => readForwardAction(canary, ingress.metadata.annotations?.[actionAnnotation(canary, prefix)]);

  /** One merge patch of what differs, guarded by the resourceVersion read; false when nothing did. */
  async function write(canary: Canary, routes: Split, ingress: KubeObject, signal: AbortSignal): Promise<boolean> {
    checkActionBackend(canary, ingress);
    const current = ingress.metadata.annotations ?? {};
    const key = actionAnnotation(canary, prefix);
    const value = forwardAction(canary, routes);
    const recorded = readOriginal(current[ANNOTATION_ORIGINAL_ACTION]);
    const original: OriginalAction = recorded?.annotation === key ? recorded : { annotation: key, value: current[key] ?? null };
    const annotations: Record<string, string | null> = {};
    // The Service was renamed: the action aviary held under the old name goes back to what it was.
    if (recorded !== undefined && recorded.annotation !== key) annotations[recorded.annotation] = recorded.value;
    if (current[key] !== value) annotations[key] = value;
    const originalText = JSON.stringify(original);
    if (current[ANNOTATION_ORIGINAL_ACTION] !== originalText) annotations[ANNOTATION_ORIGINAL_ACTION] = originalText;
    const labelled = ingress.metadata.labels?.[LABEL_CANARY] === canary.metadata.name;
    if (Object.keys(annotations).length === 0 && labelled) return false;
    const patch = { metadata: { annotations, ...(labelled ? {} : { labels: { [LABEL_CANARY]: canary.metadata.name } }) } };
    await kube.mergePatch(ref(canary), patch, { signal, ...(ingress.metadata.resourceVersion !== undefined ? { resourceVersion: ingress.metadata.resourceVersion } : {}) });
    deps.logger.info("ALB action written", {
      namespace: canary.metadata.namespace, name: canary.metadata.name, ingress: ingress.metadata.name, annotation: key,
      primary: routes.primary, canary: routes.canary,
    });
    return true;
  }

  return {
    name: "alb",
    supports: capabilitiesOf("alb"),
    restoresOnDeletion: true,

    async reconcile(canary, signal, split): Promise<ReconcileResult> {
      const ingress = await readIngress(canary, signal);
      const found = readRoutes(canary, ingress) ?? null;
      const current = split ?? found ?? { ...ALL_TO_PRIMARY };
      return reconciled(await write(canary, current, ingress, signal), split, found);
    },

    async setRoutes(canary, routes, signal): Promise<void> {
      await write(canary, routes, await readIngress(canary, signal), signal);
    },

    async getRoutes(canary, signal): Promise<Split> {
      const ingress = await readIngress(canary, signal);
      const routes = readRoutes(canary, ingress);
      if (routes === undefined) {
        throw new RouteStateError(`Ingress ${ingress.metadata.namespace}/${ingress.metadata.name} has no readable ${actionAnnotation(canary, prefix)} forward action for the primary and canary Services`);
      }
      return routes;
    },

    async finalize(canary, signal): Promise<void> {
      const name = canary.spec.ingressRef?.name;
      if (name === undefined || name === "") return;
      const ingress = await kube.get(ref(canary), { signal });
      if (ingress === null || ingress.metadata.labels?.[LABEL_CANARY] !== canary.metadata.name) {
        deps.logger.info("ALB action finalized", { namespace: canary.metadata.namespace, name: canary.metadata.name, outcome: ingress === null ? "absent" : "not-ours" });
        return;
      }
      const original = readOriginal(ingress.metadata.annotations?.[ANNOTATION_ORIGINAL_ACTION]);
      const annotations: Record<string, string | null> = { [ANNOTATION_ORIGINAL_ACTION]: null };
      // Without a readable record there is nothing to give back: the action aviary wrote goes.
      if (original !== undefined) annotations[original.annotation] = original.value;
      else annotations[actionAnnotation(canary, prefix)] = null;
      await kube.mergePatch(ref(canary), { metadata: { annotations, labels: { [LABEL_CANARY]: null } } }, {
        signal, ...(ingress.metadata.resourceVersion !== undefined ? { resourceVersion: ingress.metadata.resourceVersion } : {}),
      });
      deps.logger.info("ALB action finalized", { namespace: canary.metadata.namespace, name: canary.metadata.name, outcome: "restored" });
    },
  };
}
