/**
 * The canary engine driving the apisix router end to end, with APISIX's ApisixRoute CRD:
 * the user's route names the apex Service; aviary's copy `<route>-<svc>-canary` carries the
 * weights.
 */
import { kubectlOk } from "../../support/kubectl.ts";
import { describeWeightedRouterRun } from "./router-runs.ts";

type Backends = { http?: { backends?: { serviceName: string; weight?: number }[] }[] };

describeWeightedRouterRun({
  provider: "apisix",
  apiVersion: "apisix.apache.org/v2",
  resource: "apisixroutes.apisix.apache.org",
  kind: "ApisixRoute",
  objectName: (name) => `${name}-route-${name}-canary`,
  weightsOf: (spec, name) => {
    const backends = (spec as Backends).http?.[0]?.backends ?? [];
    const weightOf = (arm: string) => backends.find((b) => b.serviceName === `${name}-${arm}`)?.weight ?? 0;
    return { primary: weightOf("primary"), canary: weightOf("canary") };
  },
  spec: { routeRef: { apiVersion: "apisix.apache.org/v2", kind: "ApisixRoute", name: "app-apisix-route" } },
  prepare: async (ns, name) => {
    await kubectlOk(["apply", "-n", ns, "-f", "-"], JSON.stringify({
      apiVersion: "apisix.apache.org/v2", kind: "ApisixRoute", metadata: { name: `${name}-route` },
      spec: { http: [{ name: "main", match: { hosts: [`${name}.example.test`], paths: ["/*"] }, backends: [{ serviceName: name, servicePort: 9898 }] }] },
    }));
  },
});
