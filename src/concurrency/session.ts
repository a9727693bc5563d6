import type { CallOptions } from "../core/call-options.ts";
import {
  ClientClosedError,
  EtcdError,
  LeaseLostError,
  SessionExpiredError,
} from "../core/errors.ts";
import type { Bytes } from "../core/keys.ts";
import { type Int64, toInt64 } from "../core/numbers.ts";
import { Lease } from "../lease/lease.ts";
import { Election } from "./election.ts";
import { Mutex } from "./mutex.ts";
import { DoubleBarrier } from "./recipes/double-barrier.ts";
import { RWMutex } from "./recipes/rw-mutex.ts";
import type { ConcurrencyScope } from "./scope.ts";
import type { SessionHandle } from "./session-handle.ts";

/** Go's default session TTL, in seconds. @example await etcd.session({ ttl: DEFAULT_SESSION_TTL }) */
export const DEFAULT_SESSION_TTL = 60;
const DEFAULT_ATTEMPT_TIMEOUT_MS = 5_000;
const CLOSE_TIMEOUT_MS = 5_000;

/**
 * Options of `etcd.session()`.
 *
 * @example
 * const session = await etcd.session({ ttl: 10 });
 */
export interface SessionOptions extends CallOptions {
  /** Lease TTL in seconds, default 60 (as Go's `concurrency.NewSession`). */
  ttl?: Int64;
  /** Use this lease (a handle, or the ID of a lease granted elsewhere) instead of granting one. */
  lease?: Int64 | Lease;
  /**
   * Deadline of each request the session's mutexes and elections send, in milliseconds, default
   * 5000. A request that fails transiently (member down or hung, no leader) is sent again until
   * the operation's own signal or timeout fires, or the session ends.
   */
  attemptTimeoutMs?: number;
}

/**
 * A lease kept alive for as long as the session lives: the identity behind locks and elections
 * (their keys are attached to it, so they vanish when the session ends). Like Go's
 * `concurrency.Session`. When the lease is lost, `lost` resolves with a `SessionExpiredError`,
 * `signal` aborts with it and `onLost` callbacks run: every lock and leadership of the session is
 * gone by then, or about to be. Closing the client ends its sessions as `close()` does: their
 * leases are revoked (within a short deadline), so their locks go at once.
 *
 * @example
 * await using session = await etcd.session({ ttl: 10 });
 * const mutex = session.mutex("locks/job");
 * await mutex.lock();
 */
export class Session implements SessionHandle {
  /** The kept-alive lease. */
  readonly lease: Lease;
  /** Resolves with a `SessionExpiredError` if the lease is lost; never rejects. */
  readonly lost: Promise<SessionExpiredError>;
  /** @internal */
  readonly scope: ConcurrencyScope;
  /** @internal Per-request deadline of the session's operations. */
  readonly attemptTimeoutMs: number;
  readonly #controller = new AbortController();
  #expired: SessionExpiredError | undefined;

