import assert from "node:assert/strict";
import { desiredRoles, imageOf, sameRole } from "../../../demo/mesh/roles.ts";
import type { DeploymentView } from "../../../demo/mesh/roles.ts";
import { meshTargetGroup, prometheusConfig, simulatedPodName } from "../../../demo/mesh/targets.ts";
import { builtinQueryTemplate } from "../../../src/metrics/builtins.ts";
import { renderTemplate } from "../../../src/metrics/template.ts";
import type { Canary } from "../../../src/api/types.ts";

const canary = (extra: Partial<Canary["spec"]> = {}): Canary => ({
  apiVersion: "aviary.dev/v1beta1",
  kind: "Canary",
  metadata: { name: "shop", namespace: "demo" },
  spec: { targetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "shop" }, service: { name: "shop", port: 80 }, ...extra },
});
const deployment = (name: string, image: string): DeploymentView => ({ metadata: { name }, spec: { template: { spec: { containers: [{ name: "app", image }] } } } });
const lookupOf = (...ds: DeploymentView[]) => (name: string) => ds.find((d) => d.metadata.name === name);

/** The pod matcher the kubernetes/gatewayapi built-ins render for a target, as a RegExp. */
function builtinPodPattern(target: string): RegExp {
  const query = renderTemplate(builtinQueryTemplate("request-success-rate", "gatewayapi"), { namespace: "demo", target, service: target, interval: "1m" });
  const match = /pod=~"([^"]+)"/.exec(query);
  assert.ok(match?.[1], query);
  return new RegExp(`^(?:${match[1]})$`);
}

describe("simulated mesh: roles and pods", () => {
  it("runs the primary's and the canary's versions, from their images", () => {
    const roles = desiredRoles(canary(), lookupOf(deployment("shop", "r/shop:3.0.0-bad"), deployment("shop-primary", "r/shop:2.0.0")));
    assert.equal(roles.primary?.deployment, "shop-primary");
    assert.equal(roles.primary?.version, "2.0.0");
    assert.equal(roles.canary?.deployment, "shop");
    assert.equal(roles.canary?.version, "3.0.0-bad");
    assert.equal(roles.canary?.upstream.nginxCanary, "demo-shop-canary-80");
    assert.equal(roles.primary?.upstream.nginxCanary, "");
    assert.equal(roles.canary?.upstream.ingress, "shop");
    assert.equal(roles.canary?.upstream.service, "shop-canary", "ingress-nginx's service label: the canary Ingress's backend");
    assert.equal(roles.primary?.upstream.service, "shop", "the primary is reached through the apex Service");
  });

  it("lets the target serve as the primary before aviary created -primary", () => {
    const roles = desiredRoles(canary(), lookupOf(deployment("shop", "r/shop:1.0.0")));
    assert.equal(roles.primary?.deployment, "shop");
    assert.equal(roles.canary?.deployment, "shop");
    assert.deepEqual(desiredRoles(canary(), lookupOf()), {});
  });

  it("names the nginx ingress from ingressRef", () => {
    const roles = desiredRoles(canary({ ingressRef: { apiVersion: "networking.k8s.io/v1", kind: "Ingress", name: "shop-ing" } }), lookupOf(deployment("shop", "r/shop:1.0.0")));
    assert.equal(roles.canary?.upstream.ingress, "shop-ing");
  });

  it("gives pod names the built-in queries select for the canary and never for the primary", () => {
    const pattern = builtinPodPattern("shop");
    assert.match(simulatedPodName("shop", "r/shop:2.0.0"), pattern);
    assert.doesNotMatch(simulatedPodName("shop-primary", "r/shop:2.0.0"), pattern);
    assert.notEqual(simulatedPodName("shop", "r/shop:2.0.0"), simulatedPodName("shop", "r/shop:3.0.0"), "a new image is a new pod");
    assert.equal(simulatedPodName("shop", "r/shop:2.0.0"), simulatedPodName("shop", "r/shop:2.0.0"));
  });

  it("replaces a process only when the Deployment or image changes", () => {
    assert.equal(sameRole({ deployment: "a", image: "x:1" }, { deployment: "a", image: "x:1" }), true);
    assert.equal(sameRole({ deployment: "a", image: "x:1" }, { deployment: "a", image: "x:2" }), false);
    assert.equal(sameRole({ deployment: "a", image: "x:1" }, undefined), false);
    assert.equal(imageOf(undefined), undefined);
  });

  it("scrapes every target file once a second, keeping the samples' own labels", () => {
    const config = prometheusConfig("/tmp/t/*.json");
    assert.match(config, /scrape_interval: 1s/);
    assert.match(config, /honor_labels: true/);
    assert.match(config, /files: \["\/tmp\/t\/\*\.json"\]/);
    assert.deepEqual(meshTargetGroup("127.0.0.1:9", "shop"), { targets: ["127.0.0.1:9"], labels: { component: "simulated-mesh", mesh_canary: "shop" } });
  });
});
