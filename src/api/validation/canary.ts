/** Validation of a whole Canary: references, the service, the router, then the analysis. */
import { effectiveProvider } from "../providers.ts";
import { ignoredFields, ignoredRule } from "../provider-fields.ts";
import { API_VERSION, KIND_CANARY, LABEL_CANARY, LABEL_MANAGED_BY, ROUTER_PROVIDERS, TARGET_KINDS } from "../types.ts";

/** The labels aviary recognises its generated objects by: never left to other controllers. */
const AVIARY_LABELS = [LABEL_MANAGED_BY, LABEL_CANARY] as const;
import type { RouterProvider } from "../types.ts";
import { providerEntry } from "../providers.ts";
import { checkAnalysis } from "./analysis.ts";
import { checkMatchList } from "./match.ts";
import { checkTypeMeta, Fields, isDnsLabel, isDnsSubdomain, isRecord, oneOfRule, Problems } from "./problems.ts";
import type { ValidationProblem } from "./problems.ts";

export interface CanaryValidationOptions {
  /** The operator-wide router used when spec.provider is empty. */
  defaultProvider?: RouterProvider;
  /** The apiVersion served (api/groups.ts); default aviary.dev/v1beta1. */
  apiVersion?: string;
}

/** `<name>-primary` must still be a valid Service name (63 characters). */
export const MAX_SERVICE_NAME_LENGTH = 63 - "-primary".length;

const IANA_SVC_NAME = /^(?=.*[a-z])[a-z0-9]([a-z0-9]|-(?!-))*$/;
/** A container port name (what targetPort may name): an IANA service name. */
const isPortName = (s: string): boolean => s.length <= 15 && IANA_SVC_NAME.test(s) && !s.endsWith("-");
const PORT_NAME_RULE = "must be an IANA service name (at most 15 lowercase letters, digits and '-', with at least one letter)";
/** A Service port name: an RFC 1123 label. */
const isServicePortName = (s: string): boolean => s.length <= 63 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(s);
const SERVICE_PORT_NAME_RULE = "must be an RFC 1123 label (at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit)";

/** Every problem with a Canary, errors and warnings. Never throws, whatever `obj` is. */
export function validateCanary(obj: unknown, opts: CanaryValidationOptions = {}): ValidationProblem[] {
  const problems = new Problems();
  if (!isRecord(obj)) {
    problems.error("", "must be a Canary object");
    return problems.list;
  }
  const root = new Fields(problems, obj, "");
  checkTypeMeta(root, opts.apiVersion ?? API_VERSION, KIND_CANARY);
  const spec = root.object("spec", { required: true });
  if (spec === undefined) return problems.list;

  const router = checkProvider(spec, opts.defaultProvider);
  spec.url("metricsServer");
  const target = checkTargetRef(spec);
  const targetName = target.name;
  checkAutoscalerRef(spec, target.kind);
  checkIngressRef(spec, router);
  checkProviderRef(spec, router, { field: "routeRef", provider: "apisix", kind: "ApisixRoute", apiVersion: "apisix.apache.org/v2", required: true });
  checkProviderRef(spec, router, { field: "upstreamRef", provider: "gloo", kind: "Upstream", apiVersion: "gloo.solo.io/v1", required: false });
  const service = spec.object("service", { required: true });
  if (service !== undefined) checkService(service, router, targetName);

  spec.integer("progressDeadlineSeconds", { min: 1 });
  const skipAnalysis = spec.boolean("skipAnalysis") ?? false;
  spec.boolean("suspend");
  spec.boolean("revertOnDeletion");

  const analysis = spec.object("analysis");
  if (analysis !== undefined) checkAnalysis(analysis, { router, skipAnalysis });
  else if (!skipAnalysis && !spec.has("analysis")) {
    problems.warn(spec.at("analysis"), "is not set, so every revision is promoted without checks (set skipAnalysis: true to say so)");
  }
  // Fields the provider in effect does not act on: accepted, and said so.
  if (router !== undefined) for (const field of ignoredFields(obj, router)) problems.warn(field.path, ignoredRule(field));
  return problems.list;
}

function checkProvider(spec: Fields, meshProvider: RouterProvider | undefined): RouterProvider | undefined {
  const raw = spec.value.provider;
  if (raw !== undefined && raw !== null && typeof raw !== "string") {
    spec.problems.error(spec.at("provider"), "must be a string");
    return undefined;
  }
  const provider = effectiveProvider({ spec: spec.value }, meshProvider);
  if (!provider.known) {
    // An unknown router is an error, never a silent fallback to the default.
    spec.problems.error(spec.at("provider"), `names provider ${provider.name}, which aviary does not serve: ${oneOfRule(ROUTER_PROVIDERS)}`);
    return undefined;
  }
  return provider.name as RouterProvider;
}

