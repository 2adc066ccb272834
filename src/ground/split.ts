/**
 * The traffic split between the primary and the canary, and who owns it.
 *
 * Who owns the weights: during a run the Canary's status is the truth (`phase`,
 * `canaryWeight`, `iterations`, read through the planner's `splitForStatus`). Route objects
 * (VirtualService, HTTPRoute, Ingress, …) are a projection of it: on every reconcile (the
 * Canary's and its workloads' watch events, and the periodic resync that catches hand edits
 * of objects aviary does not watch) the router rewrites them to the split the status
 * implies, in one write together with the rest of their content. The route objects are
 * read once per reconcile, before that write, and only to detect drift (a hand edit, a
 * crash between a status write and the route write that follows it); what they carried never
 * decides a weight. Because the status is written before the route moves, that rewrite only
 * ever moves traffic forward within a run.
 */

/** All traffic, in percent. Routers split it between primary and canary. */
export const FULL_WEIGHT = 100;

/** A traffic split in percent. `mirror`: the primary's traffic is also copied to the canary. */
export interface Split {
  primary: number;
  canary: number;
  mirror: boolean;
}

/** Everything to the primary: idle canaries, runs that have not started, rolled-back runs. */
export const ALL_TO_PRIMARY: Readonly<Split> = Object.freeze({ primary: FULL_WEIGHT, canary: 0, mirror: false });

/** `canary` percent to the canary, the rest to the primary, nothing mirrored. */
export const splitAt = (canary: number): Split => ({ primary: FULL_WEIGHT - canary, canary, mirror: false });

export function sameSplit(a: Split | null, b: Split): boolean {
  return a !== null && a.primary === b.primary && a.canary === b.canary && a.mirror === b.mirror;
}