  /** @internal */
  constructor(
    scope: ConcurrencyScope,
    lease: Lease,
    attemptTimeoutMs = DEFAULT_ATTEMPT_TIMEOUT_MS,
  ) {
    this.scope = scope;
    this.lease = lease;
    // A session's locks and leadership end with the client: closing it revokes this lease.
    lease.revokeOnClose = true;
    this.attemptTimeoutMs = attemptTimeoutMs;
    this.lost = lease.lost.then((error) => this.#expire(error));
    const forward = () => {
      const reason = lease.signal.reason;
      this.#controller.abort(reason instanceof LeaseLostError ? this.#expire(reason) : reason);
    };
    if (lease.signal.aborted) forward();
    else lease.signal.addEventListener("abort", forward, { once: true });
  }

  /** The session's lease ID. */
  get id(): bigint {
    return this.lease.id;
  }

  /**
   * Aborts when the session ends: `SessionExpiredError` when its lease was lost, `CanceledError`
   * after `close()`/`orphan()`, `ClientClosedError` when the client closed.
   */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** True once the session has ended (lost, closed, orphaned or its client closed). */
  get done(): boolean {
    return this.#controller.signal.aborted;
  }

  /**
   * Calls `listener` once if the session's lease is lost; returns a function that removes it.
   *
   * @example
   * session.onLost((e) => console.error("locks lost:", e.message));
   */
  onLost(listener: (error: SessionExpiredError) => void): () => void {
    return this.lease.onLost((error) => listener(this.#expire(error)));
  }

  /**
   * A mutex on `prefix`, with keys `<prefix>/<lease id in hex>` as Go's `concurrency.NewMutex`.
   *
   * @example
   * const m = session.mutex("locks/job");
   */
  mutex(prefix: Bytes): Mutex {
    return new Mutex(this, prefix);
  }

  /**
   * An election on `prefix`, with keys `<prefix>/<lease id in hex>` as Go's
   * `concurrency.NewElection`.
   *
   * @example
   * const e = session.election("elect/svc");
   */
  election(prefix: Bytes): Election {
    return new Election(this, prefix);
  }

  /**
   * A readers-writer lock on `prefix`, with Go's `recipe.RWMutex` keys
   * (`<prefix>/read/<nanos>`, `<prefix>/write/<nanos>`) on this session's lease.
   *
   * @example
   * const rw = session.rwMutex("config/lock");
   * await rw.rLock();
   */
  rwMutex(prefix: Bytes): RWMutex {
    return new RWMutex(this, prefix);
  }

  /**
   * A double barrier for `count` parties on `key`, with Go's `recipe.DoubleBarrier` keys
   * (`<key>/waiters/<nanos>` on this session's lease, `<key>/ready`). One per party.
   *
   * @example
   * await session.doubleBarrier("round/7", 3).enter();
   */
  doubleBarrier(key: Bytes, count: number): DoubleBarrier {
    return new DoubleBarrier(this, key, count);
  }

  /**
   * Stops keeping the lease alive, without revoking it: locks and leadership last until it
   * expires (Go's `Orphan`).
   *
   * @example
   * session.orphan();
   */
  orphan(): void {
    this.lease.release();
  }

  /**
   * Ends the session: revokes its lease, which releases its locks and leadership at once.
   *
   * @example
   * await session.close();
   */
  async close(options: CallOptions = {}): Promise<void> {
    if (this.lease.state === "closed") return;
    await this.lease.revoke({ timeoutMs: CLOSE_TIMEOUT_MS, ...options });
  }

  /** @internal Why the session ended, as an error (`SessionExpiredError` when lost). */
  endedError(): EtcdError {
    const reason = this.#controller.signal.reason;
    if (reason instanceof EtcdError) return reason;
    return new SessionExpiredError("session ended", undefined, { cause: reason });
  }

  #expire(error: LeaseLostError): SessionExpiredError {
    this.#expired ??= new SessionExpiredError(`session ended: ${error.message}`, error.code, {
      cause: error,
    });
    return this.#expired;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    try {
      await this.close();
    } catch (error) {
      if (!(error instanceof ClientClosedError)) throw error;
    }
  }
}

/**
 * Grants (or adopts) the lease and starts the session.
 *
 * @example
 * const session = await openSession({ etcd, kv: etcd.kv, keyspace }, { ttl: 10 });
 */
export async function openSession(
  scope: ConcurrencyScope,
  options: SessionOptions = {},
): Promise<Session> {
  const call: CallOptions = {
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    ...(options.retry === undefined ? {} : { retry: options.retry }),
  };
  let lease: Lease;
  if (options.lease instanceof Lease) {
    lease = options.lease.state === "alive" ? options.lease : options.lease.keepAlive();
  } else if (options.lease !== undefined) {
    lease = await scope.lease.keepAlive(options.lease, call);
  } else {
    const ttl = toInt64(options.ttl ?? DEFAULT_SESSION_TTL, "ttl");
    lease = await scope.lease.grant(ttl, { ...call, keepAlive: true });
  }
  return new Session(scope, lease, options.attemptTimeoutMs);
}
