import assert from "node:assert/strict";
import type { Canary } from "../../../src/api/types.ts";
import { GeneratedObjectError, canaryOwnerReference, selectorLabel, serviceNames } from "../../../src/ground/identity.ts";
import { buildConfigCopy, configRefKey, configRefs, rewriteConfigRefs } from "../../../src/controller/canary/config-refs.ts";
import { buildPrimaryWorkload, buildServices, serviceForApply } from "../../../src/controller/canary/objects.ts";
import type { Deployment } from "../../../src/ground/workloads.ts";

const managed = { "app.kubernetes.io/managed-by": "aviary", "aviary.dev/canary": "podinfo" };
const owner = { apiVersion: "aviary.dev/v1beta1", kind: "Canary", name: "podinfo", uid: "uid-1", controller: true, blockOwnerDeletion: true };

function canary(service: Partial<Canary["spec"]["service"]> = {}): Canary {
  return {
    apiVersion: "aviary.dev/v1beta1",
    kind: "Canary",
    metadata: { name: "podinfo", namespace: "test", uid: "uid-1" },
    spec: { targetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "podinfo" }, service: { port: 9898, ...service } },
  };
}

function target(matchLabels: Record<string, string> = { app: "podinfo" }): Deployment {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: {
      name: "podinfo", namespace: "test", uid: "dep-uid", resourceVersion: "42",
      labels: { app: "podinfo", "app.kubernetes.io/managed-by": "Helm" },
      annotations: { "deployment.kubernetes.io/revision": "3", "meta.helm.sh/release-name": "podinfo" },
    },
    spec: {
      replicas: 0,
      selector: { matchLabels },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0 } },
      minReadySeconds: 5,
      progressDeadlineSeconds: 60,
      revisionHistoryLimit: 3,
      paused: true,
      template: {
        metadata: { labels: { ...matchLabels, tier: "web" }, annotations: { "prometheus.io/scrape": "true" }, creationTimestamp: null },
        spec: {
          containers: [
            {
              name: "podinfo",
              image: "ghcr.io/stefanprodan/podinfo:6.0.0",
              ports: [{ name: "http", containerPort: 9898 }, { name: "grpc", containerPort: 9999 }, { containerPort: 8080, protocol: "UDP" }],
              envFrom: [{ configMapRef: { name: "podinfo-env" } }, { secretRef: { name: "podinfo-secret-env" } }],
              env: [
                { name: "A", valueFrom: { configMapKeyRef: { name: "podinfo-config", key: "a" } } },
                { name: "B", valueFrom: { secretKeyRef: { name: "podinfo-secret", key: "b" } } },
                { name: "C", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
                { name: "D", value: "plain" },
              ],
            },
          ],
          initContainers: [{ name: "init", image: "busybox", envFrom: [{ configMapRef: { name: "init-env" } }] }],
          imagePullSecrets: [{ name: "registry" }],
          volumes: [
            { name: "cfg", configMap: { name: "podinfo-config" } },
            { name: "sec", secret: { secretName: "podinfo-secret" } },
            { name: "proj", projected: { sources: [{ configMap: { name: "projected-cm" } }, { secret: { name: "projected-sec" } }, { downwardAPI: { items: [] } }] } },
            { name: "tmp", emptyDir: {} },
          ],
        },
      },
    },
  };
}

