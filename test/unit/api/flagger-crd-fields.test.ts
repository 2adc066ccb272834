/**
 * Every field of Flagger's Canary, MetricTemplate and AlertProvider CRDs (flagger.app/v1beta1)
 * has a place in aviary's schemas, so that a Flagger manifest is never refused by the API
 * server's strict decoding. Open shapes (Istio's match, corsPolicy, trafficPolicy) keep
 * unknown fields, so their inner fields are listed only down to the open node.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { errorsOf, validateCanary, validateMetricTemplate } from "../../../src/api/validate.ts";
import { alertAdmits } from "../../../src/notifier/dispatcher.ts";
import { providerSpecOf } from "../../../src/metrics/types.ts";

interface Schema {
  type?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: Schema | boolean;
  maxLength?: number;
  "x-kubernetes-preserve-unknown-fields"?: boolean;
}

const crdRoot = (file: string): Schema =>
  (parse(readFileSync(new URL(`../../../manifests/crds/${file}`, import.meta.url), "utf8")) as { spec: { versions: { schema: { openAPIV3Schema: Schema } }[] } })
    .spec.versions[0]!.schema.openAPIV3Schema;

/** The node at a path, or "open" when an ancestor keeps unknown fields; `[]` steps into items, `{}` into map values. */
function nodeAt(root: Schema, path: string): Schema | "open" | undefined {
  let node: Schema | undefined = root;
  for (const part of path.split(".")) {
    if (node === undefined) return undefined;
    if (node["x-kubernetes-preserve-unknown-fields"]) return "open";
    const [name, ...steps] = part.split(/(?=\[\]|\{\})/);
    node = node.properties?.[name!];
    for (const step of steps) {
      if (node === undefined) return undefined;
      node = step === "[]" ? node.items : typeof node.additionalProperties === "object" ? node.additionalProperties : undefined;
    }
  }
  return node;
}

