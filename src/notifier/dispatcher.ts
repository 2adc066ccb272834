/**
 * Sends one Canary event to every alert of the Canary that wants it. For each
 * `analysis.alerts[]` entry whose severity admits the event, it reads the AlertProvider
 * (namespace defaulting to the Canary's), takes the address (and proxy, token) from the
 * provider's Secret or its spec, and posts through the provider's notifier.
 *
 * An alert is a side channel: it must never stop or slow a canary run. So `dispatch`
 * never rejects; every alert is delivered in parallel under one deadline (lookups and the
 * POST together), even a Kubernetes client that ignores its AbortSignal cannot hold it
 * past that deadline, and whatever went wrong comes back as a list of problems, each also
 * logged (with the Canary's namespace/name) and counted through the metrics hook.
 * Addresses and tokens never reach a log line or a problem: URLs show as `scheme://host/…`.
 */
import { DEFAULT_API } from "../api/groups.ts";
import type { ApiGroup } from "../api/groups.ts";
import type { AlertProvider, AlertSeverity, Canary, CanaryAlert } from "../api/types.ts";
import type { KubeClient, KubeObject } from "../kube/types.ts";
import { decodeSecretData } from "../kube/secrets.ts";
import { KubeApiError } from "../kube/types.ts";
import type { Logger } from "../observability/logger.ts";
import { redactAddress } from "./http.ts";
import { buildAlertMessage } from "./message.ts";
import type { AlertEvent } from "./message.ts";
import { createNotifierRegistry } from "./registry.ts";
import type { NotifierRegistry } from "./registry.ts";
import { NotifierError } from "./types.ts";
import type { AlertMessage, NotifierErrorKind, NotifierTarget } from "./types.ts";

/** The whole budget of one alert (AlertProvider and Secret reads plus the POST). */
export const DEFAULT_DISPATCH_TIMEOUT_MS = 10_000;

/** The metrics label used when the provider's type is not known or not registered. */
export const UNKNOWN_PROVIDER_LABEL = "unknown";

export interface AlertMetricsHook {
  /** One delivery attempt; `provider` is the AlertProvider type (slack, msteams, discord, webhook) or "unknown". */
  sent(provider: string, ok: boolean): void;
}

export interface AlertDispatcherDeps {
  kube: KubeClient;
  logger: Logger;
  metrics?: AlertMetricsHook;
  /** Per-alert deadline (default 10s); also the notifiers' POST timeout when `registry` is not given. */
  timeoutMs?: number;
  /** Default: every shipped notifier. */
  registry?: NotifierRegistry;
  /** Clock for the message timestamp. */
  now?: () => Date;
  /** The group AlertProviders are served in (--api-group); default aviary.dev. */
  api?: ApiGroup;
}

/** Why one alert was not delivered. `message` names the alert and provider, never an address. */
export interface AlertProblem {
  alert: string;
  /** `namespace/name` of the AlertProvider. */
  provider: string;
  kind: NotifierErrorKind | "KubeApi" | "Internal";
  retryable: boolean;
  message: string;
}

export interface AlertDispatcher {
  /**
   * Sends the event to the Canary's admitted alerts. Pass the Canary with the status plan
   * just computed (phase, weight, failed checks, last analysis). Never rejects; resolves
   * within the deadline with the problems (empty when everything was delivered or no
   * alert admits the event).
   */
  dispatch(canary: Canary, event: AlertEvent, signal?: AbortSignal): Promise<AlertProblem[]>;
}

interface Attempt {
  label: string;
}

const SEVERITY_RANK: Readonly<Record<AlertSeverity, number>> = { info: 0, warn: 1, error: 2 };

/**
 * Whether an alert with severity `filter` (default info, as Flagger) receives an event of
 * `event` severity: info gets everything, warn gets warn and error, error only error.
 */
export function alertAdmits(filter: AlertSeverity | "" | undefined, event: AlertSeverity): boolean {
  return SEVERITY_RANK[event] >= SEVERITY_RANK[filter || "info"];
}

