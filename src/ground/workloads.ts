/**
 * The slices of the Kubernetes workload types aviary reads and generates: Deployments and
 * Services. Only the fields aviary touches are typed; everything else passes through.
 */
import type { KubeObject } from "../kube/types.ts";

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: unknown[];
}

export interface ContainerPort {
  name?: string;
  containerPort: number;
  protocol?: string;
  [field: string]: unknown;
}

export interface PodTemplateSpec {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string>; [field: string]: unknown };
  spec?: { containers?: { name: string; ports?: ContainerPort[]; [field: string]: unknown }[]; [field: string]: unknown };
}

export interface DeploymentSpec {
  replicas?: number;
  selector: LabelSelector;
  template: PodTemplateSpec;
  strategy?: unknown;
  minReadySeconds?: number;
  progressDeadlineSeconds?: number;
  revisionHistoryLimit?: number;
  [field: string]: unknown;
}

export interface Deployment extends KubeObject {
  spec: DeploymentSpec;
  status?: Record<string, unknown>;
}

export interface ServicePort {
  name: string;
  port: number;
  targetPort: number | string;
  protocol: string;
  appProtocol?: string;
}

export interface Service extends KubeObject {
  spec: { selector: Record<string, string>; ports: ServicePort[]; clusterIP?: string; trafficDistribution?: string; [field: string]: unknown };
}
