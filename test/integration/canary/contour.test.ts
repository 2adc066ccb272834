/**
 * The canary engine driving the contour router end to end: aviary runs as its own process
 * (controller only) against the real API server with Contour's HTTPProxy CRD; the rollout
 * webhook is a local HTTP server. The HTTPProxy is the only witness of the weights.
 */
import { describeWeightedRouterRun } from "./router-runs.ts";

type Services = { routes?: { services?: { name: string; weight?: number }[] }[] };

describeWeightedRouterRun({
  provider: "contour",
  apiVersion: "projectcontour.io/v1",
  kind: "HTTPProxy",
  resource: "httpproxies.projectcontour.io",
  objectName: (name) => name,
  weightsOf: (spec, name) => {
    const services = (spec as Services).routes?.[0]?.services ?? [];
    const weightOf = (suffix: string) => services.find((s) => s.name === `${name}${suffix}`)?.weight ?? 0;
    return { primary: weightOf("-primary"), canary: weightOf("-canary") };
  },
});