/** The target's name (when valid) and kind (default Deployment; undefined when not one aviary serves). */
function checkTargetRef(spec: Fields): { name: string | undefined; kind: string | undefined } {
  const ref = spec.object("targetRef", { required: true });
  if (ref === undefined) return { name: undefined, kind: undefined };
  const name = ref.string("name", { required: true });
  if (name !== undefined && !isDnsSubdomain(name)) {
    ref.problems.error(ref.at("name"), "must be a lowercase RFC 1123 name (a-z, 0-9, '-', '.')");
  }
  const kind = ref.has("kind") ? ref.string("kind", { oneOf: TARGET_KINDS }) : "Deployment";
  const apiVersion = ref.string("apiVersion");
  if (kind !== undefined && apiVersion !== undefined && apiVersion !== "apps/v1") {
    ref.problems.error(ref.at("apiVersion"), `must be apps/v1 for kind ${kind}`);
  }
  return { name: isDnsSubdomain(name ?? "") ? name : undefined, kind };
}

function checkAutoscalerRef(spec: Fields, targetKind: string | undefined): void {
  const ref = spec.object("autoscalerRef");
  if (ref === undefined) return;
  if (targetKind === "DaemonSet") {
    // Flagger's HPA and ScaledObject copies scale the primary; a DaemonSet has no replicas to scale.
    ref.problems.error(ref.path, "must not be set when targetRef.kind is DaemonSet: a DaemonSet runs one pod per eligible node and has no replicas for an autoscaler to scale");
    return;
  }
  ref.string("name", { required: true });
  const kind = ref.string("kind", { oneOf: ["HorizontalPodAutoscaler", "ScaledObject"] });
  const apiVersion = ref.string("apiVersion");
  if (kind === "ScaledObject") {
    if (apiVersion !== undefined && apiVersion !== "keda.sh/v1alpha1") ref.problems.error(ref.at("apiVersion"), "must be keda.sh/v1alpha1 for kind ScaledObject");
  } else if (apiVersion !== undefined && !/^autoscaling\/v\d/.test(apiVersion)) {
    ref.problems.error(ref.at("apiVersion"), "must be an autoscaling API version (autoscaling/v2)");
  }
  ref.stringMap("primaryScalerQueries");
  const replicas = ref.object("primaryScalerReplicas");
  if (replicas !== undefined) {
    const min = replicas.integer("minReplicas", { min: 1 });
    const max = replicas.integer("maxReplicas", { min: 1 });
    if (min !== undefined && max !== undefined && min > max) {
      replicas.problems.error(replicas.at("maxReplicas"), `must be greater than or equal to minReplicas (${min})`);
    }
  }
}

/** The routers that route through the Ingress `spec.ingressRef` names. */
const INGRESS_ROUTERS: readonly RouterProvider[] = ["nginx", "skipper", "alb"];

function checkIngressRef(spec: Fields, router: RouterProvider | undefined): void {
  const ref = spec.object("ingressRef");
  if (ref !== undefined) {
    ref.string("name", { required: true });
    ref.string("kind", { oneOf: ["Ingress"] });
    const apiVersion = ref.string("apiVersion");
    if (apiVersion !== undefined && apiVersion !== "networking.k8s.io/v1") {
      ref.problems.error(ref.at("apiVersion"), "must be networking.k8s.io/v1");
    }
  } else if (router !== undefined && INGRESS_ROUTERS.includes(router) && !spec.has("ingressRef")) {
    spec.problems.error(spec.at("ingressRef"), `is required when provider is ${router}`);
  }
}

interface ProviderRefRule {
  field: "routeRef" | "upstreamRef";
  provider: RouterProvider;
  kind: string;
  apiVersion: string;
  /** The provider cannot run without it. */
  required: boolean;
}

/** `routeRef` (apisix) and `upstreamRef` (gloo): the object a router copies from. */
function checkProviderRef(spec: Fields, router: RouterProvider | undefined, rule: ProviderRefRule): void {
  const ref = spec.object(rule.field);
  if (ref !== undefined) {
    const name = ref.string("name", { required: true });
    if (name !== undefined && name !== "" && !isDnsSubdomain(name)) ref.problems.error(ref.at("name"), "must be a lowercase RFC 1123 subdomain");
    ref.string("kind", { oneOf: [rule.kind] });
    const apiVersion = ref.string("apiVersion");
    if (apiVersion !== undefined && apiVersion !== rule.apiVersion) ref.problems.error(ref.at("apiVersion"), `must be ${rule.apiVersion}`);
    if (rule.field === "upstreamRef") ref.string("namespace");
  } else if (rule.required && router === rule.provider && !spec.has(rule.field)) {
    spec.problems.error(spec.at(rule.field), `is required when provider is ${rule.provider}`);
  }
}

