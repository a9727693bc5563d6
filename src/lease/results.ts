import type { ResponseHeader } from "../kv/key-value.ts";

/**
 * What `timeToLive` returns.
 *
 * @example
 * const { ttl, grantedTtl, keys } = await etcd.lease.timeToLive(lease.id, { keys: true });
 */
export interface LeaseTimeToLive {
  header: ResponseHeader;
  id: bigint;
  /** Seconds left; -1n when the lease does not exist (expired or revoked). */
  ttl: bigint;
  /** The TTL the lease was granted (or last renewed) with, in seconds. */
  grantedTtl: bigint;
  /** With `keys: true`: the keys attached (inside a namespace, only its keys, prefix removed). */
  keys: Uint8Array[];
}

/**
 * What a single renewal returns.
 *
 * @example
 * const { ttl } = await etcd.lease.keepAliveOnce(id);
 */
export interface LeaseRenewal {
  header: ResponseHeader;
  id: bigint;
  /** The TTL restarted by the renewal, in seconds. */
  ttl: bigint;
}

/**
 * What `lease.list()` returns: the IDs of every lease on the cluster.
 *
 * @example
 * const { leases } = await etcd.lease.list();
 */
export interface LeaseListResult {
  header: ResponseHeader;
  leases: bigint[];
}
