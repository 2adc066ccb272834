/**
 * Argo's `trafficRouting` → aviary's `provider` and the Canary fields that router reads.
 * aviary writes its own route objects (HTTPRoute, VirtualService, canary Ingress, …) named
 * after the Canary's apex Service, so the values are read from the user's objects named in
 * the Rollout (parents, hosts, matches) and the report says which of them to change or
 * delete. An Argo router aviary has no counterpart for is reported, naming it.
 */
import { isRouterProvider } from "../api/features.ts";
import type { CanaryService, HTTPMatchRequest, StringMatch } from "../api/types.ts";
import type { Obj } from "./fields.ts";
import { child, isObj, label, list, num, obj, otherKeys, str } from "./fields.ts";
import type { OutputObject } from "./model.ts";
import type { Report } from "./report.ts";
import type { SourceObject, Sources } from "./source.ts";

export const GATEWAY_API_PLUGIN = "argoproj-labs/gatewayAPI";

export interface RouterContext {
  sources: Sources;
  report: Report;
  rollout: SourceObject;
  /** The Canary's apex Service name. */
  apex: string;
  stableService: string | undefined;
  canaryService: string | undefined;
  /** The Canary's service port. */
  port?: number | undefined;
}

export interface RouterConversion {
  provider: string;
  ingressRef?: { apiVersion: string; kind: string; name: string };
  service: Partial<CanaryService>;
  /** User objects rewritten to work with aviary (an Ingress pointed at the apex Service). */
  outputs: OutputObject[];
  canMirror: boolean;
}

const ROUTERS = ["nginx", "plugins", "istio", "appMesh", "smi", "alb", "ambassador", "traefik", "apisix", "managedRoutes", "maxTrafficWeight"];

/** The apex Service name: `--service-name`, else SMI's or ALB's root Service, else the Rollout's name. */
export function apexServiceName(routing: Obj | undefined, rolloutName: string, override: string | undefined): string {
  return override ?? str(obj(routing?.smi)?.rootService) ?? str(obj(routing?.alb)?.rootService) ?? rolloutName;
}

export function convertTrafficRouting(routing: Obj | undefined, path: string, ctx: RouterContext): RouterConversion {
  const source = label(ctx.rollout.ref);
  const routers = routing === undefined ? [] : Object.keys(routing).filter((k) => k !== "managedRoutes" && k !== "maxTrafficWeight" && routing[k] != null);
  if (routing === undefined || routers.length === 0) {
    ctx.report.lossy(
      source,
      routing === undefined ? child(path.replace(/\.trafficRouting$/, ""), "trafficRouting") : path,
      "is not set: Argo approximates the weights with replica counts, which aviary does not do; provider kubernetes switches all traffic at promotion, so the steps' weights are not applied",
    );
    return { provider: "kubernetes", service: {}, outputs: [], canMirror: false };
  }
  for (const extra of routers.slice(1)) ctx.report.lossy(source, child(path, extra), `a Canary has one router; ${routers[0]} is converted and this one is dropped`);
  const kind = routers[0]!;
  const at = child(path, kind);
  const body = obj(routing[kind]) ?? {};
  switch (kind) {
    case "nginx":
      return nginx(body, at, ctx);
    case "plugins":
      return plugins(body, at, ctx);
    case "istio":
      return istio(body, at, ctx);
    case "appMesh":
      return appMesh(body, at, ctx);
    case "smi":
      return smi(body, at, ctx);
    case "alb":
      return alb(body, at, ctx);
    default:
      if (isRouterProvider(kind)) {
        // aviary serves this router, but Argo's settings for it (which Services, which route) do not map one to one.
        ctx.report.lossy(source, at, `Argo's ${kind} settings are not converted; converted with provider kubernetes, so the steps' weights are not applied: set spec.provider: ${kind} and its fields by hand (README, Traffic providers)`);
      } else {
        ctx.report.lossy(source, at, `aviary has no ${kind} router${ROUTERS.includes(kind) ? "" : " (not an Argo Rollouts router either)"}; converted with provider kubernetes, so the steps' weights are not applied`);
      }
      return { provider: "kubernetes", service: {}, outputs: [], canMirror: false };
  }
}

// ---------------------------------------------------------------------------------------
// nginx
// ---------------------------------------------------------------------------------------

