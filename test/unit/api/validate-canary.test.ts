import assert from "node:assert/strict";
import { errorsOf, formatProblem, formatProblems, hasErrors, validateCanary, warningsOf } from "../../../src/api/validate.ts";
import type { Canary } from "../../../src/api/types.ts";
import { edits } from "./edit.ts";
import {
  appMeshCanary,
  blueGreenCanary,
  gatewayApiCanary,
  istioABCanary,
  istioCanary,
  linkerdCanary,
  nginxCanary,
  validExamples,
} from "./fixtures.ts";

const errors = (obj: unknown): string[] => errorsOf(validateCanary(obj)).map(formatProblem);
const warnings = (obj: unknown): string[] => warningsOf(validateCanary(obj)).map(formatProblem);

const PROVIDERS = "kubernetes, gatewayapi, gatewayapi:v1, gatewayapi:v1beta1, appmesh, appmesh:v1beta2, istio, nginx, smi, linkerd, contour, traefik, skipper, alb, gloo, kuma, apisix";
const AB_ROUTERS = "gatewayapi, gatewayapi:v1, gatewayapi:v1beta1, appmesh, appmesh:v1beta2, istio, nginx";
const PORT_NAME_RULE = "must be an RFC 1123 label (at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit)";
const SERVICE_NAME_RULE = "must be a lowercase RFC 1035 label of at most 55 characters, so that <name>-primary is a valid Service name";

interface InvalidCase {
  name: string;
  base: () => Canary;
  changes: Record<string, unknown>;
  expected: string[];
}

