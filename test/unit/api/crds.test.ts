import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { tryParseDuration } from "../../../src/api/duration.ts";
import { MAX_CONFIDENCE, MIN_CONFIDENCE } from "../../../src/judge/validate.ts";
import {
  ALERT_PROVIDER_TYPES,
  ALERT_SEVERITIES,
  ANALYSIS_VERDICTS,
  CANARY_PHASES,
  METRIC_PROVIDER_TYPES,
  ON_NO_DATA_POLICIES,
  ROUTER_PROVIDERS,
  TARGET_KINDS,
  WEBHOOK_TYPES,
} from "../../../src/api/types.ts";
import type {
  AlertProviderSpec,
  AnalysisResult,
  AutoscalerReference,
  CanaryAlert,
  CanaryAnalysis,
  CanaryCondition,
  CanaryMetric,
  CanaryService,
  CanaryStep,
  CanarySpec,
  CanaryStatus,
  CanaryWebhook,
  CrossNamespaceObjectReference,
  CustomMetadata,
  GatewayRef,
  MirrorBackendRef,
  ProviderObjectReference,
  ServiceMirror,
  UnmanagedMetadata,
  HeaderOperations,
  JudgeEvidence,
  JudgeStatus,
  MetricCompare,
  MetricTemplateCompare,
  Headers,
  LocalObjectReference,
  MetricState,
  MetricTemplateProvider,
  MetricTemplateSpec,
  ScalerReplicas,
  SecretReference,
  SessionAffinity,
  ThresholdRange,
} from "../../../src/api/types.ts";

interface Schema {
  type?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: Schema | boolean;
  required?: string[];
  enum?: unknown[];
  default?: unknown;
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  minLength?: number;
  pattern?: string;
  anyOf?: Schema[];
  "x-kubernetes-int-or-string"?: boolean;
  "x-kubernetes-preserve-unknown-fields"?: boolean;
}

interface Crd {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: {
    group: string;
    scope: string;
    names: { kind: string; plural: string; singular: string; shortNames: string[]; categories: string[] };
    versions: Array<{
      name: string;
      served: boolean;
      storage: boolean;
      subresources: { status: object };
      additionalPrinterColumns: Array<{ name: string; type: string; jsonPath: string }>;
      schema: { openAPIV3Schema: Schema };
    }>;
  };
}

const crdDir = new URL("../../../manifests/crds/", import.meta.url);
const load = (file: string): Crd => parse(readFileSync(new URL(file, crdDir), "utf8")) as Crd;
const rootOf = (crd: Crd): Schema => crd.spec.versions[0]!.schema.openAPIV3Schema;

/** The schema at `spec.analysis.metrics[]`: `[]` steps into array items. */
function schemaAt(root: Schema, path: string): Schema {
  let node = root;
  for (const part of path.split(".")) {
    const [name, ...brackets] = part.split("[]");
    const next = node.properties?.[name!];
    assert.ok(next, `${path}: no schema property ${name}`);
    node = next;
    for (let i = 0; i < brackets.length; i++) {
      assert.ok(node.items, `${path}: ${name} is not an array`);
      node = node.items;
    }
  }
  return node;
}

/** The keys of a TypeScript interface; the Record type makes tsc fail when a field is missing. */
const keysOf = <T>(fields: Record<keyof T, true>): string[] => Object.keys(fields);

const localRef = keysOf<LocalObjectReference>({ apiVersion: true, kind: true, name: true });
const crossRef = keysOf<CrossNamespaceObjectReference>({ name: true, namespace: true });
const customMetadata = keysOf<CustomMetadata>({ labels: true, annotations: true });
const headerOps = keysOf<HeaderOperations>({ set: true, add: true, remove: true });
// HTTPMatchRequest, HTTPRewrite, HTTPRetry and CorsPolicy keep unknown fields (Istio adds some), so
// their known fields are listed by hand.
const httpMatch = ["name", "uri", "scheme", "method", "authority", "headers", "queryParams", "withoutHeaders", "port", "sourceLabels", "sourceNamespace", "gateways", "ignoreUriCase"];

