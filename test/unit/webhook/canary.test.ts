import assert from "node:assert/strict";
import type { KubeObject } from "../../../src/kube/types.ts";
import type { AdmissionRequest, GroupVersionKind, HandlerContext } from "../../../src/webhook/admission.ts";
import type { CanaryLookups } from "../../../src/webhook/validate/canary.ts";
import {
  createAlertProviderValidator,
  createCanaryValidator,
  createMetricTemplateValidator,
  needsValidation,
} from "../../../src/webhook/validate/canary.ts";
import { admissionRequest, quietLogger } from "./helpers.ts";
import { apiGroup } from "../../../src/api/groups.ts";

const gvk = (kind: string): GroupVersionKind => ({ group: "aviary.dev", version: "v1beta1", kind });
const ctx = (): HandlerContext => ({ signal: new AbortController().signal, log: quietLogger() });

function canary(name = "podinfo", spec: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: "aviary.dev/v1beta1",
    kind: "Canary",
    metadata: { name, namespace: "shop" },
    spec: {
      provider: "istio",
      targetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "podinfo" },
      service: { port: 9898 },
      analysis: {
        interval: "1m",
        threshold: 5,
        maxWeight: 50,
        stepWeight: 10,
        metrics: [{ name: "error-rate", templateRef: { name: "error-rate" }, thresholdRange: { max: 1 } }],
        alerts: [{ name: "on-call", providerRef: { name: "slack", namespace: "ops" } }],
      },
      ...spec,
    },
  };
}

/** Lookups over a fixed little cluster; records what was asked. */
function lookups(state: { claims?: Record<string, string>; templates?: string[]; providers?: string[]; fail?: boolean }): CanaryLookups & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    async findCanaryForTarget(namespace, target, { excluding }) {
      asked.push(`target ${namespace} ${target.kind}/${target.name} excluding ${excluding}`);
      if (state.fail) throw new Error("informer not synced");
      const owner = state.claims?.[`${namespace}/${target.name}`];
      return owner !== undefined && owner !== excluding ? owner : null;
    },
    async metricTemplateExists(ref) {
      asked.push(`template ${ref.namespace}/${ref.name}`);
      return (state.templates ?? []).includes(`${ref.namespace}/${ref.name}`);
    },
    async alertProviderExists(ref) {
      asked.push(`provider ${ref.namespace}/${ref.name}`);
      return (state.providers ?? []).includes(`${ref.namespace}/${ref.name}`);
    },
  };
}

const create = (obj: KubeObject): AdmissionRequest => admissionRequest("CREATE", gvk(String(obj.kind)), obj, null);

