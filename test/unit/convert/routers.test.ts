import assert from "node:assert/strict";
import { describe, it } from "mocha";
import { canarySpec, convertYaml, entryAt, output, rollout, yamlOf } from "./helpers.ts";
import type { Loose } from "./helpers.ts";

const R = "Rollout/shop";
const TR = "spec.strategy.canary.trafficRouting";
const services = { stableService: "shop-stable", canaryService: "shop-preview" };
const svc = (name: string) => ({ apiVersion: "v1", kind: "Service", metadata: { name, namespace: "web" }, spec: { ports: [{ name: "http", port: 80, targetPort: 8080 }] } });

function routed(trafficRouting: unknown, ...objects: unknown[]) {
  return convertYaml(yamlOf(rollout({ ...services, trafficRouting, steps: [{ setWeight: 50 }] }), svc("shop-stable"), ...objects));
}

describe("convert: traffic routing → provider and service", () => {
  it("nginx: ingressRef, and the Ingress pointed at the apex Service", () => {
    const ingress = {
      apiVersion: "networking.k8s.io/v1",
      kind: "Ingress",
      metadata: { name: "shop", namespace: "web", uid: "u-1", resourceVersion: "5" },
      spec: { rules: [{ host: "shop.example", http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "shop-stable", port: { number: 80 } } } }, { path: "/static", pathType: "Prefix", backend: { service: { name: "cdn", port: { number: 80 } } } }] } }] },
      status: { loadBalancer: {} },
    };
    const c = routed({ nginx: { stableIngress: "shop", additionalIngressAnnotations: { "canary-by-header": "X-Canary" } } }, ingress);
    const spec = canarySpec(c);
    assert.equal(spec.provider, "nginx");
    assert.deepEqual(spec.ingressRef, { apiVersion: "networking.k8s.io/v1", kind: "Ingress", name: "shop" });
    assert.deepEqual(spec.service, { name: "shop", port: 80, targetPort: 8080, portName: "http" });
    const rewritten = output(c, "Ingress", "shop").spec as Loose;
    assert.equal(rewritten.rules[0].http.paths[0].backend.service.name, "shop");
    assert.equal(rewritten.rules[0].http.paths[1].backend.service.name, "cdn");
    assert.match(entryAt(c, "Ingress/shop", "spec.rules[0].http.paths[0].backend.service.name", "changed").message, /^shop-stable → shop/);
    assert.match(entryAt(c, R, `${TR}.nginx.additionalIngressAnnotations`, "lossy").message, /canary-by-header .* dropped/);
  });

  it("nginx without the Ingress in the input: says which backend to change", () => {
    const c = routed({ nginx: { stableIngresses: ["a", "b"], annotationPrefix: "custom.nginx" } });
    assert.match(entryAt(c, R, `${TR}.nginx.stableIngress`, "action").message, /point the backends of Ingress a at Service shop in place of shop-stable/);
    assert.match(entryAt(c, R, `${TR}.nginx.stableIngresses`, "lossy").message, /a is converted, b not/);
    assert.match(entryAt(c, R, `${TR}.nginx.annotationPrefix`, "action").message, /--nginx-annotation-prefix custom.nginx/);
  });

  it("gatewayapi: parents, hosts, matches, timeout and header filters from the named HTTPRoute", () => {
    const route = {
      apiVersion: "gateway.networking.k8s.io/v1",
      kind: "HTTPRoute",
      metadata: { name: "shop", namespace: "web" },
      spec: {
        parentRefs: [{ name: "gw", namespace: "infra", sectionName: "https" }, { name: "local" }],
        hostnames: ["shop.example"],
        rules: [
          {
            matches: [{ path: { type: "PathPrefix", value: "/api" }, headers: [{ name: "x-tier", value: "gold" }], method: "GET" }],
            timeouts: { request: "10s" },
            filters: [
              { type: "RequestHeaderModifier", requestHeaderModifier: { set: [{ name: "x-a", value: "1" }], remove: ["x-b"] } },
              { type: "URLRewrite", urlRewrite: {} },
            ],
            backendRefs: [{ name: "shop-stable", port: 80 }, { name: "shop-preview", port: 80 }],
          },
          { backendRefs: [{ name: "other", port: 80 }] },
        ],
      },
    };
    const c = routed({ plugins: { "argoproj-labs/gatewayAPI": { httpRoute: "shop" } } }, route);
    const spec = canarySpec(c);
    assert.equal(spec.provider, "gatewayapi");
    assert.deepEqual(spec.service.gatewayRefs, [{ name: "gw", namespace: "infra", sectionName: "https" }, { name: "local", namespace: "web" }]);
    assert.deepEqual(spec.service.hosts, ["shop.example"]);
    assert.deepEqual(spec.service.match, [{ uri: { prefix: "/api" }, headers: { "x-tier": { exact: "gold" } }, method: { exact: "GET" } }]);
    assert.equal(spec.service.timeout, "10s");
    assert.deepEqual(spec.service.headers, { request: { set: { "x-a": "1" }, remove: ["x-b"] } });
    assert.match(entryAt(c, "HTTPRoute/shop", "spec.rules[0].filters[1]", "lossy").message, /filter URLRewrite is not carried/);
    assert.match(entryAt(c, "HTTPRoute/shop", "spec.rules[1]", "lossy").message, /routes to other Services/);
    // The route has the apex Service's name: aviary's HTTPRoute is that very object.
    assert.match(entryAt(c, "HTTPRoute/shop", "", "action").message, /^aviary writes HTTPRoute shop itself from now on .* stop applying it/);
    const renamed = routed({ plugins: { "argoproj-labs/gatewayAPI": { httpRoute: "shop-route" } } }, { ...route, metadata: { name: "shop-route", namespace: "web" } });
    assert.match(entryAt(renamed, "HTTPRoute/shop-route", "", "action").message, /^delete it once the Canary is initialized: aviary writes HTTPRoute shop with the same parents and hosts/);
  });

  it("gatewayapi without the HTTPRoute in the input is lossy (no parents)", () => {
    const c = routed({ plugins: { "argoproj-labs/gatewayAPI": { httpRoute: "gone" }, "acme/other": {} } });
    assert.match(entryAt(c, R, `${TR}.plugins["argoproj-labs/gatewayAPI"]`, "lossy").message, /HTTPRoute gone is not in the input/);
    assert.match(entryAt(c, R, `${TR}.plugins["acme/other"]`, "lossy").message, /no equivalent of this traffic router plugin/);
  });

  it("istio: hosts, gateways and the managed route's fields from the VirtualService; trafficPolicy from the DestinationRule", () => {
    const vs = {
      apiVersion: "networking.istio.io/v1",
      kind: "VirtualService",
      metadata: { name: "shop-vs", namespace: "web" },
      spec: {
        hosts: ["shop.example", "shop-stable"],
        gateways: ["istio-system/public"],
        http: [
          { name: "primary", match: [{ uri: { prefix: "/" } }], retries: { attempts: 3 }, route: [], fault: {} },
          { name: "admin", route: [] },
        ],
      },
    };
    const dr = { apiVersion: "networking.istio.io/v1", kind: "DestinationRule", metadata: { name: "shop-dr", namespace: "web" }, spec: { trafficPolicy: { tls: { mode: "ISTIO_MUTUAL" } } } };
    const c = routed({ istio: { virtualService: { name: "shop-vs", routes: ["primary"] }, destinationRule: { name: "shop-dr", canarySubsetName: "canary", stableSubsetName: "stable" } } }, vs, dr);
    const spec = canarySpec(c);
    assert.equal(spec.provider, "istio");
    assert.deepEqual(spec.service.hosts, ["shop.example"]);
    assert.deepEqual(spec.service.gateways, ["istio-system/public"]);
    assert.deepEqual(spec.service.match, [{ uri: { prefix: "/" } }]);
    assert.deepEqual(spec.service.retries, { attempts: 3 });
    assert.deepEqual(spec.service.trafficPolicy, { tls: { mode: "ISTIO_MUTUAL" } });
    assert.match(entryAt(c, "VirtualService/shop-vs", "spec.http[0].fault", "lossy").message, /does not carry this route field/);
    assert.match(entryAt(c, "VirtualService/shop-vs", "spec.http[1]", "lossy").message, /not a route the Rollout manages/);
    assert.match(entryAt(c, "DestinationRule/shop-dr", "", "action").message, /aviary writes shop-primary and shop-canary/);
  });

  it("appmesh: mesh name and backends from the stable VirtualNode", () => {
    const node = { apiVersion: "appmesh.k8s.aws/v1beta2", kind: "VirtualNode", metadata: { name: "shop-stable", namespace: "web" }, spec: { meshRef: { name: "global" }, backends: [{ virtualService: { virtualServiceRef: { name: "db" } } }] } };
    const c = routed({ appMesh: { virtualService: { name: "shop-vs" }, virtualNodeGroup: { stableVirtualNodeRef: { name: "shop-stable" }, canaryVirtualNodeRef: { name: "shop-canary" } } } }, node);
    const spec = canarySpec(c);
    assert.equal(spec.provider, "appmesh");
    assert.equal(spec.service.meshName, "global");
    assert.deepEqual(spec.service.backends, ["db"]);
    assert.match(entryAt(c, R, `${TR}.appMesh`, "action").message, /delete VirtualService shop-vs, VirtualNode shop-stable, VirtualNode shop-canary/);
  });

  it("smi: the root Service becomes the apex", () => {
    const c = routed({ smi: { rootService: "shop-root", trafficSplitName: "shop-split" } });
    const spec = canarySpec(c);
    assert.equal(spec.provider, "smi");
    assert.equal(spec.service.name, "shop-root");
    assert.match(entryAt(c, R, `${TR}.smi.trafficSplitName`, "action").message, /delete TrafficSplit shop-split .* aviary writes TrafficSplit shop-root/);
  });

  it("alb: provider alb, ingressRef, and the Ingress's use-annotation rule renamed from the stable to the apex Service", () => {
    const action = "alb.ingress.kubernetes.io/actions.shop-stable";
    const ingress = {
      apiVersion: "networking.k8s.io/v1",
      kind: "Ingress",
      metadata: { name: "shop", namespace: "web", annotations: { [action]: "{}", "rollouts.argoproj.io/managed-alb-actions": `shop:${action}`, "alb.ingress.kubernetes.io/scheme": "internal" } },
      spec: { rules: [{ http: { paths: [
        { path: "/", pathType: "Prefix", backend: { service: { name: "shop-stable", port: { name: "use-annotation" } } } },
        { path: "/img", pathType: "Prefix", backend: { service: { name: "shop-stable", port: { number: 80 } } } },
      ] } }] },
    };
    const c = routed({ alb: { ingress: "shop", ingresses: ["other"], servicePort: 8080, annotationPrefix: "lb.example.com", stickinessConfig: { enabled: true, durationSeconds: 60 } } }, ingress);
    const spec = canarySpec(c);
    assert.equal(spec.provider, "alb");
    assert.deepEqual(spec.ingressRef, { apiVersion: "networking.k8s.io/v1", kind: "Ingress", name: "shop" });
    assert.equal(spec.service.name, "shop");
    assert.match(entryAt(c, R, `${TR}.alb.annotationPrefix`, "action").message, /--alb-annotation-prefix lb.example.com/);
    assert.match(entryAt(c, R, `${TR}.alb.servicePort`, "changed").message, /^8080 → 80: aviary's target groups use the Canary's service port/);
    assert.match(entryAt(c, R, `${TR}.alb.stickinessConfig`, "lossy").message, /no target group stickiness/);
    assert.match(entryAt(c, R, `${TR}.alb.ingresses`, "lossy").message, /shop is converted, other not/);
    const rewritten = output(c, "Ingress", "shop") as Loose;
    assert.deepEqual(rewritten.spec.rules[0].http.paths.map((p: Loose) => p.backend.service.name), ["shop", "shop-stable"], "only the use-annotation backend carries the action");

    const plain = routed({ alb: { ingress: "shop", servicePort: 80 } }, ingress);
    const written = output(plain, "Ingress", "shop") as Loose;
    assert.deepEqual(written.metadata.annotations, { "alb.ingress.kubernetes.io/scheme": "internal" });
    assert.match(entryAt(plain, "Ingress/shop", "spec.rules[0].http.paths[0].backend.service.name", "changed").message, /^shop-stable → shop: the rule takes aviary's action alb.ingress.kubernetes.io\/actions.shop/);
    assert.match(entryAt(plain, "Ingress/shop", `metadata.annotations["${action}"]`, "changed").message, /runtime annotation is removed/);
  });

  it("alb: rootService becomes the apex Service, and the Ingress needs no change", () => {
    const c = routed({ alb: { ingress: "shop", rootService: "shop-root", servicePort: 80 } });
    assert.equal(canarySpec(c).service.name, "shop-root");
    assert.match(entryAt(c, R, `${TR}.alb.rootService`, "action").message, /Service shop-root becomes the Canary's apex Service/);
    assert.deepEqual(c.outputs.filter((o) => o.manifest.kind === "Ingress"), []);
  });

  it("alb without the Ingress in the input: says which backend to change", () => {
    const c = routed({ alb: { ingress: "shop", servicePort: 80 } });
    assert.match(entryAt(c, R, `${TR}.alb.ingress`, "action").message, /give the rule of Ingress shop the backend service \{name: shop, port: \{name: use-annotation\}\} in place of shop-stable/);
  });

  it("unknown routers and no routing are reported, naming the router", () => {
    const traefik = routed({ traefik: { weightedTraefikServiceName: "x" } });
    assert.match(entryAt(traefik, R, `${TR}.traefik`, "lossy").message, /^Argo's traefik settings are not converted; .* set spec.provider: traefik/);
    const apisix = routed({ apisix: { route: { name: "shop-route" } } });
    assert.equal(canarySpec(apisix).provider, "kubernetes");
    assert.match(entryAt(apisix, R, `${TR}.apisix`, "lossy").message, /^Argo's apisix settings are not converted; .* set spec.provider: apisix/);
    const ambassador = routed({ ambassador: { mappings: ["shop"] } });
    assert.match(entryAt(ambassador, R, `${TR}.ambassador`, "lossy").message, /aviary has no ambassador router/);
    const none = convertYaml(yamlOf({ ...rollout({ steps: [{ setWeight: 50 }] }), spec: { ...(rollout({}) as Loose).spec, strategy: { canary: { steps: [{ setWeight: 50 }] } } } }));
    assert.match(entryAt(none, R, TR, "lossy").message, /Argo approximates the weights with replica counts/);
  });

  it("names the Services to change or delete", () => {
    const c = routed({ smi: {} });
    assert.match(entryAt(c, R, "spec.strategy.canary.stableService", "action").message, /Service shop-stable is not used by the Canary \(aviary creates Services shop, shop-primary and shop-canary\)/);
    assert.match(entryAt(c, R, "spec.strategy.canary.canaryService", "action").message, /Service shop-preview is not used .* goes to shop-canary/);
  });
});
