/** A Canary and alert messages shaped like the ones the reconciler hands the notifiers. */
import type { AlertProvider, AlertProviderSpec, Canary, CanaryAlert, CanaryStatus } from "../../../src/api/types.ts";
import { buildAlertMessage } from "../../../src/notifier/message.ts";
import type { AlertEvent } from "../../../src/notifier/message.ts";
import type { AlertMessage } from "../../../src/notifier/types.ts";

export const NOW = new Date("2025-03-01T12:00:00.000Z");

export function canaryWith(alerts: CanaryAlert[] = [], status: CanaryStatus = {}): Canary {
  return {
    apiVersion: "aviary.dev/v1beta1",
    kind: "Canary",
    metadata: { name: "podinfo", namespace: "test" },
    spec: {
      targetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "podinfo" },
      service: { port: 9898 },
      analysis: { interval: "1m", threshold: 2, maxWeight: 50, stepWeight: 10, alerts },
    },
    status: {
      phase: "Progressing",
      canaryWeight: 20,
      failedChecks: 1,
      canaryRevision: "7c9f6d",
      lastAnalysis: [
        { name: "request-success-rate", kind: "metric", value: 93.1, min: 99, verdict: "fail", message: "request-success-rate 93.1% < 99%", time: NOW.toISOString() },
        { name: "request-duration", kind: "metric", value: 120, max: 500, verdict: "pass", message: "request-duration 120ms <= 500ms", time: NOW.toISOString() },
      ],
      ...status,
    },
  };
}

export const CHECK_FAILED: AlertEvent = {
  reason: "CheckFailed",
  message: "analysis failed (1/2): request-success-rate 93.1% < 99%",
  severity: "warn",
  changedBy: "alice@example.com",
};

export function checkFailedMessage(): AlertMessage {
  return buildAlertMessage(canaryWith(), CHECK_FAILED, NOW);
}

export function alertProvider(name: string, spec: AlertProviderSpec, namespace = "test"): AlertProvider {
  return { apiVersion: "aviary.dev/v1beta1", kind: "AlertProvider", metadata: { name, namespace }, spec };
}

export function secret(name: string, data: Record<string, string>, namespace = "test") {
  const encoded = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, "utf8").toString("base64")]));
  return { apiVersion: "v1", kind: "Secret", metadata: { name, namespace }, type: "Opaque", data: encoded };
}