function nginx(body: Obj, at: string, ctx: RouterContext): RouterConversion {
  const source = label(ctx.rollout.ref);
  const ingresses = [str(body.stableIngress), ...list(body.stableIngresses).map(str)].filter((n) => n !== undefined);
  const out: RouterConversion = { provider: "nginx", service: {}, outputs: [], canMirror: false };
  if (ingresses.length === 0) {
    ctx.report.lossy(source, child(at, "stableIngress"), "is missing; set spec.ingressRef on the Canary to the Ingress that serves the Service");
    return out;
  }
  const name = ingresses[0]!;
  out.ingressRef = { apiVersion: "networking.k8s.io/v1", kind: "Ingress", name };
  if (ingresses.length > 1) ctx.report.lossy(source, child(at, "stableIngresses"), `aviary's nginx router follows one Ingress; ${name} is converted, ${ingresses.slice(1).join(", ")} not`);
  const prefix = str(body.annotationPrefix);
  if (prefix !== undefined && prefix !== "nginx.ingress.kubernetes.io") {
    ctx.report.action(source, child(at, "annotationPrefix"), `run aviary with --nginx-annotation-prefix ${prefix} (it is one setting for every Canary)`);
  }
  if (isObj(body.additionalIngressAnnotations) && Object.keys(body.additionalIngressAnnotations).length > 0) {
    ctx.report.lossy(
      source,
      child(at, "additionalIngressAnnotations"),
      `${Object.keys(body.additionalIngressAnnotations).join(", ")} on the canary Ingress (requests by header or cookie beside the weights) have no equivalent: aviary's nginx header matches make an A/B run in place of weighted steps; dropped`,
    );
  }
  if (isObj(body.canaryIngressAnnotations) && Object.keys(body.canaryIngressAnnotations).length > 0) {
    ctx.report.lossy(source, child(at, "canaryIngressAnnotations"), "aviary's canary Ingress carries only ingress-nginx's annotations copied from the Ingress; these are dropped");
  }
  const ingress = ctx.sources.find("Ingress", name, ctx.rollout.ref.namespace);
  if (ctx.stableService === undefined || ctx.stableService === ctx.apex) return out;
  if (ingress === undefined) {
    ctx.report.action(source, child(at, "stableIngress"), `point the backends of Ingress ${name} at Service ${ctx.apex} in place of ${ctx.stableService} (aviary's nginx router follows the Ingress backends of the apex Service; the Ingress is not in the input)`);
    return out;
  }
  const rewritten = structuredClone(ingress.body);
  const spec = obj(rewritten.spec) ?? {};
  const moved: string[] = [];
  const redirect = (backend: unknown, field: string) => {
    const svc = obj(obj(backend)?.service);
    if (svc !== undefined && svc.name === ctx.stableService) {
      svc.name = ctx.apex;
      moved.push(field);
    }
  };
  redirect(spec.defaultBackend, "spec.defaultBackend");
  list(spec.rules).forEach((rule, r) => {
    list(obj(obj(rule)?.http)?.paths).forEach((p, i) => redirect(obj(p)?.backend, `spec.rules[${r}].http.paths[${i}].backend`));
  });
  const ingressLabel = label(ingress.ref);
  if (moved.length === 0) {
    ctx.report.lossy(ingressLabel, "spec", `has no backend for the stable Service ${ctx.stableService}; aviary's nginx router needs one for Service ${ctx.apex}`);
    return out;
  }
  for (const field of moved) ctx.report.changed(ingressLabel, `${field}.service.name`, `${ctx.stableService} → ${ctx.apex}: the written Ingress sends traffic to aviary's apex Service`);
  out.outputs.push({ from: ingressLabel, manifest: rewritten as unknown as OutputObject["manifest"] });
  return out;
}

// ---------------------------------------------------------------------------------------
// AWS ALB
// ---------------------------------------------------------------------------------------

const ALB_PREFIX = "alb.ingress.kubernetes.io";
/** Argo Rollouts' record of the actions it manages on an Ingress. */
const ARGO_MANAGED_ALB_ACTIONS = "rollouts.argoproj.io/managed-alb-actions";

