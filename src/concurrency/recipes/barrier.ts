import type { CallOptions } from "../../core/call-options.ts";
import { type Bytes, toBytes } from "../../core/keys.ts";
import { operationSignal, retrying } from "../retry.ts";
import type { ConcurrencyScope } from "../scope.ts";
import { putNew } from "./unique-key.ts";
import { waitEvent } from "./wait-event.ts";

const DEFAULT_ATTEMPT_TIMEOUT_MS = 5_000;

/**
 * A barrier with the key and protocol of Go's `recipe.Barrier`: while the key exists (no lease)
 * the barrier is up and `wait()` blocks; `release()` deletes it and every waiter goes on.
 *
 * @example
 * const gate = etcd.barrier("deploy/gate");
 * await gate.hold();                  // coordinator
 * await gate.wait({ signal });        // workers: resolve once the gate is released
 * await gate.release();               // coordinator
 */
export class Barrier {
  /** The barrier's key, as stored (without any namespace prefix). */
  readonly key: Uint8Array;
  readonly #scope: ConcurrencyScope;

  /** @internal Use `etcd.barrier(key)`. */
  constructor(scope: ConcurrencyScope, key: Bytes) {
    this.#scope = scope;
    this.key = toBytes(key, "key");
  }

  /**
   * Raises the barrier: creates its key. Resolves true when this call created it, false when
   * it was already up (Go's `Hold` returns `ErrKeyExists` then).
   *
   * @example
   * if (!(await gate.hold())) console.log("someone else holds the gate");
   */
  async hold(options: CallOptions = {}): Promise<boolean> {
    return (await putNew(this.#scope.kv, this.key, "", options)) !== undefined;
  }

  /**
   * Lowers the barrier: deletes its key, which lets every waiter go.
   *
   * @example
   * await gate.release();
   */
  async release(options: CallOptions = {}): Promise<void> {
    await this.#scope.kv.delete(this.key, options);
  }

  /**
   * Resolves once the barrier is down (at once if it is not up). Rejects with `TimeoutError`
   * after `timeoutMs`, `CanceledError` when `signal` fires.
   *
   * @example
   * await gate.wait({ timeoutMs: 60_000 });
   */
  async wait(options: CallOptions = {}): Promise<void> {
    const { signal, reason, dispose } = operationSignal(options, [], "barrier wait");
    try {
      const now = await retrying(signal, DEFAULT_ATTEMPT_TIMEOUT_MS, reason, (o) =>
        this.#scope.kv.range(this.key, o),
      );
      if (now.kvs.length === 0) return;
      await waitEvent(this.#scope, this.key, now.revision + 1n, "delete", { signal, reason });
    } finally {
      dispose();
    }
  }
}
