/**
 * The generic JSON webhook (AlertProvider type `webhook`): aviary's own documented body,
 * for incident tools, chat bridges or anything that takes JSON. One POST per alert with
 * `content-type: application/json` and, when the Secret has a `token` key,
 * `authorization: Bearer <token>`. The body (`AviaryAlertBody`, schemaVersion 1):
 *
 *   {
 *     "schemaVersion": 1,
 *     "name": "podinfo", "namespace": "test",       // the Canary
 *     "phase": "Progressing",                        // status.phase (null before the first status)
 *     "reason": "CheckFailed",                       // the Kubernetes Event reason
 *     "severity": "warn",                            // info | warn | error
 *     "summary": "test/podinfo: check failed for revision 7c9f (1/2)",
 *     "message": "Analysis failed (1/2): request-success-rate 93.1% < 99%",
 *     "revision": "7c9f", "changedBy": "alice",     // null when unknown
 *     "weight": 20, "failedChecks": 1, "threshold": 2,
 *     "failedCheckDetails": ["request-success-rate 93.1% < 99%"],
 *     "metadata": { "alert": "on-call", "provider": "test/hooks" },
 *     "timestamp": "2025-01-01T00:00:00.000Z"
 *   }
 */
import type { AlertSeverity, CanaryPhase } from "../api/types.ts";
import { postingNotifier } from "./http.ts";
import type { AlertMessage, Notifier, NotifierInit } from "./types.ts";

export interface AviaryAlertBody {
  schemaVersion: 1;
  name: string;
  namespace: string;
  phase: CanaryPhase | null;
  reason: string;
  severity: AlertSeverity;
  summary: string;
  message: string;
  revision: string | null;
  changedBy: string | null;
  weight: number;
  failedChecks: number;
  threshold: number;
  failedCheckDetails: string[];
  metadata: Record<string, string>;
  timestamp: string;
}

export function webhookBody(message: AlertMessage): AviaryAlertBody {
  return {
    schemaVersion: 1,
    name: message.canary.name,
    namespace: message.canary.namespace,
    phase: message.phase ?? null,
    reason: message.reason,
    severity: message.severity,
    summary: message.title,
    message: message.text,
    revision: message.revision ?? null,
    changedBy: message.changedBy ?? null,
    weight: message.weight,
    failedChecks: message.failedChecks,
    threshold: message.threshold,
    failedCheckDetails: [...message.failedCheckDetails],
    metadata: { ...message.metadata },
    timestamp: message.timestamp,
  };
}

export function createWebhookNotifier(init: NotifierInit): Notifier {
  const headers: Record<string, string> = {};
  if (init.target.token) headers.authorization = `Bearer ${init.target.token}`;
  return postingNotifier("webhook", init, webhookBody, headers);
}
