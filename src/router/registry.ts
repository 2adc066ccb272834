/**
 * The routers by provider name. Which names exist and which router serves each is
 * api/providers.ts's table; this file only knows how to build each router. Built once in
 * main.ts from injected dependencies; an unknown name throws, never a silent fallback.
 */
import { DEFAULT_ROUTER_PROVIDER, PROVIDER_TABLE, ROUTER_PROVIDERS } from "../api/providers.ts";
import type { RouterImplementation } from "../api/providers.ts";
import { createAlbRouter } from "./alb.ts";
import type { AlbRouterOptions } from "./alb.ts";
import { createAppMeshRouter } from "./appmesh.ts";
import { createContourRouter } from "./contour.ts";
import { createTraefikRouter } from "./traefik.ts";
import { createApisixRouter } from "./apisix.ts";
import { createGlooRouter } from "./gloo.ts";
import { createKumaRouter } from "./kuma.ts";
import { GATEWAY_API_V1BETA1, createGatewayApiRouter } from "./gatewayapi.ts";
import { createIstioRouter } from "./istio.ts";
import { createKubernetesRouter } from "./kubernetes.ts";
import { createNginxRouter } from "./nginx.ts";
import type { NginxRouterOptions } from "./nginx.ts";
import { createSkipperRouter } from "./skipper.ts";
import { createSmiRouter } from "./smi.ts";
import { UnknownRouterError } from "./types.ts";
import type { Router, RouterDeps } from "./types.ts";

type RouterFactory = (deps: RouterDeps, opts: RouterRegistryOptions) => Router;

const FACTORIES: Readonly<Record<RouterImplementation, RouterFactory>> = {
  kubernetes: createKubernetesRouter,
  gatewayapi: (deps) => createGatewayApiRouter(deps),
  "gatewayapi-v1beta1": (deps) => createGatewayApiRouter(deps, { apiVersion: GATEWAY_API_V1BETA1 }),
  istio: (deps) => createIstioRouter(deps),
  nginx: (deps, opts) => createNginxRouter(deps, opts.nginx),
  appmesh: (deps) => createAppMeshRouter(deps),
  smi: (deps) => createSmiRouter(deps),
  linkerd: (deps) => createSmiRouter(deps, { name: "linkerd" }),
  contour: (deps) => createContourRouter(deps),
  traefik: (deps) => createTraefikRouter(deps),
  skipper: (deps) => createSkipperRouter(deps),
  alb: (deps, opts) => createAlbRouter(deps, opts.alb),
  gloo: (deps) => createGlooRouter(deps),
  kuma: (deps) => createKumaRouter(deps),
  apisix: (deps) => createApisixRouter(deps),
};

export interface RouterRegistryOptions {
  /** The router for a Canary whose `spec.provider` is empty (Flagger's default: kubernetes). */
  defaultProvider?: string;
  /** Options of the nginx router (its annotation prefix). */
  nginx?: NginxRouterOptions;
  /** Options of the alb router (its annotation prefix). */
  alb?: AlbRouterOptions;
}

export interface RouterRegistry {
  /** The router for a provider name or alias; an absent/empty name means the default provider. */
  get(provider: string | undefined): Router;
  /** Every accepted name, aliases included. */
  readonly names: readonly string[];
}

export function createRouterRegistry(deps: RouterDeps, opts: RouterRegistryOptions = {}): RouterRegistry {
  const names = [...ROUTER_PROVIDERS];
  const instances = new Map<RouterImplementation, Router>();
  const resolve = (name: string): Router => {
    if (!Object.hasOwn(PROVIDER_TABLE, name)) throw new UnknownRouterError(name, names);
    const implementation = PROVIDER_TABLE[name as keyof typeof PROVIDER_TABLE].router;
    let router = instances.get(implementation);
    if (router === undefined) {
      router = FACTORIES[implementation]({ ...deps, logger: deps.logger.child({ router: implementation }) }, opts);
      instances.set(implementation, router);
    }
    return router;
  };
  const defaultProvider = opts.defaultProvider ?? DEFAULT_ROUTER_PROVIDER;
  resolve(defaultProvider);
  return {
    names,
    get: (provider) => resolve(provider === undefined || provider === "" ? defaultProvider : provider),
  };
}
