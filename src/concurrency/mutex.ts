import type { CallOptions } from "../core/call-options.ts";
import { LockReleasedError, toEtcdError } from "../core/errors.ts";
import { type Bytes, prefix as prefixRange, toBytes, toText } from "../core/keys.ts";
import type { ResponseHeader } from "../kv/key-value.ts";
import type { RangeResult, TxnResult } from "../kv/results.ts";
import { type Compare, compare, op, type TxnRequest } from "../kv/txn.ts";
import { deleteOwnKey, removeOwnKey } from "./own-key.ts";
import { operationSignal, retrying } from "./retry.ts";
import { FIRST_CREATED, type Waiting, waitDeletes } from "./scope.ts";
import type { SessionHandle } from "./session-handle.ts";

const SLASH = 0x2f;

/**
 * The key Go's concurrency package uses for a session on a prefix: `<prefix>/<lease id hex>`
 * (Go appends the "/" whatever the prefix ends with).
 *
 * @example
 * sessionKey(toBytes("locks/job"), 0x694dn); // bytes of "locks/job/694d"
 */
export function sessionKey(prefixWithSlash: Uint8Array, leaseId: bigint): Uint8Array {
  const hex = new TextEncoder().encode(leaseId.toString(16));
  const key = new Uint8Array(prefixWithSlash.length + hex.length);
  key.set(prefixWithSlash, 0);
  key.set(hex, prefixWithSlash.length);
  return key;
}

/**
 * `prefix` + "/", as Go's `NewMutex`/`NewElection` build their key prefix.
 *
 * @example
 * withSlash("locks/job"); // bytes of "locks/job/"
 */
export function withSlash(prefix: Bytes): Uint8Array {
  const bytes = toBytes(prefix, "prefix");
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes, 0);
  out[bytes.length] = SLASH;
  return out;
}

/**
 * A distributed lock with the same keys and protocol as Go's `concurrency.Mutex`, so TypeScript
 * and Go programs (and `etcdctl lock`) exclude each other. Each contender writes
 * `<prefix>/<lease id hex>` attached to its session's lease; the key created first holds the
 * lock; the others wait for the deletion of the key created just before theirs, then check that
 * their own key still exists (the check Jepsen found missing in early versions).
 *
 * A lock alone is not mutual exclusion (a holder can stall past its lease): guard writes with
 * `mutex.txn(...)` or `mutex.isOwner()` in your own transactions, and hand `fencingToken` (the
 * owner key's create revision, increasing with every acquisition) to anything else you write to.
 *
 * One holder per session: two mutexes of one session on one prefix share a key. Use a session
 * per contender.
 *
 * @example
 * const mutex = session.mutex("locks/job");
 * await mutex.lock({ timeoutMs: 10_000 });
 * try {
 *   await mutex.txn({ success: [op.put("job/state", "running")] });
 * } finally {
 *   await mutex.unlock();
 * }
 */
export class Mutex {
  readonly session: SessionHandle;
  /** The key prefix, "/" included, as stored (without any namespace prefix). */
  readonly prefix: Uint8Array;
  #key: Uint8Array | undefined;
  #revision: bigint | undefined;
  #header: ResponseHeader | undefined;

  /** @internal */
  constructor(session: SessionHandle, prefix: Bytes) {
    this.session = session;
    this.prefix = withSlash(prefix);
  }

  /** This session's key under the prefix (set once `lock`/`tryLock` ran). */
  get key(): Uint8Array | undefined {
    return this.#key;
  }

  /** The key as text, like Go's `Key()`; "" before locking. */
  get keyText(): string {
    return this.#key ? toText(this.#key) : "";
  }

  /** True while this mutex holds the lock and its session is alive (as far as this client knows). */
  get held(): boolean {
    return this.#revision !== undefined && !this.session.done;
  }

  /**
   * The fencing token: the create revision of the owner key. Every acquisition of the lock gets
   * a larger one, so a resource that remembers the largest token it saw can refuse stale holders.
   * Throws `LockReleasedError` when the lock is not held.
   */
  get fencingToken(): bigint {
    return this.#held("fencingToken");
  }

  /** The response header of the request that acquired the lock. */
  get header(): ResponseHeader | undefined {
    return this.#header;
  }

