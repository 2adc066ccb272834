/**
 * Leader election on a coordination.k8s.io/v1 Lease, with client-go's semantics:
 *
 * - a candidate takes the Lease when it does not exist, has no holder, or its holder has
 *   not renewed it for leaseDuration — measured on the candidate's own clock from the moment
 *   it last saw the record change, so clock skew between replicas does not matter;
 * - the leader renews every retryPeriod; if no renewal succeeds for renewDeadline, or the
 *   Lease turns out to be held by someone else, leadership is lost at once: the signal handed
 *   to onStartedLeading aborts and onStoppedLeading runs;
 * - stop() releases the Lease (holder cleared, duration 1 s) so a standby takes over at
 *   once instead of waiting out the lease;
 * - after a loss the elector keeps campaigning, so onStartedLeading may run again;
 * - `mayAcquire`, when given, is asked before a free Lease is taken (never before a renewal):
 *   shards use it to hold no more than their share.
 *
 * Writes use the resourceVersion that was read, so two candidates never both win.
 */
import type { Logger } from "../observability/logger.ts";
import { isConflict } from "./types.ts";
import type { KubeClient, KubeObject } from "./types.ts";

export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

export interface LeaseObject extends KubeObject {
  spec?: LeaseSpec;
}

export interface LeaderElectorOptions {
  client: KubeClient;
  namespace: string;
  name: string;
  /** Unique per replica: the pod name, or host name plus a random suffix. */
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  onStartedLeading: (signal: AbortSignal) => void;
  onStoppedLeading: () => void;
  /** Called when the observed holder changes (including to this replica). */
  onNewLeader?: (identity: string) => void;
  logger: Logger;
  /**
   * Asked before this candidate creates or takes the Lease, with how long it has been free on
   * this candidate's clock; false waits for the next retry. Renewals are never asked.
   */
  mayAcquire?: (freeForMs: number) => boolean;
  /** Release the Lease on stop (default true); false leaves it to expire, as a crash would. */
  releaseOnStop?: boolean;
  now?: () => number;
  random?: () => number;
}

export interface LeaderElector {
  /** Campaigns until stop() is called (resolves when the campaign has ended). */
  run(): Promise<void>;
  /** Ends the campaign, releases the Lease when leading (see releaseOnStop), then calls onStoppedLeading. */
  stop(): Promise<void>;
  isLeader(): boolean;
}

export type LeaseDecision =
  | { action: "create" }
  | { action: "renew" }
  | { action: "take"; transitions: number }
  | { action: "wait"; holder: string; expiresInMs: number };

/**
 * What a candidate should do about the Lease it read. `observedAtMs` is when this candidate
 * first saw the current record (its own clock); the holder's timestamps are not trusted.
 */
export function decideLease(lease: LeaseSpec | null, identity: string, nowMs: number, observedAtMs: number, defaultDurationMs: number): LeaseDecision {
  if (!lease) return { action: "create" };
  const holder = lease.holderIdentity ?? "";
  if (holder === identity) return { action: "renew" };
  const transitions = (lease.leaseTransitions ?? 0) + 1;
  if (holder === "") return { action: "take", transitions };
  const durationMs = lease.leaseDurationSeconds !== undefined ? lease.leaseDurationSeconds * 1000 : defaultDurationMs;
  const expiresInMs = observedAtMs + durationMs - nowMs;
  return expiresInMs > 0 ? { action: "wait", holder, expiresInMs } : { action: "take", transitions };
}

/**
 * How long a Lease that `decideLease` lets this candidate create or take has been free, on the
 * candidate's clock: since it was seen missing or without a holder, or since its holder's
 * last renewal ran out.
 */
export function freeForMs(lease: LeaseSpec | null, nowMs: number, observedAtMs: number, defaultDurationMs: number): number {
  if (!lease || !lease.holderIdentity) return Math.max(0, nowMs - observedAtMs);
  const durationMs = lease.leaseDurationSeconds !== undefined ? lease.leaseDurationSeconds * 1000 : defaultDurationMs;
  return Math.max(0, nowMs - observedAtMs - durationMs);
}

/** metav1.MicroTime: RFC 3339 with exactly six fractional digits (the API server rejects three). */
export const toMicroTime = (ms: number): string => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");

