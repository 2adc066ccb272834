/**
 * The explicit table of routers by provider name. Built once in main.ts from injected
 * dependencies; an unknown name throws (DESIGN §2: never a silent fallback).
 */
import { DEFAULT_ROUTER_PROVIDER } from "../api/types.ts";
import { createGatewayApiRouter } from "./gatewayapi.ts";
import { createKubernetesRouter } from "./kubernetes.ts";
import { UnknownRouterError } from "./types.ts";
import type { Router, RouterDeps } from "./types.ts";

type RouterFactory = (deps: RouterDeps) => Router;

const FACTORIES: Readonly<Record<string, RouterFactory>> = {
  kubernetes: createKubernetesRouter,
  gatewayapi: (deps) => createGatewayApiRouter(deps),
};

/** Versioned spellings Flagger accepts, mapped to the router that serves them. */
const ALIASES: Readonly<Record<string, string>> = {
  "gatewayapi:v1": "gatewayapi",
};

export interface RouterRegistryOptions {
  /** The router for a Canary whose `spec.provider` is empty (Flagger's default: kubernetes). */
  defaultProvider?: string;
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
      router = factory({ ...deps, logger: deps.logger.child({ router: canonical }) });
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
