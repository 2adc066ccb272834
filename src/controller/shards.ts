/**
 * Sharding (--shards N > 1): the Canaries are split into N shards by `shardOf` (FNV-1a of
 * `namespace/name`), each held through its own Lease with the leader election of
 * kube/lease.ts, one elector per shard. A replica reconciles only the Canaries of the shards
 * it holds.
 *
 * - Every replica also holds a member Lease of its own (`<base>-member-<identity>`); the live
 *   ones say how many replicas share the shards.
 * - A replica takes a free shard only while it holds fewer than its fair share,
 *   ceil(N / live replicas), or once the shard has been free for a lease duration (so a shard
 *   is never left alone when replicas see the membership differently).
 * - A replica that has held more than its fair share for a lease duration (a replica was
 *   added) releases the excess at once; the replicas below their share take it.
 * - A dead replica's shard Leases expire after a lease duration, like a dead leader's, and
 *   the others take them; a replica whose shard Lease ran out no longer counts as live. Losing a shard (renewal failed for the renew deadline, shorter than
 *   the lease duration) aborts its reconciles before anyone else can take it.
 * - While a live Lease of a different layout is held — the single leader Lease or shards of
 *   another N — no shard is taken: replicas started with a new --shards wait for the old ones
 *   to go, instead of reconciling the same Canaries next to them.
 */
import { createLeaderElector, decideLease } from "../kube/lease.ts";
import type { LeaderElector, LeaseObject } from "../kube/lease.ts";
import type { KubeClient } from "../kube/types.ts";
import type { Logger } from "../observability/logger.ts";
import { memberLeaseName, memberLeasePrefix, shardCountOfLease, shardLeaseName, shardOf } from "../ground/shard.ts";
import type { KeyHandler } from "./workqueue.ts";

/** The most shards one replica should hold while `members` replicas share `shards`. */
export const fairShare = (shards: number, members: number): number => Math.ceil(shards / Math.max(1, members));

export interface AcquireInput {
  /** Shards held or being taken by this replica. */
  held: number;
  shards: number;
  /** Live replicas, this one included. */
  members: number;
  /** How long the shard has been free on this replica's clock. */
  freeForMs: number;
  /** A shard free this long is taken by anyone. */
  graceMs: number;
  /** A live Lease of another layout (the leader Lease, or shards of another N) is held. */
  otherLayout: boolean;
}

/** Whether this replica may take a free shard now. */
export function mayAcquireShard(i: AcquireInput): boolean {
  if (i.otherLayout) return false;
  return i.held < fairShare(i.shards, i.members) || i.freeForMs >= i.graceMs;
}

/** How many shards to give up: what is held beyond the fair share. */
export const excessShards = (held: number, shards: number, members: number): number => Math.max(0, held - fairShare(shards, members));

export interface ShardManagerOptions {
  client: KubeClient;
  namespace: string;
  /** --lease-name: shard and member Leases are named after it (ground/shard.ts). */
  leaderLeaseName: string;
  identity: string;
  shards: number;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  logger: Logger;
  /** A shard was gained or lost; `held` is every shard held afterwards. */
  onGained?: (shard: number, held: number[]) => void;
  onLost?: (shard: number, held: number[]) => void;
  now?: () => number;
}

export interface ShardManager {
  /** Starts holding the member Lease and campaigning for shards. */
  run(): void;
  /** Releases every shard and the member Lease, so the others take over at once. */
  stop(): Promise<void>;
  /** Shards held now, ascending. */
  held(): number[];
  /** Wraps a key handler: keys of shards not held are skipped; losing a shard aborts its in-flight reconciles. */
  guard(handler: KeyHandler): KeyHandler;
}

