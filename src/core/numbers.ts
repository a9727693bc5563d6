import { InvalidArgumentError } from "./errors.ts";

/**
 * An integer as callers pass it: `bigint`, or a `number` that is a safe integer.
 *
 * @example
 * await etcd.get("k", { revision: 42 });  // or 42n
 */
export type Int64 = bigint | number;

/**
 * A lease where a call attaches keys to one: its ID, or a handle that carries it (a `Lease`).
 *
 * @example
 * const lease = await etcd.lease.grant(10);
 * await etcd.put("svc/a", "up", { lease }); // same as { lease: lease.id }
 */
export type LeaseLike = Int64 | { readonly id: bigint };

/**
 * The ID of a `LeaseLike`, checked.
 *
 * @example
 * leaseId(lease); // lease.id
 */
export function leaseId(lease: LeaseLike, what = "lease"): bigint {
  return typeof lease === "object" ? toInt64(lease.id, what) : toInt64(lease, what);
}

const MAX_INT64 = 2n ** 63n - 1n;
const MIN_INT64 = -(2n ** 63n);

/**
 * Checks and converts an integer argument to `bigint` (int64 range, optionally non-negative).
 *
 * @example
 * toInt64(5, "revision"); // 5n
 */
export function toInt64(value: Int64, what: string, allowNegative = false): bigint {
  let big: bigint;
  if (typeof value === "bigint") big = value;
  else if (typeof value === "number" && Number.isSafeInteger(value)) big = BigInt(value);
  else {
    throw new InvalidArgumentError(
      `${what} must be an integer (bigint or safe integer number), got ${String(value)}`,
    );
  }
  if (big > MAX_INT64 || big < MIN_INT64)
    throw new InvalidArgumentError(`${what} is outside the int64 range`);
  if (!allowNegative && big < 0n)
    throw new InvalidArgumentError(`${what} must not be negative, got ${big}`);
  return big;
}
