/**
 * What every router does with its route objects, whatever the provider: read one (telling
 * "object missing" from "CRD missing"), decide whether the stored object already has the
 * desired content, take over a pre-existing object while remembering its original
 * content, and give it back (or delete it) on finalize.
 */
import { isDeepStrictEqual } from "node:util";
import { LABEL_CANARY, LABEL_CANARY_NAMESPACE, LABEL_MANAGED_BY, MANAGED_BY_VALUE } from "../api/types.ts";
import type { Canary } from "../api/types.ts";
import { canaryOwnerReference, managedLabels, serviceNames, withoutUnmanaged } from "../ground/identity.ts";
import { isNoKindMatch } from "../kube/errors.ts";
import { isNotFound } from "../kube/types.ts";
import type { KubeClient, KubeObject, ObjectRef } from "../kube/types.ts";
import type { ReconcileResult } from "./types.ts";
import { RouterCrdMissingError, RouterSpecError, RouteStateError } from "./types.ts";
import { ALL_TO_PRIMARY } from "../ground/split.ts";
import type { Split } from "../ground/split.ts";

/**
 * On a route object that existed before aviary took it over: its labels and the spec
 * fields aviary manages, as JSON, so finalize can give the object back as it was.
 */
export const ANNOTATION_ORIGINAL = "aviary.dev/original-configuration";

export interface RouteKind {
  apiVersion: string;
  kind: string;
  /** The resource's plural, for the CRD name in messages. */
  plural: string;
  /** The spec fields aviary writes; only these are compared and restored. */
  specFields: readonly string[];
  /** Fields beside `spec` at the top of the object that aviary writes (Kuma's `mesh`). */
  topFields?: readonly string[];
  /**
   * The kind is cluster-scoped (Kuma's TrafficRoute). Its objects carry no namespace and no
   * owner reference (a namespaced Canary cannot own them); `aviary.dev/canary-namespace`
   * tells which Canary of that name made one.
   */
  clusterScoped?: boolean;
}

/** The object's namespace: the Canary's, none for a cluster-scoped kind. */
export const routeNamespace = (k: RouteKind, canary: Canary): string | undefined => (k.clusterScoped === true ? undefined : canary.metadata.namespace!);


export const crdName = (k: RouteKind): string => `${k.plural}.${k.apiVersion.split("/")[0]}`;

/**
 * True when the resource type is served. A list in the namespace answers 404 only when the
 * type itself is unknown (a missing namespace lists as empty), so this tells a missing CRD
 * from a missing object or namespace.
 */
async function resourceTypeServed(kube: KubeClient, k: RouteKind, namespace: string, name: string, signal: AbortSignal): Promise<boolean> {
  try {
    await kube.list(k.apiVersion, k.kind, namespace, { signal, fieldSelector: `metadata.name=${name}` });
    return true;
  } catch (err) {
    if (isNoKindMatch(err) || isNotFound(err)) return false;
    throw err;
  }
}

/** Runs a call on a route object; a 404 caused by the CRD being absent becomes RouterCrdMissingError. */
export async function withCrdCheck<T>(kube: KubeClient, k: RouteKind, ref: ObjectRef, signal: AbortSignal, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    // The cluster client says so outright (NoKindMatch); any other 404 is settled by a probe.
    if (isNoKindMatch(err)) throw new RouterCrdMissingError(crdName(k));
    if (isNotFound(err) && !(await resourceTypeServed(kube, k, ref.namespace ?? "", ref.name, signal))) throw new RouterCrdMissingError(crdName(k));
    throw err;
  }
}

/** The route object, or null when it does not exist; RouterCrdMissingError when its CRD does not. */
export async function getRouteObject(kube: KubeClient, k: RouteKind, ref: ObjectRef, signal: AbortSignal): Promise<KubeObject | null> {
  const obj = await withCrdCheck(kube, k, ref, signal, () => kube.get(ref, { signal }));
  if (obj === null && !(await resourceTypeServed(kube, k, ref.namespace ?? "", ref.name, signal))) throw new RouterCrdMissingError(crdName(k));
  return obj;
}

/** Reads the split out of a route object's spec; `undefined` when it routes to neither generated Service. */
export type SplitReader = (spec: unknown, canary: Canary) => Split | undefined;

/**
 * The stored route object that carries the split, the split found in it (null when the
 * object is missing or routes to neither generated Service), and the split to write:
 * `wanted` when the caller gives one, else the one found, else everything to the primary.
 */
export async function currentSplit(
  kube: KubeClient, k: RouteKind, ref: ObjectRef, canary: Canary, read: SplitReader, signal: AbortSignal, wanted?: Split,
): Promise<{ existing: KubeObject | null; found: Split | null; current: Split }> {
  const existing = await getRouteObject(kube, k, ref, signal);
  const found = (existing !== null ? read(existing.spec, canary) : undefined) ?? null;
  return { existing, found, current: wanted ?? found ?? { ...ALL_TO_PRIMARY } };
}

