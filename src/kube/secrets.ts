/** Reading Secrets as plain strings, for credentials in MetricTemplates and AlertProviders. */
import type { CallOptions, KubeClient, KubeObject } from "./types.ts";

/** A Secret's `data` (base64) decoded, with `stringData` on top (as the API server would merge it). */
export function decodeSecretData(obj: KubeObject): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries((obj.data as Record<string, unknown> | undefined) ?? {})) {
    if (typeof value === "string") out[key] = Buffer.from(value, "base64").toString("utf8");
  }
  for (const [key, value] of Object.entries((obj.stringData as Record<string, unknown> | undefined) ?? {})) {
    if (typeof value === "string") out[key] = value;
  }
  return out;
}

/** The decoded data of Secret `namespace/name`, or undefined when it does not exist. */
export async function readSecretData(kube: KubeClient, namespace: string, name: string, opts: CallOptions = {}): Promise<Record<string, string> | undefined> {
  const secret = await kube.get({ apiVersion: "v1", kind: "Secret", namespace, name }, opts);
  return secret ? decodeSecretData(secret) : undefined;
}