export function createShardManager(opts: ShardManagerOptions): ShardManager {
  const { client, namespace, identity, shards, leaseDurationMs } = opts;
  const now = opts.now ?? Date.now;
  const log = opts.logger.child({ component: "shards" });
  const timing = { leaseDurationMs, renewDeadlineMs: opts.renewDeadlineMs, retryPeriodMs: opts.retryPeriodMs };
  const held = new Map<number, AbortSignal>();
  const heldNow = () => [...held.keys()].sort((a, b) => a - b);
  // Shards this replica was allowed to take and may be taking right now: they count as held
  // until the attempt shows its outcome, so parallel electors do not all take one.
  const taking = new Set<number>();
  let members = 1;
  let otherLayout = false;
  let overSince: number | undefined;
  let stopped = false;
  let loop: Promise<void> | undefined;
  const wake = new AbortController();

  const member = createLeaderElector({
    client, namespace, name: memberLeaseName(opts.leaderLeaseName, identity), identity, logger: log, ...timing,
    onStartedLeading: () => {}, onStoppedLeading: () => {},
  });

  const electors: LeaderElector[] = Array.from({ length: shards }, (_, shard) =>
    createLeaderElector({
      client, namespace, name: shardLeaseName(opts.leaderLeaseName, shard, shards), identity, logger: log, ...timing,
      mayAcquire: (free) => {
        taking.delete(shard);
        const ok = mayAcquireShard({ held: held.size + taking.size, shards, members, freeForMs: free, graceMs: leaseDurationMs, otherLayout });
        if (ok) taking.add(shard);
        return ok;
      },
      onNewLeader: (holder) => {
        if (holder !== identity) taking.delete(shard);
      },
      onStartedLeading: (signal) => {
        taking.delete(shard);
        held.set(shard, signal);
        log.info("gained shard", { shard, shards, held: heldNow() });
        opts.onGained?.(shard, heldNow());
      },
      onStoppedLeading: () => {
        if (!held.delete(shard)) return;
        log.warn("lost shard", { shard, shards, held: heldNow() });
        opts.onLost?.(shard, heldNow());
      },
    }),
  );

  // When each Lease in the namespace last changed, on this replica's clock (as the elector judges expiry).
  const seen = new Map<string, { json: string; at: number }>();
  const memberPrefix = memberLeasePrefix(opts.leaderLeaseName);
  const staleAfterMs = Math.max(10 * leaseDurationMs, 5 * 60_000);

  /** Reads the Leases: live members, other layouts; deletes member Leases long dead. */
  const refresh = async (signal: AbortSignal) => {
    const leases = await client.list<LeaseObject>("coordination.k8s.io/v1", "Lease", namespace, { signal });
    const t = now();
    const judged = leases.map((lease) => {
      const name = lease.metadata.name;
      const json = JSON.stringify(lease.spec ?? null);
      const last = seen.get(name);
      const at = last && last.json === json ? last.at : t;
      seen.set(name, { json, at });
      const action = decideLease(lease.spec ?? {}, identity, t, at, leaseDurationMs).action;
      return { lease, name, holder: lease.spec?.holderIdentity ?? "", alive: action === "wait" || action === "renew", mine: action === "renew" };
    });
    for (const name of seen.keys()) if (!leases.some((l) => l.metadata.name === name)) seen.delete(name);
    // A replica whose shard Lease ran out is gone, even if its member Lease has not run out yet
    // on this clock: its shards are shared out among the others at once.
    const dead = new Set(judged.filter((j) => !j.alive && j.holder !== "" && shardCountOfLease(opts.leaderLeaseName, j.name) === shards).map((j) => j.holder));
    let live = 0;
    let other = false;
    for (const j of judged) {
      if (j.name.startsWith(memberPrefix)) {
        if (j.alive && !j.mine && !dead.has(j.holder)) live++;
        const renewed = Date.parse(j.lease.spec?.renewTime ?? "");
        if (!j.alive && !(t - renewed < staleAfterMs)) {
          await client.delete({ apiVersion: "coordination.k8s.io/v1", kind: "Lease", namespace, name: j.name }, { signal }).catch((err: unknown) => log.debug("could not delete a stale member Lease", { name: j.name, err }));
        }
      } else if (j.alive && !j.mine && (j.name === opts.leaderLeaseName || (shardCountOfLease(opts.leaderLeaseName, j.name) ?? shards) !== shards)) {
        other = true;
      }
    }
    if (other !== otherLayout) log[other ? "warn" : "info"](other ? "a live Lease of another layout (the leader Lease or another --shards) is held; taking no shard until it is gone" : "no Lease of another layout is held any more");
    otherLayout = other;
    members = live + 1;
  };

  /** Gives up the shards held beyond the fair share, once that has lasted a lease duration. */
  const rebalance = async () => {
    const excess = excessShards(held.size, shards, members);
    if (excess === 0) {
      overSince = undefined;
      return;
    }
    overSince ??= now();
    if (now() - overSince < leaseDurationMs) return;
    overSince = undefined;
    const release = [...held.keys()].sort((a, b) => b - a).slice(0, excess);
    log.info("releasing shards beyond the fair share", { release, members, fairShare: fairShare(shards, members) });
    for (const shard of release) {
      if (stopped) return;
      await electors[shard]!.stop();
      if (!stopped) void electors[shard]!.run();
    }
  };

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake.signal.addEventListener("abort", () => (clearTimeout(timer), resolve()), { once: true });
    });

  const maintain = async () => {
    let started = false;
    while (!stopped) {
      try {
        await refresh(AbortSignal.any([wake.signal, AbortSignal.timeout(opts.retryPeriodMs * 2)]));
        await rebalance();
      } catch (err) {
        if (!stopped) log.warn("could not read the shard Leases", { err });
      }
      if (!started && !stopped) {
        // Membership known (as far as it can be): campaign for shards.
        started = true;
        for (const e of electors) void e.run();
      }
      await sleep(opts.retryPeriodMs);
    }
  };

  return {
    run() {
      if (loop) return;
      void member.run();
      loop = maintain();
    },
    async stop() {
      stopped = true;
      wake.abort();
      await loop;
      await Promise.all(electors.map((e) => e.stop()));
      await member.stop();
    },
    held: heldNow,
    guard(handler) {
      return (key, signal) => {
        const holding = held.get(shardOf(key, shards));
        if (!holding) return Promise.resolve();
        return handler(key, AbortSignal.any([signal, holding]));
      };
    },
  };
}
