import type { CallOptions } from "../core/call-options.ts";
import { type KeyOrRange, KeyRange, toKeyRange } from "../core/keys.ts";
import { KeyValue } from "../kv/key-value.ts";
import type { RangeResult } from "../kv/results.ts";
import type { RangeOptions } from "../kv/txn.ts";

/** The range read a snapshot needs (a client or a namespace). */
export interface RangeSource {
  range(target: KeyOrRange, options?: RangeOptions & CallOptions): Promise<RangeResult>;
}

/**
 * A range read page by page, every page at the revision of the first, and that revision.
 *
 * @example
 * const { revision, kvs } = await readSnapshot(etcd, prefix("cfg/"), 1000);
 */
export interface Snapshot {
  readonly revision: bigint;
  readonly kvs: KeyValue[];
}

/**
 * Reads every key of `target` in pages of `pageSize`, all at one revision, as copies that own
 * their bytes (a `KeyValue` from a response is a view into the whole response buffer, which a
 * long-lived cache must not keep alive). A compaction of that revision between two pages
 * rejects with `CompactedError`; the caller reads again.
 *
 * @example
 * const { revision, kvs } = await readSnapshot(etcd, prefix("cfg/"), 1000, { signal });
 */
export async function readSnapshot(
  source: RangeSource,
  target: KeyOrRange,
  pageSize: number,
  options: CallOptions = {},
): Promise<Snapshot> {
  const range = toKeyRange(target);
  const kvs: KeyValue[] = [];
  let revision = 0n;
  let start = range.key;
  for (;;) {
    const page = await source.range(
      range.isSingleKey ? range : new KeyRange(start, range.rangeEnd),
      { ...options, limit: pageSize, revision },
    );
    if (revision === 0n) revision = page.revision;
    for (const kv of page.kvs) kvs.push(ownedCopy(kv));
    const last = page.kvs[page.kvs.length - 1];
    if (!page.more || !last || range.isSingleKey) return { revision, kvs };
    const next = new Uint8Array(last.key.length + 1);
    next.set(last.key, 0);
    start = next;
  }
}

/**
 * A `KeyValue` whose key and value own their bytes (one buffer for both).
 *
 * @example
 * store.set(k, ownedCopy(event.kv));
 */
export function ownedCopy(kv: KeyValue): KeyValue {
  const bytes = new Uint8Array(kv.key.length + kv.value.length);
  bytes.set(kv.key, 0);
  bytes.set(kv.value, kv.key.length);
  return new KeyValue(
    bytes.subarray(0, kv.key.length),
    bytes.subarray(kv.key.length),
    kv.createRevision,
    kv.modRevision,
    kv.version,
    kv.lease,
  );
}
