/**
 * The router port: one small interface per traffic provider (Flagger's pkg/router shape).
 * A router owns the provider's route objects for a Canary; the generated Services belong
 * to the reconciler (controller/canary/objects.ts). The route object is the source of
 * truth for the current weights: the engine reads them back with getRoutes instead of
 * trusting its own memory.
 */
import type { Canary } from "../api/types.ts";
import type { RouterFeature } from "../api/features.ts";
import type { KubeClient } from "../kube/types.ts";
import type { Logger } from "../observability/logger.ts";

/** Traffic split in percent. `mirror`: the primary's traffic is also copied to the canary. */
export interface Routes {
  primary: number;
  canary: number;
  mirror: boolean;
}

export interface RouteRequest {
  primary: number;
  canary: number;
  /** Default false. */
  mirror?: boolean;
}

/**
 * What this router implements now. Keys are api/features.ts's RouterFeature, the table
 * validation and the README read; a router never claims more than that table allows.
 */
export type RouterCapabilities = Readonly<Record<RouterFeature, boolean>>;

export interface ReconcileResult {
  /** False when every route object already had the desired content (nothing was written). */
  changed: boolean;
}

export interface Router {
  /** The provider name it is registered under (`gatewayapi`, `kubernetes`, …). */
  readonly name: string;
  readonly supports: RouterCapabilities;
  /**
   * Creates or updates the route objects; idempotent. Weights already in the route object
   * are kept; every other field is brought back to the desired content (hand edits undone).
   */
  reconcile(canary: Canary, signal: AbortSignal): Promise<ReconcileResult>;
  /** Sets the split; writes only when it differs from the route object. */
  setRoutes(canary: Canary, routes: RouteRequest, signal: AbortSignal): Promise<void>;
  /** Reads the split back from the route object. */
  getRoutes(canary: Canary, signal: AbortSignal): Promise<Routes>;
  /** Restores the pre-aviary state of what it took over, and deletes what it created. */
  finalize(canary: Canary, signal: AbortSignal): Promise<void>;
}

export interface RouterDeps {
  kube: KubeClient;
  logger: Logger;
}

/**
 * The provider's CRD is not installed in the cluster. Terminal until someone installs it:
 * reported as a status condition, not retried in a hot loop.
 */
export class RouterCrdMissingError extends Error {
  readonly retryable = false;
  /** `<plural>.<group>`, e.g. `httproutes.gateway.networking.k8s.io`. */
  readonly crd: string;
  constructor(crd: string) {
    super(`the CRD ${crd} is not installed`);
    this.name = "RouterCrdMissingError";
    this.crd = crd;
  }
}

/**
 * The route object is missing (getRoutes before the first reconcile, or someone deleted it)
 * or no longer routes to aviary's Services. Retryable: the next reconcile restores it.
 */
export class RouteStateError extends Error {
  readonly retryable = true;
  constructor(message: string) {
    super(message);
    this.name = "RouteStateError";
  }
}

/** The Canary asks for something this router cannot express. Terminal; `field` names the culprit. */
export class RouterSpecError extends Error {
  readonly retryable = false;
  readonly field: string;
  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = "RouterSpecError";
    this.field = field;
  }
}

/** A provider name no router is registered under. Terminal: never a silent fallback. */
export class UnknownRouterError extends Error {
  readonly retryable = false;
  readonly provider: string;
  constructor(provider: string, known: readonly string[]) {
    super(`unknown router provider "${provider}"; available: ${known.join(", ")}`);
    this.name = "UnknownRouterError";
    this.provider = provider;
  }
}