describe("validating webhook: Canary, MetricTemplate, AlertProvider", () => {
  const complete = { templates: ["shop/error-rate"], providers: ["ops/slack"] };

  it("admits a valid Canary whose references exist, with no warnings", async () => {
    const l = lookups(complete);
    const result = await createCanaryValidator({ lookups: l }).handle(create(canary()), ctx());
    assert.deepEqual(result, { allowed: true });
    assert.deepEqual(l.asked, ["target shop Deployment/podinfo excluding podinfo", "template shop/error-rate", "provider ops/slack"]);
  });

  it("denies with every error as `path: rule`, in one message", async () => {
    const bad = canary("podinfo", { provider: "ambassador", analysis: { interval: "often", stepWeight: 120, maxWeight: 50 } });
    const result = await createCanaryValidator({ lookups: lookups(complete) }).handle(create(bad), ctx());
    assert.equal(result.allowed, false);
    assert.equal(result.code, 422);
    const message = result.message ?? "";
    const [subject, ...lines] = message.split("\n");
    assert.equal(subject, "Canary shop/podinfo is invalid:");
    assert.equal(lines.length, 3, message);
    assert.match(lines[0] ?? "", /^spec\.provider: names provider \w+, which aviary does not serve: must be one of/);
    assert.match(lines[1] ?? "", /^spec\.analysis\.interval: must be a duration/);
    assert.equal(lines[2], "spec.analysis.stepWeight: must be between 1 and 100");
  });

  it("denies a target already claimed by another Canary", async () => {
    const l = lookups({ ...complete, claims: { "shop/podinfo": "podinfo-old" } });
    const result = await createCanaryValidator({ lookups: l }).handle(create(canary("podinfo-new")), ctx());
    assert.equal(result.allowed, false);
    assert.equal(result.message, "Canary shop/podinfo-new is invalid:\nspec.targetRef: deployment/podinfo is already the target of canary shop/podinfo-old");
  });

  it("warns about a missing MetricTemplate or AlertProvider instead of denying", async () => {
    const result = await createCanaryValidator({ lookups: lookups({}) }).handle(create(canary()), ctx());
    assert.equal(result.allowed, true);
    assert.deepEqual(result.warnings, [
      "spec.analysis.metrics[0].templateRef: metrictemplate shop/error-rate does not exist (yet)",
      "spec.analysis.alerts[0].providerRef: alertprovider ops/slack does not exist (yet)",
    ]);
  });

  it("admits a Canary without spec.provider under --mesh-provider, warning about each field that provider ignores", async () => {
    const flaggerStyle = canary("podinfo", { provider: undefined, service: { port: 9898, gatewayRefs: [{ name: "edge" }], delegation: true } });
    const result = await createCanaryValidator({ lookups: lookups(complete), defaultProvider: "gatewayapi" }).handle(create(flaggerStyle), ctx());
    assert.equal(result.allowed, true, result.message);
    assert.deepEqual(result.warnings, ["spec.service.delegation: is not supported by provider gatewayapi; ignored (honoured by istio)"]);
    const without = await createCanaryValidator({ lookups: lookups(complete) }).handle(create(flaggerStyle), ctx());
    assert.equal(without.allowed, false);
    assert.match(without.message ?? "", /spec\.analysis\.stepWeight: is not supported by provider kubernetes/);
  });

  it("turns a failed lookup into a warning, not a denial", async () => {
    const result = await createCanaryValidator({ lookups: lookups({ ...complete, fail: true }) }).handle(create(canary()), ctx());
    assert.equal(result.allowed, true);
    assert.deepEqual(result.warnings, ["spec.targetRef: could not check whether another canary targets it: informer not synced"]);
  });

  it("runs only the static rules without lookups, and keeps the shared validation's warnings", async () => {
    const noAnalysis = canary();
    delete (noAnalysis.spec as Record<string, unknown>).analysis;
    const result = await createCanaryValidator().handle(create(noAnalysis), ctx());
    assert.equal(result.allowed, true);
    assert.equal(result.warnings?.length, 1);
    assert.match(result.warnings?.[0] ?? "", /^spec\.analysis: is not set/);
  });

  it("skips deletes, subresources, objects being deleted and updates that leave the spec alone", async () => {
    const bad = canary("podinfo", { provider: "ambassador" });
    const withFinalizer = { ...bad, metadata: { ...bad.metadata, finalizers: ["aviary.dev/finalizer"] } };
    const deleting = { ...bad, metadata: { ...bad.metadata, deletionTimestamp: "2026-01-01T00:00:00Z" } };
    const cases: AdmissionRequest[] = [
      admissionRequest("DELETE", gvk("Canary"), null, bad),
      { ...admissionRequest("UPDATE", gvk("Canary"), bad, bad), subResource: "status" },
      admissionRequest("UPDATE", gvk("Canary"), deleting, bad),
      admissionRequest("UPDATE", gvk("Canary"), withFinalizer, bad),
    ];
    for (const req of cases) {
      assert.equal(needsValidation(req), false);
      assert.deepEqual(await createCanaryValidator().handle(req, ctx()), { allowed: true });
    }
    const changed = admissionRequest("UPDATE", gvk("Canary"), canary("podinfo", { provider: "ambassador" }), canary());
    assert.equal((await createCanaryValidator().handle(changed, ctx())).allowed, false);
  });

  it("validates MetricTemplates and AlertProviders with the shared rules", async () => {
    const template = (spec: unknown): KubeObject => ({ apiVersion: "aviary.dev/v1beta1", kind: "MetricTemplate", metadata: { name: "error-rate", namespace: "shop" }, spec });
    const good = await createMetricTemplateValidator().handle(create(template({ provider: { type: "prometheus", address: "http://prometheus:9090" }, query: "sum(rate(x[1m]))" })), ctx());
    assert.deepEqual(good, { allowed: true });
    const bad = await createMetricTemplateValidator().handle(create(template({ provider: { type: "skywalking" }, query: "x" })), ctx());
    assert.equal(bad.allowed, false);
    assert.match(bad.message ?? "", /^MetricTemplate shop\/error-rate is invalid:\nspec\.provider\.type: must be one of/);

    const provider = (spec: unknown): KubeObject => ({ apiVersion: "aviary.dev/v1beta1", kind: "AlertProvider", metadata: { name: "slack", namespace: "ops" }, spec });
    assert.deepEqual(await createAlertProviderValidator().handle(create(provider({ type: "slack", address: "https://hooks.slack.com/services/x" })), ctx()), { allowed: true });
    const noType = await createAlertProviderValidator().handle(create(provider({ address: "https://hooks.slack.com/services/x" })), ctx());
    assert.equal(noType.allowed, false);
    assert.match(noType.message ?? "", /spec\.type/);
  });

  it("passes a kind its route is not for, and names its routes", async () => {
    const misrouted = create(canary());
    assert.deepEqual(await createMetricTemplateValidator().handle(misrouted, ctx()), { allowed: true });
    assert.deepEqual(
      [createCanaryValidator(), createMetricTemplateValidator(), createAlertProviderValidator()].map((h) => [h.type, h.name, h.failurePolicy]),
      [["validate", "canaries", "Fail"], ["validate", "metrictemplates", "Fail"], ["validate", "alertproviders", "Fail"]],
    );
  });
});

