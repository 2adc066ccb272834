/**
 * Which shard a Canary belongs to, and the names of the Leases shards are held through.
 *
 * The shard of a Canary is FNV-1a (32-bit) of the UTF-8 bytes of `namespace/name`, modulo the
 * number of shards. FNV-1a is fixed by its definition (offset basis 2166136261, prime
 * 16777619), so every replica, on any release, puts a Canary in the same shard; replicas of
 * different versions running side by side during an upgrade never disagree.
 */

const FNV_OFFSET_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** FNV-1a, 32 bits, of the UTF-8 bytes of `text`; an unsigned integer. */
export function fnv1a32(text: string): number {
  let hash = FNV_OFFSET_BASIS;
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, FNV_PRIME);
  }
  return hash >>> 0;
}

/** The shard (0 … shards-1) of the Canary with key `namespace/name`. */
export function shardOf(key: string, shards: number): number {
  return fnv1a32(key) % shards;
}

/**
 * The Lease that holds shard `shard` of `shards`: the leader Lease's name without its
 * `-leader` suffix, then `-shard-<i>-of-<N>` (aviary-leader → aviary-shard-0-of-3). N is in
 * the name so that a Lease always stands for the same set of Canaries.
 */
export function shardLeaseName(leaderLeaseName: string, shard: number, shards: number): string {
  return `${leaseBase(leaderLeaseName)}-shard-${shard}-of-${shards}`;
}

/** The prefix of the Leases through which replicas say they are alive and want shards. */
export function memberLeasePrefix(leaderLeaseName: string): string {
  return `${leaseBase(leaderLeaseName)}-member-`;
}

/**
 * A replica's member Lease: the prefix plus its identity when that is a valid object name
 * (pod names are), else plus the identity's FNV-1a in hex.
 */
export function memberLeaseName(leaderLeaseName: string, identity: string): string {
  const prefix = memberLeasePrefix(leaderLeaseName);
  const usable = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(identity) && prefix.length + identity.length <= 253;
  return prefix + (usable ? identity : fnv1a32(identity).toString(16).padStart(8, "0"));
}

/** The shard count in a shard Lease's name, or undefined when `name` is not one of this base's. */
export function shardCountOfLease(leaderLeaseName: string, name: string): number | undefined {
  const prefix = `${leaseBase(leaderLeaseName)}-shard-`;
  if (!name.startsWith(prefix)) return undefined;
  const m = /^\d+-of-(\d+)$/.exec(name.slice(prefix.length));
  return m ? Number(m[1]) : undefined;
}

const leaseBase = (leaderLeaseName: string): string => leaderLeaseName.replace(/-leader$/, "");
