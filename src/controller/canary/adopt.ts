/**
 * Taking over what Flagger generated for a Canary, for a migration by swapping the controller
 * (aviary serving flagger.app, planner/adoption.ts decides when). Flagger's objects have the
 * names aviary's have (`<target>-primary`, `<svc>`, `<svc>-primary`, `<svc>-canary`, the
 * route objects) and a controller owner reference to the same Canary; what they lack is
 * aviary's labels, and their fields belong to Flagger's field manager. Everything happens in
 * place: no object is recreated, no pod template, replica count or route changes.
 *
 * - the Services and route objects get aviary's labels from the reconcile's usual restore
 *   (restore.ts, the router), before plan runs;
 * - the primary gets aviary's labels and owner reference (a merge patch of metadata only);
 * - the target gets the canary label (the webhook's objectSelector) and the desired size;
 * - Flagger's fields in the spec of the primary and of the Services, and in the data of the
 *   `-primary` config copies, move to aviary's apply entry (kube/field-owners.ts), so aviary's
 *   next applies manage them and can remove them.
 */
import { ANNOTATION_DESIRED_REPLICAS, KIND_CANARY, LABEL_CANARY } from "../../api/types.ts";
import type { Canary, CanaryStatus } from "../../api/types.ts";
import { isAviaryRevision } from "../../ground/hash.ts";
import { canaryOwnerReference, managedLabels, primaryConfigName, primaryDeploymentName, serviceNames } from "../../ground/identity.ts";
import { configRefs } from "./config-refs.ts";
import type { Deployment } from "../../ground/workloads.ts";
import { takeOverFields } from "../../kube/field-owners.ts";
import type { ManagedFieldsEntry } from "../../kube/field-owners.ts";
import type { KubeClient, KubeObject, ObjectRef, OwnerReference } from "../../kube/types.ts";

/** Flagger writes a fresh random id into the primary's pod template at every promotion; it is not part of the workload. */
export const FLAGGER_ID_ANNOTATION = "flagger-id";

/** aviary's field manager (server-side apply). */
const AVIARY_MANAGER = "aviary";

/** Flagger's field manager: client-go names it after the binary (`flagger`). */
export const isFlaggerManager = (manager: string): boolean => /^flagger($|[/-])/.test(manager);

/**
 * Flagger reconciled this Canary until now: its status holds revisions aviary did not write,
 * and none of aviary's own fields (aviary writes observedGeneration with every status).
 */
export function hasForeignRevisions(status: CanaryStatus | undefined): boolean {
  if (status?.observedGeneration !== undefined) return false;
  const revisions = [status?.lastAppliedSpec, status?.lastPromotedSpec].filter((r): r is string => typeof r === "string" && r !== "");
  return revisions.some((r) => !isAviaryRevision(r));
}

/** A pod template without Flagger's per-promotion id, for comparing a Flagger primary with aviary's build. */
export function withoutFlaggerId<T extends { metadata?: { annotations?: Record<string, string> } }>(template: T): T {
  const annotations = template.metadata?.annotations;
  if (annotations?.[FLAGGER_ID_ANNOTATION] === undefined) return template;
  const { [FLAGGER_ID_ANNOTATION]: _id, ...rest } = annotations;
  const { annotations: _all, ...metadata } = template.metadata!;
  // Flagger's id was the only annotation: the template had none of its own.
  return { ...template, metadata: Object.keys(rest).length > 0 ? { ...metadata, annotations: rest } : metadata };
}

export interface AdoptContext {
  kube: KubeClient;
  canary: Canary;
  target: Deployment | null;
  signal: AbortSignal;
  now: () => Date;
}

/** Owner references with the Canary's controller reference in place of any other Canary controller reference. */
function ownerReferences(existing: readonly OwnerReference[] | undefined, canary: Canary): OwnerReference[] {
  const ours = canaryOwnerReference(canary);
  const others = (existing ?? []).filter((o) => !(o.kind === KIND_CANARY && o.controller === true) && o.uid !== ours.uid);
  return [...others, ours];
}

