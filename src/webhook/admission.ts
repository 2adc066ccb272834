/**
 * AdmissionReview `admission.k8s.io/v1`: the wire types, a strict parser for what the API
 * server sends, and the handler contract the server dispatches to.
 *
 * Handlers return an AdmissionResult (no uid, patch as JSON Patch operations); the server
 * turns it into the AdmissionResponse, so no handler can forget to echo the uid or to
 * base64-encode the patch.
 */
import type { Operation } from "fast-json-patch";
import type { KubeObject } from "../kube/types.ts";
import type { Logger } from "../observability/logger.ts";

export const ADMISSION_API_VERSION = "admission.k8s.io/v1";
export const ADMISSION_KIND = "AdmissionReview";

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

export interface GroupVersionResource {
  group: string;
  version: string;
  resource: string;
}

export const ADMISSION_OPERATIONS = ["CREATE", "UPDATE", "DELETE", "CONNECT"] as const;
export type AdmissionOperation = (typeof ADMISSION_OPERATIONS)[number];

export interface UserInfo {
  username?: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

export interface AdmissionRequest {
  uid: string;
  kind: GroupVersionKind;
  resource: GroupVersionResource;
  subResource?: string;
  requestKind?: GroupVersionKind;
  requestResource?: GroupVersionResource;
  requestSubResource?: string;
  name?: string;
  namespace?: string;
  operation: AdmissionOperation;
  userInfo: UserInfo;
  /** The object after the operation; null for DELETE. */
  object?: KubeObject | null;
  /** The object before the operation; null for CREATE. */
  oldObject?: KubeObject | null;
  /** True when the request will not be persisted: handlers must have no side effects. */
  dryRun?: boolean;
  options?: unknown;
}

export interface AdmissionStatus {
  code?: number;
  message?: string;
  reason?: string;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: AdmissionStatus;
  /** base64 of a JSON Patch (RFC 6902) document. */
  patch?: string;
  patchType?: "JSONPatch";
  warnings?: string[];
  auditAnnotations?: Record<string, string>;
}

export interface AdmissionReview {
  apiVersion: typeof ADMISSION_API_VERSION;
  kind: typeof ADMISSION_KIND;
  request?: AdmissionRequest;
  response?: AdmissionResponse;
}

/** What a handler decided. The server adds the uid and encodes the patch. */
export interface AdmissionResult {
  allowed: boolean;
  /** Shown to the client on denial. */
  message?: string;
  /** HTTP-style code reported to the client on denial (default 403). */
  code?: number;
  reason?: string;
  /** Mutations as JSON Patch operations, computed by diffing the original and the mutated object. */
  patch?: Operation[];
  warnings?: string[];
}

export const allowed = (warnings?: string[]): AdmissionResult =>
  warnings && warnings.length > 0 ? { allowed: true, warnings } : { allowed: true };

export const denied = (message: string, code = 403, warnings?: string[]): AdmissionResult => ({
  allowed: false,
  message,
  code,
  reason: code === 422 ? "Invalid" : "Forbidden",
  ...(warnings && warnings.length > 0 ? { warnings } : {}),
});

/**
 * Per route: what the server answers when the handler throws or times out. Mirrors the
 * webhook configuration's failurePolicy, so a crashing Deployment mutator lets the deploy
 * through exactly as a down webhook would.
 */
export type FailurePolicy = "Fail" | "Ignore";

export interface HandlerContext {
  /** Aborted when the handler's time budget is spent; pass it to every lookup. */
  signal: AbortSignal;
  log: Logger;
}

export interface AdmissionHandler {
  /** "mutate" serves POST /mutate/<name>, "validate" serves POST /validate/<name>. */
  type: "mutate" | "validate";
  name: string;
  failurePolicy: FailurePolicy;
  /** Time budget of one call; the server's default applies when absent. */
  timeoutMs?: number;
  handle(request: AdmissionRequest, ctx: HandlerContext): AdmissionResult | Promise<AdmissionResult>;
}

export function routePath(handler: Pick<AdmissionHandler, "type" | "name">): string {
  return `/${handler.type}/${handler.name}`;
}

export function toResponse(uid: string, result: AdmissionResult): AdmissionResponse {
  const response: AdmissionResponse = { uid, allowed: result.allowed };
  if (!result.allowed) {
    response.status = { code: result.code ?? 403, message: result.message ?? "denied", reason: result.reason ?? "Forbidden" };
  }
  if (result.allowed && result.patch && result.patch.length > 0) {
    response.patchType = "JSONPatch";
    response.patch = Buffer.from(JSON.stringify(result.patch)).toString("base64");
  }
  if (result.warnings && result.warnings.length > 0) response.warnings = result.warnings;
  return response;
}

export function toReview(response: AdmissionResponse): AdmissionReview {
  return { apiVersion: ADMISSION_API_VERSION, kind: ADMISSION_KIND, response };
}

// ---------------------------------------------------------------------------------------
// Parsing: the body is untrusted until every field a handler reads has been checked.
// ---------------------------------------------------------------------------------------

export type ParseResult = { ok: true; request: AdmissionRequest } | { ok: false; error: string };

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === "string");
const isStringMap = (v: unknown): v is Record<string, string> =>
  isRecord(v) && Object.values(v).every((s) => typeof s === "string");