/** The result of a reconcile that wrote `wanted` (when given) over a route object that carried `found`. */
export function reconciled(changed: boolean, wanted: Split | undefined, found: Split | null): ReconcileResult {
  return wanted === undefined ? { changed } : { changed, split: { now: wanted, before: found } };
}

/**
 * getRoutes for a router whose split lives in one route object. RouteStateError (retryable:
 * the next reconcile restores it) when the object is missing or, in the words of
 * `neither` (e.g. "routes to neither"), sends traffic to neither generated Service.
 */
export async function storedSplit(kube: KubeClient, k: RouteKind, ref: ObjectRef, canary: Canary, read: SplitReader, signal: AbortSignal, neither = "routes to neither"): Promise<Split> {
  const existing = await getRouteObject(kube, k, ref, signal);
  const where = ref.namespace === undefined ? ref.name : `${ref.namespace}/${ref.name}`;
  if (existing === null) throw new RouteStateError(`${k.kind} ${where} does not exist`);
  const routes = read(existing.spec, canary);
  if (routes === undefined) {
    const names = serviceNames(canary);
    throw new RouteStateError(`${k.kind} ${where} ${neither} ${names.primary} nor ${names.canary}`);
  }
  return routes;
}

const hasOwner = (obj: KubeObject, canary: Canary): boolean =>
  canary.metadata.uid !== undefined && (obj.metadata.ownerReferences ?? []).some((o) => o.uid === canary.metadata.uid);

/** aviary made this object for this Canary (as opposed to taking over one a user made). */
export function createdFor(obj: KubeObject, canary: Canary): boolean {
  const labels = obj.metadata.labels ?? {};
  const labelled = labels[LABEL_MANAGED_BY] === MANAGED_BY_VALUE && labels[LABEL_CANARY] === canary.metadata.name &&
    (obj.metadata.namespace !== undefined || labels[LABEL_CANARY_NAMESPACE] === canary.metadata.namespace);
  return obj.metadata.annotations?.[ANNOTATION_ORIGINAL] === undefined && (hasOwner(obj, canary) || labelled);
}

function pick(spec: unknown, fields: readonly string[] = []): Record<string, unknown> {
  const src = (spec ?? {}) as Record<string, unknown>;
  return Object.fromEntries(fields.filter((f) => src[f] !== undefined).map((f) => [f, src[f]]));
}

/**
 * The object to apply: `spec` plus aviary's labels, `service.apex` metadata, and either an
 * owner reference (objects aviary created) or the original content (objects it took over).
 * Throws when the object belongs to another Canary.
 */
export function desiredRouteObject(k: RouteKind, canary: Canary, name: string, spec: Record<string, unknown>, existing: KubeObject | null): KubeObject {
  const labels = existing?.metadata.labels ?? {};
  const other = k.clusterScoped === true && labels[LABEL_CANARY_NAMESPACE] !== undefined ? `${labels[LABEL_CANARY_NAMESPACE]}/${labels[LABEL_CANARY]}` : labels[LABEL_CANARY];
  const foreign = existing !== null && !hasOwner(existing, canary) && labels[LABEL_MANAGED_BY] === MANAGED_BY_VALUE && !createdFor(existing, canary);
  if (foreign && other !== undefined && other !== canary.metadata.name) {
    const where = k.clusterScoped === true ? name : `${existing.metadata.namespace}/${name}`;
    throw new RouterSpecError("spec.service.name", `${k.kind} ${where} is managed by Canary ${other}`);
  }
  const apex = canary.spec.service.apex;
  const annotations: Record<string, string> = { ...(apex?.annotations ?? {}) };
  const namespace = routeNamespace(k, canary);
  const obj: KubeObject = {
    apiVersion: k.apiVersion,
    kind: k.kind,
    metadata: {
      name,
      ...(namespace !== undefined ? { namespace } : {}),
      labels: { ...(apex?.labels ?? {}), ...managedLabels(canary), ...(namespace === undefined ? { [LABEL_CANARY_NAMESPACE]: canary.metadata.namespace! } : {}) },
    },
    spec,
  };
  if (existing === null || createdFor(existing, canary)) {
    if (namespace !== undefined) obj.metadata.ownerReferences = [canaryOwnerReference(canary)];
  } else {
    const top = pick(existing, k.topFields);
    annotations[ANNOTATION_ORIGINAL] =
      existing.metadata.annotations?.[ANNOTATION_ORIGINAL] ??
      JSON.stringify({ labels: existing.metadata.labels ?? {}, spec: pick(existing.spec, k.specFields), ...(k.topFields !== undefined ? { top } : {}) });
  }
  // service.unmanagedMetadata: keys left to other controllers are never sent.
  const kept = withoutUnmanaged(canary, { labels: obj.metadata.labels ?? {}, annotations });
  obj.metadata.labels = kept.labels;
  if (Object.keys(kept.annotations).length > 0) obj.metadata.annotations = kept.annotations;
  return obj;
}

