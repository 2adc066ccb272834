/**
 * The canary engine driving the kuma router end to end, with Kuma's TrafficRoute CRD. The
 * TrafficRoute is cluster-scoped: the watch on generated objects finds its Canary through
 * the `aviary.dev/canary-namespace` label when it is deleted by hand.
 */
import { kubectl } from "../../support/kubectl.ts";
import { describeWeightedRouterRun } from "./router-runs.ts";

type Split = { conf?: { split?: { weight?: number; destination: Record<string, string> }[] } };

describeWeightedRouterRun({
  provider: "kuma",
  apiVersion: "kuma.io/v1alpha1",
  resource: "trafficroutes.kuma.io",
  kind: "TrafficRoute",
  objectName: (name) => name,
  weightsOf: (spec, name) => {
    const entries = (spec as Split).conf?.split ?? [];
    const weightOf = (arm: string) => entries.find((e) => e.destination["kuma.io/service"]?.startsWith(`${name}-${arm}_`))?.weight ?? 0;
    return { primary: weightOf("primary"), canary: weightOf("canary") };
  },
  cleanUp: async (_ns, name) => {
    await kubectl(["delete", "trafficroutes.kuma.io", name, "--ignore-not-found"]);
  },
});