/**
 * Argo writes the forward action `<prefix>/actions.<rootService or stableService>`; aviary
 * writes `<prefix>/actions.<apex>` on the same Ingress (apex = rootService when set). When
 * the action was the stable Service's, the Ingress's use-annotation backends are renamed to
 * the apex Service and Argo's runtime annotations dropped from the written Ingress.
 */
function alb(body: Obj, at: string, ctx: RouterContext): RouterConversion {
  const source = label(ctx.rollout.ref);
  const out: RouterConversion = { provider: "alb", service: {}, outputs: [], canMirror: false };
  const ingresses = [str(body.ingress), ...list(body.ingresses).map(str)].filter((n) => n !== undefined);
  if (ingresses.length === 0) {
    ctx.report.lossy(source, child(at, "ingress"), "is missing; set spec.ingressRef on the Canary to the Ingress whose action aviary writes");
    return out;
  }
  const name = ingresses[0]!;
  out.ingressRef = { apiVersion: "networking.k8s.io/v1", kind: "Ingress", name };
  if (ingresses.length > 1) ctx.report.lossy(source, child(at, "ingresses"), `aviary's alb router writes the action on one Ingress; ${name} is converted, ${ingresses.slice(1).join(", ")} not`);
  const prefix = str(body.annotationPrefix) ?? ALB_PREFIX;
  if (prefix !== ALB_PREFIX) ctx.report.action(source, child(at, "annotationPrefix"), `run aviary with --alb-annotation-prefix ${prefix} (it is one setting for every Canary)`);
  const servicePort = num(body.servicePort);
  if (servicePort !== undefined && ctx.port !== undefined && servicePort !== ctx.port) {
    ctx.report.changed(source, child(at, "servicePort"), `${servicePort} → ${ctx.port}: aviary's target groups use the Canary's service port`);
  }
  if (obj(body.stickinessConfig)?.enabled === true) {
    ctx.report.lossy(source, child(at, "stickinessConfig"), "aviary's forward action carries no target group stickiness; dropped");
  }
  const root = str(body.rootService);
  if (root !== undefined) {
    ctx.report.action(source, child(at, "rootService"), `Service ${root} becomes the Canary's apex Service (aviary points its selector at the primary's pods, and the action is named after it): stop applying it from your manifests`);
  }
  const action = root ?? ctx.stableService;
  const ingress = ctx.sources.find("Ingress", name, ctx.rollout.ref.namespace);
  if (action === undefined || action === ctx.apex) return out;
  if (ingress === undefined) {
    ctx.report.action(source, child(at, "ingress"), `give the rule of Ingress ${name} the backend service {name: ${ctx.apex}, port: {name: use-annotation}} in place of ${action} (aviary writes the action ${prefix}/actions.${ctx.apex}; the Ingress is not in the input)`);
    return out;
  }
  const rewritten = structuredClone(ingress.body);
  const spec = obj(rewritten.spec) ?? {};
  const ingressLabel = label(ingress.ref);
  const moved: string[] = [];
  list(spec.rules).forEach((rule, r) => {
    list(obj(obj(rule)?.http)?.paths).forEach((p, i) => {
      const svc = obj(obj(obj(p)?.backend)?.service);
      if (svc?.name === action && obj(svc.port)?.name === "use-annotation") {
        svc.name = ctx.apex;
        moved.push(`spec.rules[${r}].http.paths[${i}].backend`);
      }
    });
  });
  if (moved.length === 0) {
    ctx.report.lossy(ingressLabel, "spec", `has no backend service {name: ${action}, port: {name: use-annotation}}; aviary's alb router needs one for Service ${ctx.apex}`);
    return out;
  }
  for (const field of moved) ctx.report.changed(ingressLabel, `${field}.service.name`, `${action} → ${ctx.apex}: the rule takes aviary's action ${prefix}/actions.${ctx.apex}`);
  const annotations = obj(obj(rewritten.metadata)?.annotations);
  for (const key of [`${prefix}/actions.${action}`, ARGO_MANAGED_ALB_ACTIONS]) {
    if (annotations?.[key] === undefined) continue;
    delete annotations[key];
    ctx.report.changed(ingressLabel, `metadata.annotations["${key}"]`, "Argo Rollouts' runtime annotation is removed: aviary writes its own action");
  }
  out.outputs.push({ from: ingressLabel, manifest: rewritten as unknown as OutputObject["manifest"] });
  return out;
}

