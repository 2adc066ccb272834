/**
 * Which hosts a run may send to. By default only names of in-cluster Services, in the forms
 * a pod's DNS resolves them: `svc`, `svc.ns`, `svc.ns.svc` and `svc.ns.svc.<cluster domain>`.
 * IP literals and `localhost` (the load tester's own pod) are refused unless listed with
 * --allow-host. This keeps a mistyped or copied public URL from being load-tested; it is a
 * guard against mistakes, not a network fence (a NetworkPolicy on egress is that).
 */
import { isIP } from "node:net";
import { CommandRefusedError } from "./tokenize.ts";

export interface TargetPolicy {
  /** The cluster's DNS domain (kubelet --cluster-domain), default cluster.local. */
  clusterDomain: string;
  /** Extra hosts allowed as written (`127.0.0.1`, `api.example.com`), or every subdomain with `*.example.com`. */
  allowHosts: readonly string[];
}

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Why a host is not allowed, or undefined when it is. */
export function hostRefusal(rawHost: string, policy: TargetPolicy): string | undefined {
  const host = rawHost.toLowerCase().replace(/\.$/, "");
  if (policy.allowHosts.some((allowed) => matchesAllowed(host, allowed.toLowerCase()))) return undefined;
  const hint = "; list it with --allow-host to allow it";
  if (isIP(host) !== 0) return `${rawHost} is an IP address; only in-cluster Service names are allowed${hint}`;
  if (host === "localhost") return `localhost is the load tester itself${hint}`;
  const labels = host.split(".");
  if (!labels.every((l) => LABEL.test(l))) return `"${rawHost}" is not a valid DNS name`;
  const domain = policy.clusterDomain.toLowerCase().replace(/\.$/, "").split(".");
  const isServiceName =
    labels.length <= 2 ||
    (labels.length === 3 && labels[2] === "svc") ||
    (labels.length === 3 + domain.length && labels[2] === "svc" && labels.slice(3).join(".") === domain.join("."));
  if (isServiceName) return undefined;
  return `${rawHost} is not an in-cluster Service name (service, service.namespace, service.namespace.svc or service.namespace.svc.${domain.join(".")})${hint}`;
}

function matchesAllowed(host: string, allowed: string): boolean {
  if (allowed.startsWith("*.")) return host.endsWith(allowed.slice(1));
  return host === allowed.replace(/^\[|\]$/g, "");
}

/** Throws CommandRefusedError naming the host when the policy does not allow it. */
export function checkTarget(host: string, policy: TargetPolicy): void {
  const why = hostRefusal(host, policy);
  if (why !== undefined) throw new CommandRefusedError(host, `target ${why}`);
}
