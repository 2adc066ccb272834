/**
 * Reads the install manifests the way `kubectl apply -k manifests/` would see them, without
 * kubectl: the kustomization's resources (a directory means its own kustomization.yaml),
 * every YAML document parsed. The integration tier renders them with the real kustomize.
 */
import { readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { parse, parseAllDocuments } from "yaml";

export const ROOT = new URL("../../../", import.meta.url).pathname;
export const MANIFESTS = join(ROOT, "manifests");

export interface ManifestObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  /** The file it came from, relative to the repository root. */
  file: string;
  [field: string]: unknown;
}

interface Kustomization {
  resources?: string[];
}

/** The files a kustomization directory includes, recursively, relative to the repository root. */
export function kustomizationFiles(dir = MANIFESTS): string[] {
  const k = parse(readFileSync(join(dir, "kustomization.yaml"), "utf8")) as Kustomization;
  return (k.resources ?? []).flatMap((entry) => {
    const path = join(dir, entry);
    return statSync(path).isDirectory() ? kustomizationFiles(path) : [relative(ROOT, path)];
  });
}

export function loadManifests(dir = MANIFESTS): ManifestObject[] {
  return kustomizationFiles(dir).flatMap((file) =>
    parseAllDocuments(readFileSync(join(ROOT, file), "utf8"))
      .map((d) => d.toJS() as Record<string, unknown> | null)
      .filter((o): o is Record<string, unknown> => o !== null)
      .map((o) => ({ ...o, file }) as ManifestObject),
  );
}

/** The one object of this kind and name; throws (failing the test) when it is missing or doubled. */
export function only<T = ManifestObject>(objects: readonly ManifestObject[], kind: string, name?: string): T & ManifestObject {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? ` ${name}` : ""}, found ${found.length}`);
  return found[0] as T & ManifestObject;
}

export interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  verbs: string[];
  nonResourceURLs?: string[];
}

export interface RoleObject extends ManifestObject {
  rules: PolicyRule[];
}

/**
 * Whether the rules allow `verb` on `group`/`resource` (a subresource as `deployments/scale`),
 * optionally for one object name, by RBAC's own matching (a rule without resourceNames
 * covers every name; wildcards are honoured so a wildcard rule cannot hide from this).
 */
export function allows(rules: readonly PolicyRule[], verb: string, group: string, resource: string, name?: string): boolean {
  return rules.some((r) => {
    const any = (list: string[] | undefined, v: string) => (list ?? []).some((x) => x === v || x === "*");
    if (!any(r.verbs, verb) || !any(r.apiGroups, group) || !any(r.resources, resource)) return false;
    if (r.resourceNames === undefined || r.resourceNames.length === 0) return true;
    return name !== undefined && r.resourceNames.includes(name);
  });
}