// ---------------------------------------------------------------------------------------
// Gateway API (the argoproj-labs/gatewayAPI plugin)
// ---------------------------------------------------------------------------------------

function plugins(body: Obj, at: string, ctx: RouterContext): RouterConversion {
  const source = label(ctx.rollout.ref);
  const names = Object.keys(body);
  for (const other of names.filter((n) => n !== GATEWAY_API_PLUGIN)) {
    ctx.report.lossy(source, `${at}["${other}"]`, "aviary has no equivalent of this traffic router plugin; dropped");
  }
  if (!names.includes(GATEWAY_API_PLUGIN)) return { provider: "kubernetes", service: {}, outputs: [], canMirror: false };
  return gatewayApi(obj(body[GATEWAY_API_PLUGIN]) ?? {}, `${at}["${GATEWAY_API_PLUGIN}"]`, ctx);
}

function gatewayApi(body: Obj, at: string, ctx: RouterContext): RouterConversion {
  const source = label(ctx.rollout.ref);
  const out: RouterConversion = { provider: "gatewayapi", service: {}, outputs: [], canMirror: true };
  for (const kind of ["grpcRoute", "grpcRoutes", "tcpRoute", "tcpRoutes", "tlsRoute", "tlsRoutes", "httpRouteSelector"]) {
    if (body[kind] !== undefined) ctx.report.lossy(source, child(at, kind), "aviary's gatewayapi router writes HTTPRoutes only; dropped");
  }
  const routes = [str(body.httpRoute), ...list(body.httpRoutes).map((r) => str(obj(r)?.name))].filter((n) => n !== undefined);
  if (routes.length === 0) {
    ctx.report.lossy(source, at, "names no HTTPRoute; set spec.service.gatewayRefs and hosts on the Canary");
    return out;
  }
  const name = routes[0]!;
  if (routes.length > 1) ctx.report.lossy(source, child(at, "httpRoutes"), `aviary writes one HTTPRoute per Canary; ${name} is converted, ${routes.slice(1).join(", ")} not`);
  const namespace = str(body.namespace) ?? ctx.rollout.ref.namespace;
  const route = ctx.sources.find("HTTPRoute", name, namespace);
  if (route === undefined) {
    ctx.report.lossy(source, at, `HTTPRoute ${name} is not in the input, so the Canary has no gatewayRefs or hosts; pass its manifest too`);
    return out;
  }
  const routeLabel = label(route.ref);
  const spec = obj(route.body.spec) ?? {};
  const gatewayRefs = list(spec.parentRefs).flatMap((raw) => {
    const p = obj(raw);
    const ref = str(p?.name);
    if (p === undefined || ref === undefined) return [];
    const gatewayRef: Obj = { name: ref };
    for (const k of ["namespace", "sectionName", "group", "kind"]) if (str(p[k]) !== undefined) gatewayRef[k] = p[k];
    if (num(p.port) !== undefined) gatewayRef.port = num(p.port);
    if (gatewayRef.namespace === undefined && route.ref.namespace !== undefined) gatewayRef.namespace = route.ref.namespace;
    return [gatewayRef];
  });
  if (gatewayRefs.length === 0) ctx.report.lossy(routeLabel, "spec.parentRefs", "is empty: the Canary's HTTPRoute would attach to no Gateway");
  out.service.gatewayRefs = gatewayRefs as unknown as CanaryService["gatewayRefs"];
  const hosts = list(spec.hostnames).map(str).filter((h) => h !== undefined);
  if (hosts.length > 0) out.service.hosts = hosts;

  const ours = new Set([ctx.stableService, ctx.canaryService].filter((s) => s !== undefined));
  const rules = list(spec.rules).map((r, i) => ({ rule: obj(r) ?? {}, at: `spec.rules[${i}]` }));
  const canaryRules = rules.filter(({ rule }) => list(rule.backendRefs).some((b) => ours.has(str(obj(b)?.name) ?? "")));
  for (const other of rules.filter((r) => !canaryRules.includes(r))) {
    ctx.report.lossy(routeLabel, other.at, "routes to other Services; aviary's HTTPRoute carries only the canary's rule: keep this rule in an HTTPRoute of its own");
  }
  const rule = canaryRules[0];
  if (rule === undefined) {
    ctx.report.lossy(routeLabel, "spec.rules", `has no rule with a backend ${[...ours].join(" or ")}; the Canary's HTTPRoute matches every path`);
  } else {
    for (const extra of canaryRules.slice(1)) ctx.report.lossy(routeLabel, extra.at, "aviary's HTTPRoute has one weighted rule; only the first rule that routes to the Rollout's Services is converted");
    gatewayRule(rule.rule, rule.at, routeLabel, out.service, ctx.report);
  }
  ctx.report.action(routeLabel, "", replaces("HTTPRoute", route.ref.name, route.ref.namespace, ctx, "with the same parents and hosts, and both would claim the same requests"));
  return out;
}

