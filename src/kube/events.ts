/**
 * Kubernetes Events (core/v1, what `kubectl describe` and `kubectl get events` show).
 *
 * A repeated event (same object, type, reason and message) is not written again: the
 * existing Event's `count` and `lastTimestamp` are bumped, as client-go's recorder does, so
 * a Canary retrying every few seconds shows "x12 over 2m" instead of a wall of lines.
 * The memory of recent events is a bounded LRU. Recording never throws: an event that
 * cannot be written is logged, and the reconcile that produced it goes on.
 *
 * An event recorded `once` tells a transition (a new revision, a promotion, a rollback) that
 * a reconcile may plan again after a failed write, in this process or in the next leader.
 * Its name is derived from the `once` key, so the second attempt finds it already written
 * (409 AlreadyExists) and reports "told before" instead of writing it twice; and an attempt
 * that cannot reach the API server throws, so the reconcile fails and its retry tells it.
 */
import { createHash } from "node:crypto";
import type { Logger } from "../observability/logger.ts";
import { isObjectNotFound } from "./errors.ts";
import { isConflict, KubeApiError } from "./types.ts";
import type { KubeClient, KubeObject } from "./types.ts";

export type EventType = "Normal" | "Warning";

export interface EventRecorderOptions {
  client: KubeClient;
  logger: Logger;
  /** `source.component` and `reportingComponent` (default "aviary"). */
  component?: string;
  /** `source.host` / `reportingInstance`: the pod or host name. */
  instance?: string;
  now?: () => Date;
  /** How many distinct recent events are remembered for de-duplication (default 1024). */
  cacheSize?: number;
  /** Per-write timeout (default 10 s). */
  timeoutMs?: number;
}

export interface RecordOptions {
  /** The transition this event tells (see above); recording it again with the same key writes nothing. */
  once?: string;
}

export interface EventRecorder {
  /** True when this call wrote the event (or bumped its count); false when it was told before. */
  record(object: KubeObject, type: EventType, reason: string, message: string, opts?: RecordOptions): Promise<boolean>;
}

/** The API server rejects much longer messages on events.k8s.io; core/v1 readers truncate anyway. */
export const MAX_EVENT_MESSAGE = 1024;

interface Remembered {
  name: string;
  namespace: string;
  count: number;
  /** Writes for one key go one after another, so counts never go backwards. */
  chain: Promise<void>;
}

/** The de-duplication key: the involved object (by uid when known), type, reason and message. */
export function eventKey(object: KubeObject, type: EventType, reason: string, message: string): string {
  const m = object.metadata;
  return [object.apiVersion, object.kind, m.namespace ?? "", m.name, m.uid ?? "", type, reason, message].join("\u0000");
}

/** The name of a `once` event: `<object>.<16 hex digits of the key>`, the same in every process. */
export function onceEventName(object: KubeObject, once: string): string {
  const suffix = createHash("sha256").update(`${object.metadata.uid ?? ""}\u0000${once}`).digest("hex").slice(0, 16);
  return `${object.metadata.name.slice(0, 253 - suffix.length - 1)}.${suffix}`;
}

/** client-go's naming: `<object>.<hex timestamp>`, kept under the 253-character limit. */
export function eventName(objectName: string, at: Date, seq: number): string {
  const suffix = (BigInt(at.getTime()) * 1_000_000n + BigInt(seq % 1_000_000)).toString(16);
  return `${objectName.slice(0, 253 - suffix.length - 1)}.${suffix}`;
}

export function truncateMessage(message: string): string {
  return message.length <= MAX_EVENT_MESSAGE ? message : `${message.slice(0, MAX_EVENT_MESSAGE - 3)}...`;
}

/** Seconds-precision RFC 3339, the format of metav1.Time. */
const toTime = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, "Z");

