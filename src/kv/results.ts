import type { KeyValue, ResponseHeader } from "./key-value.ts";

/**
 * What a range read returns.
 *
 * @example
 * const { kvs, more, count } = await etcd.range(prefix("cfg/"), { limit: 10 });
 */
export interface RangeResult {
  kind: "range";
  header: ResponseHeader;
  /** The store revision the read was served at. */
  revision: bigint;
  kvs: KeyValue[];
  /** True when `limit` cut the result short. */
  more: boolean;
  /** How many keys the range holds (ignoring `limit`). */
  count: bigint;
}

/**
 * What a put returns.
 *
 * @example
 * const { revision, prevKv } = await etcd.put("k", "v", { prevKv: true });
 */
export interface PutResult {
  kind: "put";
  header: ResponseHeader;
  /** The revision of this write. */
  revision: bigint;
  /** The previous key-value, with `prevKv: true` and when the key existed. */
  prevKv: KeyValue | undefined;
}

/**
 * What a delete returns.
 *
 * @example
 * const { deleted } = await etcd.delete(prefix("tmp/"));
 */
export interface DeleteResult {
  kind: "delete";
  header: ResponseHeader;
  revision: bigint;
  /** How many keys were deleted. */
  deleted: bigint;
  /** The deleted key-values, with `prevKv: true`. */
  prevKvs: KeyValue[];
}

/**
 * What a transaction returns: which branch ran, and one result per operation of that branch.
 *
 * @example
 * const { succeeded, results } = await etcd.txn({
 *   compare: [compare.value("cfg/mode", "=", "on")],
 *   success: [op.get("cfg/limit")],
 * });
 * if (succeeded && results[0]?.kind === "range") console.log(results[0].kvs[0]?.text);
 */
export interface TxnResult {
  kind: "txn";
  header: ResponseHeader;
  revision: bigint;
  /** True when every compare held and `success` ran. */
  succeeded: boolean;
  results: Array<RangeResult | PutResult | DeleteResult | TxnResult>;
}

/**
 * What a compaction returns.
 *
 * @example
 * const { revision } = await etcd.compact(100n);
 */
export interface CompactResult {
  header: ResponseHeader;
  revision: bigint;
}

/**
 * What a call returns when etcd's answer carries nothing but the header (auth changes,
 * defragment, moveLeader). A header etcd left out (moveLeader on some lines) reads as zeros.
 *
 * @example
 * const { header } = await etcd.auth.userAdd("reader", "secret");
 * header.revision; // the auth store revision after the change
 */
export interface HeaderResult {
  header: ResponseHeader;
}
