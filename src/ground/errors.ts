/**
 * The one error vocabulary: an error is `retryable` unless it carries `retryable: false`.
 *
 * A retryable error (an API server hiccup, a conflict, a route object someone deleted) is
 * requeued with backoff by the work queue. A terminal one (an invalid field, a missing CRD)
 * cannot be fixed by trying again: the reconciler reports it once (a Ready=False condition
 * and an event) and the work queue does not retry it in a hot loop.
 */

export type ErrorKind = "retryable" | "terminal";

/** What an error carries to say which kind it is. */
export interface KindedError extends Error {
  readonly retryable: boolean;
  /** The field of the input at fault, when one is. */
  readonly field?: string;
}

export function errorKind(err: unknown): ErrorKind {
  if (typeof err !== "object" || err === null) return "retryable";
  return (err as { retryable?: unknown }).retryable === false ? "terminal" : "retryable";
}

export const isTerminal = (err: unknown): err is KindedError & { retryable: false } =>
  err instanceof Error && errorKind(err) === "terminal";

/** An error that retrying with the same input cannot fix. */
export class TerminalError extends Error {
  readonly retryable = false;
  constructor(message: string) {
    super(message);
    this.name = "TerminalError";
  }
}
