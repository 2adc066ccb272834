/**
 * Converted objects as YAML: one multi-document stream for stdout, or one file per object
 * for a directory. Each document says which source object it came from; fields the API
 * server sets (status, uid, resourceVersion, …) are left out of objects read back in.
 */
import { stringify } from "yaml";
import type { OutputObject } from "./model.ts";

const SERVER_METADATA = ["uid", "resourceVersion", "generation", "creationTimestamp", "managedFields", "selfLink"];

function clean(o: OutputObject): Record<string, unknown> {
  const { status: _status, ...manifest } = o.manifest as unknown as Record<string, unknown>;
  const metadata = { ...(manifest.metadata as Record<string, unknown>) };
  for (const k of SERVER_METADATA) delete metadata[k];
  const annotations = metadata.annotations as Record<string, string> | undefined;
  if (annotations?.["kubectl.kubernetes.io/last-applied-configuration"] !== undefined) {
    const { "kubectl.kubernetes.io/last-applied-configuration": _last, ...rest } = annotations;
    if (Object.keys(rest).length > 0) metadata.annotations = rest;
    else delete metadata.annotations;
  }
  return { ...manifest, metadata };
}

export function documentYaml(o: OutputObject): string {
  return `# converted from ${o.from}\n${stringify(clean(o), { lineWidth: 0 })}`;
}

export function toYaml(outputs: readonly OutputObject[]): string {
  return outputs.map(documentYaml).join("---\n");
}

/** `deployment-shop.yaml`, `canary-shop.yaml`, `metrictemplate-success-rate.yaml`. */
export function fileName(o: OutputObject): string {
  return `${o.manifest.kind.toLowerCase()}-${o.manifest.metadata.name}.yaml`;
}
