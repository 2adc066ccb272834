/**
 * Which log level a failed reconcile deserves. An error-level line is one that needs a
 * person. The expected failures of a level-triggered controller do not: a conflict (another
 * writer got there first), an object deleted under the reconcile, a namespace being torn
 * down, an API server briefly unavailable or throttling, the target moving during a
 * promotion. They are retried with backoff and logged as warnings — until the same key has
 * kept failing long enough that the retry clearly is not working.
 */
import { KubeApiError } from "../kube/types.ts";

/** Consecutive failures of one key after which even an expected failure needs a person. */
export const PERSISTENT_FAILURES = 8;

/** Errors named by aviary's own retryable kinds: the world moved, the next reconcile catches up. */
const EXPECTED_NAMES: ReadonlySet<string> = new Set(["RevisionMovedError", "SnapshotMovedError", "RouteStateError", "AbortError", "TimeoutError"]);

/** The API server refuses new objects in a namespace that is being deleted. */
const isNamespaceTerminating = (err: KubeApiError): boolean => err.status === 403 && /being terminated/.test(err.message);

export function isExpectedFailure(err: unknown): boolean {
  if (err instanceof KubeApiError) {
    return err.status === 0 || err.status === 404 || err.status === 409 || err.status === 429 || err.status >= 500 || isNamespaceTerminating(err);
  }
  return err instanceof Error && EXPECTED_NAMES.has(err.name);
}

export function reconcileFailureLevel(err: unknown, consecutiveFailures: number): "warn" | "error" {
  return isExpectedFailure(err) && consecutiveFailures < PERSISTENT_FAILURES ? "warn" : "error";
}
