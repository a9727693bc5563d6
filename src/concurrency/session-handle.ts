import type { EtcdError, SessionExpiredError } from "../core/errors.ts";
import type { Lease } from "../lease/lease.ts";
import type { ConcurrencyScope } from "./scope.ts";

/**
 * The session as a mutex or an election sees it: the lease that owns their keys and the signal
 * that ends them. `Session` is the implementation; this interface keeps mutex.ts and
 * election.ts from importing session.ts, which creates them.
 *
 * @example
 * mutex.session.id; // the lease ID in the mutex's key
 */
export interface SessionHandle {
  /** The kept-alive lease. */
  readonly lease: Lease;
  /** The session's lease ID. */
  readonly id: bigint;
  /** Resolves with a `SessionExpiredError` if the lease is lost; never rejects. */
  readonly lost: Promise<SessionExpiredError>;
  /** Aborts when the session ends. */
  readonly signal: AbortSignal;
  /** True once the session has ended. */
  readonly done: boolean;
  /** @internal */
  readonly scope: ConcurrencyScope;
  /** @internal Per-request deadline of the session's operations. */
  readonly attemptTimeoutMs: number;
  /** @internal Why the session ended, as an error to throw. */
  endedError(): EtcdError;
}
