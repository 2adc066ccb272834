/**
 * gatewayapi session affinity against the real Gateway API v1 CRD: the sticky rule and the
 * canary backend's Set-Cookie filter pass the schema and CEL validation, the split reads
 * back past the sticky rule, and at 0% cookie holders are sent to the primary, which
 * expires the cookie. The example in examples/gatewayapi (which uses it) is checked too.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { parseAllDocuments } from "yaml";
import { errorsOf, validateCanary } from "../../../src/api/validate.ts";
import type { Canary } from "../../../src/api/types.ts";
import type { ClusterClient } from "../../../src/kube/client.ts";
import type { KubeObject } from "../../../src/kube/types.ts";
import { createGatewayApiRouter } from "../../../src/router/gatewayapi.ts";
import { sessionCookie } from "../../../src/router/session-affinity.ts";
import { kubectlJson, tempNamespace } from "../../support/kubectl.ts";
import { clusterClient, testLogger } from "../kube/support.ts";
import { createCanary, installAviaryCrds } from "./support.ts";

interface Filter { type: string; responseHeaderModifier?: { add?: { name: string; value: string }[] } }
interface HTTPRoute extends KubeObject {
  spec: {
    rules: {
      matches: { path: { type: string; value: string }; headers?: { type: string; name: string; value: string }[] }[];
      backendRefs: { name: string; weight: number; filters?: Filter[] }[];
    }[];
  };
}

describe("gatewayapi session affinity (real API server)", function () {
  this.timeout(60_000);
  let ns: Awaited<ReturnType<typeof tempNamespace>>;
  let client: ClusterClient;
  const signal = () => AbortSignal.timeout(30_000);

  before(async () => {
    await installAviaryCrds();
    ns = await tempNamespace();
    client = clusterClient();
  });

  after(async () => {
    await ns?.remove();
    await client?.close();
  });

  it("writes a sticky rule and the canary's Set-Cookie that the CRD accepts, and reads the split back", async () => {
    const router = createGatewayApiRouter({ kube: client, logger: testLogger() });
    const created = await createCanary(client, ns.name, "sticky", {
      provider: "gatewayapi",
      service: { port: 80, gatewayRefs: [{ name: "public" }], match: [{ uri: { prefix: "/app" } }] },
      analysis: { interval: "1m", maxWeight: 50, stepWeight: 10, sessionAffinity: { cookieName: "canary-session", maxAge: 3600 } },
    });
    const canary: Canary = { ...created, status: { canaryRevision: "7c9d8f6b5" } };
    const cookie = sessionCookie(canary)!;
    const get = () => kubectlJson<HTTPRoute>(["get", "httproutes.gateway.networking.k8s.io", "sticky", "-n", ns.name]);

    await router.reconcile(canary, signal());
    await router.setRoutes(canary, { primary: 80, canary: 20, mirror: false }, signal());
    const [sticky, weighted] = (await get()).spec.rules;
    assert.deepEqual(sticky!.matches, [{ path: { type: "PathPrefix", value: "/app" }, headers: [{ type: "RegularExpression", name: "Cookie", value: cookie.cookieHeaderRegex }] }]);
    assert.deepEqual(sticky!.backendRefs.map((b) => [b.name, b.weight]), [["sticky-canary", 100]]);
    assert.deepEqual(weighted!.backendRefs[1]!.filters, [{ type: "ResponseHeaderModifier", responseHeaderModifier: { add: [{ name: "Set-Cookie", value: cookie.setCookie }] } }]);
    assert.deepEqual(await router.getRoutes(canary, signal()), { primary: 80, canary: 20, mirror: false });
    assert.deepEqual(await router.reconcile(canary, signal()), { changed: false });

    await router.setRoutes(canary, { primary: 100, canary: 0, mirror: false }, signal());
    const [expiring] = (await get()).spec.rules;
    assert.deepEqual(expiring!.backendRefs.map((b) => [b.name, b.weight]), [["sticky-primary", 100]]);
    assert.deepEqual(expiring!.backendRefs[0]!.filters?.[0]?.responseHeaderModifier?.add, [{ name: "Set-Cookie", value: cookie.expireCookie }]);
    assert.deepEqual(await router.getRoutes(canary, signal()), { primary: 100, canary: 0, mirror: false });
    assert.deepEqual(await router.reconcile(canary, signal()), { changed: false });
  });

  it("the example examples/gatewayapi/canary.yaml is valid and produces an HTTPRoute the CRD accepts", async () => {
    const docs = parseAllDocuments(await readFile("examples/gatewayapi/canary.yaml", "utf8")).map((d) => d.toJS() as KubeObject);
    const example = docs[0]!;
    assert.deepEqual(errorsOf(validateCanary(example)), []);
    const spec = example.spec as Canary["spec"];
    const router = createGatewayApiRouter({ kube: client, logger: testLogger() });
    const created = await createCanary(client, ns.name, "example", {
      ...spec,
      targetRef: { ...spec.targetRef, name: "example" },
      service: { ...spec.service, gatewayRefs: [{ name: "public", namespace: ns.name }] },
    });
    const canary: Canary = { ...created, status: { canaryRevision: "1a2b3c4d" } };
    await router.reconcile(canary, signal());
    await router.setRoutes(canary, { primary: 90, canary: 10, mirror: false }, signal());
    assert.deepEqual(await router.getRoutes(canary, signal()), { primary: 90, canary: 10, mirror: false });
    const route = await kubectlJson<HTTPRoute & { spec: { hostnames: string[] } }>(["get", "httproutes.gateway.networking.k8s.io", "example", "-n", ns.name]);
    assert.deepEqual(route.spec.hostnames, ["app.example.com"]);
    assert.equal(route.spec.rules.length, 2, "a sticky rule and the weighted rule");
  });
});
