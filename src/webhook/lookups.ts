/** The cluster look-ups the Canary validator needs, answered from the API server. */
import type { Canary } from "../api/types.ts";
import { DEFAULT_API } from "../api/groups.ts";
import type { ApiGroup, ApiKind } from "../api/groups.ts";
import type { KubeClient } from "../kube/types.ts";
import type { CanaryLookups } from "./validate/canary.ts";

export function createApiLookups(kube: KubeClient, api: ApiGroup = DEFAULT_API): CanaryLookups {
  const exists = async (kind: ApiKind, ref: { namespace: string; name: string }, signal: AbortSignal) =>
    (await kube.get({ ...kind, namespace: ref.namespace, name: ref.name }, { signal })) !== null;
  return {
    async findCanaryForTarget(namespace, target, { excluding, signal }) {
      const canaries = await kube.list<Canary>(api.canary.apiVersion, api.canary.kind, namespace, { signal });
      const claim = canaries.find(
        (c) => c.metadata.name !== excluding && c.spec?.targetRef?.name === target.name && (c.spec.targetRef.kind ?? "Deployment") === target.kind,
      );
      return claim ? claim.metadata.name : null;
    },
    metricTemplateExists: (ref, signal) => exists(api.metricTemplate, ref, signal),
    alertProviderExists: (ref, signal) => exists(api.alertProvider, ref, signal),
  };
}
