/**
 * The router port: one small interface per traffic provider (Flagger's pkg/router shape).
 * A router owns the provider's route objects for a Canary; the generated Services belong
 * to the controller. Route objects do not own the weights: the Canary's status does (the
 * rule is stated in ground/split.ts). A router writes the split it is given and reads the
 * split back only so drift can be seen.
 */
import type { Canary } from "../api/types.ts";
import type { RouterFeature } from "../api/features.ts";
import type { Split } from "../ground/split.ts";
import type { KubeClient } from "../kube/types.ts";
import type { Logger } from "../observability/logger.ts";

/**
 * What this router implements now. Keys are api/features.ts's RouterFeature, the table
 * validation and the README read; a router never claims more than that table allows.
 */
export type RouterCapabilities = Readonly<Record<RouterFeature, boolean>>;

export interface ReconcileResult {
  /** False when every route object already had the desired content (nothing was written). */
  changed: boolean;
  /**
   * Only when reconcile was given a split. `now`: the split the route objects carry after
   * the call (null when they cannot carry one, e.g. the apex Service is missing). `before`:
   * the split read before writing (null: missing, or routing to neither Service); when it
   * differs from the split given, the route objects had drifted and were just corrected.
   */
  split?: { now: Split | null; before: Split | null };
}

export interface Router {
  /** The provider name it is registered under (`gatewayapi`, `kubernetes`, …). */
  readonly name: string;
  readonly supports: RouterCapabilities;
  /**
   * Creates or updates the route objects; idempotent; hand edits are undone. With `split`,
   * the route objects carry that split afterwards, written together with the rest of
   * their content (one write per object). Without it, the split they carry is kept.
   * The route objects are read once.
   */
  reconcile(canary: Canary, signal: AbortSignal, split?: Split): Promise<ReconcileResult>;
  /** Sets the split; writes only when it differs from the route object. */
  setRoutes(canary: Canary, routes: Split, signal: AbortSignal): Promise<void>;
  /** Reads the split back from the route object. */
  getRoutes(canary: Canary, signal: AbortSignal): Promise<Split>;
  /** Restores the pre-aviary state of what it took over, and deletes what it created. */
  finalize(canary: Canary, signal: AbortSignal): Promise<void>;
  /**
   * The router writes into an object the user owns (alb: an annotation of the user's
   * Ingress), which the garbage collector would leave behind: finalize runs whenever the
   * Canary is deleted, not only with revertOnDeletion, and aviary's finalizer is held for it.
   */
  readonly restoresOnDeletion?: boolean;
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
