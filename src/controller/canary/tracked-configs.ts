/**
 * `status.trackedConfigs`: the content hash of every config a revision was built from.
 * ConfigMap content is hashed plainly. Secret content is an HMAC with aviary's own key
 * (kube/hash-key.ts), written `<key id>:<hash>` so a later reconcile knows which key made
 * it. A status written before aviary had its own key holds bare hashes keyed with the
 * Canary's uid (which any reader of the Canary knows: that is why it was replaced).
 *
 * Rotation never looks like a content change: while the status records an older key that
 * aviary still has (the previous key, or the uid for bare hashes), the revision is
 * recomputed with that key. If it matches the status, nothing changed: an idle Canary is
 * re-keyed on the spot (`rekeyedFrom` tells plan to move its recorded revisions to the new
 * hashes, without a run), and a Canary in a run keeps the older key until the run ends.
 */
import type { Canary } from "../../api/types.ts";
import { hashConfigData, revisionOf } from "../../ground/hash.ts";
import type { HashKey, HashKeys } from "../../kube/hash-key.ts";
import type { ConfigMapOrSecret } from "./config-refs.ts";

/** A key as used for one status: `id` undefined for the legacy uid key (bare hashes). */
interface UsedKey {
  id?: string;
  key: string;
}

const LEGACY = "";

export interface TrackedContent {
  key: string;
  kind: "ConfigMap" | "Secret";
  obj: ConfigMapOrSecret;
}

export interface SecretHashing {
  trackedConfigs: Record<string, string>;
  /** The revision the same content had under the older key, when this reconcile re-keys. */
  rekeyedFrom?: string;
}

/** The key id a status's Secret hashes were made with; LEGACY for bare hashes; undefined with no Secret. */
export function recordedKeyId(tracked: Readonly<Record<string, string>> | undefined): string | undefined {
  for (const [k, v] of Object.entries(tracked ?? {})) {
    if (!k.startsWith("Secret/")) continue;
    const i = v.indexOf(":");
    return i > 0 ? v.slice(0, i) : LEGACY;
  }
  return undefined;
}

export function hashContents(contents: readonly TrackedContent[], key: UsedKey): Record<string, string> {
  const tracked: Record<string, string> = {};
  for (const c of contents) {
    if (c.kind !== "Secret") {
      tracked[c.key] = hashConfigData(c.obj);
      continue;
    }
    const hmac = hashConfigData(c.obj, { key: key.key });
    tracked[c.key] = key.id !== undefined ? `${key.id}:${hmac}` : hmac;
  }
  return tracked;
}

const IDLE_PHASES: ReadonlySet<string> = new Set(["Initialized", "Succeeded", "Failed"]);

export function secretHashing(canary: Canary, contents: readonly TrackedContent[], templateHash: string, keys: HashKeys | undefined): SecretHashing {
  const legacy: UsedKey = { key: canary.metadata.uid ?? `${canary.metadata.namespace ?? "default"}/${canary.metadata.name}` };
  const current: UsedKey = keys?.current ?? legacy;
  const status = canary.status ?? {};
  const recorded = recordedKeyId(status.trackedConfigs);
  const currentId = current.id ?? LEGACY;
  const withCurrent = (): SecretHashing => ({ trackedConfigs: hashContents(contents, current) });
  if (recorded === undefined || recorded === currentId || !contents.some((c) => c.kind === "Secret")) return withCurrent();
  const older: HashKey | UsedKey | undefined = recorded === LEGACY ? legacy : keys?.previous?.id === recorded ? keys.previous : undefined;
  if (older === undefined) return withCurrent(); // the key that made them is gone: content cannot be compared
  const olderTracked = hashContents(contents, older);
  const olderRevision = revisionOf(templateHash, olderTracked);
  const idle = IDLE_PHASES.has(status.phase ?? "") && status.lastAppliedSpec === status.lastPromotedSpec;
  if (!idle) return { trackedConfigs: olderTracked }; // a run keeps the key it started with
  if (olderRevision !== status.lastAppliedSpec) return withCurrent(); // the content changed as well: a real revision
  return { ...withCurrent(), rekeyedFrom: olderRevision };
}