const invalid: InvalidCase[] = [
  { name: "unknown router provider", base: istioCanary, changes: { "spec.provider": "ambassador" }, expected: [`spec.provider: names provider ambassador, which aviary does not serve: must be one of: ${PROVIDERS}`] },
  { name: "port name longer than a DNS label", base: istioCanary, changes: { "spec.service.portName": "a".repeat(64) }, expected: [`spec.service.portName: ${PORT_NAME_RULE}`] },
  { name: "provider of the wrong type", base: istioCanary, changes: { "spec.provider": 7 }, expected: ["spec.provider: must be a string"] },
  { name: "Flagger apiVersion left unchanged", base: istioCanary, changes: { apiVersion: "flagger.app/v1beta1" }, expected: ["apiVersion: must be aviary.dev/v1beta1"] },
  {
    name: "a delegate VirtualService with hosts and gateways", base: istioCanary,
    changes: { "spec.service.delegation": true, "spec.service.hosts": ["shop.example.com"], "spec.service.gateways": ["public"] },
    expected: [
      "spec.service.hosts: must be empty with delegation: a delegate VirtualService takes its hosts and gateways from the VirtualService that delegates to it",
      "spec.service.gateways: must be empty with delegation: a delegate VirtualService takes its hosts and gateways from the VirtualService that delegates to it",
    ],
  },
  { name: "unknown traffic distribution", base: istioCanary, changes: { "spec.service.trafficDistribution": "Nearby" }, expected: ["spec.service.trafficDistribution: must be one of: PreferClose, PreferSameZone, PreferSameNode"] },
  { name: "aviary's own label left unmanaged", base: istioCanary, changes: { "spec.service.unmanagedMetadata": { labels: ["aviary.dev/canary"] } }, expected: ["spec.service.unmanagedMetadata.labels: cannot name aviary.dev/canary: aviary finds its generated objects by it"] },
  {
    name: "one cookie for both sides", base: istioCanary, changes: { "spec.analysis.sessionAffinity": { cookieName: "pin", primaryCookieName: "pin" } },
    expected: ["spec.analysis.sessionAffinity.primaryCookieName: must differ from cookieName: one cookie cannot pin users to both sides"],
  },
  { name: "missing targetRef", base: istioCanary, changes: { "spec.targetRef": undefined }, expected: ["spec.targetRef: is required"] },
  { name: "empty target name", base: istioCanary, changes: { "spec.targetRef.name": "" }, expected: ["spec.targetRef.name: must not be empty"] },
  { name: "target name not a DNS name", base: istioCanary, changes: { "spec.targetRef.name": "PodInfo" }, expected: ["spec.targetRef.name: must be a lowercase RFC 1123 name (a-z, 0-9, '-', '.')"] },
  { name: "unsupported target kind", base: istioCanary, changes: { "spec.targetRef.kind": "StatefulSet" }, expected: ["spec.targetRef.kind: must be one of: Deployment, DaemonSet"] },
  { name: "Deployment with an old apiVersion", base: istioCanary, changes: { "spec.targetRef.apiVersion": "apps/v1beta2" }, expected: ["spec.targetRef.apiVersion: must be apps/v1 for kind Deployment"] },
  { name: "DaemonSet with an old apiVersion", base: istioCanary, changes: { "spec.targetRef.kind": "DaemonSet", "spec.targetRef.apiVersion": "extensions/v1beta1" }, expected: ["spec.targetRef.apiVersion: must be apps/v1 for kind DaemonSet"] },
  {
    name: "DaemonSet with an autoscaler",
    base: istioCanary,
    changes: { "spec.targetRef.kind": "DaemonSet", "spec.autoscalerRef": { apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler", name: "podinfo" } },
    expected: ["spec.autoscalerRef: must not be set when targetRef.kind is DaemonSet: a DaemonSet runs one pod per eligible node and has no replicas for an autoscaler to scale"],
  },
  { name: "missing service", base: istioCanary, changes: { "spec.service": undefined }, expected: ["spec.service: is required"] },
  { name: "port out of range", base: istioCanary, changes: { "spec.service.port": 0 }, expected: ["spec.service.port: must be between 1 and 65535"] },
  { name: "port as a string", base: istioCanary, changes: { "spec.service.port": "9898" }, expected: ["spec.service.port: must be an integer"] },
  { name: "upper-case port name", base: istioCanary, changes: { "spec.service.portName": "HTTP" }, expected: [`spec.service.portName: ${PORT_NAME_RULE}`] },
  { name: "targetPort of the wrong type", base: istioCanary, changes: { "spec.service.targetPort": true }, expected: ["spec.service.targetPort: must be a port number or a port name"] },
  { name: "targetPort out of range", base: istioCanary, changes: { "spec.service.targetPort": 70000 }, expected: ["spec.service.targetPort: must be a port number between 1 and 65535"] },
  { name: "service name not a Service name", base: istioCanary, changes: { "spec.service.name": "podinfo_svc" }, expected: [`spec.service.name: ${SERVICE_NAME_RULE}`] },
  {
    name: "target name too long to derive Service names from",
    base: istioCanary,
    changes: { "spec.targetRef.name": "a".repeat(60) },
    expected: [`spec.service.name: is required because targetRef.name is not a valid Service name (it ${SERVICE_NAME_RULE})`],
  },
  {
    name: "service timeout without a unit",
    base: appMeshCanary,
    changes: { "spec.service.timeout": "15" },
    expected: ['spec.service.timeout: must be a duration such as "30s", "1m" or "1h30m", got "15" (a unit is required: ms, s, m or h)'],
  },
  { name: "negative retry attempts", base: appMeshCanary, changes: { "spec.service.retries.attempts": -1 }, expected: ["spec.service.retries.attempts: must be at least 0"] },
  { name: "service match with a non-string prefix", base: appMeshCanary, changes: { "spec.service.match.0.uri": { prefix: 1 } }, expected: ["spec.service.match[0].uri.prefix: must be a string"] },
  { name: "stepWeight zero", base: istioCanary, changes: { "spec.analysis.stepWeight": 0 }, expected: ["spec.analysis.stepWeight: must be between 1 and 100"] },
  { name: "stepWeight over 100", base: istioCanary, changes: { "spec.analysis.stepWeight": 101 }, expected: ["spec.analysis.stepWeight: must be between 1 and 100"] },
  { name: "fractional stepWeight", base: istioCanary, changes: { "spec.analysis.stepWeight": 7.5 }, expected: ["spec.analysis.stepWeight: must be an integer"] },
  { name: "maxWeight over 100", base: istioCanary, changes: { "spec.analysis.maxWeight": 150 }, expected: ["spec.analysis.maxWeight: must be between 0 and 100"] },
  { name: "maxWeight below stepWeight", base: istioCanary, changes: { "spec.analysis.maxWeight": 3 }, expected: ["spec.analysis.maxWeight: must be greater than or equal to stepWeight (5)"] },
  { name: "threshold zero", base: istioCanary, changes: { "spec.analysis.threshold": 0 }, expected: ["spec.analysis.threshold: must be at least 1"] },
  { name: "iterations zero", base: blueGreenCanary, changes: { "spec.analysis.iterations": 0 }, expected: ["spec.analysis.iterations: must be at least 1"] },
  { name: "stepWeights not increasing", base: gatewayApiCanary, changes: { "spec.analysis.stepWeights": [10, 10, 30] }, expected: ["spec.analysis.stepWeights[1]: must be greater than the previous step (10)"] },
  { name: "stepWeights over 100", base: gatewayApiCanary, changes: { "spec.analysis.stepWeights": [20, 120] }, expected: ["spec.analysis.stepWeights[1]: must be between 1 and 100"] },
  { name: "empty stepWeights", base: gatewayApiCanary, changes: { "spec.analysis.stepWeights": [] }, expected: ["spec.analysis.stepWeights: must not be empty"] },
  {
    name: "interval that does not parse",
    base: istioCanary,
    changes: { "spec.analysis.interval": "ten seconds" },
    expected: ['spec.analysis.interval: must be a duration such as "30s", "1m" or "1h30m", got "ten seconds"'],
  },
  { name: "zero interval", base: istioCanary, changes: { "spec.analysis.interval": "0s" }, expected: ["spec.analysis.interval: must be greater than zero"] },
  {
    name: "thresholdRange min above max",
    base: istioCanary,
    changes: { "spec.analysis.metrics.0.thresholdRange": { min: 99, max: 1 } },
    expected: ["spec.analysis.metrics[0].thresholdRange: min (99) must not be greater than max (1)"],
  },
  { name: "empty thresholdRange", base: istioCanary, changes: { "spec.analysis.metrics.0.thresholdRange": {} }, expected: ["spec.analysis.metrics[0].thresholdRange: must set min or max"] },
  {
    name: "custom metric without a source",
    base: istioCanary,
    changes: { "spec.analysis.metrics.1.templateRef": undefined },
    expected: ["spec.analysis.metrics[1].templateRef: is required unless the metric has a query or is built in (request-success-rate, request-duration)"],
  },
  { name: "templateRef without a name", base: istioCanary, changes: { "spec.analysis.metrics.1.templateRef": { namespace: "x" } }, expected: ["spec.analysis.metrics[1].templateRef.name: is required"] },
  { name: "unknown onNoData", base: istioCanary, changes: { "spec.analysis.metrics.0.onNoData": "ignore" }, expected: ["spec.analysis.metrics[0].onNoData: must be one of: fail, pass, skip"] },
  {
    name: "duplicate metric names",
    base: istioCanary,
    changes: { "spec.analysis.metrics.1.name": "request-success-rate" },
    expected: ["spec.analysis.metrics[1].name: must be unique (also used by spec.analysis.metrics[0])"],
  },
  {
    name: "template variable that is not a string",
    base: istioCanary,
    changes: { "spec.analysis.metrics.1.templateVariables.reporter": 1 },
    expected: ["spec.analysis.metrics[1].templateVariables.reporter: must be a string"],
  },
  {
    name: "unknown webhook type",
    base: istioCanary,
    changes: { "spec.analysis.webhooks.0.type": "pre" },
    expected: ["spec.analysis.webhooks[0].type: must be one of: confirm-rollout, pre-rollout, rollout, confirm-traffic-increase, confirm-promotion, post-rollout, rollback, event"],
  },
  { name: "webhook URL that does not parse", base: istioCanary, changes: { "spec.analysis.webhooks.0.url": "not a url" }, expected: ["spec.analysis.webhooks[0].url: must be an http or https URL"] },
  { name: "webhook without a URL", base: istioCanary, changes: { "spec.analysis.webhooks.0.url": undefined }, expected: ["spec.analysis.webhooks[0].url: is required"] },
  { name: "negative webhook timeout", base: istioCanary, changes: { "spec.analysis.webhooks.0.timeout": "-5s" }, expected: ['spec.analysis.webhooks[0].timeout: must not be negative, got "-5s"'] },
  { name: "webhook metadata that is not a string", base: istioCanary, changes: { "spec.analysis.webhooks.0.metadata.cmd": { run: "hey" } }, expected: ["spec.analysis.webhooks[0].metadata.cmd: must be a string"] },
  { name: "unknown alert severity", base: istioCanary, changes: { "spec.analysis.alerts.0.severity": "critical" }, expected: ["spec.analysis.alerts[0].severity: must be one of: info, warn, error"] },
  { name: "alert without providerRef", base: istioCanary, changes: { "spec.analysis.alerts.0.providerRef": undefined }, expected: ["spec.analysis.alerts[0].providerRef: is required"] },
  {
    name: "A/B match with the kubernetes router",
    base: blueGreenCanary,
    changes: { "spec.analysis.match": [{ headers: { "x-canary": { exact: "insider" } } }] },
    expected: [`spec.analysis.match: is not supported by provider kubernetes: A/B header and cookie matching needs one of ${AB_ROUTERS}`],
  },
  {
    name: "A/B match with linkerd",
    base: linkerdCanary,
    changes: { "spec.analysis.iterations": 10, "spec.analysis.stepWeight": undefined, "spec.analysis.maxWeight": undefined, "spec.analysis.match": [{ headers: { "x-canary": { exact: "insider" } } }] },
    expected: [`spec.analysis.match: is not supported by provider linkerd: A/B header and cookie matching needs one of ${AB_ROUTERS}`],
  },
  {
    name: "A/B match without iterations",
    base: istioABCanary,
    changes: { "spec.analysis.iterations": undefined },
    expected: ["spec.analysis.iterations: is required when match is set (A/B testing runs a number of iterations)"],
  },
  {
    name: "mirroring with nginx",
    base: nginxCanary,
    changes: { "spec.analysis.mirror": true },
    expected: ["spec.analysis.mirror: is not supported by provider nginx: traffic mirroring needs one of gatewayapi, gatewayapi:v1, gatewayapi:v1beta1, istio"],
  },
  { name: "nginx without ingressRef", base: nginxCanary, changes: { "spec.ingressRef": undefined }, expected: ["spec.ingressRef: is required when provider is nginx"] },
  {
    name: "weights with the kubernetes router",
    base: blueGreenCanary,
    changes: { "spec.analysis.iterations": undefined, "spec.analysis.stepWeight": 10 },
    expected: [`spec.analysis.stepWeight: is not supported by provider kubernetes: weighted traffic shifting needs one of gatewayapi, gatewayapi:v1, gatewayapi:v1beta1, appmesh, appmesh:v1beta2, istio, nginx, smi, linkerd, contour, traefik, skipper, alb, gloo, kuma, apisix; use iterations for blue/green`],
  },
  {
    name: "analysis without a strategy",
    base: istioCanary,
    changes: { "spec.analysis.stepWeight": undefined, "spec.analysis.maxWeight": undefined },
    expected: ["spec.analysis: must set stepWeight, stepWeights or steps (canary) or iterations (blue/green, A/B testing)"],
  },
  {
    name: "Gateway API without gatewayRefs",
    base: gatewayApiCanary,
    changes: { "spec.service.gatewayRefs": undefined },
    expected: ["spec.service.gatewayRefs: is required when provider is gatewayapi:v1 (the HTTPRoute's parent Gateways)"],
  },
  {
    name: "nginx A/B header prefix",
    base: nginxCanary,
    changes: { "spec.analysis.iterations": 10, "spec.analysis.stepWeight": undefined, "spec.analysis.maxWeight": undefined, "spec.analysis.match": [{ headers: { "x-canary": { prefix: "in" } } }] },
    expected: ["spec.analysis.match[0].headers.x-canary.prefix: is not supported by provider nginx (use exact or regex)"],
  },
  {
    name: "nginx A/B on the URI",
    base: nginxCanary,
    changes: { "spec.analysis.iterations": 10, "spec.analysis.stepWeight": undefined, "spec.analysis.maxWeight": undefined, "spec.analysis.match": [{ uri: { prefix: "/" } }] },
    expected: ["spec.analysis.match[0].uri: is not supported by provider nginx (A/B matches use headers or headers.cookie)"],
  },
  {
    name: "empty A/B match entry",
    base: istioABCanary,
    changes: { "spec.analysis.match": [{}] },
    expected: ["spec.analysis.match[0]: must have at least one condition (an empty match sends every request to the canary)"],
  },
  {
    name: "string match with two kinds",
    base: istioABCanary,
    changes: { "spec.analysis.match.0.headers.x-canary": { exact: "a", regex: "b" } },
    expected: ["spec.analysis.match[0].headers.x-canary: must set exactly one of exact, prefix, suffix, regex"],
  },
  {
    name: "regex that does not compile",
    base: istioABCanary,
    changes: { "spec.analysis.match.0.headers.x-canary": { regex: "(" } },
    expected: ["spec.analysis.match[0].headers.x-canary.regex: must be a valid regular expression (Invalid regular expression: /(/: Unterminated group)"],
  },
  {
    name: "session affinity with App Mesh",
    base: appMeshCanary,
    changes: { "spec.analysis.sessionAffinity": { cookieName: "canary" } },
    expected: ["spec.analysis.sessionAffinity: is not supported by provider appmesh: session affinity needs one of gatewayapi, gatewayapi:v1, gatewayapi:v1beta1, istio"],
  },
  { name: "session affinity without a cookie name", base: gatewayApiCanary, changes: { "spec.analysis.sessionAffinity.cookieName": undefined }, expected: ["spec.analysis.sessionAffinity.cookieName: is required"] },
  { name: "negative progress deadline", base: istioCanary, changes: { "spec.progressDeadlineSeconds": -1 }, expected: ["spec.progressDeadlineSeconds: must be at least 1"] },
  { name: "skipAnalysis as a string", base: istioCanary, changes: { "spec.skipAnalysis": "yes" }, expected: ["spec.skipAnalysis: must be true or false"] },
  { name: "metricsServer without a scheme", base: istioCanary, changes: { "spec.metricsServer": "prometheus:9090" }, expected: ["spec.metricsServer: must be an http or https URL"] },
  { name: "autoscalerRef of another kind", base: appMeshCanary, changes: { "spec.autoscalerRef.kind": "VerticalPodAutoscaler" }, expected: ["spec.autoscalerRef.kind: must be one of: HorizontalPodAutoscaler, ScaledObject"] },
  { name: "ScaledObject at an autoscaling version", base: appMeshCanary, changes: { "spec.autoscalerRef.kind": "ScaledObject" }, expected: ["spec.autoscalerRef.apiVersion: must be keda.sh/v1alpha1 for kind ScaledObject"] },
  { name: "analysis that is not an object", base: istioCanary, changes: { "spec.analysis": "fast" }, expected: ["spec.analysis: must be an object"] },
  { name: "metrics that is not a list", base: istioCanary, changes: { "spec.analysis.metrics": {} }, expected: ["spec.analysis.metrics: must be a list"] },
  { name: "metric that is not an object", base: istioCanary, changes: { "spec.analysis.metrics": [5] }, expected: ["spec.analysis.metrics[0]: must be an object"] },
];

describe("validateCanary", () => {
  describe("accepts Flagger-shaped manifests", () => {
    for (const [name, make] of Object.entries(validExamples)) {
      it(name, () => {
        const problems = validateCanary(make());
        assert.deepEqual(problems.map(formatProblem), []);
      });
    }
  });

  describe(`rejects ${invalid.length} invalid manifests with the field and the rule`, () => {
    for (const c of invalid) {
      it(c.name, () => {
        const doc = edits(c.base(), c.changes);
        assert.deepEqual(errors(doc), c.expected);
        assert.equal(hasErrors(validateCanary(doc)), true);
      });
    }
    it("has at least 25 distinct cases", () => {
      assert.ok(new Set(invalid.map((c) => c.expected.join())).size >= 25);
    });
  });

  it("accepts a DaemonSet target (Flagger's e2e shape: kubernetes provider, blue/green) and a canary run on it", () => {
    const ds = { "spec.targetRef": { apiVersion: "apps/v1", kind: "DaemonSet", name: "podinfo-ds" } };
    assert.deepEqual(errors(edits(istioCanary(), ds)), []);
    assert.deepEqual(errors(edits(istioCanary(), { ...ds, "spec.provider": "kubernetes", "spec.analysis.stepWeight": undefined, "spec.analysis.maxWeight": undefined, "spec.analysis.iterations": 5 })), []);
  });

  it("accepts a thresholdRange of one value (min equal to max)", () => {
    assert.deepEqual(errors(edits(istioCanary(), { "spec.analysis.metrics.0.thresholdRange": { min: 100, max: 100 } })), []);
  });

  it("reports every problem at once, not only the first", () => {
    const doc = edits(istioCanary(), {
      "spec.provider": "ambassador",
      "spec.service.port": -1,
      "spec.analysis.stepWeight": 0,
      "spec.analysis.webhooks.0.url": "ftp://x",
    });
    assert.deepEqual(errors(doc), [
      `spec.provider: names provider ambassador, which aviary does not serve: must be one of: ${PROVIDERS}`,
      "spec.service.port: must be between 1 and 65535",
      "spec.analysis.stepWeight: must be between 1 and 100",
      "spec.analysis.webhooks[0].url: must be an http or https URL",
    ]);
  });

  it("rejects anything that is not an object without throwing", () => {
    for (const v of [null, undefined, 0, "canary", [], [{}], true]) {
      assert.deepEqual(errors(v), ["must be a Canary object"]);
    }
    assert.deepEqual(errors({}), ["spec: is required"]);
    assert.deepEqual(errors({ spec: [] }), ["spec: must be an object"]);
    assert.deepEqual(errors({ spec: { targetRef: 1, service: "x" } }), ["spec.targetRef: must be an object", "spec.service: must be an object"]);
  });

  it("uses the operator's default router when spec.provider is empty", () => {
    const doc = edits(istioCanary(), { "spec.provider": "" });
    assert.deepEqual(errorsOf(validateCanary(doc, { defaultProvider: "istio" })), []);
    assert.deepEqual(errorsOf(validateCanary(doc, { defaultProvider: "kubernetes" })).map(formatProblem), [
      "spec.analysis.stepWeight: is not supported by provider kubernetes: weighted traffic shifting needs one of gatewayapi, gatewayapi:v1, gatewayapi:v1beta1, appmesh, appmesh:v1beta2, istio, nginx, smi, linkerd, contour, traefik, skipper, alb, gloo, kuma, apisix; use iterations for blue/green",
    ]);
  });

  it("accepts Flagger's empty webhook type as a rollout hook", () => {
    assert.deepEqual(errors(edits(istioCanary(), { "spec.analysis.webhooks.0.type": "" })), []);
  });

  it("skipAnalysis needs no strategy", () => {
    const doc = edits(istioCanary(), { "spec.skipAnalysis": true, "spec.analysis.stepWeight": undefined, "spec.analysis.maxWeight": undefined });
    assert.deepEqual(errors(doc), []);
  });

  describe("warnings (soft problems that do not block)", () => {
    const cases: Array<[string, Canary, string[]]> = [
      [
        "iterations with stepWeight: blue/green ignores weights",
        edits(istioCanary(), { "spec.analysis.iterations": 5 }),
        ["spec.analysis.stepWeight: is ignored: iterations selects blue/green (or A/B testing with match), which does not shift traffic by weight"],
      ],
      [
        "maxWeight beside stepWeights",
        edits(gatewayApiCanary(), { "spec.analysis.maxWeight": 30 }),
        ["spec.analysis.maxWeight: is ignored when stepWeights is set; the last step (50) is the maximum weight"],
      ],
      ["stepWeight beside stepWeights", edits(gatewayApiCanary(), { "spec.analysis.stepWeight": 10 }), ["spec.analysis.stepWeight: is ignored when stepWeights is set"]],
      ["mirrorWeight without mirror", edits(istioCanary(), { "spec.analysis.mirrorWeight": 50 }), ["spec.analysis.mirrorWeight: is ignored unless mirror is true"]],
      ["no analysis at all", edits(istioCanary(), { "spec.analysis": undefined }), ["spec.analysis: is not set, so every revision is promoted without checks (set skipAnalysis: true to say so)"]],
      [
        "metric without a threshold",
        edits(istioCanary(), { "spec.analysis.metrics.0.thresholdRange": undefined }),
        ["spec.analysis.metrics[0].thresholdRange: is not set, so this metric is measured but can never fail the analysis"],
      ],
      ["query beside templateRef", edits(istioCanary(), { "spec.analysis.metrics.1.query": "up" }), ["spec.analysis.metrics[1].query: is ignored when templateRef is set"]],
      ["legacy threshold beside thresholdRange", edits(istioCanary(), { "spec.analysis.metrics.0.threshold": 99 }), ["spec.analysis.metrics[0].threshold: is ignored when thresholdRange is set"]],
      ["ingressRef with istio", edits(istioCanary(), { "spec.ingressRef": { name: "podinfo" } }), ["spec.ingressRef: is not supported by provider istio; ignored (honoured by nginx, skipper, alb)"]],
    ];
    for (const [name, doc, expected] of cases) {
      it(name, () => {
        assert.deepEqual(errors(doc), []);
        assert.deepEqual(warnings(doc), expected);
      });
    }
    it("no analysis with skipAnalysis is not worth a warning", () => {
      assert.deepEqual(warnings(edits(istioCanary(), { "spec.analysis": undefined, "spec.skipAnalysis": true })), []);
    });
  });

  it("formats problems as `path: rule`, one per line", () => {
    const problems = validateCanary(edits(istioCanary(), { "spec.analysis.stepWeight": 0, "spec.analysis.iterations": 2 }));
    assert.equal(formatProblems(problems), "spec.analysis.stepWeight: must be between 1 and 100");
    assert.equal(formatProblems(problems, "warning"), "spec.analysis.stepWeight: is ignored: iterations selects blue/green (or A/B testing with match), which does not shift traffic by weight");
  });
});

describe("validateCanary: the group served", () => {
  it("takes Flagger's apiVersion when aviary serves flagger.app, and only then", () => {
    const c = { ...istioCanary(), apiVersion: "flagger.app/v1beta1" };
    assert.deepEqual(errorsOf(validateCanary(c, { apiVersion: "flagger.app/v1beta1" })), []);
    assert.deepEqual(errorsOf(validateCanary(istioCanary(), { apiVersion: "flagger.app/v1beta1" })).map((p) => `${p.path}: ${p.rule}`), ["apiVersion: must be flagger.app/v1beta1"]);
  });
});