/** Every object in the TypeScript API and the fields its schema must have. */
const CANARY_FIELDS: Record<string, string[]> = {
  spec: keysOf<CanarySpec>({
    provider: true, metricsServer: true, targetRef: true, autoscalerRef: true, ingressRef: true, service: true, analysis: true,
    progressDeadlineSeconds: true, skipAnalysis: true, suspend: true, revertOnDeletion: true, routeRef: true, upstreamRef: true,
  }),
  "spec.targetRef": localRef,
  "spec.ingressRef": localRef,
  "spec.routeRef": localRef,
  "spec.upstreamRef": keysOf<ProviderObjectReference>({ apiVersion: true, kind: true, name: true, namespace: true }),
  "spec.autoscalerRef": keysOf<AutoscalerReference>({ apiVersion: true, kind: true, name: true, primaryScalerQueries: true, primaryScalerReplicas: true }),
  "spec.autoscalerRef.primaryScalerReplicas": keysOf<ScalerReplicas>({ minReplicas: true, maxReplicas: true }),
  "spec.service": keysOf<CanaryService>({
    name: true, port: true, portName: true, targetPort: true, portDiscovery: true, appProtocol: true, timeout: true, gateways: true,
    gatewayRefs: true, hosts: true, match: true, rewrite: true, retries: true, headers: true, corsPolicy: true, trafficPolicy: true,
    meshName: true, backends: true, apex: true, primary: true, canary: true, backendTimeout: true, delegation: true, headless: true,
    trafficDistribution: true, mirror: true, unmanagedMetadata: true,
  }),
  "spec.service.mirror[]": keysOf<ServiceMirror>({ backendRef: true }),
  "spec.service.mirror[].backendRef": keysOf<MirrorBackendRef>({ group: true, kind: true, name: true, namespace: true, port: true }),
  "spec.service.unmanagedMetadata": keysOf<UnmanagedMetadata>({ labels: true, annotations: true }),
  "spec.service.gatewayRefs[]": keysOf<GatewayRef>({ group: true, kind: true, namespace: true, name: true, sectionName: true, port: true }),
  "spec.service.match[]": httpMatch,
  "spec.service.rewrite": ["uri", "authority", "type"],
  "spec.service.retries": ["attempts", "perTryTimeout", "retryOn"],
  "spec.service.headers": keysOf<Headers>({ request: true, response: true }),
  "spec.service.headers.request": headerOps,
  "spec.service.headers.response": headerOps,
  "spec.service.corsPolicy": ["allowOrigin", "allowOrigins", "allowMethods", "allowHeaders", "exposeHeaders", "maxAge", "allowCredentials"],
  "spec.service.apex": customMetadata,
  "spec.service.primary": customMetadata,
  "spec.service.canary": customMetadata,
  "spec.analysis": keysOf<CanaryAnalysis>({
    interval: true, threshold: true, maxWeight: true, stepWeight: true, stepWeights: true, steps: true, stepWeightPromotion: true, iterations: true,
    match: true, mirror: true, mirrorWeight: true, primaryReadyThreshold: true, canaryReadyThreshold: true, firstDeploy: true, sessionAffinity: true,
    alerts: true, metrics: true, webhooks: true,
  }),
  "spec.analysis.match[]": httpMatch,
  "spec.analysis.sessionAffinity": keysOf<SessionAffinity>({
    cookieName: true, maxAge: true, primaryCookieName: true, domain: true, path: true, httpOnly: true, secure: true, sameSite: true, partitioned: true,
  }),
  "spec.analysis.alerts[]": keysOf<CanaryAlert>({ name: true, severity: true, providerRef: true }),
  "spec.analysis.alerts[].providerRef": crossRef,
  "spec.analysis.metrics[]": keysOf<CanaryMetric>({
    name: true, interval: true, threshold: true, thresholdRange: true, query: true, templateRef: true, templateVariables: true, onNoData: true, compare: true,
    failureLimit: true, consecutiveErrorLimit: true, count: true, initialDelay: true, fromStep: true, steps: true,
  }),
  "spec.analysis.metrics[].compare": keysOf<MetricCompare>({ tolerance: true, confidence: true, minRequests: true }),
  "spec.analysis.steps[]": keysOf<CanaryStep>({ weight: true, pause: true }),
  "spec.analysis.metrics[].thresholdRange": keysOf<ThresholdRange>({ min: true, max: true }),
  "spec.analysis.metrics[].templateRef": crossRef,
  "spec.analysis.webhooks[]": keysOf<CanaryWebhook>({ name: true, type: true, url: true, timeout: true, metadata: true, retries: true, muteAlert: true, disableTLS: true }),
  status: keysOf<CanaryStatus>({
    phase: true, canaryWeight: true, failedChecks: true, iterations: true, lastAppliedSpec: true, lastPromotedSpec: true, trackedConfigs: true,
    previousSessionAffinityCookie: true, lastTransitionTime: true, conditions: true, observedGeneration: true, lastAnalysis: true,
    analysisStartedAt: true, lastCheckTime: true, providerErrors: true, canaryRevision: true, sessionAffinityCookie: true,
    primarySessionAffinityCookie: true, lastTrackedRevision: true, provider: true, judge: true,
    stepIndex: true, stepStartedAt: true, metricStates: true,
  }),
  "status.judge": keysOf<JudgeStatus>({ revision: true, metrics: true }),
  "status.metricStates[]": keysOf<MetricState>({ name: true, measurements: true, failures: true, consecutiveErrors: true, lastMeasuredAt: true, step: true, startedAt: true }),
  "status.conditions[]": keysOf<CanaryCondition>({ type: true, status: true, reason: true, message: true, lastUpdateTime: true, lastTransitionTime: true }),
  "status.lastAnalysis[]": keysOf<AnalysisResult>({ name: true, kind: true, query: true, value: true, min: true, max: true, verdict: true, message: true, time: true, judge: true }),
  "status.lastAnalysis[].judge": keysOf<JudgeEvidence>({
    outcome: true, label: true, canaryRequests: true, canaryBad: true, primaryRequests: true, primaryBad: true, canaryRate: true, primaryRate: true,
    ratio: true, ciLower: true, ciUpper: true, confidence: true, tolerance: true, eValue: true, threshold: true, sentence: true,
  }),
};

