/**
 * The demo's objects, shared by the demo runner and the end-to-end tests: the demo
 * application's Deployment (an ordinary one, as a user writes it) and its Canary. Pure.
 */
import type { KubeObject } from "../src/kube/types.ts";

/** The image repository of the demo application; the tag is the version (demo/behaviour.ts). */
export const DEMO_IMAGE = "registry.local/aviary-demo/storefront";
/** The container `kubectl set image` changes. */
export const DEMO_CONTAINER = "app";
export const DEMO_PORT = 8080;

export const imageFor = (version: string, repository = DEMO_IMAGE): string => `${repository}:${version}`;

export function appDeployment(name: string, namespace: string, image: string, replicas = 2): KubeObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace, labels: { app: name } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: DEMO_CONTAINER, image, ports: [{ name: "http", containerPort: DEMO_PORT }] }] },
      },
    },
  };
}

export interface CanaryTuning {
  /** Router provider (default gatewayapi). */
  provider?: string;
  /** analysis.interval, e.g. "5s". */
  interval: string;
  threshold: number;
  stepWeight: number;
  maxWeight: number;
  /** The window each built-in metric's query looks at, e.g. "10s". */
  metricInterval: string;
  /** request-success-rate thresholdRange.min, percent. */
  successMin: number;
  /** request-duration thresholdRange.max, milliseconds (p99). */
  durationMaxMs: number;
  webhooks?: Record<string, unknown>[];
  /** Replaces the two built-in metrics (then metricInterval, successMin and durationMaxMs are unused). */
  metrics?: Record<string, unknown>[];
  /** spec.metricsServer; else aviary's --metrics-server. */
  metricsServer?: string;
}

export function appCanary(name: string, namespace: string, t: CanaryTuning): KubeObject {
  const analysis: Record<string, unknown> = {
    interval: t.interval,
    threshold: t.threshold,
    stepWeight: t.stepWeight,
    maxWeight: t.maxWeight,
    metrics: t.metrics ?? [
      { name: "request-success-rate", interval: t.metricInterval, thresholdRange: { min: t.successMin } },
      { name: "request-duration", interval: t.metricInterval, thresholdRange: { max: t.durationMaxMs } },
    ],
  };
  if (t.webhooks !== undefined) analysis.webhooks = t.webhooks;
  const spec: Record<string, unknown> = {
    provider: t.provider ?? "gatewayapi",
    targetRef: { apiVersion: "apps/v1", kind: "Deployment", name },
    service: { port: 80, targetPort: DEMO_PORT, gatewayRefs: [{ name: "public", namespace }] },
    analysis,
  };
  if (t.metricsServer !== undefined) spec.metricsServer = t.metricsServer;
  return { apiVersion: "aviary.dev/v1beta1", kind: "Canary", metadata: { name, namespace }, spec };
}
