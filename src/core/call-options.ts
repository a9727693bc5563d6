/**
 * Options every call accepts.
 *
 * @example
 * await etcd.get("k", { timeoutMs: 500, signal: AbortSignal.timeout(1000) });
 */
export interface CallOptions {
  /**
   * Aborts the call (and its retries) when it fires: a `CanceledError`, or a `TimeoutError`
   * when it is a deadline from `AbortSignal.timeout()`.
   */
  signal?: AbortSignal;
  /** Deadline for the whole call, retries included, in milliseconds; 0 means none. */
  timeoutMs?: number;
  /**
   * false: send the call once, to one endpoint, with no retry at all (not even of a write that
   * provably never left). Default true: reads are retried on another endpoint while members are
   * unavailable, writes only when they never reached etcd.
   */
  retry?: boolean;
}
