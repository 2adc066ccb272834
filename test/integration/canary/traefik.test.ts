/**
 * The canary engine driving the traefik router end to end: aviary runs as its own process
 * (controller only) against the real API server with Traefik's TraefikService CRD; the rollout
 * webhook is a local HTTP server. The TraefikService is the only witness of the weights.
 */
import { describeWeightedRouterRun } from "./router-runs.ts";

type Services = { weighted?: { services?: { name: string; weight?: number }[] } };

describeWeightedRouterRun({
  provider: "traefik",
  apiVersion: "traefik.io/v1alpha1",
  kind: "TraefikService",
  resource: "traefikservices.traefik.io",
  objectName: (name) => name,
  weightsOf: (spec, name) => {
    const services = (spec as Services).weighted?.services ?? [];
    const weightOf = (suffix: string) => services.find((s) => s.name === `${name}${suffix}`)?.weight ?? 0;
    return { primary: weightOf("-primary"), canary: weightOf("-canary") };
  },
});
