import type { CallOptions } from "../../core/call-options.ts";
import type { Bytes } from "../../core/keys.ts";
import type { KeyValue } from "../../kv/key-value.ts";
import { withSlash } from "../mutex.ts";
import { operationSignal } from "../retry.ts";
import type { ConcurrencyScope } from "../scope.ts";
import { takeFirst } from "./take-first.ts";
import { childKey, putNew, uniqueSuffix } from "./unique-key.ts";

const DEFAULT_ATTEMPT_TIMEOUT_MS = 5_000;

/**
 * A FIFO queue with the keys and protocol of Go's `recipe.Queue`, so Go and TypeScript programs
 * share one: each item is a key `<prefix>/<unix nanos>` (no lease) holding the value; `dequeue`
 * takes the item with the oldest revision, deleting it in a transaction that holds only if the
 * item is unchanged, so each item goes to exactly one consumer. An empty queue is waited on with a
 * watch.
 *
 * Items come out in the order their puts were applied: one producer's items in the order it
 * enqueued them (one after another). If a consumer's claim fails with an error that leaves its
 * outcome unknown (a member died mid-request), that item may be gone without being delivered:
 * delivery is at most once, as in Go.
 *
 * @example
 * const jobs = etcd.queue("jobs");
 * await jobs.enqueue("build #42");
 * const item = await jobs.dequeue({ timeoutMs: 30_000 }); // waits while the queue is empty
 * console.log(item.text); // "build #42"
 */
export class Queue {
  /** The key prefix, "/" included, as stored (without any namespace prefix). */
  readonly prefix: Uint8Array;
  readonly #scope: ConcurrencyScope;

  /** @internal Use `etcd.queue(prefix)`. */
  constructor(scope: ConcurrencyScope, prefix: Bytes) {
    this.#scope = scope;
    this.prefix = withSlash(prefix);
  }

  /**
   * Adds an item; resolves with its key and the revision it was written at. Sent once: after an
   * error that leaves the outcome unknown, the item may or may not be in the queue.
   *
   * @example
   * const { key } = await queue.enqueue(JSON.stringify({ id: 7 }));
   */
  async enqueue(
    value: Bytes,
    options: CallOptions = {},
  ): Promise<{ key: Uint8Array; revision: bigint }> {
    for (;;) {
      const key = childKey(this.prefix, uniqueSuffix());
      const revision = await putNew(this.#scope.kv, key, value, options);
      if (revision !== undefined) return { key, revision };
    }
  }

  /**
   * Takes the oldest item, waiting for one while the queue is empty. Rejects with `TimeoutError`
   * after `timeoutMs`, `CanceledError` when `signal` fires.
   *
   * @example
   * const item = await queue.dequeue({ signal });
   * console.log(item.keyText, item.text);
   */
  async dequeue(options: CallOptions = {}): Promise<KeyValue> {
    const { signal, reason, dispose } = operationSignal(options, [], "dequeue");
    try {
      return await takeFirst(
        this.#scope,
        this.prefix,
        { sortTarget: "modRevision" },
        { signal, reason, attemptTimeoutMs: DEFAULT_ATTEMPT_TIMEOUT_MS },
      );
    } finally {
      dispose();
    }
  }
}