export function createAlertDispatcher(deps: AlertDispatcherDeps): AlertDispatcher {
  const timeoutMs = deps.timeoutMs ?? DEFAULT_DISPATCH_TIMEOUT_MS;
  const registry = deps.registry ?? createNotifierRegistry({ timeoutMs });
  const now = deps.now ?? (() => new Date());

  const count = (provider: string, ok: boolean) => {
    try {
      deps.metrics?.sent(provider, ok);
    } catch {
      // A broken metrics hook must not turn into a failed alert.
    }
  };

  /** Reads what the AlertProvider posts to: its Secret's keys win over its spec. */
  const resolveTarget = async (provider: AlertProvider, namespace: string, signal: AbortSignal): Promise<NotifierTarget> => {
    const spec = provider.spec;
    const where = `AlertProvider ${namespace}/${provider.metadata.name}`;
    let secret: Record<string, string> = {};
    if (spec.secretRef?.name) {
      const ref = { apiVersion: "v1", kind: "Secret", namespace, name: spec.secretRef.name };
      const obj = await deps.kube.get(ref, { signal });
      if (obj === null) throw new NotifierError("Config", `Secret ${namespace}/${spec.secretRef.name} of ${where} not found`);
      secret = decodeSecret(obj);
    }
    const address = nonEmpty(secret.address) ?? nonEmpty(spec.address);
    if (address === undefined) {
      const from = spec.secretRef?.name ? ` or the key "address" of Secret ${namespace}/${spec.secretRef.name}` : "";
      throw new NotifierError("Config", `${where} has no address: set spec.address${from}`);
    }
    const target: NotifierTarget = { address };
    const proxy = nonEmpty(secret.proxy) ?? nonEmpty(spec.proxy);
    if (proxy !== undefined) target.proxy = proxy;
    const channel = nonEmpty(spec.channel);
    if (channel !== undefined) target.channel = channel;
    const username = nonEmpty(spec.username);
    if (username !== undefined) target.username = username;
    const token = nonEmpty(secret.token);
    if (token !== undefined) target.token = token;
    return target;
  };

  /** Reads the provider and its Secret, then posts; `attempt.label` names the provider type for the metrics. */
  const deliver = async (alert: CanaryAlert, canaryNamespace: string, message: AlertMessage, signal: AbortSignal, attempt: Attempt) => {
    const namespace = alert.providerRef.namespace ?? canaryNamespace;
    const ref = { ...(deps.api ?? DEFAULT_API).alertProvider, namespace, name: alert.providerRef.name };
    const provider = await deps.kube.get<AlertProvider>(ref, { signal });
    // A client that ignored the signal may answer after the deadline: do no more work then.
    signal.throwIfAborted();
    if (provider === null) throw new NotifierError("Config", `AlertProvider ${namespace}/${alert.providerRef.name} not found`);
    const type = String(provider.spec?.type ?? "");
    if (registry.has(type)) attempt.label = type;
    const target = await resolveTarget(provider, namespace, signal);
    signal.throwIfAborted();
    const notifier = registry.create(type, { target });
    await notifier.send({ ...message, metadata: { ...message.metadata, alert: alert.name, provider: `${namespace}/${ref.name}` } }, signal);
    return { type, address: redactAddress(target.address) };
  };

  return {
    async dispatch(canary, event, signal) {
      const namespace = canary.metadata?.namespace ?? "default";
      const name = canary.metadata?.name ?? "";
      const log = deps.logger.child({ namespace, name });
      let message: AlertMessage;
      let alerts: CanaryAlert[];
      try {
        alerts = (canary.spec?.analysis?.alerts ?? []).filter((a) => alertAdmits(a.severity, event.severity));
        if (alerts.length === 0) return [];
        message = buildAlertMessage(canary, event, now());
      } catch (err) {
        const problem: AlertProblem = { alert: "*", provider: "*", kind: "Internal", retryable: false, message: `alert not built: ${asError(err).message}` };
        log.error("alert not built", { reason: event.reason, error: problem.message });
        return [problem];
      }

      const results = await Promise.all(
        alerts.map(async (alert): Promise<AlertProblem | null> => {
          // Optional chaining: a malformed alert must become a problem, not a rejected dispatch.
          const provider = `${alert.providerRef?.namespace ?? namespace}/${alert.providerRef?.name ?? ""}`;
          const deadline = AbortSignal.timeout(timeoutMs);
          const bound = signal ? AbortSignal.any([signal, deadline]) : deadline;
          const attempt: Attempt = { label: UNKNOWN_PROVIDER_LABEL };
          try {
            const sent = await settleWithin(deliver(alert, namespace, message, bound, attempt), bound);
            count(attempt.label, true);
            log.debug("alert sent", { alert: alert.name, provider, type: sent.type, address: sent.address, reason: event.reason });
            return null;
          } catch (err) {
            const problem = toProblem(alert.name, provider, err, deadline, bound, timeoutMs);
            count(attempt.label, false);
            log.warn("alert not sent", { alert: alert.name, provider, reason: event.reason, kind: problem.kind, error: problem.message });
            return problem;
          }
        }),
      );
      return results.filter((p): p is AlertProblem => p !== null);
    },
  };
}

/** `work`, or the signal's abort, whichever comes first (the work itself may ignore the signal). */
function settleWithin<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

function toProblem(alert: string, provider: string, err: unknown, deadline: AbortSignal, bound: AbortSignal, timeoutMs: number): AlertProblem {
  const base = { alert, provider };
  // The deadline and the caller's abort explain any error that follows them.
  if (deadline.aborted) return { ...base, kind: "Timeout", retryable: true, message: `alert ${alert} via ${provider}: not delivered within ${timeoutMs}ms` };
  if (bound.aborted) return { ...base, kind: "Aborted", retryable: true, message: `alert ${alert} via ${provider}: aborted` };
  if (err instanceof NotifierError) return { ...base, kind: err.kind, retryable: err.retryable, message: `alert ${alert} via ${provider}: ${err.message}` };
  if (err instanceof KubeApiError) return { ...base, kind: "KubeApi", retryable: err.retryable, message: `alert ${alert} via ${provider}: ${err.message}` };
  return { ...base, kind: "Internal", retryable: false, message: `alert ${alert} via ${provider}: ${asError(err).message}` };
}

/** The Secret's values, trimmed: addresses pasted with a trailing newline still work. */
function decodeSecret(obj: KubeObject): Record<string, string> {
  return Object.fromEntries(Object.entries(decodeSecretData(obj)).map(([k, v]) => [k, v.trim()]));
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