export function createLeaderElector(opts: LeaderElectorOptions): LeaderElector {
  const leaseDurationMs = opts.leaseDurationMs ?? 15_000;
  const renewDeadlineMs = opts.renewDeadlineMs ?? 10_000;
  const retryPeriodMs = opts.retryPeriodMs ?? 2_000;
  if (!(leaseDurationMs > renewDeadlineMs && renewDeadlineMs > retryPeriodMs)) {
    throw new RangeError(`leader election needs leaseDuration (${leaseDurationMs}ms) > renewDeadline (${renewDeadlineMs}ms) > retryPeriod (${retryPeriodMs}ms)`);
  }
  const now = opts.now ?? Date.now;
  const random = opts.random ?? Math.random;
  const log = opts.logger.child({ lease: `${opts.namespace}/${opts.name}`, identity: opts.identity });
  const ref = { apiVersion: "coordination.k8s.io/v1", kind: "Lease", namespace: opts.namespace, name: opts.name };

  let leader = false;
  let leadership: AbortController | undefined;
  let stopper: AbortController | undefined;
  let running: Promise<void> | undefined;
  // The record as last seen, and when (our clock) it last changed.
  let observedJson = "";
  let observedAt = 0;
  let observedHolder = "";

  const observe = (spec: LeaseSpec | null) => {
    const json = JSON.stringify(spec ?? null);
    if (json !== observedJson) {
      observedJson = json;
      observedAt = now();
    }
    const holder = spec?.holderIdentity ?? "";
    if (holder !== observedHolder) {
      observedHolder = holder;
      if (holder) opts.onNewLeader?.(holder);
    }
  };

  const spec = (t: number, transitions: number, acquireTime: string): LeaseSpec => ({
    holderIdentity: opts.identity,
    leaseDurationSeconds: Math.ceil(leaseDurationMs / 1000),
    acquireTime,
    renewTime: toMicroTime(t),
    leaseTransitions: transitions,
  });

  /** One attempt to acquire or renew; true when this replica holds the Lease afterwards. */
  const tryAcquireOrRenew = async (signal: AbortSignal): Promise<boolean> => {
    const lease = await opts.client.get<LeaseObject>(ref, { signal });
    observe(lease?.spec ?? null);
    const t = now();
    const seen = lease ? (lease.spec ?? {}) : null;
    const decision = decideLease(seen, opts.identity, t, observedAt, leaseDurationMs);
    if ((decision.action === "create" || decision.action === "take") && opts.mayAcquire && !opts.mayAcquire(freeForMs(seen, t, observedAt, leaseDurationMs))) return false;
    try {
      switch (decision.action) {
        case "wait":
          return false;
        case "create":
          await opts.client.create({ apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name, namespace: ref.namespace }, spec: spec(t, 0, toMicroTime(t)) }, { signal });
          break;
        case "renew":
        case "take": {
          const current = lease!;
          const acquireTime = decision.action === "renew" ? (current.spec?.acquireTime ?? toMicroTime(t)) : toMicroTime(t);
          const transitions = decision.action === "renew" ? (current.spec?.leaseTransitions ?? 0) : decision.transitions;
          const updated = await opts.client.replace<LeaseObject>({ ...current, spec: spec(t, transitions, acquireTime) }, { signal });
          observe(updated.spec ?? null);
          return true;
        }
      }
    } catch (err) {
      // 409: another candidate wrote first (AlreadyExists on create, stale resourceVersion on update).
      if (isConflict(err)) return false;
      throw err;
    }
    observe(spec(t, 0, toMicroTime(t)));
    return true;
  };

  const sleep = (ms: number, signal: AbortSignal) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      }
      signal.addEventListener("abort", done, { once: true });
    });

  const attempt = async (stop: AbortSignal, timeoutMs: number): Promise<boolean> => {
    try {
      return await tryAcquireOrRenew(AbortSignal.any([stop, AbortSignal.timeout(timeoutMs)]));
    } catch (err) {
      if (!stop.aborted) log.warn("lease request failed", { err });
      return false;
    }
  };

  const loseLeadership = (why: string) => {
    if (!leader) return;
    leader = false;
    log.warn("lost leadership", { why });
    leadership?.abort(new Error(`lost leadership: ${why}`));
    opts.onStoppedLeading();
  };

  const campaign = async (stop: AbortSignal) => {
    while (!stop.aborted) {
      // Acquire.
      // A slow API server (seconds per request under load) must not keep a candidate out:
      // an attempt may take half the renew deadline, as client-go's lock clients do.
      while (!stop.aborted && !(await attempt(stop, Math.max(retryPeriodMs, Math.floor(renewDeadlineMs / 2))))) {
        await sleep(retryPeriodMs * (1 + 0.2 * random()), stop);
      }
      if (stop.aborted) return;
      leader = true;
      leadership = new AbortController();
      log.info("became leader");
      opts.onStartedLeading(leadership.signal);
      // Renew.
      let lastRenewed = now();
      while (!stop.aborted && leader) {
        await sleep(retryPeriodMs, stop);
        if (stop.aborted) return;
        const remaining = renewDeadlineMs - (now() - lastRenewed);
        // A renewal may take until the renew deadline (client-go's semantics): one slow answer is
        // not a lost lease, only the deadline passing is. It counts from when it was sent: the
        // write landed after that, so the others' lease runs out later than ours.
        const sentAt = now();
        if (await attempt(stop, Math.max(1, Math.floor(remaining)))) {
          lastRenewed = sentAt;
        } else if (stop.aborted) {
          return;
        } else if (observedHolder !== opts.identity && observedHolder !== "") {
          loseLeadership(`the lease is now held by ${observedHolder}`);
        } else if (now() - lastRenewed >= renewDeadlineMs) {
          loseLeadership(`not renewed within ${renewDeadlineMs}ms`);
        }
      }
    }
  };

  const release = async () => {
    try {
      const lease = await opts.client.get<LeaseObject>(ref, { signal: AbortSignal.timeout(renewDeadlineMs) });
      if (!lease || lease.spec?.holderIdentity !== opts.identity) return;
      const t = toMicroTime(now());
      await opts.client.replace(
        { ...lease, spec: { ...lease.spec, holderIdentity: "", leaseDurationSeconds: 1, acquireTime: t, renewTime: t } },
        { signal: AbortSignal.timeout(renewDeadlineMs) },
      );
      log.info("released the lease");
    } catch (err) {
      log.warn("could not release the lease; it will expire", { err });
    }
  };

  return {
    run() {
      if (!running) {
        stopper = new AbortController();
        running = campaign(stopper.signal);
      }
      return running;
    },

    async stop() {
      stopper?.abort(new Error("leader election stopped"));
      await running;
      if (leader) {
        if (opts.releaseOnStop ?? true) await release();
        leader = false;
        leadership?.abort(new Error("leader election stopped"));
        opts.onStoppedLeading();
      }
      running = undefined;
    },

    isLeader: () => leader,
  };
}
