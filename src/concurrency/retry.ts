import { Code } from "@connectrpc/connect";
import { sleep } from "../connection/signals.ts";
import type { CallOptions } from "../core/call-options.ts";
import {
  CanceledError,
  ClientClosedError,
  EtcdError,
  LeaderChangedError,
  NoLeaderError,
  TimeoutError,
  TooManyRequestsError,
  toEtcdError,
  UnavailableError,
} from "../core/errors.ts";

const MIN_BACKOFF_MS = 50;
const MAX_BACKOFF_MS = 1_000;

/**
 * True for failures that say nothing about the request itself: a member unreachable, hung past
 * the attempt's deadline, without a leader, or busy. Repeating an idempotent request may succeed.
 *
 * @example
 * if (isTransient(error)) retry();
 */
export function isTransient(error: unknown): boolean {
  const e = toEtcdError(error);
  if (e instanceof ClientClosedError) return false;
  return (
    e instanceof UnavailableError ||
    e instanceof TimeoutError ||
    e instanceof NoLeaderError ||
    e instanceof LeaderChangedError ||
    e instanceof TooManyRequestsError ||
    e.code === Code.Unavailable ||
    e.code === Code.DeadlineExceeded ||
    // A member killed under an open call surfaces as Canceled; only `signal` means the caller.
    e.code === Code.Canceled
  );
}

/**
 * Runs an idempotent request until it succeeds: transient failures (see `isTransient`) are
 * repeated with backoff, each attempt bounded by `attemptTimeoutMs`, until `signal` fires (then
 * `abortReason()` is thrown). Other errors are thrown as they are.
 *
 * @example
 * const kv = await retrying(signal, 5000, abortReason, (o) => kv.get("k", o));
 */
export async function retrying<T>(
  signal: AbortSignal,
  attemptTimeoutMs: number,
  abortReason: () => EtcdError,
  attempt: (options: CallOptions) => Promise<T>,
): Promise<T> {
  let backoff = MIN_BACKOFF_MS;
  for (;;) {
    if (signal.aborted) throw abortReason();
    try {
      return await attempt({ signal, timeoutMs: attemptTimeoutMs });
    } catch (error) {
      if (signal.aborted) throw abortReason();
      if (!isTransient(error)) throw toEtcdError(error);
    }
    await sleep(backoff * (0.5 + Math.random() / 2), signal);
    backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
  }
}

/**
 * The caller's signal and deadline plus the signals an operation must also stop on, as one
 * signal, with a function that explains why it fired: the first aborted extra signal's reason
 * (such as a `SessionExpiredError`), a `TimeoutError` for the deadline, else `CanceledError`.
 *
 * @example
 * const { signal, reason, dispose } = operationSignal(options, [session.signal], "lock");
 */
export function operationSignal(
  options: CallOptions,
  extra: AbortSignal[],
  what: string,
): { signal: AbortSignal; reason: () => EtcdError; dispose: () => void } {
  const controller = new AbortController();
  const timeoutMs = options.timeoutMs ?? 0;
  let timedOut = false;
  const timer =
    timeoutMs > 0
      ? setTimeout(() => {
          timedOut = true;
          controller.abort();
        }, timeoutMs)
      : undefined;
  const sources = options.signal ? [options.signal, ...extra] : extra;
  const onAbort = () => controller.abort();
  for (const source of sources) {
    if (source.aborted) controller.abort();
    else source.addEventListener("abort", onAbort, { once: true });
  }
  const dispose = () => {
    clearTimeout(timer);
    for (const source of sources) source.removeEventListener("abort", onAbort);
  };
  const reason = (): EtcdError => {
    for (const source of extra) {
      if (source.aborted) return asEtcdError(source.reason, what);
    }
    if (timedOut) return new TimeoutError(`${what} did not complete within ${timeoutMs} ms`);
    return new CanceledError(`${what} canceled`, Code.Canceled, {
      cause: options.signal?.reason,
    });
  };
  return { signal: controller.signal, reason, dispose };
}

function asEtcdError(reason: unknown, what: string): EtcdError {
  if (reason instanceof EtcdError) return reason;
  return new CanceledError(`${what} canceled`, Code.Canceled, { cause: reason });
}