/** Kubernetes uids are UUIDs; anything much longer is not from an API server. */
const MAX_UID_LENGTH = 128;

function checkGroupVersion(v: unknown, field: string, last: "kind" | "resource"): string | null {
  if (!isRecord(v)) return `${field} must be an object`;
  for (const key of ["group", "version", last]) {
    if (typeof v[key] !== "string") return `${field}.${key} must be a string`;
  }
  return null;
}

function checkObject(v: unknown, field: string): string | null {
  if (v === undefined || v === null) return null;
  if (!isRecord(v)) return `${field} must be an object or null`;
  const meta = v.metadata;
  if (meta === undefined) return null;
  if (!isRecord(meta)) return `${field}.metadata must be an object`;
  for (const key of ["name", "namespace", "generateName"]) {
    if (meta[key] !== undefined && typeof meta[key] !== "string") return `${field}.metadata.${key} must be a string`;
  }
  if (meta.labels !== undefined && meta.labels !== null && !isStringMap(meta.labels)) {
    return `${field}.metadata.labels must map strings to strings`;
  }
  if (meta.annotations !== undefined && meta.annotations !== null && !isStringMap(meta.annotations)) {
    return `${field}.metadata.annotations must map strings to strings`;
  }
  return null;
}

function checkUserInfo(v: unknown): string | null {
  if (!isRecord(v)) return "request.userInfo must be an object";
  if (v.username !== undefined && typeof v.username !== "string") return "request.userInfo.username must be a string";
  if (v.groups !== undefined && v.groups !== null && !isStringArray(v.groups)) {
    return "request.userInfo.groups must be a list of strings";
  }
  return null;
}

/**
 * Validates an AdmissionReview body and returns its request. Every field a handler relies
 * on is checked here, so handlers can read labels, annotations and the user without
 * defensive code; the object bodies themselves stay `unknown`-shaped below metadata.
 */
export function parseAdmissionReview(body: unknown): ParseResult {
  const fail = (error: string): ParseResult => ({ ok: false, error });
  if (!isRecord(body)) return fail("body must be a JSON object (an AdmissionReview)");
  if (body.kind !== ADMISSION_KIND) return fail(`kind must be "${ADMISSION_KIND}"`);
  if (body.apiVersion !== ADMISSION_API_VERSION) {
    return fail(`apiVersion must be "${ADMISSION_API_VERSION}" (set admissionReviewVersions: ["v1"])`);
  }
  const r = body.request;
  if (!isRecord(r)) return fail("request must be an object");
  if (typeof r.uid !== "string" || r.uid.length === 0 || r.uid.length > MAX_UID_LENGTH) {
    return fail(`request.uid must be a non-empty string of at most ${MAX_UID_LENGTH} characters`);
  }
  const problem =
    checkGroupVersion(r.kind, "request.kind", "kind") ??
    checkGroupVersion(r.resource, "request.resource", "resource") ??
    (typeof r.operation === "string" && (ADMISSION_OPERATIONS as readonly string[]).includes(r.operation)
      ? null
      : `request.operation must be one of ${ADMISSION_OPERATIONS.join(", ")}`) ??
    checkUserInfo(r.userInfo) ??
    checkObject(r.object, "request.object") ??
    checkObject(r.oldObject, "request.oldObject");
  if (problem) return fail(problem);
  for (const key of ["name", "namespace", "subResource"]) {
    if (r[key] !== undefined && typeof r[key] !== "string") return fail(`request.${key} must be a string`);
  }
  if (r.dryRun !== undefined && typeof r.dryRun !== "boolean") return fail("request.dryRun must be a boolean");
  return { ok: true, request: r as unknown as AdmissionRequest };
}

// ---------------------------------------------------------------------------------------
// Small readers shared by the handlers
// ---------------------------------------------------------------------------------------

export const labelsOf = (obj: KubeObject | null | undefined): Record<string, string> => obj?.metadata?.labels ?? {};
export const annotationsOf = (obj: KubeObject | null | undefined): Record<string, string> =>
  obj?.metadata?.annotations ?? {};

/** `true` when the request's user is one of `usernames`. */
export function isUserIn(userInfo: UserInfo, usernames: readonly string[]): boolean {
  return userInfo.username !== undefined && usernames.includes(userInfo.username);
}

/** The object's display name for messages: metadata.name, else the request's name. */
export function objectName(request: AdmissionRequest): string {
  return request.object?.metadata?.name ?? request.oldObject?.metadata?.name ?? request.name ?? "";
}
