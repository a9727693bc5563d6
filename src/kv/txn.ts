import type { Bytes, KeyOrRange } from "../core/keys.ts";
import type { Int64, LeaseLike } from "../core/numbers.ts";

/**
 * The comparison a `Compare` makes: etcd's EQUAL, NOT_EQUAL, GREATER and LESS.
 *
 * @example
 * compare.version("k", ">", 0); // the key exists
 */
export type CompareOperator = "=" | "!=" | ">" | "<";

/**
 * What a `Compare` looks at.
 *
 * @example
 * const c: Compare = { target: "createRevision", key: "lock", operator: "=", operand: 0 };
 */
export type CompareTarget = "value" | "version" | "createRevision" | "modRevision" | "lease";

/**
 * One condition of a transaction. Build it with `compare.value(...)`, `compare.version(...)`, ...
 * A range compares every key in it (all must match).
 *
 * @example
 * const c: Compare = compare.modRevision("cfg/a", "<", 10);
 */
export type Compare =
  | { target: "value"; key: KeyOrRange; operator: CompareOperator; operand: Bytes }
  | {
      target: Exclude<CompareTarget, "value">;
      key: KeyOrRange;
      operator: CompareOperator;
      operand: Int64;
    };

/**
 * Builders for transaction conditions.
 *
 * @example
 * await etcd.txn({
 *   compare: [compare.version("lock", "=", 0)],
 *   success: [op.put("lock", "me")],
 * });
 */
export const compare = {
  /** The value compared bytewise. @example compare.value("k", "=", "v") */
  value: (key: KeyOrRange, operator: CompareOperator, value: Bytes): Compare => ({
    target: "value",
    key,
    operator,
    operand: value,
  }),
  /** The version (0 when the key does not exist). @example compare.version("k", "=", 0) */
  version: (key: KeyOrRange, operator: CompareOperator, version: Int64): Compare => ({
    target: "version",
    key,
    operator,
    operand: version,
  }),
  /** The create revision. @example compare.createRevision("k", "=", 0) */
  createRevision: (key: KeyOrRange, operator: CompareOperator, revision: Int64): Compare => ({
    target: "createRevision",
    key,
    operator,
    operand: revision,
  }),
  /** The mod revision. @example compare.modRevision("k", "=", kv.modRevision) */
  modRevision: (key: KeyOrRange, operator: CompareOperator, revision: Int64): Compare => ({
    target: "modRevision",
    key,
    operator,
    operand: revision,
  }),
  /** The attached lease ID (0 for none). @example compare.lease("k", "=", lease.id) */
  lease: (key: KeyOrRange, operator: CompareOperator, lease: Int64): Compare => ({
    target: "lease",
    key,
    operator,
    operand: lease,
  }),
};

/** Options of a range read. @example const o: RangeOptions = { limit: 10, keysOnly: true }; */
export interface RangeOptions {
  /** Most keys to return; 0 or unset means no limit. */
  limit?: Int64;
  /** Read at this revision; 0 or unset means the newest. */
  revision?: Int64;
  /** Order of the keys returned. Default "none" (etcd returns key order, ascending). */
  sortOrder?: "none" | "ascend" | "descend";
  /** What to sort by. Default "key". */
  sortTarget?: "key" | "version" | "createRevision" | "modRevision" | "value";
  /** Serve from the member's local state without a quorum round (may be stale). */
  serializable?: boolean;
  /** Return keys without values. */
  keysOnly?: boolean;
  /** Return only the count. */
  countOnly?: boolean;
  /** Only keys whose mod revision is >= this. */
  minModRevision?: Int64;
  /** Only keys whose mod revision is <= this. */
  maxModRevision?: Int64;
  /** Only keys whose create revision is >= this. */
  minCreateRevision?: Int64;
  /** Only keys whose create revision is <= this. */
  maxCreateRevision?: Int64;
}

/** Options of a put. @example const o: PutOptions = { lease, prevKv: true }; */
export interface PutOptions {
  /** Attach the key to this lease (its ID or the `Lease` handle; 0 detaches it). */
  lease?: LeaseLike;
  /** Return the previous key-value. */
  prevKv?: boolean;
  /** Keep the current value (the key must exist); the value argument must be empty. */
  ignoreValue?: boolean;
  /** Keep the current lease (the key must exist); `lease` must not be set. */
  ignoreLease?: boolean;
}

/** Options of a delete. @example const o: DeleteOptions = { prevKv: true }; */
export interface DeleteOptions {
  /** Return the deleted key-values. */
  prevKv?: boolean;
}

/**
 * One operation inside a transaction. Build it with `op.get`, `op.put`, `op.delete`, `op.txn`.
 *
 * @example
 * const o: Op = op.put("k", "v", { prevKv: true });
 */
export type Op =
  | { type: "range"; key: KeyOrRange; options: RangeOptions }
  | { type: "put"; key: Bytes; value: Bytes; options: PutOptions }
  | { type: "delete"; key: KeyOrRange; options: DeleteOptions }
  | { type: "txn"; request: TxnRequest };

/**
 * A transaction: if every `compare` holds, run `success`, else `failure`. The object has no
 * `then` method, so it can be awaited or passed around safely.
 *
 * @example
 * const req: TxnRequest = { compare: [compare.value("k", "=", "a")], success: [op.put("k", "b")] };
 */
export interface TxnRequest {
  compare?: Compare[];
  success?: Op[];
  failure?: Op[];
}

/**
 * Builders for transaction operations.
 *
 * @example
 * await etcd.txn({ success: [op.get(prefix("a/")), op.delete("b")] });
 */
export const op = {
  /** Read a key or range. @example op.get(prefix("cfg/"), { limit: 10 }) */
  get: (key: KeyOrRange, options: RangeOptions = {}): Op => ({ type: "range", key, options }),
  /** Write a key. @example op.put("k", "v") */
  put: (key: Bytes, value: Bytes, options: PutOptions = {}): Op => ({
    type: "put",
    key,
    value,
    options,
  }),
  /** Delete a key or range. @example op.delete(prefix("tmp/")) */
  delete: (key: KeyOrRange, options: DeleteOptions = {}): Op => ({ type: "delete", key, options }),
  /** A nested transaction (etcd 3.3+). @example op.txn({ compare: [...], success: [...] }) */
  txn: (request: TxnRequest): Op => ({ type: "txn", request }),
};