function checkService(service: Fields, router: RouterProvider | undefined, targetName: string | undefined): void {
  const rawName = service.value.name;
  const name = service.string("name");
  const serviceNameRule = `must be a lowercase RFC 1035 label of at most ${MAX_SERVICE_NAME_LENGTH} characters, so that <name>-primary is a valid Service name`;
  if (name !== undefined && name !== "") {
    if (!isDnsLabel(name, MAX_SERVICE_NAME_LENGTH)) service.problems.error(service.at("name"), serviceNameRule);
  } else if ((rawName === undefined || rawName === null || rawName === "") && targetName !== undefined && !isDnsLabel(targetName, MAX_SERVICE_NAME_LENGTH)) {
    // Generated Services default to the target's name, which may not fit a Service name.
    service.problems.error(service.at("name"), `is required because targetRef.name is not a valid Service name (it ${serviceNameRule})`);
  }

  service.integer("port", { required: true, min: 1, max: 65535 });
  const portName = service.string("portName");
  if (portName !== undefined && portName !== "" && !isServicePortName(portName)) service.problems.error(service.at("portName"), SERVICE_PORT_NAME_RULE);
  checkTargetPort(service);
  service.boolean("portDiscovery");
  service.string("appProtocol");
  service.duration("timeout", { positive: true });
  service.stringArray("gateways");
  service.stringArray("hosts");
  checkGatewayRefs(service, router);
  checkMatchList(service, "match", { router, requireCondition: false });

  const rewrite = service.object("rewrite");
  rewrite?.string("uri");
  rewrite?.string("authority");
  rewrite?.string("type", { oneOf: ["ReplaceFullPath", "ReplacePrefixMatch"] });
  const retries = service.object("retries");
  if (retries !== undefined) {
    retries.integer("attempts", { min: 0 });
    retries.duration("perTryTimeout", { positive: true });
    retries.string("retryOn");
  }
  const headers = service.object("headers");
  for (const direction of ["request", "response"]) {
    const ops = headers?.object(direction);
    ops?.stringMap("set");
    ops?.stringMap("add");
    ops?.stringArray("remove");
  }
  service.object("corsPolicy");
  service.duration("backendTimeout", { positive: true });
  if (service.boolean("delegation") === true) checkDelegation(service);
  service.boolean("headless");
  // The values Kubernetes 1.33+ accepts; anything else would fail every apply of the Services.
  service.string("trafficDistribution", { oneOf: ["PreferClose", "PreferSameZone", "PreferSameNode"] });
  for (const mirror of service.objects("mirror") ?? []) {
    const ref = mirror.object("backendRef", { required: true });
    ref?.string("name", { required: true });
    ref?.integer("port", { min: 1, max: 65535 });
    if (ref !== undefined && (ref.value.kind ?? "Service") === "Service" && (ref.value.group ?? "") === "" && !ref.has("port")) {
      ref.problems.error(ref.at("port"), "is required for a Service backend");
    }
  }
  const unmanaged = service.object("unmanagedMetadata");
  const keptLabels = unmanaged?.stringArray("labels") ?? [];
  unmanaged?.stringArray("annotations");
  for (const key of keptLabels.filter((k) => (AVIARY_LABELS as readonly string[]).includes(k))) {
    unmanaged!.problems.error(unmanaged!.at("labels"), `cannot name ${key}: aviary finds its generated objects by it`);
  }
  service.object("trafficPolicy");
  service.string("meshName");
  service.stringArray("backends");
  for (const which of ["apex", "primary", "canary"]) {
    const meta = service.object(which);
    meta?.stringMap("labels");
    meta?.stringMap("annotations");
  }
}

/** Flagger's rule: a delegate VirtualService has no hosts and no gateways of its own. */
function checkDelegation(service: Fields): void {
  for (const field of ["hosts", "gateways"]) {
    const v = service.value[field];
    if (Array.isArray(v) && v.length > 0) service.problems.error(service.at(field), "must be empty with delegation: a delegate VirtualService takes its hosts and gateways from the VirtualService that delegates to it");
  }
}

function checkTargetPort(service: Fields): void {
  const v = service.value.targetPort;
  if (v === undefined || v === null) return;
  const at = service.at("targetPort");
  if (typeof v === "number") {
    if (!Number.isInteger(v) || v < 1 || v > 65535) service.problems.error(at, "must be a port number between 1 and 65535");
  } else if (typeof v === "string") {
    if (!isPortName(v)) service.problems.error(at, PORT_NAME_RULE);
  } else {
    service.problems.error(at, "must be a port number or a port name");
  }
}

function checkGatewayRefs(service: Fields, router: RouterProvider | undefined): void {
  for (const ref of service.objects("gatewayRefs") ?? []) {
    ref.string("name", { required: true });
    ref.string("namespace");
    ref.string("group");
    ref.string("kind");
    ref.string("sectionName");
    ref.integer("port", { min: 1, max: 65535 });
  }
  if (router !== undefined && providerEntry(router).router.startsWith("gatewayapi")) {
    const refs = service.value.gatewayRefs;
    if (refs === undefined || refs === null) {
      service.problems.error(service.at("gatewayRefs"), `is required when provider is ${router} (the HTTPRoute's parent Gateways)`);
    } else if (Array.isArray(refs) && refs.length === 0) {
      service.problems.error(service.at("gatewayRefs"), `must not be empty when provider is ${router}`);
    }
  }
}
