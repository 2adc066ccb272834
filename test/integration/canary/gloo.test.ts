/**
 * The canary engine driving the gloo router end to end, with the Upstream and RouteTable
 * CRDs of hack/crds/gloo.yaml; upstreamRef names an Upstream of the user's whose settings
 * both generated Upstreams carry.
 */
import assert from "node:assert/strict";
import { kubectlJson, kubectlOk } from "../../support/kubectl.ts";
import { describeWeightedRouterRun } from "./router-runs.ts";

type Destinations = { routes?: { routeAction?: { multi?: { destinations?: { destination: { upstream: { name: string } }; weight?: number }[] } } }[] };

describeWeightedRouterRun({
  provider: "gloo",
  apiVersion: "gateway.solo.io/v1",
  resource: "routetables.gateway.solo.io",
  kind: "RouteTable",
  objectName: (name) => name,
  weightsOf: (spec, name) => {
    const destinations = (spec as Destinations).routes?.[0]?.routeAction?.multi?.destinations ?? [];
    const weightOf = (arm: string) => destinations.find((d) => d.destination.upstream.name.endsWith(`-${name}-${arm}upstream-9898`))?.weight ?? 0;
    return { primary: weightOf("primary"), canary: weightOf("canary") };
  },
  spec: { upstreamRef: { apiVersion: "gloo.solo.io/v1", kind: "Upstream", name: "settings" } },
  prepare: async (ns) => {
    await kubectlOk(["apply", "-n", ns, "-f", "-"], JSON.stringify({
      apiVersion: "gloo.solo.io/v1", kind: "Upstream", metadata: { name: "settings" }, spec: { kube: { serviceName: "x", servicePort: 80 }, useHttp2: true },
    }));
  },
  checkInitialized: async (ns, name) => {
    const upstream = await kubectlJson<{ spec: { useHttp2?: boolean; kube: { serviceName: string } } }>(["get", "upstreams.gloo.solo.io", `${ns}-${name}-canaryupstream-9898`, "-n", ns]);
    assert.deepEqual([upstream.spec.useHttp2, upstream.spec.kube.serviceName], [true, `${name}-canary`]);
  },
});
