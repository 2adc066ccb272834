/**
 * networking.k8s.io/v1 Ingress shapes the Ingress-annotation routers (nginx, skipper, alb)
 * read and write, and the names they share. Pure.
 */
import type { Canary } from "../api/types.ts";
import type { RouteKind } from "./route-objects.ts";
import { RouterSpecError } from "./types.ts";

export const INGRESS: RouteKind = {
  apiVersion: "networking.k8s.io/v1",
  kind: "Ingress",
  plural: "ingresses",
  specFields: ["ingressClassName", "defaultBackend", "tls", "rules"],
};

/** The legacy way to pick the ingress controller; a canary copy must be served by the same one. */
export const INGRESS_CLASS_ANNOTATION = "kubernetes.io/ingress.class";

export interface ServiceBackendPort {
  number?: number;
  name?: string;
}

export interface IngressBackend {
  service?: { name: string; port?: ServiceBackendPort };
  resource?: Record<string, unknown>;
}

export interface IngressPath {
  path?: string;
  pathType: string;
  backend: IngressBackend;
}

export interface IngressRule {
  host?: string;
  http?: { paths: IngressPath[] };
}

export interface IngressSpec {
  ingressClassName?: string;
  defaultBackend?: IngressBackend;
  tls?: { hosts?: string[]; secretName?: string }[];
  rules?: IngressRule[];
}

/** The Ingress the nginx and skipper routers keep beside the user's. */
export const canaryIngressName = (ingressName: string): string => `${ingressName}-canary`;

/** The name of the Ingress the Canary's traffic enters through (`spec.ingressRef`); `provider` is for the message. */
export function ingressRefName(canary: Canary, provider: string): string {
  const name = canary.spec.ingressRef?.name;
  if (name === undefined || name === "") throw new RouterSpecError("spec.ingressRef", `is required by provider ${provider}`);
  return name;
}

/** Every backend of an Ingress spec: the default backend, then each rule's paths in order. */
export function* backendsOf(spec: IngressSpec): Generator<IngressBackend> {
  if (spec.defaultBackend !== undefined) yield spec.defaultBackend;
  for (const rule of spec.rules ?? []) {
    for (const p of rule.http?.paths ?? []) yield p.backend;
  }
}