/** What to do with a user's route object that aviary's own (named after the apex Service) replaces. */
function replaces(kind: string, name: string, namespace: string | undefined, ctx: RouterContext, why: string): string {
  const sameObject = name === ctx.apex && (namespace === undefined || ctx.rollout.ref.namespace === undefined || namespace === ctx.rollout.ref.namespace);
  return sameObject
    ? `aviary writes ${kind} ${name} itself from now on (rules and backends included): stop applying it from your manifests`
    : `delete it once the Canary is initialized: aviary writes ${kind} ${ctx.apex} ${why}`;
}

const PATH_TYPES: Record<string, keyof StringMatch> = { PathPrefix: "prefix", Exact: "exact", RegularExpression: "regex" };
const VALUE_TYPES: Record<string, keyof StringMatch> = { Exact: "exact", RegularExpression: "regex" };

function gatewayRule(rule: Obj, at: string, source: string, service: Partial<CanaryService>, report: Report): void {
  const matches: HTTPMatchRequest[] = [];
  list(rule.matches).forEach((raw, i) => {
    const m = obj(raw) ?? {};
    const mAt = child(child(at, "matches"), i);
    const match: HTTPMatchRequest = {};
    const path = obj(m.path);
    if (path !== undefined) {
      const type = PATH_TYPES[str(path.type) ?? "PathPrefix"];
      if (type === undefined) report.lossy(source, child(mAt, "path.type"), `${String(path.type)} is not a Gateway API path match type; dropped`);
      else if (!(type === "prefix" && path.value === "/")) match.uri = { [type]: String(path.value ?? "/") };
    }
    const values = (field: "headers" | "queryParams"): Record<string, StringMatch> | undefined => {
      const entries = list(m[field]);
      if (entries.length === 0) return undefined;
      const out: Record<string, StringMatch> = {};
      entries.forEach((e, j) => {
        const h = obj(e) ?? {};
        const type = VALUE_TYPES[str(h.type) ?? "Exact"];
        const name = str(h.name);
        if (type === undefined || name === undefined) report.lossy(source, `${mAt}.${field}[${j}]`, "is not an Exact or RegularExpression match with a name; dropped");
        else out[name] = { [type]: String(h.value ?? "") };
      });
      return out;
    };
    const headers = values("headers");
    if (headers !== undefined) match.headers = headers;
    const queryParams = values("queryParams");
    if (queryParams !== undefined) match.queryParams = queryParams;
    if (str(m.method) !== undefined) match.method = { exact: String(m.method) };
    if (Object.keys(match).length > 0) matches.push(match);
  });
  if (matches.length > 0) service.match = matches;
  const request = str(obj(rule.timeouts)?.request);
  if (request !== undefined) service.timeout = request;
  if (obj(rule.timeouts)?.backendRequest !== undefined) report.lossy(source, `${at}.timeouts.backendRequest`, "aviary sets the request timeout only; dropped");
  list(rule.filters).forEach((raw, i) => {
    const f = obj(raw) ?? {};
    const fAt = child(child(at, "filters"), i);
    const type = str(f.type);
    const modifier = type === "RequestHeaderModifier" ? obj(f.requestHeaderModifier) : type === "ResponseHeaderModifier" ? obj(f.responseHeaderModifier) : undefined;
    if (modifier === undefined) {
      report.lossy(source, fAt, `filter ${type ?? "(no type)"} is not carried: aviary's HTTPRoute sets header modifiers and mirroring only; dropped`);
      return;
    }
    const side = type === "RequestHeaderModifier" ? "request" : "response";
    const pairs = (v: unknown) => Object.fromEntries(list(v).map((p) => [String(obj(p)?.name ?? ""), String(obj(p)?.value ?? "")]));
    const ops: Obj = {};
    if (list(modifier.set).length > 0) ops.set = pairs(modifier.set);
    if (list(modifier.add).length > 0) ops.add = pairs(modifier.add);
    if (list(modifier.remove).length > 0) ops.remove = list(modifier.remove).map(String);
    service.headers = { ...service.headers, [side]: ops };
  });
}

