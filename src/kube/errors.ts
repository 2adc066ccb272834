/**
 * Turning failed API calls into `KubeApiError` values: the HTTP status, the reason from the
 * API server's Status body, and a message that names the object, so a log line or an event
 * says what failed without a stack trace.
 */
import { KubeApiError } from "./types.ts";
import type { ObjectRef } from "./types.ts";

/** What the API server returns on failure (`kind: Status`). */
export interface StatusBody {
  kind?: string;
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: unknown;
}

const REASON_BY_STATUS: Record<number, string> = {
  400: "BadRequest",
  401: "Unauthorized",
  403: "Forbidden",
  404: "NotFound",
  405: "MethodNotAllowed",
  406: "NotAcceptable",
  409: "Conflict",
  410: "Expired",
  415: "UnsupportedMediaType",
  422: "Invalid",
  429: "TooManyRequests",
  500: "InternalError",
  503: "ServiceUnavailable",
  504: "Timeout",
};

/** Reasons aviary uses for failures that never reached (or never came back from) the server. */
export const REASON_TIMEOUT = "Timeout";
export const REASON_ABORTED = "Aborted";
export const REASON_CONNECTION = "ConnectionError";
/** The apiVersion/kind is not served: the CRD is not installed (client-go's NoKindMatchError). */
export const REASON_NO_KIND_MATCH = "NoKindMatch";

export function parseStatusBody(text: string): StatusBody | undefined {
  if (!text) return undefined;
  try {
    const body = JSON.parse(text) as unknown;
    if (body && typeof body === "object" && (body as StatusBody).kind === "Status") return body as StatusBody;
  } catch {
    // Not JSON (a proxy's HTML error page, say): the caller falls back to the raw text.
  }
  return undefined;
}

/** "Deployment apps/v1 ns/name", "Namespace v1 name", "Deployment apps/v1 in ns". */
export function describeRef(ref: { apiVersion: string; kind: string; namespace?: string | undefined; name?: string | undefined }): string {
  const where = ref.name ? (ref.namespace ? `${ref.namespace}/${ref.name}` : ref.name) : ref.namespace ? `in ${ref.namespace}` : "(all namespaces)";
  return `${ref.kind} ${ref.apiVersion} ${where}`;
}

/** The error for an HTTP response outside 2xx. `action` reads like "get Deployment apps/v1 ns/web". */
export function apiErrorFromResponse(action: string, status: number, bodyText: string): KubeApiError {
  const body = parseStatusBody(bodyText);
  const reason = body?.reason || REASON_BY_STATUS[status] || (status >= 500 ? "InternalError" : "Unknown");
  const detail = body?.message || bodyText.trim().slice(0, 300) || `HTTP ${status}`;
  return new KubeApiError(`${action}: ${detail} (HTTP ${status} ${reason})`, status, reason);
}

/** The error for a call that failed before a response: timeout, abort or connection failure. */
export function apiErrorFromException(action: string, err: unknown, timedOut: boolean, aborted: boolean): KubeApiError {
  if (err instanceof KubeApiError) return err;
  if (timedOut) return new KubeApiError(`${action}: no answer within the timeout`, 0, REASON_TIMEOUT);
  if (aborted) return new KubeApiError(`${action}: aborted`, 0, REASON_ABORTED);
  return new KubeApiError(`${action}: ${describeCause(err)}`, 0, REASON_CONNECTION);
}

export function noKindMatch(apiVersion: string, kind: string): KubeApiError {
  return new KubeApiError(
    `no matches for kind "${kind}" in version "${apiVersion}" (is its CRD installed?)`,
    404,
    REASON_NO_KIND_MATCH,
  );
}

export const isNoKindMatch = (err: unknown): boolean => err instanceof KubeApiError && err.reason === REASON_NO_KIND_MATCH;

/** The kind has no such subresource (a CRD without `subresources.status`, say). */
export const REASON_NO_SUBRESOURCE = "NoSubresource";

/** A missing object, as opposed to a missing kind or subresource (which `isNotFound` also matches). */
export const isObjectNotFound = (err: unknown): boolean => err instanceof KubeApiError && err.status === 404 && err.reason === "NotFound";

/** 410 Gone: a watch or a paginated list asked for a resourceVersion the server no longer has. */
export const isGone = (err: unknown): boolean => err instanceof KubeApiError && err.status === 410;

/** The API server could not be reached, did not answer, or answered that it is failing or overloaded. */
export const isServerUnavailable = (err: unknown): boolean =>
  err instanceof KubeApiError && (err.status === 0 || err.status === 429 || err.status >= 500);

export function refAction(verb: string, ref: ObjectRef, subresource?: string): string {
  return `${verb} ${describeRef(ref)}${subresource ? ` (${subresource})` : ""}`;
}

function describeCause(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  // undici reports "fetch failed" and hides the useful part (ECONNREFUSED, a TLS error) in `cause`.
  const cause = (err as { cause?: unknown }).cause;
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return `${err.message}: ${typeof code === "string" ? `${code} ` : ""}${cause.message}`;
  }
  return err.message;
}
