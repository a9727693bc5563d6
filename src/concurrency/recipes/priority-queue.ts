import type { CallOptions } from "../../core/call-options.ts";
import type { Bytes } from "../../core/keys.ts";
import { prefix as prefixRange, toText } from "../../core/keys.ts";
import type { KeyValue } from "../../kv/key-value.ts";
import { compare, op } from "../../kv/txn.ts";
import { withSlash } from "../mutex.ts";
import { operationSignal } from "../retry.ts";
import type { ConcurrencyScope } from "../scope.ts";
import { takeFirst } from "./take-first.ts";
import { childKey, concatBytes } from "./unique-key.ts";

const DEFAULT_ATTEMPT_TIMEOUT_MS = 5_000;
const SLASH = 0x2f;
const MAX_PRIORITY = 0xffff;

/**
 * A priority queue with the keys and protocol of Go's `recipe.PriorityQueue`: an item of
 * priority `p` is the key `<prefix>/<p as 5 digits>/<sequence as 16 digits>`; `dequeue` takes
 * the smallest key, so priority 0 comes out first and items of one priority in the order they
 * were enqueued. The sequence is allocated with Go's guard key `__<prefix>/<p as 5 digits>`
 * (outside the queue's prefix), so two producers never get the same number.
 *
 * @example
 * const tasks = etcd.priorityQueue("tasks");
 * await tasks.enqueue("rebuild index", 10);
 * await tasks.enqueue("page on-call", 0);
 * console.log((await tasks.dequeue()).text); // "page on-call"
 */
export class PriorityQueue {
  /** The key prefix, "/" included, as stored (without any namespace prefix). */
  readonly prefix: Uint8Array;
  readonly #scope: ConcurrencyScope;

  /** @internal Use `etcd.priorityQueue(prefix)`. */
  constructor(scope: ConcurrencyScope, prefix: Bytes) {
    this.#scope = scope;
    this.prefix = withSlash(prefix);
  }

  /**
   * Adds an item with `priority` (0 to 65535; lower comes out first); resolves with its key.
   * Sent once per attempt at a sequence number: after an error that leaves the outcome unknown,
   * the item may or may not be in the queue.
   *
   * @example
   * await queue.enqueue("low", 100);
   */
  async enqueue(
    value: Bytes,
    priority: number,
    options: CallOptions = {},
  ): Promise<{ key: Uint8Array; revision: bigint }> {
    if (!Number.isInteger(priority) || priority < 0 || priority > MAX_PRIORITY) {
      throw new RangeError(`priority must be an integer from 0 to ${MAX_PRIORITY}: ${priority}`);
    }
    const level = childKey(this.prefix, String(priority).padStart(5, "0"));
    const guardKey = concatBytes(new TextEncoder().encode("__"), level);
    for (;;) {
      const last = await this.#scope.kv.range(prefixRange(level), {
        sortTarget: "key",
        sortOrder: "descend",
        limit: 1,
        ...options,
      });
      const lastKey = last.kvs[0]?.key;
      const next = lastKey ? lastSequence(lastKey) + 1n : 0n;
      const withSep = childKey(level, "/");
      const key = childKey(withSep, next.toString().padStart(16, "0"));
      // The guard key's revision proves no item of this priority was added since the read.
      const result = await this.#scope.kv.txn(
        {
          compare: [compare.modRevision(guardKey, "<", last.revision + 1n)],
          success: [op.put(guardKey, ""), op.put(key, value)],
        },
        options,
      );
      if (result.succeeded) return { key, revision: result.revision };
    }
  }

  /**
   * Takes the item with the smallest key (lowest priority number, then oldest), waiting for one
   * while the queue is empty. Rejects with `TimeoutError` after `timeoutMs`, `CanceledError`
   * when `signal` fires.
   *
   * @example
   * const item = await queue.dequeue({ timeoutMs: 10_000 });
   */
  async dequeue(options: CallOptions = {}): Promise<KeyValue> {
    const { signal, reason, dispose } = operationSignal(options, [], "dequeue");
    try {
      return await takeFirst(
        this.#scope,
        this.prefix,
        { sortTarget: "key" },
        { signal, reason, attemptTimeoutMs: DEFAULT_ATTEMPT_TIMEOUT_MS },
      );
    } finally {
      dispose();
    }
  }
}

/** The number after the last "/" of a sequential key (Go parses it with `%d`). */
function lastSequence(key: Uint8Array): bigint {
  const tail = toText(key.subarray(key.lastIndexOf(SLASH) + 1));
  const digits = /^\d+/.exec(tail)?.[0];
  if (digits === undefined) throw new RangeError(`not a sequential key: ${toText(key)}`);
  return BigInt(digits);
}
