import type { CallOptions } from "../../core/call-options.ts";
import type { KV } from "../../kv/kv.ts";
import type { RangeResult } from "../../kv/results.ts";
import { compare, op } from "../../kv/txn.ts";
import { retrying } from "../retry.ts";
import type { Waiting } from "../scope.ts";
import type { SessionHandle } from "../session-handle.ts";

let lastNanos = 0n;

/**
 * Nanoseconds since the Unix epoch as decimal text, strictly increasing within this process:
 * the last segment of Go's unique recipe keys (`fmt.Sprintf("%s/%v", prefix, time.Now().UnixNano())`).
 *
 * @example
 * uniqueSuffix(); // "1764979200123456789"
 */
export function uniqueSuffix(): string {
  const now = performance.timeOrigin + performance.now();
  const ms = Math.floor(now);
  let nanos = BigInt(ms) * 1_000_000n + BigInt(Math.floor((now - ms) * 1e6));
  if (nanos <= lastNanos) nanos = lastNanos + 1n;
  lastNanos = nanos;
  return nanos.toString();
}

/**
 * `prefix` bytes followed by `suffix` (text).
 *
 * @example
 * childKey(toBytes("q/"), "17"); // bytes of "q/17"
 */
export function childKey(prefix: Uint8Array, suffix: string): Uint8Array {
  return concatBytes(prefix, new TextEncoder().encode(suffix));
}

/**
 * `a` followed by `b`, as new bytes.
 *
 * @example
 * concatBytes(toBytes("__"), toBytes("pq/00001")); // bytes of "__pq/00001"
 */
export function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/**
 * Puts `key` only if it does not exist (Go's `putNewKV`): the revision of the put, or undefined
 * when the key exists. Sent once (a write).
 *
 * @example
 * const revision = await putNew(kv, key, "v", {});
 */
export async function putNew(
  kv: KV,
  key: Uint8Array,
  value: Uint8Array | string,
  options: CallOptions,
): Promise<bigint | undefined> {
  const result = await kv.txn(
    { compare: [compare.version(key, "=", 0)], success: [op.put(key, value)] },
    options,
  );
  return result.succeeded ? result.revision : undefined;
}

/**
 * A key of the session, `<prefix><unix nanos>`, attached to its lease (Go's
 * `newUniqueEphemeralKey`). Repeated after transient failures with the same key: a key found
 * with this session's lease is the one an earlier attempt created.
 *
 * @example
 * const { key, revision } = await createSessionKey(session, toBytes("rw/read/"), waiting);
 */
export async function createSessionKey(
  session: SessionHandle,
  prefix: Uint8Array,
  waiting: Waiting,
): Promise<{ key: Uint8Array; revision: bigint }> {
  for (;;) {
    const key = childKey(prefix, uniqueSuffix());
    const result = await retrying(waiting.signal, waiting.attemptTimeoutMs, waiting.reason, (o) =>
      session.scope.kv.txn(
        {
          compare: [compare.createRevision(key, "=", 0)],
          success: [op.put(key, "", { lease: session.id })],
          failure: [op.get(key)],
        },
        o,
      ),
    );
    if (result.succeeded) return { key, revision: result.revision };
    const existing = (result.results[0] as RangeResult).kvs[0];
    if (existing && existing.lease === session.id) {
      return { key, revision: existing.createRevision };
    }
  }
}
