/**
 * The objects aviary generates for a Canary: the `<target>-primary` workload and the
 * Services `<svc>`, `<svc>-primary`, `<svc>-canary` (the `-primary` config copies are in
 * config-refs.ts). Pure builders: target and Canary in, server-side-apply-ready objects out
 * (apiVersion, kind, metadata, spec only). Their names, labels and owner references come
 * from ground/identity.ts.
 */
import type { ObjectMeta, OwnerReference } from "../../kube/types.ts";
import type { Canary, CustomMetadata } from "../../api/types.ts";
import { DEFAULT_PORT_NAME } from "../../api/defaults.ts";
import { PRIMARY_SUFFIX, canaryOwnerReference, managedLabels, primaryDeploymentName, selectorLabel, serviceNames, withoutUnmanaged } from "../../ground/identity.ts";
import { PARK_NODE_SELECTOR_KEY } from "../../ground/workloads.ts";
import type { DeploymentSpec, PodTemplateSpec, Service, ServicePort, Workload } from "../../ground/workloads.ts";
import { workloadKind } from "./workload-kinds.ts";
import { rewriteConfigRefs } from "./config-refs.ts";
import type { ConfigRef } from "./config-refs.ts";

function meta(canary: Canary, name: string, namespace: string | undefined, labels: Record<string, string>, annotations: Record<string, string> | undefined, owner: OwnerReference): ObjectMeta {
  const kept = withoutUnmanaged(canary, { labels, annotations: annotations ?? {} });
  const m: ObjectMeta = { name, labels: kept.labels, ownerReferences: [owner] };
  if (namespace !== undefined) m.namespace = namespace;
  if (Object.keys(kept.annotations).length > 0) m.annotations = kept.annotations;
  return m;
}

const withCustom = (custom: CustomMetadata | undefined, canary: Canary, base: Record<string, string> = {}): Record<string, string> => ({
  ...base,
  ...(custom?.labels ?? {}),
  ...managedLabels(canary),
});

export interface PrimaryWorkloadInput {
  target: Workload;
  canary: Canary;
  /** Replicas of a primary Deployment; a DaemonSet has none. */
  replicas: number;
  /** The configs that have `-primary` copies; references to them are rewritten. */
  copiedConfigs?: readonly ConfigRef[];
}

/**
 * `<target>-primary`, of the target's kind: the target's pod template (with the selector
 * label suffixed, config references pointing at the copies and aviary's parking node
 * selector left out), the kind's rollout settings, and for a Deployment the given replicas.
 * Used both to initialize and to promote: promotion is this object built from the canary.
 */
export function buildPrimaryWorkload(input: PrimaryWorkloadInput): Workload {
  const { target, canary } = input;
  const kind = workloadKind(target.kind);
  const problem = kind.problem(target);
  if (problem !== null) throw problem;
  const { key, value } = selectorLabel(target);
  const primaryValue = value + PRIMARY_SUFFIX;
  const template = rewriteConfigRefs(structuredClone(target.spec.template), input.copiedConfigs ?? []);
  const templateMeta = { ...(template.metadata ?? {}) };
  delete templateMeta.creationTimestamp;
  templateMeta.labels = { ...(templateMeta.labels ?? {}), [key]: primaryValue };
  template.metadata = templateMeta;
  unpark(template);

  const spec: DeploymentSpec = {
    ...(kind.info.sizing === "replicas" ? { replicas: input.replicas } : {}),
    selector: { matchLabels: { ...(target.spec.selector.matchLabels ?? {}), [key]: primaryValue } },
    template,
    ...kind.rolloutSettings(target),
  };
  const custom = canary.spec.service.primary;
  return {
    apiVersion: kind.info.apiVersion,
    kind: kind.info.kind,
    metadata: meta(canary, primaryDeploymentName(canary), target.metadata.namespace, withCustom(custom, canary, { [key]: primaryValue }), custom?.annotations, canaryOwnerReference(canary)),
    spec,
  };
}