  /**
   * Waits until the lock is acquired. Resolves with the mutex. Rejects with `TimeoutError` after
   * `timeoutMs`, `CanceledError` when `signal` fires, `SessionExpiredError` when the session ends
   * meanwhile, `LockReleasedError` if this session's key was deleted by someone else while
   * waiting; in every case the waiting key is removed. Member failures are retried.
   *
   * @example
   * await mutex.lock({ signal: AbortSignal.timeout(5000) });
   */
  async lock(options: CallOptions = {}): Promise<this> {
    const waiting = this.#waiting(options, "lock");
    try {
      const { owner, acquired } = await this.#acquire(waiting);
      if (acquired) return this;
      try {
        if (owner === undefined) throw new LockReleasedError("lock key vanished");
        await waitDeletes(this.session.scope, this.prefix, owner - 1n, waiting);
        const mine = await retrying(waiting.signal, waiting.attemptTimeoutMs, waiting.reason, (o) =>
          this.session.scope.kv.range(this.#key as Uint8Array, o),
        );
        const kv = mine.kvs[0];
        if (!kv || kv.createRevision !== owner) {
          if (this.session.done) throw this.session.endedError();
          throw new LockReleasedError(
            `lock key ${this.keyText} was deleted while waiting for the lock`,
          );
        }
        this.#revision = owner;
        this.#header = mine.header;
        return this;
      } catch (error) {
        await this.#removeKey(owner);
        throw toEtcdError(error);
      }
    } finally {
      waiting.dispose();
    }
  }

  /**
   * Takes the lock if it is free (or already this session's); otherwise removes the waiting key
   * and resolves false at once.
   *
   * @example
   * if (await mutex.tryLock()) {
   *   try { await runNightlyJob(); } finally { await mutex.unlock(); }
   * } else console.log("another instance runs the job");
   */
  async tryLock(options: CallOptions = {}): Promise<boolean> {
    const waiting = this.#waiting(options, "tryLock");
    try {
      const { owner, acquired, created } = await this.#acquire(waiting);
      if (acquired) return true;
      if (created) await this.#removeKey(owner);
      this.#revision = undefined;
      return false;
    } finally {
      waiting.dispose();
    }
  }

  /**
   * Releases the lock (deletes this session's key). Does nothing when not held. Member failures
   * are retried until the signal, the deadline, or the end of the session (which releases the
   * lock anyway).
   *
   * @example
   * await mutex.unlock();
   */
  async unlock(options: CallOptions = {}): Promise<void> {
    const revision = this.#revision;
    if (revision === undefined) return;
    this.#revision = undefined;
    this.#header = undefined;
    if (this.session.done) return;
    const waiting = this.#waiting(options, "unlock");
    try {
      await this.#deleteKey(revision, waiting);
    } catch (error) {
      // A session that ended takes its key along (revoked, expired, or expiring: orphaned).
      if (this.session.done) return;
      throw error;
    } finally {
      waiting.dispose();
    }
  }

  /**
   * A transaction condition that holds only while this mutex owns the lock (Go's `IsOwner()`).
   * Throws `LockReleasedError` when the lock is not held.
   *
   * @example
   * await etcd.txn({ compare: [mutex.isOwner()], success: [op.put("k", "v")] });
   */
  isOwner(): Compare {
    const revision = this.#held("isOwner");
    return compare.createRevision(this.#key as Uint8Array, "=", revision);
  }

  /**
   * Runs `request` only if this mutex still owns the lock, atomically (a nested transaction under
   * an owner check). Resolves with `request`'s own result; rejects with `LockReleasedError` when
   * the lock was lost, in which case nothing was applied. The request is sent once.
   *
   * @example
   * const { succeeded } = await mutex.txn({
   *   compare: [compare.value("job/state", "=", "idle")],
   *   success: [op.put("job/state", "running")],
   * });
   */
  async txn(request: TxnRequest, options: CallOptions = {}): Promise<TxnResult> {
    const owner = this.isOwner();
    const result = await this.session.scope.kv.txn(
      { compare: [owner], success: [op.txn(request)] },
      options,
    );
    if (!result.succeeded) {
      if (this.#revision !== undefined) this.#revision = undefined;
      throw new LockReleasedError(`lock ${this.keyText} is no longer held`);
    }
    return result.results[0] as TxnResult;
  }

  /** `await using` unlocks. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.unlock();
  }

  #held(what: string): bigint {
    if (this.#revision === undefined) {
      throw new LockReleasedError(
        `${what}: the lock ${this.keyText || "(never locked)"} is not held`,
      );
    }
    return this.#revision;
  }

  #waiting(options: CallOptions, what: string): Waiting & { dispose(): void } {
    const { signal, reason, dispose } = operationSignal(options, [this.session.signal], what);
    return { signal, reason, dispose, attemptTimeoutMs: this.session.attemptTimeoutMs };
  }

  /**
   * Puts this session's key unless it exists, and reads the owner, in one transaction (which is
   * why it can be repeated after a failure: the second run finds the key).
   */
  async #acquire(waiting: Waiting) {
    const key = sessionKeyOf(this);
    this.#key = key;
    const owners = op.get(prefixRange(this.prefix), FIRST_CREATED);
    const result = await retrying(waiting.signal, waiting.attemptTimeoutMs, waiting.reason, (o) =>
      this.session.scope.kv.txn(
        {
          compare: [compare.createRevision(key, "=", 0)],
          success: [op.put(key, "", { lease: this.session.id }), owners],
          failure: [op.get(key), owners],
        },
        o,
      ),
    );
    const mine = result.succeeded
      ? result.revision
      : (result.results[0] as RangeResult).kvs[0]?.createRevision;
    const first = (result.results[1] as RangeResult).kvs[0];
    const acquired = mine !== undefined && (!first || first.createRevision === mine);
    if (acquired) {
      this.#revision = mine;
      this.#header = result.header;
    }
    return { owner: mine, acquired, created: result.succeeded };
  }

  /** Best effort removal of the waiting key after a failed or abandoned lock. */
  async #removeKey(revision: bigint | undefined): Promise<void> {
    if (revision !== undefined)
      await removeOwnKey(this.session, this.#key as Uint8Array, revision, "unlock");
  }

  #deleteKey(revision: bigint, waiting: Waiting): Promise<void> {
    return deleteOwnKey(this.session, this.#key as Uint8Array, revision, waiting);
  }
}

function sessionKeyOf(mutex: Mutex): Uint8Array {
  return sessionKey(mutex.prefix, mutex.session.id);
}