const FLAGGER_CANARY = [
  "spec.provider", "spec.metricsServer", "spec.progressDeadlineSeconds", "spec.skipAnalysis", "spec.revertOnDeletion", "spec.suspend",
  "spec.targetRef.apiVersion", "spec.targetRef.kind", "spec.targetRef.name",
  "spec.autoscalerRef.apiVersion", "spec.autoscalerRef.kind", "spec.autoscalerRef.name", "spec.autoscalerRef.primaryScalerQueries",
  "spec.autoscalerRef.primaryScalerReplicas.minReplicas", "spec.autoscalerRef.primaryScalerReplicas.maxReplicas",
  "spec.ingressRef.apiVersion", "spec.ingressRef.kind", "spec.ingressRef.name",
  "spec.routeRef.apiVersion", "spec.routeRef.kind", "spec.routeRef.name",
  "spec.upstreamRef.apiVersion", "spec.upstreamRef.kind", "spec.upstreamRef.name", "spec.upstreamRef.namespace",
  "spec.service.name", "spec.service.port", "spec.service.portName", "spec.service.appProtocol", "spec.service.trafficDistribution",
  "spec.service.targetPort", "spec.service.portDiscovery", "spec.service.headless", "spec.service.timeout", "spec.service.backendTimeout",
  "spec.service.meshName", "spec.service.backends", "spec.service.hosts", "spec.service.delegation",
  "spec.service.match[].authority", "spec.service.match[].gateways", "spec.service.match[].headers", "spec.service.match[].ignoreUriCase",
  "spec.service.match[].method", "spec.service.match[].name", "spec.service.match[].port", "spec.service.match[].queryParams",
  "spec.service.match[].scheme", "spec.service.match[].sourceLabels", "spec.service.match[].sourceNamespace", "spec.service.match[].uri",
  "spec.service.match[].withoutHeaders",
  "spec.service.retries.attempts", "spec.service.retries.perTryTimeout", "spec.service.retries.retryOn",
  "spec.service.rewrite.uri", "spec.service.rewrite.authority", "spec.service.rewrite.type",
  "spec.service.mirror[].backendRef.group", "spec.service.mirror[].backendRef.kind", "spec.service.mirror[].backendRef.name",
  "spec.service.mirror[].backendRef.namespace", "spec.service.mirror[].backendRef.port",
  "spec.service.headers.request.add", "spec.service.headers.request.remove", "spec.service.headers.request.set",
  "spec.service.headers.response.add", "spec.service.headers.response.remove", "spec.service.headers.response.set",
  "spec.service.gateways",
  "spec.service.gatewayRefs[].group", "spec.service.gatewayRefs[].kind", "spec.service.gatewayRefs[].name",
  "spec.service.gatewayRefs[].namespace", "spec.service.gatewayRefs[].sectionName", "spec.service.gatewayRefs[].port",
  "spec.service.corsPolicy.allowCredentials", "spec.service.corsPolicy.allowHeaders", "spec.service.corsPolicy.allowMethods",
  "spec.service.corsPolicy.allowOrigin", "spec.service.corsPolicy.allowOrigins", "spec.service.corsPolicy.exposeHeaders", "spec.service.corsPolicy.maxAge",
  "spec.service.trafficPolicy.connectionPool", "spec.service.trafficPolicy.loadBalancer", "spec.service.trafficPolicy.outlierDetection",
  "spec.service.trafficPolicy.tls",
  "spec.service.apex.labels", "spec.service.apex.annotations", "spec.service.primary.labels", "spec.service.primary.annotations",
  "spec.service.canary.labels", "spec.service.canary.annotations",
  "spec.service.unmanagedMetadata.annotations", "spec.service.unmanagedMetadata.labels",
  "spec.analysis.interval", "spec.analysis.iterations", "spec.analysis.threshold", "spec.analysis.maxWeight", "spec.analysis.stepWeight",
  "spec.analysis.stepWeights", "spec.analysis.stepWeightPromotion", "spec.analysis.mirror", "spec.analysis.mirrorWeight",
  "spec.analysis.primaryReadyThreshold", "spec.analysis.canaryReadyThreshold",
  "spec.analysis.match[].headers", "spec.analysis.match[].queryParams", "spec.analysis.match[].sourceLabels",
  "spec.analysis.metrics[].name", "spec.analysis.metrics[].interval", "spec.analysis.metrics[].threshold",
  "spec.analysis.metrics[].thresholdRange.min", "spec.analysis.metrics[].thresholdRange.max", "spec.analysis.metrics[].query",
  "spec.analysis.metrics[].templateRef.name", "spec.analysis.metrics[].templateRef.namespace", "spec.analysis.metrics[].templateVariables",
  "spec.analysis.alerts[].name", "spec.analysis.alerts[].severity", "spec.analysis.alerts[].providerRef.name", "spec.analysis.alerts[].providerRef.namespace",
  "spec.analysis.webhooks[].name", "spec.analysis.webhooks[].type", "spec.analysis.webhooks[].muteAlert", "spec.analysis.webhooks[].url",
  "spec.analysis.webhooks[].timeout", "spec.analysis.webhooks[].retries", "spec.analysis.webhooks[].disableTLS", "spec.analysis.webhooks[].metadata",
  "spec.analysis.sessionAffinity.cookieName", "spec.analysis.sessionAffinity.primaryCookieName", "spec.analysis.sessionAffinity.domain",
  "spec.analysis.sessionAffinity.httpOnly", "spec.analysis.sessionAffinity.maxAge", "spec.analysis.sessionAffinity.partitioned",
  "spec.analysis.sessionAffinity.path", "spec.analysis.sessionAffinity.sameSite", "spec.analysis.sessionAffinity.secure",
  "status.phase", "status.failedChecks", "status.canaryWeight", "status.iterations", "status.trackedConfigs", "status.lastAppliedSpec",
  "status.lastPromotedSpec", "status.lastTrackedRevision", "status.lastTransitionTime", "status.sessionAffinityCookie",
  "status.primarySessionAffinityCookie", "status.previousSessionAffinityCookie",
  "status.conditions[].lastTransitionTime", "status.conditions[].lastUpdateTime", "status.conditions[].message", "status.conditions[].reason",
  "status.conditions[].status", "status.conditions[].type",
];

