/**
 * Writes the webhook CA into aviary's own Mutating/ValidatingWebhookConfigurations, so the
 * API server trusts the serving certificate aviary issued. Runs at start and whenever the
 * CA changes (a CertManager listener); idempotent, so a retry after a failure is safe.
 */
import type { KubeClient, KubeObject, ObjectRef } from "../kube/types.ts";
import { isConflict } from "../kube/types.ts";

export const ADMISSION_REGISTRATION_API_VERSION = "admissionregistration.k8s.io/v1";

export interface WebhookConfigurationNames {
  mutating: readonly string[];
  validating: readonly string[];
}

export interface CaBundlePatchResult {
  kind: "MutatingWebhookConfiguration" | "ValidatingWebhookConfiguration";
  name: string;
  outcome: "patched" | "unchanged" | "missing";
}

export interface CaBundlePatchOptions {
  signal?: AbortSignal;
  /** Per API call. Default 10 s. */
  timeoutMs?: number;
  /** Re-reads after a write conflict. Default 3. */
  conflictRetries?: number;
}

interface WebhookEntry {
  clientConfig?: { caBundle?: string; [field: string]: unknown };
  [field: string]: unknown;
}

/**
 * Sets `webhooks[*].clientConfig.caBundle` of each named configuration to `caPem`.
 * The whole `webhooks` list is written at the resourceVersion read (a merge patch replaces
 * lists), so a concurrent edit is never overwritten: a 409 re-reads and retries.
 * Missing configurations are reported, not created: the manifests own them.
 */
export async function patchWebhookCaBundles(
  client: KubeClient,
  names: WebhookConfigurationNames,
  caPem: string,
  opts: CaBundlePatchOptions = {},
): Promise<CaBundlePatchResult[]> {
  const caBundle = Buffer.from(caPem, "utf8").toString("base64");
  const targets: Array<[CaBundlePatchResult["kind"], string]> = [
    ...names.mutating.map((n): [CaBundlePatchResult["kind"], string] => ["MutatingWebhookConfiguration", n]),
    ...names.validating.map((n): [CaBundlePatchResult["kind"], string] => ["ValidatingWebhookConfiguration", n]),
  ];
  const results: CaBundlePatchResult[] = [];
  for (const [kind, name] of targets) {
    const ref: ObjectRef = { apiVersion: ADMISSION_REGISTRATION_API_VERSION, kind, name };
    results.push({ kind, name, outcome: await patchOne(client, ref, caBundle, opts) });
  }
  return results;
}

async function patchOne(
  client: KubeClient,
  ref: ObjectRef,
  caBundle: string,
  opts: CaBundlePatchOptions,
): Promise<CaBundlePatchResult["outcome"]> {
  const signal = (): AbortSignal => {
    const timeout = AbortSignal.timeout(opts.timeoutMs ?? 10_000);
    return opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
  };
  const retries = opts.conflictRetries ?? 3;
  for (let attempt = 0; ; attempt++) {
    const config = await client.get<KubeObject>(ref, { signal: signal() });
    if (!config) return "missing";
    const webhooks = Array.isArray(config.webhooks) ? (config.webhooks as WebhookEntry[]) : [];
    if (webhooks.every((w) => w.clientConfig?.caBundle === caBundle)) return "unchanged";
    const patched = webhooks.map((w) => ({ ...w, clientConfig: { ...w.clientConfig, caBundle } }));
    try {
      await client.mergePatch(ref, { webhooks: patched }, { signal: signal(), resourceVersion: config.metadata.resourceVersion });
      return "patched";
    } catch (err) {
      if (!isConflict(err) || attempt >= retries) throw err;
    }
  }
}