describe("generated objects", () => {
  describe("config references", () => {
    it("lists every ConfigMap and Secret the pod template references, once, sorted", () => {
      assert.deepEqual(configRefs(target().spec.template).map(configRefKey), [
        "ConfigMap/init-env", "ConfigMap/podinfo-config", "ConfigMap/podinfo-env", "ConfigMap/projected-cm",
        "Secret/podinfo-secret", "Secret/podinfo-secret-env", "Secret/projected-sec",
      ]);
    });

    it("rewrites only the copied references to <name>-primary and leaves the input untouched", () => {
      const template = target().spec.template;
      const before = structuredClone(template);
      const out = rewriteConfigRefs(template, [{ kind: "ConfigMap", name: "podinfo-config" }, { kind: "Secret", name: "projected-sec" }]);
      assert.deepEqual(template, before);
      const c = out.spec!.containers![0] as unknown as { env: { valueFrom?: { configMapKeyRef?: { name: string } } }[]; envFrom: { configMapRef?: { name: string } }[] };
      assert.equal(c.env[0]!.valueFrom!.configMapKeyRef!.name, "podinfo-config-primary");
      assert.equal(c.envFrom[0]!.configMapRef!.name, "podinfo-env", "not copied, so not rewritten");
      assert.deepEqual(configRefs(out).map(configRefKey), [
        "ConfigMap/init-env", "ConfigMap/podinfo-config-primary", "ConfigMap/podinfo-env", "ConfigMap/projected-cm",
        "Secret/podinfo-secret", "Secret/podinfo-secret-env", "Secret/projected-sec-primary",
      ]);
    });

    it("copies a ConfigMap or Secret as <name>-primary owned by the Canary, without its history", () => {
      const copy = buildConfigCopy(
        {
          apiVersion: "v1", kind: "Secret",
          metadata: { name: "db", namespace: "test", uid: "s1", resourceVersion: "7", labels: { app: "podinfo" }, annotations: { "kubectl.kubernetes.io/last-applied-configuration": "{}", team: "a" } },
          type: "kubernetes.io/basic-auth", data: { username: "YQ==" }, immutable: true,
        },
        owner,
        managed,
      );
      assert.deepEqual(copy, {
        apiVersion: "v1", kind: "Secret",
        metadata: { name: "db-primary", namespace: "test", labels: { app: "podinfo", ...managed }, annotations: { team: "a" }, ownerReferences: [owner] },
        type: "kubernetes.io/basic-auth", data: { username: "YQ==" },
      });
    });
  });

  describe("selector label", () => {
    it("prefers app, then name, then app.kubernetes.io/name", () => {
      assert.deepEqual(selectorLabel(target({ "app.kubernetes.io/name": "x", app: "y" })), { key: "app", value: "y" });
      assert.deepEqual(selectorLabel(target({ "app.kubernetes.io/name": "x", name: "z" })), { key: "name", value: "z" });
      assert.deepEqual(selectorLabel(target({ "app.kubernetes.io/name": "x", "app.kubernetes.io/instance": "i" })), { key: "app.kubernetes.io/name", value: "x" });
    });

    it("uses the only label of any other selector and refuses to guess among several", () => {
      assert.deepEqual(selectorLabel(target({ component: "web" })), { key: "component", value: "web" });
      assert.throws(() => selectorLabel(target({ component: "web", tier: "front" })), (err: unknown) =>
        err instanceof GeneratedObjectError && err.field === "spec.selector.matchLabels" && /component, tier/.test(err.message));
      assert.throws(() => selectorLabel(target({})), /has no matchLabels/);
    });
  });

  describe("primary Deployment", () => {
    it("clones the pod template with the selector label suffixed and rollout settings copied", () => {
      const c = canary({ primary: { labels: { tier: "stable" }, annotations: { note: "primary" } } });
      const copied = configRefs(target().spec.template);
      const dep = buildPrimaryWorkload({ target: target({ app: "podinfo", "app.kubernetes.io/instance": "prod" }), canary: c, replicas: 3, copiedConfigs: copied });
      assert.deepEqual(Object.keys(dep).sort(), ["apiVersion", "kind", "metadata", "spec"]);
      assert.deepEqual(dep.metadata, {
        name: "podinfo-primary", namespace: "test",
        labels: { app: "podinfo-primary", tier: "stable", ...managed },
        annotations: { note: "primary" },
        ownerReferences: [owner],
      });
      assert.equal(dep.spec.replicas, 3);
      assert.deepEqual(dep.spec.selector, { matchLabels: { app: "podinfo-primary", "app.kubernetes.io/instance": "prod" } });
      assert.deepEqual(dep.spec.template.metadata, {
        labels: { app: "podinfo-primary", "app.kubernetes.io/instance": "prod", tier: "web" },
        annotations: { "prometheus.io/scrape": "true" },
      });
      assert.deepEqual(dep.spec.strategy, { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0 } });
      assert.equal(dep.spec.minReadySeconds, 5);
      assert.equal(dep.spec.progressDeadlineSeconds, 60);
      assert.equal(dep.spec.revisionHistoryLimit, 3);
      assert.equal(dep.spec.paused, undefined, "a paused target must not pause the primary");
      assert.deepEqual(configRefs(dep.spec.template).map((r) => r.name).sort(), copied.map((r) => `${r.name}-primary`).sort());
      assert.equal((dep.spec.template.spec as { imagePullSecrets: { name: string }[] }).imagePullSecrets[0]!.name, "registry");
    });

    it("does not modify the target", () => {
      const t = target();
      const before = structuredClone(t);
      buildPrimaryWorkload({ target: t, canary: canary(), replicas: 1, copiedConfigs: configRefs(t.spec.template) });
      assert.deepEqual(t, before);
    });

    it("needs the Canary's uid for the owner reference", () => {
      const c = canary();
      delete c.metadata.uid;
      assert.throws(() => canaryOwnerReference(c), (err: unknown) => err instanceof GeneratedObjectError && err.field === "metadata.uid");
    });
  });

  describe("Services", () => {
    it("names them after service.name, defaulting to the target's name", () => {
      assert.deepEqual(serviceNames(canary()), { apex: "podinfo", primary: "podinfo-primary", canary: "podinfo-canary" });
      assert.deepEqual(serviceNames(canary({ name: "web" })), { apex: "web", primary: "web-primary", canary: "web-canary" });
    });

    it("builds apex, primary and canary Services with their selectors, port and metadata", () => {
      const c = canary({
        name: "web", portName: "http-web", targetPort: "http", appProtocol: "http",
        apex: { labels: { expose: "yes" }, annotations: { "external-dns.alpha.kubernetes.io/hostname": "web.example.com" } },
        primary: { labels: { role: "primary" } },
        canary: { annotations: { role: "canary" } },
      });
      const svcs = buildServices(c, target());
      const port = { name: "http-web", port: 9898, targetPort: "http", protocol: "TCP", appProtocol: "http" };
      assert.deepEqual(svcs.apex, {
        apiVersion: "v1", kind: "Service",
        metadata: { name: "web", namespace: "test", labels: { expose: "yes", ...managed }, annotations: { "external-dns.alpha.kubernetes.io/hostname": "web.example.com" }, ownerReferences: [owner] },
        spec: { selector: { app: "podinfo-primary" }, ports: [port] },
      });
      assert.deepEqual(svcs.primary.metadata.labels, { role: "primary", ...managed });
      assert.deepEqual(svcs.primary.spec, { selector: { app: "podinfo-primary" }, ports: [port] });
      assert.equal(svcs.primary.metadata.name, "web-primary");
      assert.deepEqual(svcs.canary.metadata.annotations, { role: "canary" });
      assert.deepEqual(svcs.canary.spec, { selector: { app: "podinfo" }, ports: [port] });
      assert.equal(svcs.canary.metadata.name, "web-canary");
    });

    it("defaults portName to http and targetPort to port", () => {
      assert.deepEqual(buildServices(canary(), target()).apex.spec.ports, [{ name: "http", port: 9898, targetPort: 9898, protocol: "TCP" }]);
    });

    it("adds the other container ports with portDiscovery", () => {
      assert.deepEqual(buildServices(canary({ portDiscovery: true }), target()).canary.spec.ports, [
        { name: "http", port: 9898, targetPort: 9898, protocol: "TCP" },
        { name: "grpc", port: 9999, targetPort: 9999, protocol: "TCP" },
        { name: "udp-8080", port: 8080, targetPort: 8080, protocol: "UDP" },
      ]);
    });
  });
});

