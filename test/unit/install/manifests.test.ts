import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { parse } from "yaml";
import { LABEL_CANARY, LABEL_MANAGED_BY, MANAGED_BY_VALUE } from "../../../src/api/types.ts";
import { parseConfig, splitAddress } from "../../../src/config.ts";
import type { Config } from "../../../src/config.ts";
import { routePath } from "../../../src/webhook/admission.ts";
import type { AdmissionHandler } from "../../../src/webhook/admission.ts";
import { createDeploymentMutator } from "../../../src/webhook/mutate/deployment.ts";
import { createAlertProviderValidator, createCanaryValidator, createMetricTemplateValidator } from "../../../src/webhook/validate/canary.ts";
import { createGeneratedObjectGuard } from "../../../src/webhook/validate/generated.ts";
import { createScaleGuard } from "../../../src/webhook/validate/scale.ts";
import { kustomizationFiles, loadManifests, MANIFESTS, only, ROOT } from "./manifests.ts";

const NAMESPACE = "aviary-system";
const SELF = `system:serviceaccount:${NAMESPACE}:aviary`;
const objects = loadManifests();

interface Probe {
  httpGet: { path: string; port: string | number };
}
interface Container {
  name: string;
  image: string;
  args: string[];
  env: Array<{ name: string; valueFrom?: { fieldRef?: { fieldPath: string } } }>;
  ports: Array<{ name: string; containerPort: number }>;
  livenessProbe: Probe;
  readinessProbe: Probe;
  resources: { requests: Record<string, string>; limits: Record<string, string> };
  securityContext: Record<string, unknown> & { capabilities: { drop: string[] }; seccompProfile?: { type: string } };
  volumeMounts: Array<{ name: string; mountPath: string }>;
}
interface PodSpec {
  serviceAccountName: string;
  securityContext: Record<string, unknown> & { seccompProfile: { type: string } };
  containers: Container[];
  volumes: Array<{ name: string; emptyDir?: object }>;
  topologySpreadConstraints?: Array<{ topologyKey: string; labelSelector: { matchLabels: Record<string, string> } }>;
  affinity?: { podAntiAffinity?: object };
}
interface Deployment {
  spec: { replicas: number; selector: { matchLabels: Record<string, string> }; template: { metadata: { labels: Record<string, string> }; spec: PodSpec } };
}
interface Service {
  spec: { selector: Record<string, string>; ports: Array<{ name: string; port: number; targetPort: string | number }> };
}
interface Webhook {
  name: string;
  admissionReviewVersions: string[];
  sideEffects: string;
  failurePolicy: string;
  timeoutSeconds: number;
  clientConfig: { caBundle?: string; url?: string; service: { name: string; namespace: string; path: string; port: number } };
  rules: Array<{ apiGroups: string[]; apiVersions: string[]; operations: string[]; resources: string[] }>;
  objectSelector?: { matchLabels?: Record<string, string>; matchExpressions?: Array<{ key: string; operator: string; values?: string[] }> };
  namespaceSelector?: { matchExpressions?: Array<{ key: string; operator: string; values?: string[] }> };
  matchConditions?: Array<{ name: string; expression: string }>;
}
interface WebhookConfiguration {
  webhooks: Webhook[];
}

const deployment = only<Deployment>(objects, "Deployment", "aviary");
const pod = deployment.spec.template.spec;
const container = pod.containers[0]!;
const config = parseConfig(container.args, { POD_NAME: "aviary-0" }, "host", 1) as Config;
const portOf = (name: string | number): number =>
  typeof name === "number" ? name : (container.ports.find((p) => p.name === name)?.containerPort ?? Number.NaN);
const selects = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);

const mutating = only<WebhookConfiguration>(objects, "MutatingWebhookConfiguration", "aviary");
const validating = only<WebhookConfiguration>(objects, "ValidatingWebhookConfiguration", "aviary");
const allWebhooks = [...mutating.webhooks, ...validating.webhooks];

