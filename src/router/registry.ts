/**
 * The explicit table of routers by provider name. Built once in main.ts from injected
 * dependencies; an unknown name throws (DESIGN §2: never a silent fallback).
 */
import { DEFAULT_ROUTER_PROVIDER } from "../api/types.ts";
import { createAppMeshRouter } from "./appmesh.ts";
import { createGatewayApiRouter } from "./gatewayapi.ts";
import { createIstioRouter } from "./istio.ts";
import { createKubernetesRouter } from "./kubernetes.ts";
import { createNginxRouter } from "./nginx.ts";
import type { NginxRouterOptions } from "./nginx.ts";
import { createSmiRouter } from "./smi.ts";
import { UnknownRouterError } from "./types.ts";
import type { Router, RouterDeps } from "./types.ts";

type RouterFactory = (deps: RouterDeps, opts: RouterRegistryOptions) => Router;

const FACTORIES: Readonly<Record<string, RouterFactory>> = {
  kubernetes: createKubernetesRouter,
  gatewayapi: (deps) => createGatewayApiRouter(deps),
  istio: (deps) => createIstioRouter(deps),
  nginx: (deps, opts) => createNginxRouter(deps, opts.nginx),
  appmesh: (deps) => createAppMeshRouter(deps),
  smi: (deps) => createSmiRouter(deps),
  linkerd: (deps) => createSmiRouter(deps, { name: "linkerd" }),
};

/** Versioned spellings Flagger accepts, mapped to the router that serves them. */
const ALIASES: Readonly<Record<string, string>> = {
  "gatewayapi:v1": "gatewayapi",
  "appmesh:v1beta2": "appmesh",
};

export interface RouterRegistryOptions {
  /** The router for a Canary whose `spec.provider` is empty (Flagger's default: kubernetes). */
  defaultProvider?: string;
  /** Options of the nginx router (its annotation prefix). */
  nginx?: NginxRouterOptions;
}

export interface RouterRegistry {
  /** The router for a provider name or alias; an absent/empty name means the default provider. */
  get(provider: string | undefined): Router;
  /** Every accepted name, aliases included. */
  readonly names: readonly string[];
}

export function createRouterRegistry(deps: RouterDeps, opts: RouterRegistryOptions = {}): RouterRegistry {
  const names = [...Object.keys(FACTORIES), ...Object.keys(ALIASES)];
  const instances = new Map<string, Router>();
  const resolve = (name: string): Router => {
    const canonical = Object.hasOwn(ALIASES, name) ? ALIASES[name]! : name;
    const factory = Object.hasOwn(FACTORIES, canonical) ? FACTORIES[canonical] : undefined;
    if (factory === undefined) throw new UnknownRouterError(name, names);
    let router = instances.get(canonical);
    if (router === undefined) {
      router = factory({ ...deps, logger: deps.logger.child({ router: canonical }) }, opts);
      instances.set(canonical, router);
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