describe("generated Services: headless, trafficDistribution", () => {
  it("are headless and carry the traffic distribution when the Canary asks for it, all three", () => {
    const s = buildServices(canary({ headless: true, trafficDistribution: "PreferClose" }), target());
    for (const svc of [s.apex, s.primary, s.canary]) {
      assert.equal(svc.spec.clusterIP, "None");
      assert.equal(svc.spec.trafficDistribution, "PreferClose");
    }
    const plain = buildServices(canary(), target());
    assert.equal("clusterIP" in plain.apex.spec, false);
    assert.equal("trafficDistribution" in plain.apex.spec, false);
  });

  it("a Service that exists keeps its address: headless applies to the Services aviary creates", () => {
    const desired = buildServices(canary({ headless: true }), target()).primary;
    assert.equal(serviceForApply(desired, null).spec.clusterIP, "None");
    const stored = { ...desired, spec: { ...desired.spec, clusterIP: "10.0.0.7" } };
    assert.equal("clusterIP" in serviceForApply(desired, stored).spec, false);
    const headless = { ...desired, spec: { ...desired.spec, clusterIP: "None" } };
    assert.equal(serviceForApply(desired, headless).spec.clusterIP, "None");
  });
});

describe("generated metadata: service.unmanagedMetadata", () => {
  it("never sends the keys left to other controllers, on the Services and the primary; aviary's own labels stay", () => {
    const c = canary({
      apex: { labels: { team: "web", "cost-center": "7" }, annotations: { "external-dns.alpha.kubernetes.io/hostname": "x", keep: "1" } },
      primary: { labels: { team: "web" }, annotations: { "external-dns.alpha.kubernetes.io/hostname": "y" } },
      unmanagedMetadata: { labels: ["cost-center", "aviary.dev/canary"], annotations: ["external-dns.alpha.kubernetes.io/hostname"] },
    });
    const s = buildServices(c, target());
    assert.deepEqual(s.apex.metadata.labels, { team: "web", ...managed });
    assert.deepEqual(s.apex.metadata.annotations, { keep: "1" });
    assert.equal(s.primary.metadata.annotations, undefined);
    const primary = buildPrimaryWorkload({ target: target(), canary: c, replicas: 1 });
    assert.deepEqual(primary.metadata.annotations, undefined);
    assert.equal(primary.metadata.labels?.["aviary.dev/canary"], "podinfo");
  });
});
