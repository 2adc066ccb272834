/**
 * The Deployment a converted Canary targets. An inline `spec.template` becomes a Deployment
 * of the Rollout's name; with `workloadRef`, the referenced Deployment is kept, with its
 * replicas set back to the Rollout's (Argo scales it down while the Rollout runs its pods).
 * The Service port the Canary needs is read from the stable Service, else from the pods.
 */
import type { Obj } from "./fields.ts";
import { label, list, num, obj, str } from "./fields.ts";
import type { OutputObject } from "./model.ts";
import type { Report } from "./report.ts";
import type { SourceObject, Sources } from "./source.ts";

export interface Workload {
  /** The Deployment the Canary targets. */
  name: string;
  /** Its pod template, to find container ports; undefined when the Deployment is not in the input. */
  template: Obj | undefined;
  output: OutputObject | undefined;
}

/** Rollout fields carried into the Deployment as they are. */
const DEPLOYMENT_FIELDS = ["selector", "template", "minReadySeconds", "revisionHistoryLimit"] as const;

export function convertWorkload(rollout: SourceObject, sources: Sources, report: Report): Workload | undefined {
  const source = label(rollout.ref);
  const spec = obj(rollout.body.spec) ?? {};
  const replicas = num(spec.replicas) ?? 1;
  const ref = obj(spec.workloadRef);
  if (ref !== undefined) {
    const name = str(ref.name);
    if (name === undefined || (ref.kind !== undefined && ref.kind !== "Deployment")) {
      report.lossy(source, "spec.workloadRef", `aviary targets Deployments; ${String(ref.kind ?? "(no kind)")} ${String(ref.name ?? "")} is not converted`);
      return undefined;
    }
    if (spec.template !== undefined) report.lossy(source, "spec.template", "is ignored: spec.workloadRef is set, and the Deployment's own template is used");
    const found = sources.find("Deployment", name, rollout.ref.namespace);
    if (found === undefined) {
      report.action(source, "spec.workloadRef", `Deployment ${name} is not in the input: it stays the Canary's target; scale it back to the Rollout's ${replicas} replicas (kubectl scale deployment/${name} --replicas=${replicas}) before deleting the Rollout`);
      return { name, template: undefined, output: undefined };
    }
    const deployment = structuredClone(found.body);
    const dSpec = obj(deployment.spec) ?? {};
    deployment.spec = dSpec;
    const before = num(dSpec.replicas);
    dSpec.replicas = replicas;
    if (before !== replicas) {
      report.changed(label(found.ref), "spec.replicas", `${before ?? "unset"} → ${replicas}, the Rollout's replicas: Argo had scaled the referenced Deployment down; under aviary it is the target again`);
    }
    return { name, template: obj(dSpec.template), output: { from: label(found.ref), manifest: deployment as unknown as OutputObject["manifest"] } };
  }
  const template = obj(spec.template);
  if (template === undefined) {
    report.lossy(source, "spec.template", "is missing (and there is no spec.workloadRef): no Deployment to convert");
    return undefined;
  }
  const dSpec: Obj = { replicas };
  for (const f of DEPLOYMENT_FIELDS) if (spec[f] !== undefined) dSpec[f] = structuredClone(spec[f]);
  const meta = obj(rollout.body.metadata) ?? {};
  const labels = obj(meta.labels);
  const manifest = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: rollout.ref.name, ...(rollout.ref.namespace ? { namespace: rollout.ref.namespace } : {}), ...(labels ? { labels: labels as Record<string, string> } : {}) },
    spec: dSpec,
  };
  return { name: rollout.ref.name, template, output: { from: source, manifest } };
}

export interface ServicePort {
  port: number;
  targetPort?: number | string;
  portName?: string;
}

/** The Canary's port: the stable Service's (first) port, else the first container port. */
export function servicePort(rollout: SourceObject, stableService: string | undefined, workload: Workload, sources: Sources, report: Report): ServicePort {
  const source = label(rollout.ref);
  const svc = stableService === undefined ? undefined : sources.find("Service", stableService, rollout.ref.namespace);
  const ports = list(obj(svc?.body.spec)?.ports);
  const first = obj(ports[0]);
  const port = num(first?.port);
  if (svc !== undefined && first !== undefined && port !== undefined) {
    if (ports.length > 1) report.lossy(label(svc.ref), "spec.ports", `aviary's generated Services expose one port; ${port} is carried, the others are not`);
    const out: ServicePort = { port };
    const target = first.targetPort;
    if (typeof target === "number" || typeof target === "string") out.targetPort = target;
    const name = str(first.name);
    if (name !== undefined) out.portName = name;
    return out;
  }
  const containerPort = list(obj(workload.template?.spec)?.containers)
    .flatMap((c) => list(obj(c)?.ports))
    .map((p) => num(obj(p)?.containerPort))
    .find((p) => p !== undefined);
  const at = "spec.strategy.canary.stableService";
  if (containerPort !== undefined) {
    report.changed(source, at, `${stableService === undefined ? "is not set" : `Service ${stableService} is not in the input`}: the Canary's Services use port ${containerPort}, the first container port`);
    return { port: containerPort };
  }
  report.lossy(source, at, `${stableService === undefined ? "is not set" : `Service ${stableService} is not in the input`} and the pods declare no port: spec.service.port is set to 80; correct it`);
  return { port: 80 };
}

