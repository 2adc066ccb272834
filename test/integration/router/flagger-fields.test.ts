/**
 * Flagger's routing fields against the real CRDs: a delegate Istio VirtualService (no hosts, no
 * gateways) and the primary's session cookie on Istio and Gateway API are accepted by the API
 * server as written, read back, and reconciled again without a write.
 */
import assert from "node:assert/strict";
import type { Canary } from "../../../src/api/types.ts";
import type { ClusterClient } from "../../../src/kube/client.ts";
import type { KubeObject } from "../../../src/kube/types.ts";
import { createGatewayApiRouter } from "../../../src/router/gatewayapi.ts";
import { createIstioRouter } from "../../../src/router/istio.ts";
import { primarySessionCookie } from "../../../src/router/session-affinity.ts";
import { kubectlJson, tempNamespace } from "../../support/kubectl.ts";
import { clusterClient, testLogger } from "../kube/support.ts";
import { createCanary, installAviaryCrds } from "./support.ts";

interface VirtualService extends KubeObject {
  spec: { hosts?: string[]; gateways?: string[]; http: { name: string; route: { destination: { host: string }; weight: number; headers?: unknown }[] }[] };
}
interface HTTPRoute extends KubeObject {
  spec: { rules: { matches: { headers?: { value: string }[] }[]; backendRefs: { name: string; weight: number; filters?: unknown[] }[] }[] };
}

describe("Flagger's routing fields on the real CRDs", function () {
  this.timeout(60_000);
  let ns: Awaited<ReturnType<typeof tempNamespace>>;
  let client: ClusterClient;
  const signal = () => AbortSignal.timeout(30_000);
  const affinity = { cookieName: "canary-session", primaryCookieName: "primary-session", maxAge: 600 };

  before(async () => {
    await installAviaryCrds();
    ns = await tempNamespace();
    client = clusterClient();
  });
  after(async () => {
    await ns?.remove();
    await client?.close();
  });

  it("istio: a delegate VirtualService has no hosts and no gateways, and the primary cookie routes are accepted", async () => {
    const router = createIstioRouter({ kube: client, logger: testLogger() });
    const created = await createCanary(client, ns.name, "delegate", {
      provider: "istio",
      service: { port: 80, delegation: true },
      analysis: { interval: "1m", maxWeight: 50, stepWeight: 10, sessionAffinity: affinity },
    });
    const canary: Canary = { ...created, status: { canaryRevision: "5b7c9d" } };
    await router.reconcile(canary, signal());
    await router.setRoutes(canary, { primary: 80, canary: 20, mirror: false }, signal());
    const vs = await kubectlJson<VirtualService>(["get", "virtualservices.networking.istio.io", "delegate", "-n", ns.name]);
    assert.equal(vs.spec.hosts, undefined);
    assert.equal(vs.spec.gateways, undefined);
    assert.deepEqual(vs.spec.http.map((h) => h.name), ["aviary-sticky", "aviary-sticky-primary", "aviary-weighted"]);
    assert.deepEqual(vs.spec.http[2]!.route[0]!.headers, { response: { add: { "Set-Cookie": primarySessionCookie(canary)!.setCookie } } });
    assert.deepEqual(await router.getRoutes(canary, signal()), { primary: 80, canary: 20, mirror: false });
    assert.deepEqual(await router.reconcile(canary, signal()), { changed: false });
  });

  it("gatewayapi: the primary's sticky rule and Set-Cookie filter pass the CRD's validation", async () => {
    const router = createGatewayApiRouter({ kube: client, logger: testLogger() });
    const created = await createCanary(client, ns.name, "pinned", {
      provider: "gatewayapi",
      service: { port: 80, gatewayRefs: [{ name: "public" }] },
      analysis: { interval: "1m", maxWeight: 50, stepWeight: 10, sessionAffinity: affinity },
    });
    const canary: Canary = { ...created, status: { canaryRevision: "5b7c9d" } };
    const cookie = primarySessionCookie(canary)!;
    await router.reconcile(canary, signal());
    await router.setRoutes(canary, { primary: 80, canary: 20, mirror: false }, signal());
    const route = await kubectlJson<HTTPRoute>(["get", "httproutes.gateway.networking.k8s.io", "pinned", "-n", ns.name]);
    const sticky = route.spec.rules.find((r) => r.matches.some((m) => m.headers?.some((h) => h.value === cookie.cookieHeaderRegex)))!;
    assert.deepEqual(sticky.backendRefs.map((b) => [b.name, b.weight]), [["pinned-primary", 100]]);
    const weighted = route.spec.rules.find((r) => r.backendRefs.length === 2)!;
    assert.deepEqual(weighted.backendRefs[0]!.filters, [{ type: "ResponseHeaderModifier", responseHeaderModifier: { add: [{ name: "Set-Cookie", value: cookie.setCookie }] } }]);
    assert.deepEqual(await router.getRoutes(canary, signal()), { primary: 80, canary: 20, mirror: false });
    assert.deepEqual(await router.reconcile(canary, signal()), { changed: false });
  });
});
