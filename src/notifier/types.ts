/**
 * The alert-notifier port: one small interface per chat or webhook service (Slack,
 * Microsoft Teams, Discord, a generic JSON webhook), the provider-neutral message every
 * notifier renders, and the typed error a failed send comes back as.
 *
 * A notifier only formats and posts. Which alerts fire, where their addresses come from
 * and what happens when a send fails is the dispatcher's business.
 */
import type { AlertProviderType, AlertSeverity, CanaryPhase } from "../api/types.ts";

/** Per-POST timeout when the caller sets none. Alerts must never hold a reconcile for long. */
export const DEFAULT_NOTIFIER_TIMEOUT_MS = 5_000;

/** One labelled value shown with an alert (rendered as Slack fields, Teams facts, Discord embed fields). */
export interface AlertField {
  name: string;
  value: string;
}

/**
 * What an alert says, before any service's formatting. Built by `buildAlertMessage`
 * (message.ts) from the Canary and the event plan emitted.
 */
export interface AlertMessage {
  canary: { namespace: string; name: string };
  /** The Event reason (`NewRevision`, `CheckFailed`, `Promoted`, `RolledBack`, ...). */
  reason: string;
  severity: AlertSeverity;
  /** One line: what happened, e.g. `test/podinfo: revision 7c9f6d promoted`. */
  title: string;
  /** Why: the event's own message, then one line per failed check of the last analysis. */
  text: string;
  phase?: CanaryPhase;
  /** The canary's traffic weight in percent. */
  weight: number;
  failedChecks: number;
  /** The failed checks that trigger a rollback (analysis.threshold). */
  threshold: number;
  /** Pod-template hash of the revision under analysis (or last applied). */
  revision?: string;
  /** Who made the revision (`aviary.dev/changed-by` of the target). */
  changedBy?: string;
  /** The failed/no-data/errored checks of the last analysis, one sentence each. */
  failedCheckDetails: string[];
  /** The labelled values every notifier shows, in display order. */
  fields: AlertField[];
  /** Extra string pairs for machine consumers (the generic webhook's `metadata`). */
  metadata: Record<string, string>;
  /** ISO 8601, when the message was built. */
  timestamp: string;
}

/** Where and as whom one AlertProvider posts; the address and token may come from a Secret. */
export interface NotifierTarget {
  /** The webhook URL (secret: never logged in full). */
  address: string;
  /** An HTTP(S) proxy URL the POST goes through. */
  proxy?: string;
  /** Slack channel override. */
  channel?: string;
  /** Display name override (Slack, Discord). */
  username?: string;
  /** Bearer token for the generic webhook (Secret key `token`). */
  token?: string;
}

export interface Notifier {
  readonly type: AlertProviderType;
  /** Posts the message; resolves when the service accepted it, rejects with a NotifierError. */
  send(message: AlertMessage, signal?: AbortSignal): Promise<void>;
}

export type NotifierErrorKind =
  /** The provider or its Secret is missing or incomplete: retrying will not help until it is fixed. */
  | "Config"
  /** The service answered outside 2xx. */
  | "Http"
  /** No answer within the timeout. */
  | "Timeout"
  /** The caller's signal aborted the send. */
  | "Aborted"
  /** No connection (refused, DNS, TLS, proxy). */
  | "Network";

/** A failed send or a provider that cannot be resolved. Messages carry redacted URLs only. */
export class NotifierError extends Error {
  readonly kind: NotifierErrorKind;
  readonly retryable: boolean;
  readonly status: number | undefined;
  constructor(kind: NotifierErrorKind, message: string, opts: { status?: number; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = "NotifierError";
    this.kind = kind;
    this.status = opts.status;
    this.retryable =
      kind === "Timeout" || kind === "Network" || (kind === "Http" && (opts.status === 429 || (opts.status ?? 0) >= 500));
  }
}

/** An `AlertProvider` type that no notifier serves. */
export class UnknownAlertProviderError extends NotifierError {
  constructor(type: string, known: readonly string[]) {
    super("Config", `unknown alert provider type ${JSON.stringify(type)}; expected one of ${known.join(", ")}`);
    this.name = "UnknownAlertProviderError";
  }
}

/** Everything a notifier is built with. */
export interface NotifierInit {
  target: NotifierTarget;
  /** Per-POST timeout (default DEFAULT_NOTIFIER_TIMEOUT_MS). */
  timeoutMs?: number;
}
