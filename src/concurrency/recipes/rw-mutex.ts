import type { CallOptions } from "../../core/call-options.ts";
import { toEtcdError } from "../../core/errors.ts";
import { type Bytes, prefix, toText } from "../../core/keys.ts";
import { withSlash } from "../mutex.ts";
import { deleteOwnKey, removeOwnKey } from "../own-key.ts";
import { operationSignal, retrying } from "../retry.ts";
import type { Waiting } from "../scope.ts";
import type { SessionHandle } from "../session-handle.ts";
import { childKey, createSessionKey } from "./unique-key.ts";
import { waitEvent } from "./wait-event.ts";

/**
 * A readers-writer lock with the keys and protocol of Go's `recipe.RWMutex`, so Go and
 * TypeScript programs share one: a reader writes `<prefix>/read/<unix nanos>`, a writer
 * `<prefix>/write/<unix nanos>`, both on the session's lease. A reader waits for every writer
 * key older than its own; a writer for every older key. So readers share, a writer is alone, and
 * a waiting writer holds back readers that come after it. One lock (read or write) at a time per
 * `RWMutex`; use one per holder.
 *
 * @example
 * const rw = session.rwMutex("config/lock");
 * await rw.rLock();
 * try { console.log((await etcd.get("config/v"))?.text); } finally { await rw.rUnlock(); }
 * await rw.lock();
 * try { await etcd.put("config/v", "2"); } finally { await rw.unlock(); }
 */
export class RWMutex {
  readonly session: SessionHandle;
  /** The key prefix, "/" included, as stored (without any namespace prefix). */
  readonly prefix: Uint8Array;
  #mine: { key: Uint8Array; revision: bigint; mode: "read" | "write" } | undefined;

  /** @internal Use `session.rwMutex(prefix)`. */
  constructor(session: SessionHandle, prefix: Bytes) {
    this.session = session;
    this.prefix = withSlash(prefix);
  }

  /** This holder's key while it holds or waits for the lock. */
  get key(): Uint8Array | undefined {
    return this.#mine?.key;
  }

  /** "read", "write", or undefined when not held. */
  get mode(): "read" | "write" | undefined {
    return this.#mine?.mode;
  }

  /**
   * Takes a shared (read) lock: waits until no older writer key is left. Rejects with
   * `TimeoutError`, `CanceledError` or `SessionExpiredError`; its key is removed then.
   *
   * @example
   * await rw.rLock({ timeoutMs: 10_000 });
   */
  rLock(options: CallOptions = {}): Promise<void> {
    return this.#acquire("read", childKey(this.prefix, "write/"), options);
  }

  /**
   * Takes the exclusive (write) lock: waits until no older key (reader or writer) is left.
   * Rejects with `TimeoutError`, `CanceledError` or `SessionExpiredError`; its key is removed
   * then.
   *
   * @example
   * await rw.lock({ signal });
   */
  lock(options: CallOptions = {}): Promise<void> {
    return this.#acquire("write", this.prefix, options);
  }

  /**
   * Releases a read lock (deletes this holder's key).
   *
   * @example
   * await rw.rUnlock();
   */
  rUnlock(options: CallOptions = {}): Promise<void> {
    return this.#release("read", options);
  }

  /**
   * Releases the write lock (deletes this holder's key).
   *
   * @example
   * await rw.unlock();
   */
  unlock(options: CallOptions = {}): Promise<void> {
    return this.#release("write", options);
  }

  async #acquire(mode: "read" | "write", blockers: Uint8Array, options: CallOptions) {
    if (this.#mine) {
      throw new Error(`rwMutex ${toText(this.prefix)} is already ${this.#mine.mode}-locked`);
    }
    const waiting = this.#waiting(options, mode === "read" ? "rLock" : "lock");
    try {
      const mine = await createSessionKey(this.session, childKey(this.prefix, `${mode}/`), waiting);
      try {
        await this.#waitBlockers(blockers, mine.revision, waiting);
      } catch (error) {
        await removeOwnKey(this.session, mine.key, mine.revision, "unlock");
        throw toEtcdError(error);
      }
      this.#mine = { ...mine, mode };
    } finally {
      waiting.dispose();
    }
  }

  /** Go's `waitOnLastRev`, until no key of `blockers` older than ours is left. */
  async #waitBlockers(blockers: Uint8Array, revision: bigint, waiting: Waiting): Promise<void> {
    const scope = this.session.scope;
    for (;;) {
      const newest = await retrying(waiting.signal, waiting.attemptTimeoutMs, waiting.reason, (o) =>
        scope.kv.range(prefix(blockers), {
          sortTarget: "modRevision",
          sortOrder: "descend",
          limit: 1,
          maxModRevision: revision - 1n,
          ...o,
        }),
      );
      const blocker = newest.kvs[0];
      if (!blocker) return;
      await waitEvent(scope, blocker.key, revision, "delete", waiting);
    }
  }

  async #release(mode: "read" | "write", options: CallOptions): Promise<void> {
    const mine = this.#mine;
    if (!mine) return;
    if (mine.mode !== mode) {
      throw new Error(`rwMutex ${toText(this.prefix)} is ${mine.mode}-locked, not ${mode}-locked`);
    }
    this.#mine = undefined;
    if (this.session.done) return;
    const waiting = this.#waiting(options, mode === "read" ? "rUnlock" : "unlock");
    try {
      await deleteOwnKey(this.session, mine.key, mine.revision, waiting);
    } catch (error) {
      if (this.session.done) return;
      throw error;
    } finally {
      waiting.dispose();
    }
  }

  #waiting(options: CallOptions, what: string): Waiting & { dispose(): void } {
    const { signal, reason, dispose } = operationSignal(options, [this.session.signal], what);
    return { signal, reason, dispose, attemptTimeoutMs: this.session.attemptTimeoutMs };
  }
}
