/**
 * How the simulated mesh divides its requests: pure, so the tests can hold it to the
 * weights exactly. A real proxy picks a backend at random per request; the simulation
 * spreads them evenly instead (smooth weighted round robin), so at 20% exactly one request
 * in five goes to the canary and a short analysis window sees the split it was promised.
 */

export type Backend = "primary" | "canary";

/** A split as the router reports it: relative weights (usually percentages), plus mirroring. */
export interface Weights {
  primary: number;
  canary: number;
  mirror: boolean;
}

export interface SplitState {
  /** Canary credit carried between requests, in weight units. */
  credit: number;
}

export interface Pick {
  backend: Backend;
  /** Also send a copy of this request to the canary, whose answer nobody waits for. */
  mirror: boolean;
  state: SplitState;
}

export const INITIAL_SPLIT: SplitState = { credit: 0 };

/**
 * The backend of the next request. Weights are relative (Gateway API semantics): 80/20,
 * 4/1 and 800/200 split the same. No weight at all sends everything to the primary, which
 * is what every router does before its route object exists.
 */
export function pickBackend(weights: Weights, state: SplitState): Pick {
  const primary = Math.max(0, finite(weights.primary));
  const canary = Math.max(0, finite(weights.canary));
  const total = primary + canary;
  if (total === 0 || canary === 0) return { backend: "primary", mirror: weights.mirror && total > 0, state: { credit: 0 } };
  if (primary === 0) return { backend: "canary", mirror: false, state: { credit: 0 } };
  const credit = Math.min(state.credit, total) + canary;
  if (credit >= total) return { backend: "canary", mirror: false, state: { credit: credit - total } };
  return { backend: "primary", mirror: weights.mirror, state: { credit } };
}

/**
 * How many requests are due after `elapsedMs` at `perSecond`, given `sent` so far. After a
 * stall (a blocked event loop, a suspended laptop) at most `maxBurst` are sent at once and
 * the rest are dropped, as a client with a fixed rate would.
 */
export function dueRequests(elapsedMs: number, perSecond: number, sent: number, maxBurst = perSecond): { send: number; skipped: number } {
  const due = Math.floor((Math.max(0, elapsedMs) * perSecond) / 1000) - sent;
  if (due <= 0) return { send: 0, skipped: 0 };
  const send = Math.min(due, Math.max(1, Math.floor(maxBurst)));
  return { send, skipped: due - send };
}

function finite(n: number): number {
  return Number.isFinite(n) ? n : 0;
}