describe("install manifests", () => {
  it("includes every manifest file in the kustomization (none left out) and puts namespaced objects in aviary-system", () => {
    const listed = new Set(kustomizationFiles());
    const onDisk = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
        const path = join(dir, e.name);
        // grafana/, loadtester/ and chart/ are installed on their own (kustomize, helm);
        // flagger-compat/ is a Component used with manifests/ (flagger-compat.test.ts).
        if (e.isDirectory()) return ["grafana", "loadtester", "chart", "flagger-compat"].includes(e.name) ? [] : onDisk(path);
        return e.name.endsWith(".yaml") && e.name !== "kustomization.yaml" ? [relative(ROOT, path)] : [];
      });
    assert.deepEqual(onDisk(MANIFESTS).filter((f) => !listed.has(f)), []);
    const clusterScoped = new Set(["Namespace", "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"]);
    for (const o of objects) {
      if (clusterScoped.has(o.kind)) assert.equal(o.metadata.namespace, undefined, `${o.kind} ${o.metadata.name}`);
      else assert.equal(o.metadata.namespace, NAMESPACE, `${o.kind} ${o.metadata.name} in ${o.file}`);
      // aviary's own objects must not look generated, or its guard would protect them from their owner.
      assert.notEqual(o.metadata.labels?.[LABEL_MANAGED_BY], MANAGED_BY_VALUE, `${o.kind} ${o.metadata.name}`);
    }
    only(objects, "Namespace", NAMESPACE);
    assert.equal(objects.filter((o) => o.kind === "CustomResourceDefinition").length, 3);
  });

  describe("Deployment", () => {
    it("runs two replicas with leader election, the in-cluster certificate Secret and the webhook Service's DNS name", () => {
      assert.equal(deployment.spec.replicas, 2);
      assert.ok(selects(deployment.spec.selector.matchLabels, deployment.spec.template.metadata.labels));
      assert.equal(config.leaderElect, true);
      assert.equal(config.controller && config.webhook, true);
      assert.equal(config.certSecret, `${NAMESPACE}/aviary-webhook-cert`);
      const webhookService = only(objects, "Service", "aviary-webhook");
      assert.deepEqual(config.webhookDnsNames, [`${webhookService.metadata.name}.${webhookService.metadata.namespace}.svc`]);
      assert.ok(config.selfUsers.includes(SELF));
      assert.equal(pod.serviceAccountName, "aviary");
      const podName = container.env.find((e) => e.name === "POD_NAME");
      assert.equal(podName?.valueFrom?.fieldRef?.fieldPath, "metadata.name", "the leader identity is the pod name");
    });

    it("serves /metrics, /healthz, /readyz on the metrics port and the webhook on 9443, as the flags say", () => {
      assert.equal(portOf("metrics"), splitAddress(config.metricsAddress).port);
      assert.equal(portOf("metrics"), 8080);
      assert.equal(portOf("webhook"), config.webhookPort);
      assert.equal(portOf("webhook"), 9443);
      assert.equal(container.livenessProbe.httpGet.path, "/healthz");
      assert.equal(portOf(container.livenessProbe.httpGet.port), 8080);
      assert.equal(container.readinessProbe.httpGet.path, "/readyz");
      assert.equal(portOf(container.readinessProbe.httpGet.port), 8080);
    });

    it("is locked down: non-root, read-only root filesystem, no privilege escalation, no capabilities, RuntimeDefault seccomp", () => {
      assert.equal(pod.securityContext.runAsNonRoot, true);
      assert.ok(typeof pod.securityContext.runAsUser === "number" && pod.securityContext.runAsUser > 0);
      assert.equal(pod.securityContext.seccompProfile.type, "RuntimeDefault");
      const sc = container.securityContext;
      assert.equal(sc.readOnlyRootFilesystem, true);
      assert.equal(sc.allowPrivilegeEscalation, false);
      assert.notEqual(sc.privileged, true);
      assert.deepEqual(sc.capabilities.drop, ["ALL"]);
      assert.equal((sc.capabilities as { add?: unknown }).add, undefined);
      const tmp = container.volumeMounts.find((m) => m.mountPath === "/tmp");
      assert.ok(tmp && pod.volumes.find((v) => v.name === tmp.name)?.emptyDir, "/tmp is a writable emptyDir");
    });

    it("sets resource requests and limits, and spreads the replicas over nodes", () => {
      for (const r of ["cpu", "memory"]) {
        assert.ok(container.resources.requests[r], `requests.${r}`);
        assert.ok(container.resources.limits[r], `limits.${r}`);
      }
      const spread = pod.topologySpreadConstraints?.find((c) => c.topologyKey === "kubernetes.io/hostname");
      assert.ok(spread || pod.affinity?.podAntiAffinity, "topology spread or anti-affinity");
      if (spread) assert.ok(selects(spread.labelSelector.matchLabels, deployment.spec.template.metadata.labels));
    });
  });

  it("has Services for the webhook (443 → webhook port) and metrics (8080), and a PDB keeping one replica", () => {
    const labels = deployment.spec.template.metadata.labels;
    const webhook = only<Service>(objects, "Service", "aviary-webhook");
    assert.ok(selects(webhook.spec.selector, labels));
    assert.deepEqual(webhook.spec.ports.map((p) => [p.port, portOf(p.targetPort)]), [[443, 9443]]);
    const metrics = only<Service>(objects, "Service", "aviary-metrics");
    assert.ok(selects(metrics.spec.selector, labels));
    assert.deepEqual(metrics.spec.ports.map((p) => [p.port, portOf(p.targetPort)]), [[8080, 8080]]);
    const pdb = only<{ spec: { minAvailable: number; selector: { matchLabels: Record<string, string> } } }>(objects, "PodDisruptionBudget", "aviary");
    assert.equal(pdb.spec.minAvailable, 1);
    assert.ok(selects(pdb.spec.selector.matchLabels, labels));
  });

  describe("webhook configurations", () => {
    const handlers: AdmissionHandler[] = [
      createDeploymentMutator({ aviaryUsers: [SELF] }),
      createCanaryValidator(),
      createMetricTemplateValidator(),
      createAlertProviderValidator(),
      createGeneratedObjectGuard({ aviaryUsers: [SELF] }),
      createScaleGuard({ aviaryUsers: [SELF], getDeployment: async () => null }),
    ];

    it("call exactly the routes the webhook server registers, each with its handler's failurePolicy", () => {
      const configured = allWebhooks.map((w) => `${w.clientConfig.service.path} ${w.failurePolicy}`).sort();
      const served = handlers.map((h) => `${routePath(h)} ${h.failurePolicy}`).sort();
      assert.deepEqual(configured, served);
      for (const w of mutating.webhooks) assert.match(w.clientConfig.service.path, /^\/mutate\//);
      for (const w of validating.webhooks) assert.match(w.clientConfig.service.path, /^\/validate\//);
    });

    it("reach the webhook Service over 443, speak AdmissionReview v1, declare side effects, and leave the caBundle to aviary", () => {
      const svc = only(objects, "Service", "aviary-webhook");
      for (const w of allWebhooks) {
        assert.match(w.name, /^[a-z0-9-]+\.(mutate|validate)\.aviary\.dev$/);
        assert.deepEqual(w.clientConfig.service.name + "/" + w.clientConfig.service.namespace, `${svc.metadata.name}/${svc.metadata.namespace}`);
        assert.equal(w.clientConfig.service.port, 443);
        assert.equal(w.clientConfig.caBundle, undefined, `${w.name}: aviary writes the caBundle`);
        assert.equal(w.clientConfig.url, undefined);
        assert.deepEqual(w.admissionReviewVersions, ["v1"]);
        assert.ok(["None", "NoneOnDryRun"].includes(w.sideEffects), w.name);
        assert.ok(w.timeoutSeconds >= 1 && w.timeoutSeconds <= 10, w.name);
      }
    });

    it("mutate only UPDATEs of Deployments and DaemonSets that carry the canary label, fail open within 2 s, and skip aviary's and the system namespaces", () => {
      const [w] = mutating.webhooks;
      assert.equal(mutating.webhooks.length, 1);
      assert.equal(w!.failurePolicy, "Ignore");
      assert.equal(w!.timeoutSeconds, 2);
      assert.equal(w!.sideEffects, "None");
      assert.deepEqual(w!.rules.map((r) => [r.apiGroups, r.apiVersions, r.operations, r.resources]), [[["apps"], ["v1"], ["UPDATE"], ["deployments", "daemonsets"]]]);
      assert.deepEqual(w!.objectSelector?.matchExpressions?.find((e) => e.key === LABEL_CANARY), { key: LABEL_CANARY, operator: "Exists" });
      assert.deepEqual(w!.namespaceSelector?.matchExpressions, [
        { key: "kubernetes.io/metadata.name", operator: "NotIn", values: [NAMESPACE, "kube-system"] },
      ]);
    });

    it("validate aviary's kinds on CREATE and UPDATE (failing closed), and generated objects on UPDATE and DELETE (failing open)", () => {
      const byPath = new Map(validating.webhooks.map((w) => [w.clientConfig.service.path, w]));
      for (const [path, resource] of [["/validate/canaries", "canaries"], ["/validate/metrictemplates", "metrictemplates"], ["/validate/alertproviders", "alertproviders"]] as const) {
        const w = byPath.get(path)!;
        assert.equal(w.failurePolicy, "Fail");
        assert.deepEqual(w.rules.map((r) => [r.apiGroups, r.apiVersions, r.operations, r.resources]), [[["aviary.dev"], ["v1beta1"], ["CREATE", "UPDATE"], [resource]]]);
      }
      const generated = byPath.get("/validate/generated")!;
      assert.equal(generated.failurePolicy, "Ignore");
      assert.deepEqual(generated.objectSelector?.matchLabels, { [LABEL_MANAGED_BY]: MANAGED_BY_VALUE });
      for (const r of generated.rules) assert.deepEqual(r.operations, ["UPDATE", "DELETE"]);
      const resources = generated.rules.flatMap((r) => r.resources);
      for (const r of ["deployments", "daemonsets", "services"]) assert.ok(resources.includes(r), r);
      assert.ok(!resources.includes("secrets") && !resources.includes("configmaps"), "Secret contents are never sent to the webhook");
      assert.ok(generated.matchConditions?.some((c) => c.expression.includes(`'${SELF}'`)), "aviary's own writes skip the call");
      const scale = byPath.get("/validate/scale")!;
      assert.equal(scale.failurePolicy, "Ignore");
      assert.deepEqual(scale.rules.map((r) => [r.apiGroups, r.operations, r.resources]), [[["apps"], ["UPDATE"], ["deployments/scale"]]]);
      assert.equal(scale.objectSelector, undefined, "a Scale has no labels: an objectSelector would never match");
      const conditions = (scale.matchConditions ?? []).map((c) => c.expression).join(" ");
      for (const skip of [SELF, "system:serviceaccount:kube-system:horizontal-pod-autoscaler", "system:kube-controller-manager"]) assert.ok(conditions.includes(`'${skip}'`), skip);
    });
  });

  describe("Grafana dashboard", () => {
    const dashboard = JSON.parse(readFileSync(join(MANIFESTS, "grafana", "aviary-dashboard.json"), "utf8")) as {
      uid: string;
      panels: Array<{ type: string; title: string; targets?: Array<{ expr: string }> }>;
    };
    const exprs = dashboard.panels.flatMap((p) => p.targets ?? []).map((t) => t.expr);

    it("queries only series aviary exports, and shows every aviary_ metric at least once", async () => {
      const { Registry, collectDefaultMetrics } = await import("prom-client");
      const { createAviaryMetrics } = await import("../../../src/observability/metrics.ts");
      const registry = new Registry();
      collectDefaultMetrics({ register: registry, prefix: "aviary_process_" });
      createAviaryMetrics(registry);
      const families = (await registry.getMetricsAsJSON()).map((m) => ({ name: m.name, type: String(m.type) }));
      const series = new Set(families.flatMap((f) => (f.type === "histogram" ? ["_bucket", "_sum", "_count"].map((s) => f.name + s) : [f.name])));
      const used = new Set(exprs.flatMap((e) => [...e.matchAll(/\baviary_[a-z0-9_]+/g)].map((m) => m[0])));
      assert.deepEqual([...used].filter((n) => !series.has(n)), [], "series the dashboard queries but aviary does not export");
      const own = families.map((f) => f.name).filter((n) => !n.startsWith("aviary_process_"));
      assert.deepEqual(own.filter((n) => ![...used].some((u) => u === n || u.startsWith(`${n}_`))), [], "metrics missing from the dashboard");
    });

    it("is packaged for Grafana's dashboard sidecar, with a stable uid", () => {
      assert.equal(dashboard.uid, "aviary-overview");
      const k = parse(readFileSync(join(MANIFESTS, "grafana", "kustomization.yaml"), "utf8")) as {
        configMapGenerator: Array<{ files: string[]; options: { labels: Record<string, string> } }>;
      };
      assert.deepEqual(k.configMapGenerator[0]!.files, ["aviary-dashboard.json"]);
      assert.equal(k.configMapGenerator[0]!.options.labels.grafana_dashboard, "1");
    });
  });
});
