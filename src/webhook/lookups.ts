/** The cluster look-ups the Canary validator needs, answered from the API server. */
import { API_VERSION, KIND_ALERT_PROVIDER, KIND_CANARY, KIND_METRIC_TEMPLATE } from "../api/types.ts";
import type { Canary } from "../api/types.ts";
import type { KubeClient } from "../kube/types.ts";
import type { CanaryLookups } from "./validate/canary.ts";

export function createApiLookups(kube: KubeClient): CanaryLookups {
  const exists = async (kind: string, ref: { namespace: string; name: string }, signal: AbortSignal) =>
    (await kube.get({ apiVersion: API_VERSION, kind, namespace: ref.namespace, name: ref.name }, { signal })) !== null;
  return {
    async findCanaryForTarget(namespace, target, { excluding, signal }) {
      const canaries = await kube.list<Canary>(API_VERSION, KIND_CANARY, namespace, { signal });
      const claim = canaries.find(
        (c) => c.metadata.name !== excluding && c.spec?.targetRef?.name === target.name && (c.spec.targetRef.kind ?? "Deployment") === target.kind,
      );
      return claim ? claim.metadata.name : null;
    },
    metricTemplateExists: (ref, signal) => exists(KIND_METRIC_TEMPLATE, ref, signal),
    alertProviderExists: (ref, signal) => exists(KIND_ALERT_PROVIDER, ref, signal),
  };
}
