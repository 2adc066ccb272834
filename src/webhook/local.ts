/**
 * Local runs: registers aviary's webhook configurations with `clientConfig.url` pointing at
 * this process instead of the in-cluster Service. The shape comes from the same
 * manifests/webhooks.yaml the cluster install applies, so local and in-cluster behave alike;
 * only the address and aviary's own user name differ. The caBundle is written afterwards
 * by the certificate manager, as in the cluster.
 */
import { readFile } from "node:fs/promises";
import { parseAllDocuments } from "yaml";
import type { CallOptions, KubeClient, KubeObject } from "../kube/types.ts";
import { DEFAULT_API_GROUP } from "../api/groups.ts";

export const WEBHOOKS_MANIFEST = new URL("../../manifests/webhooks.yaml", import.meta.url);

interface WebhookEntry {
  clientConfig?: { url?: string; service?: { path?: string }; caBundle?: string };
  rules?: { apiGroups?: string[]; [field: string]: unknown }[];
  matchConditions?: { name: string; expression: string }[];
  [field: string]: unknown;
}
interface WebhookConfiguration extends KubeObject {
  webhooks?: WebhookEntry[];
}

/**
 * The manifest's configurations, rewritten to call `baseUrl`, to let `username` through and,
 * when aviary serves another group (`--api-group`), to name that group where the manifest names
 * aviary.dev (as manifests/flagger-compat does for an in-cluster install).
 */
export function localConfigurations(manifest: string, baseUrl: string, username: string, group: string = DEFAULT_API_GROUP): WebhookConfiguration[] {
  const base = baseUrl.replace(/\/+$/, "");
  return parseAllDocuments(manifest)
    .map((d) => d.toJS() as WebhookConfiguration | null)
    .filter((d): d is WebhookConfiguration => d !== null && /WebhookConfiguration$/.test(d.kind))
    .map((config) => ({
      ...config,
      webhooks: (config.webhooks ?? []).map((w) => {
        const path = w.clientConfig?.service?.path ?? "/";
        const entry: WebhookEntry = { ...w, clientConfig: { url: `${base}${path}` } };
        if (w.rules) entry.rules = w.rules.map((r) => (r.apiGroups ? { ...r, apiGroups: r.apiGroups.map((g) => (g === DEFAULT_API_GROUP ? group : g)) } : r));
        if (w.matchConditions) {
          entry.matchConditions = w.matchConditions.map((c) => ({
            ...c,
            expression: c.expression.replace(/'system:serviceaccount:aviary-system:aviary'/g, `'${username.replace(/'/g, "\\'")}'`),
          }));
        }
        return entry;
      }),
    }));
}

export async function registerLocalWebhooks(kube: KubeClient, baseUrl: string, username: string, opts: CallOptions & { group?: string } = {}): Promise<string[]> {
  const { group, ...call } = opts;
  const configs = localConfigurations(await readFile(WEBHOOKS_MANIFEST, "utf8"), baseUrl, username, group);
  for (const config of configs) await kube.apply(config, { ...call, force: true });
  return configs.map((c) => `${c.kind}/${c.metadata.name}`);
}

/**
 * Removes the configurations a local run registered. A local process is the only thing that
 * serves them, so leaving them behind would make the API server call a dead address (and, for
 * aviary's own kinds, refuse every write) once the process is gone.
 */
export async function unregisterLocalWebhooks(kube: KubeClient, registered: readonly string[], opts: CallOptions = {}): Promise<void> {
  for (const entry of registered) {
    const [kind, name] = entry.split("/");
    if (!kind || !name) continue;
    await kube.delete({ apiVersion: "admissionregistration.k8s.io/v1", kind, name }, opts);
  }
}
