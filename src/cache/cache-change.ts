import { KeyValue } from "../kv/key-value.ts";
import type { WatchEvent } from "../watch/events.ts";
import type { CacheStore } from "./cache-store.ts";
import { orderKey } from "./key-order.ts";
import type { Snapshot } from "./snapshot.ts";

/**
 * One step of a cache from one consistent state to the next, delivered after the cache applied
 * it. `kind: "watch"`: the events of one revision, as etcd sent them. `kind: "resync"`: the
 * cache had to list the range again (its watch fell behind a compaction, or was lost), and
 * `events` are the puts and deletes, in key order, that turn the state it held into the state
 * listed at `revision`; a resync delete carries the listing's revision as `kv.modRevision`, as
 * the real deletion revision may be compacted away. In both, `prevKv` is the key's previous
 * cached state.
 *
 * @example
 * cache.onChange((change) => {
 *   for (const { type, kv } of change.events) console.log(change.revision, type, kv.keyText);
 * });
 */
export interface CacheChange {
  readonly kind: "watch" | "resync";
  /** The revision the cache reflects after this change. */
  readonly revision: bigint;
  readonly events: readonly WatchEvent[];
}

/**
 * The events that turn the store's state into the snapshot's: puts for keys that are new or
 * changed (a different mod revision), deletes for keys that are gone; in key order.
 *
 * @example
 * const events = diffSnapshot(store, await readSnapshot(etcd, prefix("cfg/"), 1000));
 */
export function diffSnapshot(store: CacheStore, snapshot: Snapshot): WatchEvent[] {
  const listed = new Map<string, KeyValue>();
  for (const kv of snapshot.kvs) listed.set(orderKey(kv.key), kv);
  const events: { key: string; event: WatchEvent }[] = [];
  for (const [key, old] of store.entries()) {
    if (listed.has(key)) continue;
    const tombstone = new KeyValue(old.key, new Uint8Array(0), 0n, snapshot.revision, 0n, 0n);
    events.push({ key, event: { type: "delete", kv: tombstone, prevKv: old } });
  }
  for (const [key, kv] of listed) {
    const old = store.get(key);
    if (old && old.modRevision === kv.modRevision) continue;
    events.push({ key, event: { type: "put", kv, prevKv: old } });
  }
  events.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return events.map((e) => e.event);
}
