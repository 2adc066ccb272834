/**
 * Flagger-shaped Canary manifests (apiVersion changed to aviary.dev/v1beta1), as users
 * copy them from Flagger's tutorials. Functions, so every test gets its own copy.
 */
import type { Canary } from "../../../src/api/types.ts";

const meta = (name: string) => ({ name, namespace: "test" });

/** Flagger's App Mesh walkthrough. */
export const appMeshCanary = (): Canary => ({
  apiVersion: "aviary.dev/v1beta1",
  kind: "Canary",
  metadata: meta("podinfo"),
  spec: {
    provider: "appmesh",
    targetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "podinfo" },
    progressDeadlineSeconds: 60,
    autoscalerRef: { apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler", name: "podinfo" },
    service: {
      port: 80,
      targetPort: 80,
      timeout: "15s",
      retries: { attempts: 3, perTryTimeout: "5s", retryOn: "gateway-error,client-error,stream-error" },
      match: [{ uri: { prefix: "/" } }],
      rewrite: { uri: "/" },
    },
    analysis: {
      interval: "1m",
      threshold: 5,
      maxWeight: 50,
      stepWeight: 10,
      metrics: [
        { name: "request-success-rate", thresholdRange: { min: 99 }, interval: "1m" },
        { name: "request-duration", thresholdRange: { max: 500 }, interval: "30s" },
      ],
      webhooks: [
        {
          name: "acceptance-test",
          type: "pre-rollout",
          url: "http://flagger-loadtester.test/",
          timeout: "30s",
          metadata: { type: "bash", cmd: "curl -sd 'test' http://podinfo-canary.test/token | grep token" },
        },
        { name: "load-test", url: "http://flagger-loadtester.test/", timeout: "5s", metadata: { cmd: "hey -z 1m -q 10 -c 2 http://podinfo-canary.test/" } },
      ],
    },
  },
});

/** Flagger's Istio progressive canary with a MetricTemplate and alerts. */
export const istioCanary = (): Canary => ({
  apiVersion: "aviary.dev/v1beta1",
  kind: "Canary",
  metadata: meta("podinfo"),
  spec: {
    provider: "istio",
    targetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "podinfo" },
    service: {
      port: 9898,
      targetPort: 9898,
      portDiscovery: true,
      gateways: ["public-gateway.istio-system.svc.cluster.local"],
      hosts: ["app.example.com"],
      trafficPolicy: { tls: { mode: "DISABLE" } },
      retries: { attempts: 3, perTryTimeout: "1s", retryOn: "gateway-error,connect-failure,refused-stream" },
      headers: { request: { add: { "x-some-header": "value" } }, response: { remove: ["x-envoy-upstream-service-time"] } },
      corsPolicy: { allowOrigins: [{ exact: "https://example.com" }], allowMethods: ["GET", "POST"], maxAge: "24h" },
    },
    analysis: {
      interval: "1m",
      threshold: 10,
      maxWeight: 50,
      stepWeight: 5,
      alerts: [{ name: "on-call", severity: "error", providerRef: { name: "on-call", namespace: "flagger" } }],
      metrics: [
        { name: "request-success-rate", thresholdRange: { min: 99 }, interval: "1m" },
        {
          name: "not-found-percentage",
          templateRef: { name: "not-found-percentage", namespace: "istio-system" },
          templateVariables: { reporter: "destination" },
          thresholdRange: { max: 5 },
          interval: "1m",
        },
      ],
      webhooks: [{ name: "load-test", url: "http://flagger-loadtester.test/", timeout: "5s", metadata: { cmd: "hey -z 1m -q 10 -c 2 http://podinfo-canary.test:9898/" } }],
    },
  },
});

/** Flagger's Istio A/B testing: header and cookie match, iterations. */
export const istioABCanary = (): Canary => ({
  apiVersion: "aviary.dev/v1beta1",
  kind: "Canary",
  metadata: meta("abtest"),
  spec: {
    provider: "istio",
    targetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "abtest" },
    service: { port: 9898 },
    analysis: {
      interval: "1m",
      threshold: 10,
      iterations: 10,
      match: [{ headers: { "x-canary": { regex: ".*insider.*" } } }, { headers: { cookie: { regex: "^(.*?;)?(canary=always)(;.*)?$" } } }],
      metrics: [{ name: "request-success-rate", thresholdRange: { min: 99 }, interval: "1m" }],
    },
  },
});