// ---------------------------------------------------------------------------------------
// Istio
// ---------------------------------------------------------------------------------------

/** VirtualService route fields aviary's Canary service carries over. */
const ISTIO_ROUTE_FIELDS = ["match", "timeout", "retries", "rewrite", "headers", "corsPolicy"] as const;

function istio(body: Obj, at: string, ctx: RouterContext): RouterConversion {
  const source = label(ctx.rollout.ref);
  const out: RouterConversion = { provider: "istio", service: {}, outputs: [], canMirror: true };
  const vsList = [obj(body.virtualService), ...list(body.virtualServices).map(obj)].filter((v) => v !== undefined);
  const vsAt = body.virtualService !== undefined ? child(at, "virtualService") : child(child(at, "virtualServices"), 0);
  const first = vsList[0];
  if (first === undefined || str(first.name) === undefined) {
    ctx.report.lossy(source, child(at, "virtualService"), "names no VirtualService; set spec.service.hosts and gateways on the Canary");
  } else {
    if (vsList.length > 1) ctx.report.lossy(source, child(at, "virtualServices"), `aviary writes one VirtualService per Canary; ${String(first.name)} is converted, the others not`);
    for (const k of ["tlsRoutes", "tcpRoutes"]) if (first[k] !== undefined) ctx.report.lossy(source, child(vsAt, k), "aviary routes HTTP only; dropped");
    const name = String(first.name);
    const vs = ctx.sources.find("VirtualService", name, ctx.rollout.ref.namespace);
    if (vs === undefined) {
      ctx.report.lossy(source, vsAt, `VirtualService ${name} is not in the input, so the Canary has no hosts or gateways; pass its manifest too`);
    } else {
      istioVirtualService(vs, list(first.routes).map(str).filter((r) => r !== undefined), ctx, out.service);
    }
  }
  const dr = obj(body.destinationRule);
  const drName = str(dr?.name);
  if (drName !== undefined) {
    const found = ctx.sources.find("DestinationRule", drName, ctx.rollout.ref.namespace);
    const policy = obj(obj(found?.body.spec)?.trafficPolicy);
    if (policy !== undefined) out.service.trafficPolicy = policy;
    if (found === undefined) ctx.report.action(source, child(at, "destinationRule"), `DestinationRule ${drName} is not in the input: copy its trafficPolicy to spec.service.trafficPolicy if it has one`);
    ctx.report.action(found ? label(found.ref) : source, found ? "" : child(at, "destinationRule"), `delete DestinationRule ${drName} once the Canary is initialized: aviary writes ${ctx.apex}-primary and ${ctx.apex}-canary in place of its subsets`);
  }
  return out;
}

