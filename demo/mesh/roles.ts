/**
 * Who the two backends of the simulated mesh are, derived from the cluster: pure. The
 * primary is `<target>-primary` once aviary created it (before that, the target itself
 * serves, as the apex Service selects it); the canary is the target Deployment. Each runs
 * the version its image tag names.
 */
import type { Canary } from "../../src/api/types.ts";
import { versionOfImage } from "../behaviour.ts";
import type { Backend } from "./split.ts";
import { simulatedPodName } from "./targets.ts";
import type { Upstream } from "./proxy-metrics.ts";

export interface DeploymentView {
  metadata: { name: string; namespace?: string };
  spec?: { template?: { spec?: { containers?: { name: string; image?: string }[] } } };
}

export interface Role {
  backend: Backend;
  deployment: string;
  image: string;
  version: string;
  upstream: Upstream;
}

/** The image of the Deployment's first container: the one `kubectl set image` changes in the demo. */
export function imageOf(d: DeploymentView | undefined): string | undefined {
  return d?.spec?.template?.spec?.containers?.[0]?.image;
}

/**
 * The roles the mesh should be serving, or none for a role whose Deployment (or image) is
 * missing. `deployments` are looked up by name in the Canary's namespace.
 */
export function desiredRoles(canary: Canary, lookup: (name: string) => DeploymentView | undefined): Partial<Record<Backend, Role>> {
  const namespace = canary.metadata.namespace ?? "default";
  const target = canary.spec.targetRef.name;
  const service = canary.spec.service.name || target;
  const port = canary.spec.service.port;
  const ingress = canary.spec.ingressRef?.name ?? target;
  const role = (backend: Backend, deployment: string): Role | undefined => {
    const image = imageOf(lookup(deployment));
    if (image === undefined) return undefined;
    const pod = simulatedPodName(deployment, image);
    const nginxCanary = backend === "canary" ? `${namespace}-${service}-canary-${port}` : "";
    const backendService = backend === "canary" ? `${service}-canary` : service;
    return { backend, deployment, image, version: versionOfImage(image), upstream: { namespace, workload: deployment, pod, ingress, nginxCanary, service: backendService } };
  };
  const primaryName = `${target}-primary`;
  const roles: Partial<Record<Backend, Role>> = {};
  const primary = role("primary", lookup(primaryName) !== undefined ? primaryName : target);
  const canaryRole = role("canary", target);
  if (primary) roles.primary = primary;
  if (canaryRole) roles.canary = canaryRole;
  return roles;
}

/** Whether a running process still stands for `role` (same Deployment and image). */
export function sameRole(a: Pick<Role, "deployment" | "image"> | undefined, b: Pick<Role, "deployment" | "image"> | undefined): boolean {
  return a !== undefined && b !== undefined && a.deployment === b.deployment && a.image === b.image;
}