/** Flagger's NGINX ingress canary. */
export const nginxCanary = (): Canary => ({
  apiVersion: "aviary.dev/v1beta1",
  kind: "Canary",
  metadata: meta("podinfo"),
  spec: {
    provider: "nginx",
    targetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "podinfo" },
    ingressRef: { apiVersion: "networking.k8s.io/v1", kind: "Ingress", name: "podinfo" },
    service: { port: 80, targetPort: 9898 },
    analysis: {
      interval: "10s",
      threshold: 10,
      maxWeight: 50,
      stepWeight: 5,
      metrics: [{ name: "request-success-rate", thresholdRange: { min: 99 }, interval: "1m" }],
    },
  },
});

/** Blue/green with the kubernetes provider: iterations, no weights. */
export const blueGreenCanary = (): Canary => ({
  apiVersion: "aviary.dev/v1beta1",
  kind: "Canary",
  metadata: meta("podinfo"),
  spec: {
    provider: "kubernetes",
    targetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "podinfo" },
    service: { port: 9898, portDiscovery: true },
    analysis: {
      interval: "30s",
      threshold: 2,
      iterations: 10,
      metrics: [{ name: "error-rate", templateRef: { name: "error-rate", namespace: "flagger" }, thresholdRange: { max: 1 }, interval: "30s" }],
      webhooks: [
        { name: "smoke-test", type: "pre-rollout", url: "http://flagger-loadtester.test/", timeout: "15s", metadata: { type: "bash", cmd: "curl -s http://podinfo-canary:9898" } },
      ],
    },
  },
});

/** Gateway API with explicit stepWeights and session affinity. */
export const gatewayApiCanary = (): Canary => ({
  apiVersion: "aviary.dev/v1beta1",
  kind: "Canary",
  metadata: meta("podinfo"),
  spec: {
    provider: "gatewayapi:v1",
    targetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "podinfo" },
    service: {
      port: 9898,
      hosts: ["www.example.com"],
      gatewayRefs: [{ name: "gateway", namespace: "istio-ingress" }],
    },
    analysis: {
      interval: "1m",
      threshold: 5,
      stepWeights: [1, 5, 10, 25, 50],
      sessionAffinity: { cookieName: "flagger-cookie", maxAge: 21600 },
      metrics: [{ name: "request-duration", thresholdRange: { max: 500 }, interval: "1m" }],
    },
  },
});

/** Linkerd (SMI TrafficSplit): weights only. */
export const linkerdCanary = (): Canary => ({
  apiVersion: "aviary.dev/v1beta1",
  kind: "Canary",
  metadata: meta("podinfo"),
  spec: {
    provider: "linkerd",
    targetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "podinfo" },
    service: { port: 9898, targetPort: "http" },
    analysis: { interval: "30s", threshold: 5, maxWeight: 50, stepWeight: 5, metrics: [{ name: "request-success-rate", thresholdRange: { min: 99 }, interval: "1m" }] },
  },
});

/** Istio blue/green with traffic mirroring. */
export const istioMirrorCanary = (): Canary => ({
  apiVersion: "aviary.dev/v1beta1",
  kind: "Canary",
  metadata: meta("podinfo"),
  spec: {
    provider: "istio",
    targetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "podinfo" },
    service: { port: 9898 },
    analysis: { interval: "1m", threshold: 5, iterations: 10, mirror: true, mirrorWeight: 100, metrics: [{ name: "request-success-rate", thresholdRange: { min: 99 } }] },
  },
});

export const validExamples: Record<string, () => Canary> = {
  "App Mesh walkthrough": appMeshCanary,
  "Istio progressive canary": istioCanary,
  "Istio A/B testing": istioABCanary,
  "NGINX canary": nginxCanary,
  "kubernetes blue/green": blueGreenCanary,
  "Gateway API stepWeights": gatewayApiCanary,
  "Linkerd canary": linkerdCanary,
  "Istio blue/green mirroring": istioMirrorCanary,
};
