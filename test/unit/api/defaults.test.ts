import assert from "node:assert/strict";
import { withDefaults } from "../../../src/api/defaults.ts";
import type { Canary } from "../../../src/api/types.ts";
import { edits } from "./edit.ts";
import { blueGreenCanary, gatewayApiCanary, istioCanary } from "./fixtures.ts";

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

const minimal = (): Canary => ({
  apiVersion: "aviary.dev/v1beta1",
  kind: "Canary",
  metadata: { name: "podinfo", namespace: "test" },
  spec: {
    targetRef: { name: "podinfo" },
    service: { port: 9898 },
    analysis: {
      stepWeight: 20,
      metrics: [{ name: "request-success-rate", thresholdRange: { min: 99 } }],
      webhooks: [{ name: "load-test", url: "http://loadtester/" }],
      alerts: [{ name: "on-call", providerRef: { name: "slack" } }],
    },
  },
});

describe("withDefaults", () => {
  it("fills Flagger's defaults for every omitted field", () => {
    const c = withDefaults(minimal());
    assert.deepEqual(c.spec, {
      provider: "kubernetes",
      targetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "podinfo" },
      service: { name: "podinfo", port: 9898, portName: "http", targetPort: 9898, portDiscovery: false },
      analysis: {
        interval: "60s",
        threshold: 1,
        stepWeight: 20,
        maxWeight: 100,
        primaryReadyThreshold: 100,
        canaryReadyThreshold: 100,
        metrics: [{ name: "request-success-rate", thresholdRange: { min: 99 }, interval: "60s", onNoData: "fail" }],
        webhooks: [{ name: "load-test", url: "http://loadtester/", type: "rollout", timeout: "10s", retries: 0, muteAlert: false }],
        alerts: [{ name: "on-call", severity: "info", providerRef: { name: "slack" } }],
      },
      progressDeadlineSeconds: 600,
      skipAnalysis: false,
      suspend: false,
      revertOnDeletion: false,
    });
  });

  it("never mutates its input", () => {
    const input = deepFreeze(istioCanary());
    const before = JSON.stringify(input);
    const out = withDefaults(input);
    assert.equal(JSON.stringify(input), before);
    assert.notEqual(out, input);
    assert.notEqual(out.spec.analysis, input.spec.analysis);
  });

  it("keeps every value the user set", () => {
    const input = istioCanary();
    const out = withDefaults(input);
    assert.equal(out.spec.provider, "istio");
    assert.equal(out.spec.analysis?.interval, "1m");
    assert.equal(out.spec.analysis?.threshold, 10);
    assert.equal(out.spec.analysis?.maxWeight, 50);
    assert.equal(out.spec.analysis?.metrics?.[1]?.interval, "1m");
    assert.equal(out.spec.analysis?.webhooks?.[0]?.timeout, "5s");
    assert.equal(out.spec.analysis?.alerts?.[0]?.severity, "error");
    assert.equal(out.spec.service.targetPort, 9898);
    assert.equal(out.spec.service.portDiscovery, true);
  });

  it("gives metrics the analysis interval when they set none", () => {
    const out = withDefaults(edits(minimal(), { "spec.analysis.interval": "15s" }));
    assert.equal(out.spec.analysis?.metrics?.[0]?.interval, "15s");
  });

  it("takes the last stepWeight as the maximum weight", () => {
    assert.equal(withDefaults(gatewayApiCanary()).spec.analysis?.maxWeight, 50);
    assert.equal(withDefaults(edits(gatewayApiCanary(), { "spec.analysis.maxWeight": 30 })).spec.analysis?.maxWeight, 50);
  });

  it("leaves maxWeight unset for blue/green", () => {
    assert.equal(withDefaults(blueGreenCanary()).spec.analysis?.maxWeight, undefined);
  });

  it("uses the operator's default router for an empty provider", () => {
    assert.equal(withDefaults(minimal(), { defaultProvider: "istio" }).spec.provider, "istio");
    assert.equal(withDefaults(edits(minimal(), { "spec.provider": "" }), { defaultProvider: "linkerd" }).spec.provider, "linkerd");
  });

  it("names the Services after service.name when set, the target otherwise", () => {
    assert.equal(withDefaults(edits(minimal(), { "spec.service.name": "frontend" })).spec.service.name, "frontend");
    assert.equal(withDefaults(edits(minimal(), { "spec.service.name": "" })).spec.service.name, "podinfo");
  });

  it("defaults the session-affinity cookie lifetime to a day", () => {
    const out = withDefaults(edits(minimal(), { "spec.analysis.sessionAffinity": { cookieName: "c" } }));
    assert.deepEqual(out.spec.analysis?.sessionAffinity, { cookieName: "c", maxAge: 86_400 });
  });

  it("treats Flagger's empty webhook type as rollout", () => {
    const out = withDefaults(edits(minimal(), { "spec.analysis.webhooks.0.type": "" }));
    assert.equal(out.spec.analysis?.webhooks?.[0]?.type, "rollout");
  });

  it("adds no analysis when there is none", () => {
    const out = withDefaults(edits(minimal(), { "spec.analysis": undefined }));
    assert.equal(out.spec.analysis, undefined);
  });

  it("keeps status and metadata", () => {
    const input = edits(minimal(), { status: { phase: "Progressing", canaryWeight: 20 }, "metadata.generation": 3 });
    const out = withDefaults(input);
    assert.deepEqual(out.status, { phase: "Progressing", canaryWeight: 20 });
    assert.equal(out.metadata.generation, 3);
  });
});