export function createEventRecorder(opts: EventRecorderOptions): EventRecorder {
  const component = opts.component ?? "aviary";
  const now = opts.now ?? (() => new Date());
  const cacheSize = opts.cacheSize ?? 1024;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const recent = new Map<string, Remembered>();
  let seq = 0;

  const remember = (key: string, entry: Remembered) => {
    recent.delete(key);
    recent.set(key, entry);
    while (recent.size > cacheSize) {
      const oldest = recent.keys().next().value as string;
      recent.delete(oldest);
    }
  };

  const create = async (object: KubeObject, type: EventType, reason: string, message: string, entry: Remembered, fixedName?: string) => {
    const at = now();
    const m = object.metadata;
    const name = fixedName ?? eventName(m.name, at, seq++);
    await opts.client.create(
      {
        apiVersion: "v1",
        kind: "Event",
        metadata: { name, namespace: entry.namespace },
        involvedObject: {
          apiVersion: object.apiVersion,
          kind: object.kind,
          name: m.name,
          ...(m.namespace ? { namespace: m.namespace } : {}),
          ...(m.uid ? { uid: m.uid } : {}),
          ...(m.resourceVersion ? { resourceVersion: m.resourceVersion } : {}),
        },
        type,
        reason,
        message: truncateMessage(message),
        count: 1,
        firstTimestamp: toTime(at),
        lastTimestamp: toTime(at),
        source: { component, ...(opts.instance ? { host: opts.instance } : {}) },
        reportingComponent: component,
        reportingInstance: opts.instance ?? component,
      },
      { signal: AbortSignal.timeout(timeoutMs) },
    );
    entry.name = name;
    entry.count = 1;
  };

  const bump = async (entry: Remembered) => {
    await opts.client.mergePatch(
      { apiVersion: "v1", kind: "Event", namespace: entry.namespace, name: entry.name },
      { count: entry.count + 1, lastTimestamp: toTime(now()) },
      { signal: AbortSignal.timeout(timeoutMs) },
    );
    entry.count++;
  };

  const recordOnce = async (object: KubeObject, type: EventType, reason: string, message: string, once: string): Promise<boolean> => {
    const entry: Remembered = { name: "", namespace: object.metadata.namespace || "default", count: 0, chain: Promise.resolve() };
    try {
      await create(object, type, reason, message, entry, onceEventName(object, once));
      return true;
    } catch (err) {
      if (isConflict(err)) return false; // AlreadyExists: told by an earlier attempt
      // The API server is unreachable or failing: the caller retries the whole transition.
      if (!(err instanceof KubeApiError) || err.retryable) throw err;
      opts.logger.warn("could not record event", { err, reason, type, object: `${object.kind} ${object.metadata.namespace ?? ""}/${object.metadata.name}` });
      return true;
    }
  };

  return {
    record(object, type, reason, message, recordOpts = {}) {
      if (recordOpts.once !== undefined) return recordOnce(object, type, reason, message, recordOpts.once);
      const key = eventKey(object, type, reason, message);
      const known = recent.get(key);
      const entry: Remembered = known ?? { name: "", namespace: object.metadata.namespace || "default", count: 0, chain: Promise.resolve() };
      remember(key, entry);
      const write = async (): Promise<boolean> => {
        try {
          if (entry.count === 0) {
            await create(object, type, reason, message, entry);
            return true;
          }
          try {
            await bump(entry);
          } catch (err) {
            // The Event expired (events have a TTL) or was deleted: start a new one.
            if (!isObjectNotFound(err)) throw err;
            await create(object, type, reason, message, entry);
          }
          return true;
        } catch (err) {
          opts.logger.warn("could not record event", {
            err,
            reason,
            type,
            object: `${object.kind} ${object.metadata.namespace ?? ""}/${object.metadata.name}`,
          });
          // Forget a failed first write so the next attempt creates the Event again.
          if (entry.count === 0) recent.delete(key);
          return true;
        }
      };
      const written = entry.chain.then(write);
      entry.chain = written.then(() => {});
      return written;
    },
  };
}