const METRIC_TEMPLATE_FIELDS: Record<string, string[]> = {
  spec: keysOf<MetricTemplateSpec>({ provider: true, query: true, compare: true }),
  "spec.compare": keysOf<MetricTemplateCompare>({ bad: true, total: true }),
  "spec.provider": keysOf<MetricTemplateProvider>({
    type: true, address: true, secretRef: true, insecureSkipVerify: true, region: true, headers: true, method: true, body: true, window: true,
  }),
  "spec.provider.secretRef": keysOf<SecretReference>({ name: true }),
  "status.conditions[]": keysOf<CanaryCondition>({ type: true, status: true, reason: true, message: true, lastUpdateTime: true, lastTransitionTime: true }),
};

const ALERT_PROVIDER_FIELDS: Record<string, string[]> = {
  spec: keysOf<AlertProviderSpec>({ type: true, channel: true, username: true, address: true, proxy: true, secretRef: true }),
  "spec.secretRef": keysOf<SecretReference>({ name: true }),
};

/** Walks every schema node with its path. */
function walk(node: Schema, path: string, visit: (node: Schema, path: string) => void): void {
  visit(node, path);
  for (const [k, child] of Object.entries(node.properties ?? {})) walk(child, path === "" ? k : `${path}.${k}`, visit);
  if (node.items) walk(node.items, `${path}[]`, visit);
  if (typeof node.additionalProperties === "object") walk(node.additionalProperties, `${path}{}`, visit);
  for (const alt of node.anyOf ?? []) walk(alt, `${path}|`, visit);
}

/** Whether `value` satisfies the scalar constraints of `node` (what the API server checks on defaults). */
function satisfies(node: Schema, value: unknown): boolean {
  const typeOk =
    node.type === undefined ||
    (node.type === "string" && typeof value === "string") ||
    (node.type === "integer" && Number.isInteger(value)) ||
    (node.type === "number" && typeof value === "number") ||
    (node.type === "boolean" && typeof value === "boolean");
  if (!typeOk) return false;
  if (node.enum && !node.enum.includes(value)) return false;
  if (typeof value === "number" && ((node.minimum !== undefined && value < node.minimum) || (node.maximum !== undefined && value > node.maximum))) return false;
  if (typeof value === "string") {
    if (node.maxLength !== undefined && value.length > node.maxLength) return false;
    if (node.minLength !== undefined && value.length < node.minLength) return false;
    if (node.pattern !== undefined && !new RegExp(node.pattern).test(value)) return false;
  }
  return true;
}

