/**
 * Revision hashes: what makes two versions of a workload "the same revision".
 *
 * A revision is the pod template plus the content of every ConfigMap/Secret it references
 * (a config edit alone must start a canary run). Hashes are sha256 over a
 * canonical JSON form (object keys sorted, so key order never matters), shortened to 16 hex
 * characters (64 bits: collisions are not a practical concern for a handful of revisions
 * per workload, and the value stays readable in `kubectl get`).
 *
 * What is hashed is decided here and nowhere else, because the mutating webhook, the
 * watcher and the controller must agree on it byte for byte.
 */
import { createHash, createHmac } from "node:crypto";

export const HASH_HEX_LENGTH = 16;

const REVISION_FORMAT = new RegExp(`^[0-9a-f]{${HASH_HEX_LENGTH}}$`);

/** A revision in aviary's format; Flagger's (a short FNV hash, safe-encoded) never is one. */
export const isAviaryRevision = (revision: string): boolean => REVISION_FORMAT.test(revision);

/** Annotations and labels under this prefix are aviary's own bookkeeping, never the workload. */
const AVIARY_PREFIX = "aviary.dev/";

export interface HashOptions {
  /**
   * A secret key: when set the hash is an HMAC-SHA256. Use it for Secret content, whose
   * plain hash in a world-readable Canary status would let anyone test guesses of a
   * low-entropy value offline. The key must be stable across restarts, or every revision
   * changes and every canary starts a run.
   */
  key?: string;
}

/**
 * JSON with object keys in code-unit order and no whitespace. Object members whose value
 * is `null` or `undefined` are left out: the Kubernetes API treats an explicit null as an
 * absent optional field, and clients differ in which of the two they send (the JS client
 * writes `creationTimestamp: null`, kubectl omits it). Array elements keep their order and
 * nulls, because order in a container list is meaningful. Empty objects and arrays are
 * kept: `emptyDir: {}` declares a volume, it is not the same as leaving the field out.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || value === undefined) return "null";
  if (typeof value === "bigint") throw new TypeError("canonicalJson: bigint has no JSON form");
  if (typeof value !== "object") return JSON.stringify(value) ?? "null";
  const withToJson = value as { toJSON?: () => unknown };
  if (typeof withToJson.toJSON === "function") return canonicalJson(withToJson.toJSON());
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== null && v !== undefined && typeof v !== "function" && typeof v !== "symbol")
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
}

/** sha256 (or HMAC-SHA256 with a key) of a string, as HASH_HEX_LENGTH lowercase hex characters. */
export function shortHash(text: string, opts: HashOptions = {}): string {
  const h = opts.key !== undefined ? createHmac("sha256", opts.key) : createHash("sha256");
  return h.update(text, "utf8").digest("hex").slice(0, HASH_HEX_LENGTH);
}

const withoutAviaryKeys = (map: unknown): unknown => {
  if (map === null || typeof map !== "object" || Array.isArray(map)) return map;
  return Object.fromEntries(Object.entries(map).filter(([k]) => !k.startsWith(AVIARY_PREFIX)));
};

/**
 * The template as it is hashed. Left out, and why:
 * - `metadata.creationTimestamp`: always null in a template, serialized differently by clients;
 * - annotations and labels under `aviary.dev/`: aviary's own bookkeeping (e.g. the revision
 *   stamp); hashing them would make the stamp change the hash it records;
 * - `spec.nodeSelector` keys under `aviary.dev/`: the selector that parks an idle DaemonSet
 *   canary (ground/workloads.ts); a selector left empty by that is left out, as the API
 *   server itself stores no empty map.
 *
 * Kept on purpose:
 * - `kubectl.kubernetes.io/restartedAt`: `kubectl rollout restart` is a new revision that
 *   users expect to roll out, so it goes through analysis like any other;
 * - fields the API server defaults (imagePullPolicy, terminationMessagePath, …): defaulting
 *   happens before admission and before the object is stored, so the webhook and the
 *   watcher both see them; stripping "default" values by a hand-kept list could hide a real
 *   change (e.g. a policy set back to its default) and would drift from the server's list.
 */
export function normalizePodTemplate(template: unknown): unknown {
  if (template === null || typeof template !== "object") return template;
  const t = template as { metadata?: Record<string, unknown>; [field: string]: unknown };
  const spec = withoutParkingSelector(t.spec);
  const normalized = spec === t.spec ? t : { ...t, spec };
  if (t.metadata === undefined || t.metadata === null || typeof t.metadata !== "object") return normalized;
  const metadata: Record<string, unknown> = { ...t.metadata };
  delete metadata.creationTimestamp;
  if (metadata.annotations !== undefined) metadata.annotations = withoutAviaryKeys(metadata.annotations);
  if (metadata.labels !== undefined) metadata.labels = withoutAviaryKeys(metadata.labels);
  return { ...normalized, metadata };
}

/** The pod spec without aviary's node-selector keys; the same object when it has none. */
function withoutParkingSelector(spec: unknown): unknown {
  if (spec === null || typeof spec !== "object" || Array.isArray(spec)) return spec;
  const selector = (spec as { nodeSelector?: unknown }).nodeSelector;
  if (selector === null || typeof selector !== "object" || Array.isArray(selector)) return spec;
  if (!Object.keys(selector).some((k) => k.startsWith(AVIARY_PREFIX))) return spec;
  const rest = withoutAviaryKeys(selector) as Record<string, unknown>;
  const copy: Record<string, unknown> = { ...(spec as Record<string, unknown>) };
  if (Object.keys(rest).length > 0) copy.nodeSelector = rest;
  else delete copy.nodeSelector;
  return copy;
}

/** The hash of a workload's `spec.template`: equal for equal workloads, whatever the key order. */
export function hashPodTemplate(template: unknown, opts: HashOptions = {}): string {
  return shortHash(canonicalJson(normalizePodTemplate(template)), opts);
}

/** The parts of a ConfigMap or Secret that reach the pods. */
export interface ConfigContent {
  data?: Record<string, string> | null;
  binaryData?: Record<string, string> | null;
}

/**
 * The hash of a ConfigMap's or Secret's content (`data` and `binaryData`; a Secret's
 * `stringData` is write-only and already merged into `data` by the API server). Metadata
 * is left out: relabelling a ConfigMap does not change what the pods read. An absent map
 * and an empty one hash the same, since both mount nothing.
 */
export function hashConfigData(content: ConfigContent, opts: HashOptions = {}): string {
  const data = content.data ?? {};
  const binaryData = content.binaryData ?? {};
  return shortHash(canonicalJson({ data, binaryData }), opts);
}

/**
 * The revision a target carries: its template hash combined with the content hashes of the
 * configs it references (`status.trackedConfigs`, keyed `ConfigMap/<name>` / `Secret/<name>`).
 * With no configs the revision is the template hash itself, so it equals the
 * `aviary.dev/revision` stamp the admission webhook writes from the template alone.
 */
export function revisionOf(templateHash: string, trackedConfigs: Record<string, string>): string {
  if (Object.keys(trackedConfigs).length === 0) return templateHash;
  return shortHash(canonicalJson({ template: templateHash, configs: trackedConfigs }));
}
