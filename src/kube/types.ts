/**
 * The narrow port through which aviary talks to the Kubernetes API. Only src/kube/ imports
 * @kubernetes/client-node; everything else depends on these types, so a reconcile, a router
 * or a test can be handed any implementation.
 */

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  managedFields?: unknown[];
}

/** Any Kubernetes object. Typed views (Deployment, Canary, …) narrow `spec`/`status`. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
}

export interface CallOptions {
  signal?: AbortSignal;
}

export interface ListOptions extends CallOptions {
  labelSelector?: string;
  fieldSelector?: string;
}

export type Subresource = "status" | "scale";

export interface KubeClient {
  /** Reads one object; `null` when it does not exist. */
  get<T extends KubeObject = KubeObject>(ref: ObjectRef, opts?: CallOptions): Promise<T | null>;
  list<T extends KubeObject = KubeObject>(apiVersion: string, kind: string, namespace: string | undefined, opts?: ListOptions): Promise<T[]>;
  create<T extends KubeObject = KubeObject>(obj: KubeObject, opts?: CallOptions): Promise<T>;
  /** Server-side apply with fieldManager `aviary` (force takes ownership of conflicting fields). */
  apply<T extends KubeObject = KubeObject>(obj: KubeObject, opts?: CallOptions & { force?: boolean }): Promise<T>;
  /** JSON merge patch (RFC 7386), optionally on a subresource. */
  mergePatch<T extends KubeObject = KubeObject>(ref: ObjectRef, patch: unknown, opts?: CallOptions & { subresource?: Subresource; resourceVersion?: string }): Promise<T>;
  /** Full replace (PUT); fails with 409 when metadata.resourceVersion is stale. */
  replace<T extends KubeObject = KubeObject>(obj: KubeObject, opts?: CallOptions & { subresource?: Subresource }): Promise<T>;
  /** Deletes; `false` when it was already gone. */
  delete(ref: ObjectRef, opts?: CallOptions & { propagationPolicy?: "Foreground" | "Background" | "Orphan" }): Promise<boolean>;
}

/** A failed API call. `retryable` separates transient failures from ones a retry cannot fix. */
export class KubeApiError extends Error {
  readonly status: number;
  readonly reason: string;
  readonly retryable: boolean;
  constructor(message: string, status: number, reason: string) {
    super(message);
    this.name = "KubeApiError";
    this.status = status;
    this.reason = reason;
    this.retryable = status === 0 || status === 409 || status === 429 || status >= 500;
  }
}

export const isNotFound = (err: unknown): boolean => err instanceof KubeApiError && err.status === 404;
export const isConflict = (err: unknown): boolean => err instanceof KubeApiError && err.status === 409;

export const FIELD_MANAGER = "aviary";
