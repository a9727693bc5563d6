import type { CallOptions } from "../../core/call-options.ts";
import { BarrierFullError, toEtcdError } from "../../core/errors.ts";
import { type Bytes, prefix, toBytes } from "../../core/keys.ts";
import type { KeyValue } from "../../kv/key-value.ts";
import { deleteOwnKey, removeOwnKey } from "../own-key.ts";
import { operationSignal, retrying } from "../retry.ts";
import type { Waiting } from "../scope.ts";
import type { SessionHandle } from "../session-handle.ts";
import { childKey, createSessionKey } from "./unique-key.ts";
import { waitEvent } from "./wait-event.ts";

/**
 * A double barrier with the keys and protocol of Go's `recipe.DoubleBarrier`: `count` parties
 * `enter()`, and none goes on until all have entered; then each `leave()`s, and none goes on
 * until all have left. Each party is a key `<key>/waiters/<unix nanos>` on its session's lease
 * (a party that dies leaves with its lease); the last to enter puts `<key>/ready`, the last to
 * leave deletes it. Use one `DoubleBarrier` (and one session) per party.
 *
 * @example
 * const round = session.doubleBarrier("jobs/round-7", 3);
 * await round.enter(); // resolves once 3 parties entered
 * await doMyShare();
 * await round.leave(); // resolves once all 3 left
 */
export class DoubleBarrier {
  readonly session: SessionHandle;
  /** The barrier's key, as stored (without any namespace prefix). */
  readonly key: Uint8Array;
  /** How many parties the barrier waits for. */
  readonly count: number;
  readonly #waiters: Uint8Array;
  readonly #ready: Uint8Array;
  #mine: { key: Uint8Array; revision: bigint } | undefined;

  /** @internal Use `session.doubleBarrier(key, count)`. */
  constructor(session: SessionHandle, key: Bytes, count: number) {
    if (!Number.isInteger(count) || count < 1) {
      throw new RangeError(`count must be a positive integer: ${count}`);
    }
    this.session = session;
    this.key = toBytes(key, "key");
    this.count = count;
    this.#waiters = childKey(this.key, "/waiters/");
    this.#ready = childKey(this.key, "/ready");
  }

  /**
   * Enters, then waits until `count` parties have entered. Rejects with `BarrierFullError` when
   * `count` parties are in already, `TimeoutError` after `timeoutMs`, `CanceledError` when
   * `signal` fires, `SessionExpiredError` when the session ends; this party's key is removed
   * then.
   *
   * @example
   * await barrier.enter({ timeoutMs: 60_000 });
   */
  async enter(options: CallOptions = {}): Promise<void> {
    const waiting = this.#waiting(options, "enter");
    try {
      if ((await this.#entered(waiting)).length >= this.count) {
        throw new BarrierFullError(`double barrier already has ${this.count} parties`);
      }
      const mine = await createSessionKey(this.session, this.#waiters, waiting);
      this.#mine = mine;
      try {
        const entered = await this.#entered(waiting);
        const last = entered[this.count - 1];
        if (last && mine.revision > last.createRevision) {
          throw new BarrierFullError(`double barrier already has ${this.count} parties`);
        }
        if (last && mine.revision === last.createRevision) {
          // The last party in lets everyone go.
          await this.session.scope.kv.put(this.#ready, "", { signal: waiting.signal });
          return;
        }
        await waitEvent(this.session.scope, this.#ready, mine.revision, "put", waiting);
      } catch (error) {
        this.#mine = undefined;
        await removeOwnKey(this.session, mine.key, mine.revision, "enter");
        throw toEtcdError(error);
      }
    } finally {
      waiting.dispose();
    }
  }

  /**
   * Leaves, then waits until every party has left. Rejects with `TimeoutError` after
   * `timeoutMs`, `CanceledError` when `signal` fires, `SessionExpiredError` when the session
   * ends.
   *
   * @example
   * await barrier.leave();
   */
  async leave(options: CallOptions = {}): Promise<void> {
    const waiting = this.#waiting(options, "leave");
    const scope = this.session.scope;
    try {
      for (;;) {
        const { kvs } = await retrying(
          waiting.signal,
          waiting.attemptTimeoutMs,
          waiting.reason,
          (o) => scope.kv.range(prefix(this.#waiters), o),
        );
        const first = kvs[0];
        if (!first) return;
        let lowest: KeyValue = first;
        let highest: KeyValue = first;
        for (const kv of kvs) {
          if (kv.modRevision < lowest.modRevision) lowest = kv;
          if (kv.modRevision > highest.modRevision) highest = kv;
        }
        const mine = this.#mine;
        const isLowest = mine !== undefined && sameBytes(lowest.key, mine.key);
        if (kvs.length === 1 && isLowest) {
          // The last one out takes the barrier down.
          await scope.kv.delete(this.#ready, { signal: waiting.signal });
          await deleteOwnKey(this.session, mine.key, mine.revision, waiting);
          this.#mine = undefined;
          return;
        }
        if (isLowest) {
          await waitEvent(scope, highest.key, highest.modRevision, "delete", waiting);
          continue;
        }
        if (mine) {
          await deleteOwnKey(this.session, mine.key, mine.revision, waiting);
          this.#mine = undefined;
        }
        await waitEvent(scope, lowest.key, lowest.modRevision, "delete", waiting);
      }
    } finally {
      waiting.dispose();
    }
  }

  async #entered(waiting: Waiting): Promise<readonly KeyValue[]> {
    const result = await retrying(waiting.signal, waiting.attemptTimeoutMs, waiting.reason, (o) =>
      this.session.scope.kv.range(prefix(this.#waiters), {
        sortTarget: "createRevision",
        sortOrder: "ascend",
        ...o,
      }),
    );
    return result.kvs;
  }

  #waiting(options: CallOptions, what: string): Waiting & { dispose(): void } {
    const { signal, reason, dispose } = operationSignal(options, [this.session.signal], what);
    return { signal, reason, dispose, attemptTimeoutMs: this.session.attemptTimeoutMs };
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