/** Moves Flagger's fields under `move` (default the spec) of one object to aviary; `keep` stays where it is. */
async function takeOverSpec(ctx: AdoptContext, obj: KubeObject, keep: string[][], move: string[][] = [["f:spec"]]): Promise<boolean> {
  const entries = (obj.metadata.managedFields ?? []) as ManagedFieldsEntry[];
  const fields = takeOverFields(entries, {
    from: isFlaggerManager, to: AVIARY_MANAGER, apiVersion: obj.apiVersion, move, keep, now: ctx.now().toISOString().replace(/\.\d+Z$/, "Z"),
  });
  if (fields === null) return false;
  const ref: ObjectRef = { apiVersion: obj.apiVersion, kind: obj.kind, namespace: obj.metadata.namespace ?? "default", name: obj.metadata.name };
  // Guarded by the resourceVersion: a concurrent write makes this a retryable 409.
  await ctx.kube.mergePatch(ref, { metadata: { managedFields: fields, resourceVersion: obj.metadata.resourceVersion } }, { signal: ctx.signal });
  return true;
}

/** Takes over the primary, the target and the Services; returns what changed hands (`Deployment/<name>`). */
export async function adoptGenerated(ctx: AdoptContext): Promise<string[]> {
  const ns = ctx.canary.metadata.namespace ?? "default";
  const adopted: string[] = [];
  const deployment = (name: string): ObjectRef => ({ apiVersion: "apps/v1", kind: "Deployment", namespace: ns, name });
  const primaryName = primaryDeploymentName(ctx.canary);
  const primary = await ctx.kube.get<Deployment>(deployment(primaryName), { signal: ctx.signal });
  if (primary !== null) {
    const labelled = await ctx.kube.mergePatch<Deployment>(
      deployment(primaryName),
      { metadata: { labels: managedLabels(ctx.canary), ownerReferences: ownerReferences(primary.metadata.ownerReferences, ctx.canary) } },
      { signal: ctx.signal },
    );
    // The replica count stays with whoever set it last (Flagger, or an autoscaler).
    await takeOverSpec(ctx, labelled, [["f:spec", "f:replicas"]]);
    adopted.push(`Deployment/${primaryName}`);
  }
  const target = ctx.target;
  if (target !== null) {
    const patch: { labels?: Record<string, string>; annotations?: Record<string, string> } = {};
    if (target.metadata.labels?.[LABEL_CANARY] !== ctx.canary.metadata.name) patch.labels = { [LABEL_CANARY]: ctx.canary.metadata.name };
    // Flagger left the target at zero: the size users asked for is the primary's.
    const desired = primary?.spec.replicas ?? target.spec.replicas;
    if (target.metadata.annotations?.[ANNOTATION_DESIRED_REPLICAS] === undefined && desired !== undefined && desired > 0) {
      patch.annotations = { [ANNOTATION_DESIRED_REPLICAS]: String(desired) };
    }
    if (patch.labels || patch.annotations) await ctx.kube.mergePatch(deployment(target.metadata.name), { metadata: patch }, { signal: ctx.signal });
  }
  // The `-primary` copies of the target's ConfigMaps and Secrets: their data, so a key the
  // source drops later is dropped from the copy at the next promotion.
  for (const ref of target !== null ? configRefs(target.spec.template) : []) {
    const copy: ObjectRef = { apiVersion: "v1", kind: ref.kind, namespace: ns, name: primaryConfigName(ref.name) };
    if ((await ctx.kube.get(copy, { signal: ctx.signal })) === null) continue;
    const stored = await ctx.kube.mergePatch(copy, { metadata: { labels: managedLabels(ctx.canary) } }, { signal: ctx.signal });
    if (await takeOverSpec(ctx, stored, [], [["f:data"], ["f:binaryData"], ["f:stringData"]])) adopted.push(`${ref.kind}/${copy.name}`);
  }
  const names = serviceNames(ctx.canary);
  for (const name of [names.apex, names.primary, names.canary]) {
    const ref: ObjectRef = { apiVersion: "v1", kind: "Service", namespace: ns, name };
    if ((await ctx.kube.get(ref, { signal: ctx.signal })) === null) continue;
    // The merge patch answers with the stored object, managedFields included (a cached read has none).
    const svc = await ctx.kube.mergePatch(ref, { metadata: { labels: managedLabels(ctx.canary) } }, { signal: ctx.signal });
    // A Service's type is left to whoever set it (aviary never sends one).
    if (await takeOverSpec(ctx, svc, [["f:spec", "f:type"]])) adopted.push(`Service/${name}`);
  }
  return adopted;
}