/** Drops aviary's parking node selector from a pod template (the primary always runs). */
function unpark(template: PodTemplateSpec): void {
  const podSpec = template.spec as { nodeSelector?: Record<string, string> } | undefined;
  if (podSpec?.nodeSelector?.[PARK_NODE_SELECTOR_KEY] === undefined) return;
  const { [PARK_NODE_SELECTOR_KEY]: _parked, ...rest } = podSpec.nodeSelector;
  if (Object.keys(rest).length > 0) podSpec.nodeSelector = rest;
  else delete podSpec.nodeSelector;
}

/** The Service ports: `service.port` (name, targetPort, appProtocol) plus, with portDiscovery, every other container port. */
export function servicePorts(canary: Canary, target: Workload): ServicePort[] {
  const svc = canary.spec.service;
  const main: ServicePort = {
    name: svc.portName || DEFAULT_PORT_NAME,
    port: svc.port,
    targetPort: svc.targetPort ?? svc.port,
    protocol: "TCP",
  };
  if (svc.appProtocol) main.appProtocol = svc.appProtocol;
  const ports = [main];
  if (!svc.portDiscovery) return ports;
  for (const container of target.spec.template.spec?.containers ?? []) {
    for (const p of container.ports ?? []) {
      const isMain = p.containerPort === main.targetPort || (p.name !== undefined && p.name === main.targetPort) || p.containerPort === main.port;
      const protocol = p.protocol || "TCP";
      const name = p.name || `${protocol.toLowerCase()}-${p.containerPort}`;
      if (isMain || ports.some((q) => q.port === p.containerPort || q.name === name)) continue;
      ports.push({ name, port: p.containerPort, targetPort: p.containerPort, protocol });
    }
  }
  return ports;
}

export interface GeneratedServices {
  apex: Service;
  primary: Service;
  canary: Service;
}

/** `service.headless` (clusterIP None) and `service.trafficDistribution`, as Flagger sets them on every generated Service. */
function serviceOptions(canary: Canary): { clusterIP?: string; trafficDistribution?: string } {
  const s = canary.spec.service;
  return { ...(s.headless === true ? { clusterIP: "None" } : {}), ...(s.trafficDistribution ? { trafficDistribution: s.trafficDistribution } : {}) };
}

/**
 * A generated Service as applied over the stored one. A Service's clusterIP cannot change, so
 * `headless` shapes the Services aviary creates; one that exists keeps its address (delete it
 * and aviary creates it again, headless). Sent without a clusterIP, an update keeps the stored one.
 */
export function serviceForApply(desired: Service, stored: Service | null): Service {
  if (stored === null || desired.spec.clusterIP === undefined || stored.spec.clusterIP === desired.spec.clusterIP) return desired;
  const { clusterIP: _ip, ...spec } = desired.spec;
  return { ...desired, spec: spec as Service["spec"] };
}

/**
 * `<svc>` (apex) and `<svc>-primary` select the primary's pods, `<svc>-canary` the
 * target's; each carries the labels/annotations of `service.apex`/`primary`/`canary`.
 * The apex's `type` is left alone so a taken-over Service keeps it.
 */
export function buildServices(canary: Canary, target: Workload): GeneratedServices {
  const { key, value } = selectorLabel(target);
  const names = serviceNames(canary);
  const ports = servicePorts(canary, target);
  const owner = canaryOwnerReference(canary);
  const namespace = canary.metadata.namespace ?? target.metadata.namespace;
  const svc = (name: string, selectorValue: string, custom: CustomMetadata | undefined): Service => ({
    apiVersion: "v1",
    kind: "Service",
    metadata: meta(canary, name, namespace, withCustom(custom, canary), custom?.annotations, owner),
    spec: { selector: { [key]: selectorValue }, ports: structuredClone(ports), ...serviceOptions(canary) },
  });
  const s = canary.spec.service;
  return {
    apex: svc(names.apex, value + PRIMARY_SUFFIX, s.apex),
    primary: svc(names.primary, value + PRIMARY_SUFFIX, s.primary),
    canary: svc(names.canary, value, s.canary),
  };
}
