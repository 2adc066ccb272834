/**
 * The human side of an alert, built once and rendered by every notifier: a headline that
 * says what happened to which Canary, the reason in plan's own words (which already carry
 * the numbers, e.g. `request-success-rate 93.1% < 99%`), the failed checks of the last
 * analysis, and the labelled values an on-call engineer looks for first (phase, weight,
 * failed checks against the threshold, revision, who made it). Pure: no clock, no I/O.
 */
import type { AlertSeverity, AnalysisResult, Canary } from "../api/types.ts";
import type { AlertField, AlertMessage } from "./types.ts";

/** An event plan emitted with `alert: true`, plus what the reconciler knows beyond the Canary. */
export interface AlertEvent {
  reason: string;
  message: string;
  severity: AlertSeverity;
  /** `aviary.dev/changed-by` of the target (the revision's author), when known. */
  changedBy?: string | undefined;
  /** The revision the event is about; default: status.canaryRevision, else status.lastAppliedSpec. */
  revision?: string | undefined;
  /** Extra string pairs passed through to the generic webhook's `metadata`. */
  metadata?: Record<string, string> | undefined;
}

/** Colours by severity, shared so every service shows the same thing (Slack's good/warning/danger). */
export const SEVERITY_COLORS: Readonly<Record<AlertSeverity, string>> = {
  info: "#2EB67D",
  warn: "#ECB22E",
  error: "#E01E5A",
};

interface HeadlineContext {
  revision: string;
  by: string;
  weight: number;
  failedChecks: number;
  threshold: number;
  iterations: number;
}

/** What happened, per Event reason; reasons not listed fall back to the reason itself. */
const HEADLINES: Readonly<Record<string, (c: HeadlineContext) => string>> = {
  Initialized: () => "initialized, primary serves all traffic",
  NewRevision: (c) => `new ${c.revision}${c.by}, starting a canary run`,
  Retrying: (c) => `retrying ${c.revision}${c.by}`,
  GateClosed: (c) => `${c.revision} waits for approval`,
  GateOpened: (c) => `${c.revision} approved`,
  AnalysisStarted: (c) => `analysis of ${c.revision} started`,
  WeightAdvanced: (c) => `canary weight ${c.weight}% for ${c.revision}`,
  IterationAdvanced: (c) => `analysis iteration ${c.iterations} of ${c.revision} passed`,
  CheckFailed: (c) => `check failed for ${c.revision} (${c.failedChecks}/${c.threshold})`,
  CheckHalted: (c) => `checks for ${c.revision} could not run`,
  Promoting: (c) => `promoting ${c.revision}`,
  Promoted: (c) => `${c.revision} promoted`,
  RolledBack: (c) => `${c.revision} rolled back`,
  ProgressDeadlineExceeded: (c) => `${c.revision} missed its progress deadline`,
  RevisionReverted: () => "target reverted to the promoted revision, run cancelled",
  Suspended: () => "suspended",
  Paused: () => "paused",
  Terminated: () => "terminated",
};

/** The provider-neutral alert for one event of one Canary. `now` is injected (no clock here). */
export function buildAlertMessage(canary: Canary, event: AlertEvent, now: Date): AlertMessage {
  const namespace = canary.metadata.namespace ?? "default";
  const name = canary.metadata.name;
  const status = canary.status ?? {};
  const weight = status.canaryWeight ?? 0;
  const failedChecks = status.failedChecks ?? 0;
  const threshold = canary.spec.analysis?.threshold ?? 1;
  const revision = nonEmpty(event.revision) ?? nonEmpty(status.canaryRevision) ?? nonEmpty(status.lastAppliedSpec);
  const changedBy = nonEmpty(event.changedBy);

  const headline = HEADLINES[event.reason] ?? (() => humanize(event.reason));
  const title = `${namespace}/${name}: ${headline({
    revision: revision !== undefined ? `revision ${revision}` : "the revision",
    by: changedBy !== undefined ? ` by ${changedBy}` : "",
    weight,
    failedChecks,
    threshold,
    iterations: status.iterations ?? 0,
  })}`;

  const failedCheckDetails = (status.lastAnalysis ?? []).filter(isFailure).map(describeCheck);
  // plan's message usually quotes the failing checks already; repeat only what it leaves out.
  const extra = failedCheckDetails.filter((line) => !event.message.includes(line));
  const text = [capitalize(event.message), ...extra.map((line) => `• ${line}`)].join("\n");

  const fields: AlertField[] = [
    { name: "Canary", value: `${namespace}/${name}` },
    { name: "Phase", value: status.phase ?? "Unknown" },
    { name: "Traffic", value: `canary ${weight}% / primary ${100 - weight}%` },
    { name: "Failed checks", value: `${failedChecks}/${threshold}` },
  ];
  if (revision !== undefined) fields.push({ name: "Revision", value: revision });
  if (changedBy !== undefined) fields.push({ name: "Changed by", value: changedBy });

  const message: AlertMessage = {
    canary: { namespace, name },
    reason: event.reason,
    severity: event.severity,
    title,
    text,
    weight,
    failedChecks,
    threshold,
    failedCheckDetails,
    fields,
    metadata: { ...event.metadata },
    timestamp: now.toISOString(),
  };
  if (status.phase !== undefined) message.phase = status.phase;
  if (revision !== undefined) message.revision = revision;
  if (changedBy !== undefined) message.changedBy = changedBy;
  return message;
}

/** `title` and `text` as one plain-text block, for services that show a single string. */
export function plainText(message: AlertMessage): string {
  return `${message.title}\n${message.text}`;
}

/** Checks that count against the run or stopped it: failed, no data (counted), errored. */
function isFailure(result: AnalysisResult): boolean {
  return result.verdict === "fail" || result.verdict === "nodata" || result.verdict === "error";
}

/** The check's own verdict sentence; built from value and range when it has none. */
function describeCheck(result: AnalysisResult): string {
  if (result.message !== "") return result.message;
  const range = [result.min !== undefined ? `min ${result.min}` : "", result.max !== undefined ? `max ${result.max}` : ""]
    .filter((s) => s !== "")
    .join(", ");
  const value = result.value !== undefined ? ` = ${result.value}` : "";
  return `${result.name}${value}${range ? ` (${range})` : ""}: ${result.verdict}`;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}

function capitalize(text: string): string {
  return text.length === 0 ? text : text[0]!.toUpperCase() + text.slice(1);
}

/** `ProgressDeadlineExceeded` -> `progress deadline exceeded`. */
function humanize(reason: string): string {
  return reason.replace(/([a-z0-9])([A-Z])/g, "$1 $2").toLowerCase();
}