const FLAGGER_METRIC_TEMPLATE = [
  "spec.provider.type", "spec.provider.address", "spec.provider.headers", "spec.provider.secretRef.name", "spec.provider.region",
  "spec.provider.insecureSkipVerify", "spec.query",
];

const FLAGGER_ALERT_PROVIDER = ["spec.type", "spec.channel", "spec.username", "spec.address", "spec.proxy", "spec.secretRef.name"];

describe("Flagger's fields in aviary's CRDs", () => {
  for (const [file, paths] of [["canaries.yaml", FLAGGER_CANARY], ["metrictemplates.yaml", FLAGGER_METRIC_TEMPLATE], ["alertproviders.yaml", FLAGGER_ALERT_PROVIDER]] as const) {
    it(`${file} has a schema node for each of Flagger's ${paths.length} fields`, () => {
      const root = crdRoot(file);
      const missing = paths.filter((p) => nodeAt(root, p) === undefined);
      assert.deepEqual(missing, []);
    });
  }

  it("takes MetricTemplate headers in Flagger's shape: a list of values per name", () => {
    const headers = nodeAt(crdRoot("metrictemplates.yaml"), "spec.provider.headers{}");
    assert.ok(headers !== undefined && headers !== "open");
    assert.equal(headers.type, "array");
    assert.equal(headers.items?.type, "string");
    for (const field of ["method", "body", "window"]) assert.ok(nodeAt(crdRoot("metrictemplates.yaml"), `spec.provider.${field}`), field);
  });

  it("caps service.portName at a DNS label's 63 characters, not an IANA name's 15", () => {
    const portName = nodeAt(crdRoot("canaries.yaml"), "spec.service.portName");
    assert.ok(portName !== undefined && portName !== "open");
    assert.equal(portName.maxLength, 63);
  });
});

describe("Flagger's empty alert severity", () => {
  it("is accepted and means info: the alert receives every event", () => {
    const canary = {
      apiVersion: "aviary.dev/v1beta1", kind: "Canary", metadata: { name: "c" },
      spec: {
        provider: "istio", targetRef: { name: "c" }, service: { port: 80 },
        analysis: { interval: "1m", stepWeight: 10, alerts: [{ name: "team", severity: "", providerRef: { name: "slack" } }] },
      },
    };
    assert.deepEqual(errorsOf(validateCanary(canary)), []);
    assert.equal(alertAdmits("", "info"), true);
  });
});

describe("MetricTemplate provider headers", () => {
  const template = (provider: Record<string, unknown>) => ({ apiVersion: "aviary.dev/v1beta1", kind: "MetricTemplate", metadata: { name: "t" }, spec: { provider, query: "up" } });

  it("accepts lists of values and rejects a bare string, naming the header", () => {
    assert.deepEqual(validateMetricTemplate(template({ type: "prometheus", address: "http://prom:9090", headers: { "X-Scope-OrgID": ["tenant-a"] } })), []);
    const problems = validateMetricTemplate(template({ type: "prometheus", address: "http://prom:9090", headers: { "X-Scope-OrgID": "tenant-a" } }));
    assert.deepEqual(problems.map((p) => `${p.path}: ${p.rule}`), ["spec.provider.headers.X-Scope-OrgID: must be a list"]);
  });

  it("warns about web's method and body on another provider, and rejects a GET with a body", () => {
    const warned = validateMetricTemplate(template({ type: "prometheus", address: "http://prom:9090", method: "POST" }));
    assert.deepEqual(warned.map((p) => `${p.severity} ${p.path}: ${p.rule}`), ["warning spec.provider.method: is only used by provider web"]);
    const bad = validateMetricTemplate(template({ type: "web", address: "http://svc/", method: "GET", body: "{}" }));
    assert.deepEqual(bad.map((p) => `${p.severity} ${p.path}: ${p.rule}`), ["error spec.provider.body: needs method POST"]);
  });

  it("sends each header's values joined into one, as HTTP list syntax reads them", () => {
    assert.deepEqual(providerSpecOf({ type: "web", address: "http://svc/", headers: { Accept: ["application/json", "text/plain"], "X-Tenant": ["a"] } }).headers, {
      Accept: "application/json, text/plain",
      "X-Tenant": "a",
    });
  });
});