const includes = (have: Record<string, string> | undefined, want: Record<string, string> | undefined): boolean =>
  Object.entries(want ?? {}).every(([key, v]) => have?.[key] === v);

/** The stored object already carries everything `desired` says: applying it would change nothing aviary owns. */
export function isUpToDate(k: RouteKind, existing: KubeObject, desired: KubeObject): boolean {
  if (!isDeepStrictEqual(pick(existing.spec, k.specFields), pick(desired.spec, k.specFields))) return false;
  if (!isDeepStrictEqual(pick(existing, k.topFields), pick(desired, k.topFields))) return false;
  if (!includes(existing.metadata.labels, desired.metadata.labels)) return false;
  if (!includes(existing.metadata.annotations, desired.metadata.annotations)) return false;
  return (desired.metadata.ownerReferences ?? []).every((want) =>
    (existing.metadata.ownerReferences ?? []).some((o) => o.uid === want.uid && o.controller === want.controller),
  );
}

/**
 * Brings the stored object to `desired`; returns false when it already was (nothing sent).
 * Server-side apply first. Fields another manager added inside aviary's spec fields (a
 * hand edit, or the content of a route taken over) survive an apply, because aviary never
 * owned them; when the applied object still differs, it is replaced with those fields set
 * exactly, guarded by its resourceVersion (a conflict is a retryable KubeApiError).
 */
export async function writeRouteObject(kube: KubeClient, k: RouteKind, existing: KubeObject | null, desired: KubeObject, signal: AbortSignal): Promise<boolean> {
  if (existing !== null && isUpToDate(k, existing, desired)) return false;
  const ref: ObjectRef = { apiVersion: k.apiVersion, kind: k.kind, namespace: desired.metadata.namespace, name: desired.metadata.name };
  const applied = await withCrdCheck(kube, k, ref, signal, () => kube.apply(desired, { signal, force: true }));
  if (isUpToDate(k, applied, desired)) return true;
  const { managedFields: _managedFields, ...metadata } = applied.metadata;
  const spec = { ...((applied.spec ?? {}) as Record<string, unknown>) };
  for (const f of k.specFields) delete spec[f];
  await kube.replace({ ...applied, ...pick(desired, k.topFields), metadata, spec: { ...spec, ...pick(desired.spec, k.specFields) } }, { signal });
  return true;
}

/**
 * Finalize for one route object: a taken-over object gets its original labels and spec
 * fields back (and loses aviary's marks); an object aviary created is deleted; anything
 * else is left alone. A missing CRD means there is nothing to clean up.
 */
export type ReleaseOutcome = "deleted" | "restored" | "absent" | "not-ours";

export async function releaseRouteObject(kube: KubeClient, k: RouteKind, canary: Canary, name: string, signal: AbortSignal): Promise<ReleaseOutcome> {
  const ref: ObjectRef = { apiVersion: k.apiVersion, kind: k.kind, namespace: routeNamespace(k, canary), name };
  let existing: KubeObject | null;
  try {
    existing = await getRouteObject(kube, k, ref, signal);
  } catch (err) {
    if (err instanceof RouterCrdMissingError) return "absent";
    throw err;
  }
  if (existing === null) return "absent";
  const original = existing.metadata.annotations?.[ANNOTATION_ORIGINAL];
  if (original !== undefined) {
    const saved = JSON.parse(original) as { labels: Record<string, string>; spec: Record<string, unknown>; top?: Record<string, unknown> };
    const annotations = { ...(existing.metadata.annotations ?? {}) };
    delete annotations[ANNOTATION_ORIGINAL];
    const spec = { ...((existing.spec ?? {}) as Record<string, unknown>) };
    for (const f of k.specFields) delete spec[f];
    const { managedFields: _managedFields, ...metadata } = existing.metadata;
    await kube.replace({
      ...existing,
      ...(saved.top ?? {}),
      metadata: {
        ...metadata,
        labels: saved.labels,
        annotations,
        ownerReferences: (existing.metadata.ownerReferences ?? []).filter((o) => o.uid !== canary.metadata.uid),
      },
      spec: { ...spec, ...saved.spec },
    }, { signal });
    return "restored";
  }
  if (!createdFor(existing, canary)) return "not-ours";
  await kube.delete(ref, { signal });
  return "deleted";
}

/**
 * Relative weights (Gloo, Kuma and APISIX weigh destinations relative to each other) as a
 * split in percent; both zero is a split of nothing.
 */
export function relativeSplit(primary: number, canary: number): Split {
  const total = primary + canary;
  const p = total === 0 ? 0 : Math.round((100 * primary) / total);
  return { primary: p, canary: total === 0 ? 0 : 100 - p, mirror: false };
}

/** A weight the split gives a route object: an integer percentage, else a RangeError naming the side. */
export function percentWeight(w: number, which: "primary" | "canary"): number {
  if (!Number.isInteger(w) || w < 0 || w > 100) throw new RangeError(`${which} weight must be an integer from 0 to 100, got ${w}`);
  return w;
}