const cases: Array<[string, string, Record<string, string[]>]> = [
  ["canaries.yaml", "Canary", CANARY_FIELDS],
  ["metrictemplates.yaml", "MetricTemplate", METRIC_TEMPLATE_FIELDS],
  ["alertproviders.yaml", "AlertProvider", ALERT_PROVIDER_FIELDS],
];

describe("CRDs", () => {
  for (const [file, kind, fields] of cases) {
    describe(file, () => {
      const crd = load(file);
      const root = rootOf(crd);

      it("is an apiextensions.k8s.io/v1 CRD of aviary.dev/v1beta1 with the status subresource", () => {
        assert.equal(crd.apiVersion, "apiextensions.k8s.io/v1");
        assert.equal(crd.kind, "CustomResourceDefinition");
        assert.equal(crd.spec.group, "aviary.dev");
        assert.equal(crd.spec.scope, "Namespaced");
        assert.equal(crd.spec.names.kind, kind);
        assert.equal(crd.metadata.name, `${crd.spec.names.plural}.aviary.dev`);
        assert.deepEqual(crd.spec.names.categories, ["aviary"]);
        assert.equal(crd.spec.versions.length, 1);
        const v = crd.spec.versions[0]!;
        assert.deepEqual([v.name, v.served, v.storage], ["v1beta1", true, true]);
        assert.deepEqual(v.subresources, { status: {} });
      });

      it("has a schema property for every field of the TypeScript type, and no other", () => {
        for (const [path, expected] of Object.entries(fields)) {
          const node = schemaAt(root, path);
          assert.deepEqual(Object.keys(node.properties ?? {}).sort(), [...expected].sort(), path);
        }
      });

      it("is structural: every node has a type unless it is int-or-string", () => {
        walk(root, "", (node, path) => {
          if (path.endsWith("|")) return;
          assert.ok(node.type !== undefined || node["x-kubernetes-int-or-string"] === true, `${path} has no type`);
          if (node.properties !== undefined) assert.equal(node.type, "object", `${path} has properties but is not an object`);
          if (node.items !== undefined) assert.equal(node.type, "array", `${path} has items but is not an array`);
          assert.ok(!(node.properties && typeof node.additionalProperties === "object"), `${path} has both properties and additionalProperties`);
        });
      });

      it("has defaults that validate against their own schema", () => {
        let defaults = 0;
        walk(root, "", (node, path) => {
          if (node.default === undefined) return;
          defaults++;
          assert.ok(satisfies(node, node.default), `${path}: default ${JSON.stringify(node.default)} does not satisfy its schema`);
        });
        if (kind === "Canary") assert.ok(defaults >= 8, `only ${defaults} defaults`);
      });
    });
  }

  describe("canaries.yaml specifics", () => {
    const crd = load("canaries.yaml");
    const root = rootOf(crd);

    it("has Flagger's printer columns", () => {
      assert.deepEqual(
        crd.spec.versions[0]!.additionalPrinterColumns.map((c) => [c.name.toUpperCase(), c.jsonPath]),
        [
          ["STATUS", ".status.phase"],
          ["WEIGHT", ".status.canaryWeight"],
          ["FAILEDCHECKS", ".status.failedChecks"],
          ["INTERVAL", ".spec.analysis.interval"],
          ["MAXWEIGHT", ".spec.analysis.maxWeight"],
          ["STEPWEIGHT", ".spec.analysis.stepWeight"],
          ["LASTTRANSITIONTIME", ".status.lastTransitionTime"],
          ["PROVIDER", ".status.provider"],
        ],
      );
      for (const c of crd.spec.versions[0]!.additionalPrinterColumns) {
        const path = c.jsonPath.slice(1);
        assert.ok(schemaAt(root, path), `${c.name} points at ${path}, which the schema lacks`);
      }
    });

    it("has the short names cd, mt and ap", () => {
      assert.deepEqual(crd.spec.names.shortNames, ["cd"]);
      assert.deepEqual(load("metrictemplates.yaml").spec.names.shortNames, ["mt"]);
      assert.deepEqual(load("alertproviders.yaml").spec.names.shortNames, ["ap"]);
    });

    it("uses the same enumerations as the TypeScript API", () => {
      const enumAt = (path: string) => schemaAt(root, path).enum;
      assert.deepEqual(enumAt("spec.provider"), ["", ...ROUTER_PROVIDERS]);
      assert.deepEqual(enumAt("spec.targetRef.kind"), [...TARGET_KINDS]);
      assert.deepEqual(enumAt("status.phase"), [...CANARY_PHASES]);
      assert.deepEqual(enumAt("spec.analysis.webhooks[].type"), ["", ...WEBHOOK_TYPES]);
      assert.deepEqual(enumAt("spec.analysis.metrics[].onNoData"), [...ON_NO_DATA_POLICIES]);
      assert.deepEqual(enumAt("spec.analysis.alerts[].severity"), ["", ...ALERT_SEVERITIES]);
      assert.deepEqual(enumAt("status.lastAnalysis[].verdict"), [...ANALYSIS_VERDICTS]);
      assert.deepEqual(schemaAt(rootOf(load("metrictemplates.yaml")), "spec.provider.type").enum, [...METRIC_PROVIDER_TYPES]);
      assert.deepEqual(schemaAt(rootOf(load("alertproviders.yaml")), "spec.type").enum, [...ALERT_PROVIDER_TYPES]);
    });

    it("bounds weights and thresholds like validation does", () => {
      const bounds = (path: string) => {
        const s = schemaAt(root, path);
        return [s.minimum, s.maximum];
      };
      assert.deepEqual(bounds("spec.analysis.maxWeight"), [0, 100]);
      assert.deepEqual(bounds("spec.analysis.stepWeight"), [1, 100]);
      assert.deepEqual(bounds("spec.analysis.stepWeights[]"), [1, 100]);
      assert.deepEqual(bounds("spec.analysis.threshold"), [1, undefined]);
      assert.deepEqual(bounds("spec.analysis.iterations"), [1, undefined]);
      assert.deepEqual(bounds("spec.service.port"), [1, 65535]);
      assert.deepEqual(bounds("spec.analysis.metrics[].compare.tolerance"), [1, 100]);
      assert.deepEqual(bounds("spec.analysis.metrics[].compare.confidence"), [MIN_CONFIDENCE, MAX_CONFIDENCE]);
      assert.deepEqual(bounds("spec.analysis.metrics[].compare.minRequests"), [0, undefined]);
    });

    it("takes a port number or name as targetPort", () => {
      assert.equal(schemaAt(root, "spec.service.targetPort")["x-kubernetes-int-or-string"], true);
    });

    it("keeps unknown fields only where the shape is open", () => {
      const open: string[] = [];
      walk(root, "", (node, path) => {
        if (node["x-kubernetes-preserve-unknown-fields"]) open.push(path);
      });
      assert.deepEqual(open.sort(), [
        "spec.analysis.match[]",
        "spec.service.corsPolicy",
        "spec.service.match[]",
        "spec.service.rewrite",
        "spec.service.trafficPolicy",
        // The judge's state is versioned by the judge, and parseJudgeState checks it on every read.
        "status.judge.metrics{}.state",
      ]);
    });

    it("has a duration pattern that agrees with the duration parser", () => {
      const pattern = new RegExp(schemaAt(root, "spec.analysis.interval").pattern!);
      for (const s of ["1m", "30s", "500ms", "1h30m", "1.5m", "0", "10us", "1.s"]) {
        assert.equal(pattern.test(s), tryParseDuration(s).ok, s);
        assert.ok(pattern.test(s), s);
      }
      for (const s of ["", "10", "1d", "1h 30m", "-1s", "abc", "1.5"]) {
        assert.equal(pattern.test(s), false, s);
        assert.equal(tryParseDuration(s).ok, false, s);
      }
    });
  });

  it("kustomization.yaml lists the three CRDs", () => {
    const k = parse(readFileSync(new URL("kustomization.yaml", crdDir), "utf8")) as { resources: string[] };
    assert.deepEqual(k.resources, ["canaries.yaml", "metrictemplates.yaml", "alertproviders.yaml"]);
  });
});