function istioVirtualService(vs: SourceObject, routeNames: string[], ctx: RouterContext, service: Partial<CanaryService>): void {
  const vsLabel = label(vs.ref);
  const spec = obj(vs.body.spec) ?? {};
  const internal = new Set([ctx.stableService, ctx.canaryService].filter((s) => s !== undefined).flatMap((s) => [s, `${s}.${vs.ref.namespace ?? ""}`, `${s}.${vs.ref.namespace ?? ""}.svc.cluster.local`]));
  const hosts = list(spec.hosts).map(str).filter((h) => h !== undefined && !internal.has(h)) as string[];
  if (hosts.length > 0) service.hosts = hosts;
  const gateways = list(spec.gateways).map(str).filter((g) => g !== undefined);
  if (gateways.length > 0) service.gateways = gateways;
  const http = list(spec.http).map((r, i) => ({ route: obj(r) ?? {}, at: `spec.http[${i}]` }));
  const managed = routeNames.length === 0 ? http.slice(0, 1) : http.filter(({ route }) => routeNames.includes(str(route.name) ?? ""));
  for (const other of http.filter((h) => !managed.includes(h))) {
    ctx.report.lossy(vsLabel, other.at, "is not a route the Rollout manages; aviary's VirtualService carries only the canary's route: keep this one in a VirtualService of its own");
  }
  const route = managed[0];
  if (route !== undefined) {
    for (const extra of managed.slice(1)) ctx.report.lossy(vsLabel, extra.at, "aviary's VirtualService has one weighted route; only the first managed route is converted");
    for (const field of ISTIO_ROUTE_FIELDS) {
      if (route.route[field] !== undefined) (service as Record<string, unknown>)[field] = structuredClone(route.route[field]);
    }
    for (const field of otherKeys(route.route, [...ISTIO_ROUTE_FIELDS, "name", "route"])) {
      ctx.report.lossy(vsLabel, `${route.at}.${field}`, "aviary's VirtualService does not carry this route field; dropped");
    }
  }
  for (const k of ["tls", "tcp"]) if (spec[k] !== undefined) ctx.report.lossy(vsLabel, `spec.${k}`, "aviary routes HTTP only; dropped");
  ctx.report.action(vsLabel, "", replaces("VirtualService", vs.ref.name, vs.ref.namespace, ctx, "for the same hosts"));
}

// ---------------------------------------------------------------------------------------
// App Mesh and SMI
// ---------------------------------------------------------------------------------------

function appMesh(body: Obj, at: string, ctx: RouterContext): RouterConversion {
  const source = label(ctx.rollout.ref);
  const out: RouterConversion = { provider: "appmesh", service: {}, outputs: [], canMirror: false };
  const ns = ctx.rollout.ref.namespace;
  const vsName = str(obj(body.virtualService)?.name);
  const group = obj(body.virtualNodeGroup) ?? {};
  const stableNode = str(obj(group.stableVirtualNodeRef)?.name);
  const canaryNode = str(obj(group.canaryVirtualNodeRef)?.name);
  const vs = vsName === undefined ? undefined : ctx.sources.find("VirtualService", vsName, ns);
  const node = stableNode === undefined ? undefined : ctx.sources.find("VirtualNode", stableNode, ns);
  const mesh = str(obj(obj(vs?.body.spec)?.meshRef)?.name) ?? str(obj(obj(node?.body.spec)?.meshRef)?.name);
  if (mesh !== undefined) out.service.meshName = mesh;
  else ctx.report.action(source, at, "the mesh name is not in the input (meshRef of the VirtualService or VirtualNode): set spec.service.meshName if aviary's default does not fit");
  const backends = list(obj(node?.body.spec)?.backends)
    .map((b) => str(obj(obj(obj(b)?.virtualService)?.virtualServiceRef)?.name))
    .filter((b) => b !== undefined);
  if (backends.length > 0) out.service.backends = backends;
  if (stableNode !== undefined && node === undefined) {
    ctx.report.action(source, child(at, "virtualNodeGroup.stableVirtualNodeRef"), `VirtualNode ${stableNode} is not in the input: copy its backends to spec.service.backends`);
  }
  const objects = [vsName && `VirtualService ${vsName}`, stableNode && `VirtualNode ${stableNode}`, canaryNode && `VirtualNode ${canaryNode}`].filter(Boolean).join(", ");
  ctx.report.action(source, at, `delete ${objects || "the App Mesh objects the Rollout used"} (and their VirtualRouter) once the Canary is initialized: aviary writes its own VirtualService ${ctx.apex}, VirtualRouter and VirtualNodes ${ctx.apex}-primary and ${ctx.apex}-canary`);
  return out;
}

function smi(body: Obj, at: string, ctx: RouterContext): RouterConversion {
  const source = label(ctx.rollout.ref);
  const split = str(body.trafficSplitName) ?? ctx.rollout.ref.name;
  if (split !== ctx.apex) {
    ctx.report.action(source, child(at, "trafficSplitName"), `delete TrafficSplit ${split} once the Canary is initialized: aviary writes TrafficSplit ${ctx.apex}`);
  }
  return { provider: "smi", service: {}, outputs: [], canMirror: false };
}
