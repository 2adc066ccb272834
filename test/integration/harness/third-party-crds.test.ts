/**
 * The routers write Gateway API, App Mesh, Istio, SMI, Contour, Traefik, Gloo, Kuma and APISIX objects, and autoscalerRef copies
 * KEDA ScaledObjects; these tests prove that the real CRD schemas are installed: the API server rejects an object that breaks the schema and
 * stores one that follows it.
 */
import assert from "node:assert/strict";
import { applyManifest, kubectlJson, kubectlOk, tempNamespace } from "../../support/kubectl.ts";

interface Case {
  name: string;
  valid: Record<string, unknown>;
  invalid: Record<string, unknown>;
  rejection: RegExp;
}

const cases: Case[] = [
  {
    name: "Gateway API HTTPRoute (v1)",
    valid: {
      apiVersion: "gateway.networking.k8s.io/v1", kind: "HTTPRoute", metadata: { name: "podinfo" },
      spec: {
        parentRefs: [{ name: "public-gateway" }],
        hostnames: ["podinfo.example.com"],
        rules: [{ backendRefs: [{ name: "podinfo-primary", port: 9898, weight: 90 }, { name: "podinfo-canary", port: 9898, weight: 10 }] }],
      },
    },
    invalid: {
      apiVersion: "gateway.networking.k8s.io/v1", kind: "HTTPRoute", metadata: { name: "broken" },
      spec: { rules: [{ backendRefs: [{ name: "podinfo-primary", port: 9898, weight: -5 }] }] },
    },
    rejection: /weight/,
  },
  {
    name: "App Mesh VirtualRouter (v1beta2)",
    valid: {
      apiVersion: "appmesh.k8s.aws/v1beta2", kind: "VirtualRouter", metadata: { name: "podinfo" },
      spec: {
        listeners: [{ portMapping: { port: 9898, protocol: "http" } }],
        routes: [{
          name: "podinfo-route",
          httpRoute: {
            match: { prefix: "/" },
            action: { weightedTargets: [{ virtualNodeRef: { name: "podinfo-primary" }, weight: 90 }, { virtualNodeRef: { name: "podinfo-canary" }, weight: 10 }] },
          },
        }],
      },
    },
    invalid: {
      apiVersion: "appmesh.k8s.aws/v1beta2", kind: "VirtualRouter", metadata: { name: "broken" },
      spec: { listeners: [{ portMapping: { port: 9898, protocol: "carrier-pigeon" } }] },
    },
    rejection: /protocol/,
  },
  {
    name: "Istio VirtualService (networking.istio.io/v1)",
    valid: {
      apiVersion: "networking.istio.io/v1", kind: "VirtualService", metadata: { name: "podinfo" },
      spec: {
        hosts: ["podinfo"],
        http: [{ route: [{ destination: { host: "podinfo-primary" }, weight: 90 }, { destination: { host: "podinfo-canary" }, weight: 10 }] }],
      },
    },
    invalid: {
      apiVersion: "networking.istio.io/v1", kind: "VirtualService", metadata: { name: "broken" },
      spec: { hosts: "podinfo", http: [{ route: [{ destination: { host: "podinfo-primary" }, weight: "ninety" }] }] },
    },
    rejection: /hosts|weight/,
  },
  {
    name: "SMI TrafficSplit (v1alpha2)",
    valid: {
      apiVersion: "split.smi-spec.io/v1alpha2", kind: "TrafficSplit", metadata: { name: "podinfo" },
      spec: { service: "podinfo", backends: [{ service: "podinfo-primary", weight: 90 }, { service: "podinfo-canary", weight: 10 }] },
    },
    invalid: {
      apiVersion: "split.smi-spec.io/v1alpha2", kind: "TrafficSplit", metadata: { name: "broken" },
      spec: { backends: [{ service: "podinfo-primary" }] },
    },
    rejection: /service|weight/,
  },
  {
    name: "KEDA ScaledObject (v1alpha1)",
    valid: {
      apiVersion: "keda.sh/v1alpha1", kind: "ScaledObject", metadata: { name: "podinfo" },
      spec: { scaleTargetRef: { name: "podinfo-primary" }, minReplicaCount: 1, maxReplicaCount: 3, triggers: [{ type: "cpu", metadata: { value: "50" } }] },
    },
    invalid: {
      apiVersion: "keda.sh/v1alpha1", kind: "ScaledObject", metadata: { name: "broken" },
      spec: { scaleTargetRef: { name: "podinfo-primary" } },
    },
    rejection: /triggers/,
  },
  {
    name: "Contour HTTPProxy (projectcontour.io/v1)",
    valid: {
      apiVersion: "projectcontour.io/v1", kind: "HTTPProxy", metadata: { name: "podinfo" },
      spec: { routes: [{ conditions: [{ prefix: "/" }], services: [{ name: "podinfo-primary", port: 9898, weight: 90 }, { name: "podinfo-canary", port: 9898, weight: 10 }] }] },
    },
    invalid: {
      apiVersion: "projectcontour.io/v1", kind: "HTTPProxy", metadata: { name: "broken" },
      spec: { routes: [{ services: [{ name: "podinfo-primary", weight: 90 }] }] },
    },
    rejection: /port/,
  },
  {
    name: "Traefik TraefikService (traefik.io/v1alpha1)",
    valid: {
      apiVersion: "traefik.io/v1alpha1", kind: "TraefikService", metadata: { name: "podinfo" },
      spec: { weighted: { services: [{ name: "podinfo-primary", port: 9898, weight: 90 }, { name: "podinfo-canary", port: 9898, weight: 10 }] } },
    },
    invalid: {
      apiVersion: "traefik.io/v1alpha1", kind: "TraefikService", metadata: { name: "broken" },
      spec: { weighted: { services: [{ port: 9898, weight: 90 }] } },
    },
    rejection: /name/,
  },
  {
    name: "Gloo Upstream (gloo.solo.io/v1, hack/crds/gloo.yaml)",
    valid: {
      apiVersion: "gloo.solo.io/v1", kind: "Upstream", metadata: { name: "podinfo" },
      spec: { kube: { serviceName: "podinfo-primary", serviceNamespace: "test", servicePort: 9898 }, useHttp2: true, static: { hosts: [{ addr: "10.0.0.1", port: 80 }] } },
    },
    invalid: {
      apiVersion: "gloo.solo.io/v1", kind: "Upstream", metadata: { name: "broken" },
      spec: { kube: { serviceName: "podinfo-primary", servicePort: "http" } },
    },
    rejection: /servicePort/,
  },
  {
    name: "Gloo RouteTable (gateway.solo.io/v1, hack/crds/gloo.yaml)",
    valid: {
      apiVersion: "gateway.solo.io/v1", kind: "RouteTable", metadata: { name: "podinfo" },
      spec: { routes: [{ inheritablePathMatchers: true, routeAction: { multi: { destinations: [{ destination: { upstream: { name: "a", namespace: "test" } }, weight: 90 }] } } }] },
    },
    invalid: {
      apiVersion: "gateway.solo.io/v1", kind: "RouteTable", metadata: { name: "broken" },
      spec: { routes: [{ routeAction: { multi: { destinations: [{ destination: { upstream: { namespace: "test" } }, weight: 90 }] } } }] },
    },
    rejection: /name/,
  },
  {
    name: "Kuma TrafficRoute (kuma.io/v1alpha1, cluster-scoped)",
    valid: {
      apiVersion: "kuma.io/v1alpha1", kind: "TrafficRoute", metadata: { name: "podinfo" }, mesh: "default",
      spec: { sources: [{ match: { "kuma.io/service": "*" } }], destinations: [{ match: { "kuma.io/service": "podinfo_test_svc_9898" } }], conf: { split: [] } },
    },
    invalid: { apiVersion: "kuma.io/v1alpha1", kind: "TrafficRoute", metadata: { name: "broken" }, mesh: 5, spec: {} },
    rejection: /mesh/,
  },
  {
    name: "APISIX ApisixRoute (apisix.apache.org/v2)",
    valid: {
      apiVersion: "apisix.apache.org/v2", kind: "ApisixRoute", metadata: { name: "podinfo" },
      spec: { http: [{ name: "rule1", priority: 10000, match: { paths: ["/*"] }, backends: [{ serviceName: "podinfo-primary", servicePort: 80, weight: 90 }, { serviceName: "podinfo-canary", servicePort: 80, weight: 0 }] }] },
    },
    invalid: {
      apiVersion: "apisix.apache.org/v2", kind: "ApisixRoute", metadata: { name: "broken" },
      spec: { http: [{ name: "rule1", match: { paths: ["/*"] }, backends: [{ serviceName: "podinfo-primary", servicePort: 80, weight: -1 }] }] },
    },
    rejection: /weight/,
  },
];

describe("local control plane: third-party CRD schemas", () => {
  let ns: Awaited<ReturnType<typeof tempNamespace>>;
  before(async () => { ns = await tempNamespace(); });
  after(async () => {
    await ns?.remove();
    // Cluster-scoped: the namespace does not take it along.
    await kubectlOk(["delete", "trafficroutes.kuma.io", "podinfo", "--ignore-not-found"]);
  });

  for (const c of cases) {
    it(`${c.name}: stores a valid object and rejects one that breaks the schema`, async () => {
      const ok = await applyManifest(ns.name, c.valid);
      assert.equal(ok.code, 0, ok.stderr);
      const kind = String(c.valid.kind).toLowerCase();
      const group = String(c.valid.apiVersion).split("/")[0];
      const stored = await kubectlJson<{ metadata: { uid?: string } }>(["get", `${kind}.${group}`, "podinfo", "-n", ns.name]);
      assert.ok(stored.metadata.uid);

      const bad = await applyManifest(ns.name, c.invalid);
      assert.notEqual(bad.code, 0, `the API server accepted an invalid ${c.name}`);
      assert.match(bad.stderr, /Invalid value|invalid|Unsupported value|Required value/);
      assert.match(bad.stderr, c.rejection);
    });
  }
});