describe("validating webhook: serving flagger.app (--api-group)", () => {
  const flagger = apiGroup("flagger.app");
  const inFlagger = (obj: KubeObject): AdmissionRequest =>
    admissionRequest("CREATE", { group: "flagger.app", version: "v1beta1", kind: String(obj.kind) }, { ...obj, apiVersion: "flagger.app/v1beta1" }, null);
  const complete = { templates: ["shop/error-rate"], providers: ["ops/slack"] };

  it("validates Flagger's Canaries as they are, and an invalid one is denied naming the field", async () => {
    const ok = await createCanaryValidator({ lookups: lookups(complete), api: flagger }).handle(inFlagger(canary()), ctx());
    assert.equal(ok.allowed, true, JSON.stringify(ok));
    const bad = canary("podinfo", { service: { port: 0 } });
    const denied = await createCanaryValidator({ lookups: lookups(complete), api: flagger }).handle(inFlagger(bad), ctx());
    assert.equal(denied.allowed, false);
    assert.match(denied.message ?? "", /spec\.service\.port/);
  });

  it("lets the other group's objects through untouched (a misrouted request), for every kind", async () => {
    const bad = canary("podinfo", { service: { port: 0 } });
    assert.equal((await createCanaryValidator({ api: flagger }).handle(create(bad), ctx())).allowed, true);
    const template = { apiVersion: "aviary.dev/v1beta1", kind: "MetricTemplate", metadata: { name: "t", namespace: "shop" }, spec: {} };
    assert.equal((await createMetricTemplateValidator(flagger).handle(create(template), ctx())).allowed, true);
    const denied = await createMetricTemplateValidator(flagger).handle(inFlagger(template), ctx());
    assert.equal(denied.allowed, false);
    assert.equal((await createAlertProviderValidator(flagger).handle(inFlagger({ ...template, kind: "AlertProvider" }), ctx())).allowed, false);
  });
});
