/**
 * The ConfigMaps and Secrets a pod template references, and the primary's copies of them.
 *
 * The primary must not share configuration with the target: a ConfigMap edit is a new
 * revision that has to pass analysis before the primary sees it. So every referenced
 * ConfigMap/Secret is copied as `<name>-primary` and the primary's pod template points at
 * the copies. Pure: no I/O, inputs are never mutated.
 */
import { primaryConfigName } from "../../ground/identity.ts";
import type { KubeObject, OwnerReference } from "../../kube/types.ts";

export type ConfigKind = "ConfigMap" | "Secret";

export interface ConfigRef {
  kind: ConfigKind;
  name: string;
}

/** `ConfigMap/<name>` or `Secret/<name>`: the key format of `status.trackedConfigs`. */
export const configRefKey = (ref: ConfigRef): string => `${ref.kind}/${ref.name}`;


// The slices of the pod spec that can name a ConfigMap or Secret. Everything else passes through.
interface NameRef { name?: string; [field: string]: unknown }
interface EnvVar { valueFrom?: { configMapKeyRef?: NameRef; secretKeyRef?: NameRef; [f: string]: unknown }; [f: string]: unknown }
interface EnvFromSource { configMapRef?: NameRef; secretRef?: NameRef; [f: string]: unknown }
interface ContainerRefs { env?: EnvVar[]; envFrom?: EnvFromSource[]; [f: string]: unknown }
interface ProjectionSource { configMap?: NameRef; secret?: NameRef; [f: string]: unknown }
interface Volume {
  configMap?: NameRef;
  secret?: { secretName?: string; [f: string]: unknown };
  projected?: { sources?: ProjectionSource[]; [f: string]: unknown };
  [f: string]: unknown;
}
interface PodSpecRefs {
  containers?: ContainerRefs[];
  initContainers?: ContainerRefs[];
  ephemeralContainers?: ContainerRefs[];
  volumes?: Volume[];
  [f: string]: unknown;
}
interface TemplateRefs { spec?: PodSpecRefs; [f: string]: unknown }

/**
 * Visits every place a pod template names a ConfigMap or Secret. `rename` returns the
 * name to store there (the same name leaves it untouched). Works on a clone it returns.
 */
function mapConfigNames<T>(template: T, rename: (ref: ConfigRef, optional: boolean) => string): T {
  const copy = structuredClone(template) as TemplateRefs;
  const spec = copy.spec;
  if (spec === undefined) return copy as T;
  const visit = (kind: ConfigKind, holder: Record<string, unknown> | undefined, field: string): void => {
    const name = holder?.[field];
    if (holder === undefined || typeof name !== "string" || name === "") return;
    holder[field] = rename({ kind, name }, holder.optional === true);
  };
  for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? []), ...(spec.ephemeralContainers ?? [])]) {
    for (const e of c.envFrom ?? []) {
      visit("ConfigMap", e.configMapRef, "name");
      visit("Secret", e.secretRef, "name");
    }
    for (const e of c.env ?? []) {
      visit("ConfigMap", e.valueFrom?.configMapKeyRef, "name");
      visit("Secret", e.valueFrom?.secretKeyRef, "name");
    }
  }
  for (const v of spec.volumes ?? []) {
    visit("ConfigMap", v.configMap, "name");
    visit("Secret", v.secret, "secretName");
    for (const s of v.projected?.sources ?? []) {
      visit("ConfigMap", s.configMap, "name");
      visit("Secret", s.secret, "name");
    }
  }
  return copy as T;
}

/**
 * Every ConfigMap and Secret the pod template references (volumes, projected volumes,
 * envFrom, env valueFrom), de-duplicated, sorted by kind then name. Image pull secrets are
 * not configuration and are not listed.
 */
export function configRefs(podTemplate: unknown): ConfigRef[] {
  const seen = new Map<string, ConfigRef>();
  mapConfigNames(podTemplate, (ref) => {
    seen.set(configRefKey(ref), ref);
    return ref.name;
  });
  return [...seen.values()].sort((a, b) => a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name));
}

/**
 * The references a pod cannot start without: those that at least one use does not mark
 * `optional: true`. Same order as configRefs.
 */
export function requiredConfigRefs(podTemplate: unknown): ConfigRef[] {
  const required = new Map<string, ConfigRef>();
  mapConfigNames(podTemplate, (ref, optional) => {
    if (!optional) required.set(configRefKey(ref), ref);
    return ref.name;
  });
  return configRefs(podTemplate).filter((r) => required.has(configRefKey(r)));
}

/**
 * The template with each reference to one of `copied` renamed to `<name>-primary`.
 * References to configs that have no copy (not found, or shared on purpose) stay as they are.
 */
export function rewriteConfigRefs<T>(podTemplate: T, copied: readonly ConfigRef[]): T {
  const keys = new Set(copied.map(configRefKey));
  return mapConfigNames(podTemplate, (ref) => (keys.has(configRefKey(ref)) ? primaryConfigName(ref.name) : ref.name));
}

export interface ConfigMapOrSecret extends KubeObject {
  data?: Record<string, string>;
  binaryData?: Record<string, string>;
  type?: string;
}

/** Annotations that describe the source object's own history and must not follow the copy. */
const UNCOPIED_ANNOTATION_PREFIXES = ["kubectl.kubernetes.io/", "meta.helm.sh/", "argocd.argoproj.io/", "aviary.dev/"];

/**
 * The `<name>-primary` copy of a ConfigMap or Secret, ready for server-side apply. Data is
 * copied verbatim; `immutable` is not, because the copy is rewritten at every promotion.
 */
export function buildConfigCopy(source: ConfigMapOrSecret, owner: OwnerReference, extraLabels: Record<string, string>): ConfigMapOrSecret {
  const annotations = Object.fromEntries(
    Object.entries(source.metadata.annotations ?? {}).filter(([k]) => !UNCOPIED_ANNOTATION_PREFIXES.some((p) => k.startsWith(p))),
  );
  const copy: ConfigMapOrSecret = {
    apiVersion: "v1",
    kind: source.kind,
    metadata: {
      name: primaryConfigName(source.metadata.name),
      ...(source.metadata.namespace !== undefined ? { namespace: source.metadata.namespace } : {}),
      labels: { ...(source.metadata.labels ?? {}), ...extraLabels },
      ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
      ownerReferences: [owner],
    },
  };
  if (source.data !== undefined) copy.data = { ...source.data };
  if (source.binaryData !== undefined) copy.binaryData = { ...source.binaryData };
  if (source.kind === "Secret" && source.type !== undefined) copy.type = source.type;
  return copy;
}
