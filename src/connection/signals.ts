import { Code, ConnectError } from "@connectrpc/connect";
import { getAbortSignalReason } from "@connectrpc/connect/protocol";
import { errorText } from "../core/error-text.ts";

/**
 * The error a call ends with when `signal` fired: the signal's reason when it is a
 * `ConnectError` already (such as the DeadlineExceeded a deadline timer aborts with), else a
 * `Canceled` ConnectError carrying the reason as its cause.
 *
 * @example
 * if (signal.aborted) throw canceledError(signal);
 */
export function canceledError(signal: AbortSignal): ConnectError {
  const reason = getAbortSignalReason(signal) ?? new Error("the call was aborted");
  if (reason instanceof ConnectError) return reason;
  const message = errorText(reason);
  return new ConnectError(message, Code.Canceled, undefined, undefined, reason);
}

/**
 * The error of a call whose `timeoutMs` passed: DeadlineExceeded, as gRPC reports it.
 *
 * @example
 * const timer = setTimeout(() => controller.abort(deadlineError(ms)), ms);
 */
export function deadlineError(ms: number): ConnectError {
  return new ConnectError(`deadline of ${ms} ms exceeded`, Code.DeadlineExceeded);
}

/**
 * Waits `ms` milliseconds, or less when one of `signals` fires; it resolves either way (the
 * caller checks its signal afterwards). `ms <= 0` resolves at once.
 *
 * @example
 * await sleep(backoffMs, signal);
 * if (signal.aborted) throw canceledError(signal);
 */
export function sleep(ms: number, ...signals: Array<AbortSignal | undefined>): Promise<void> {
  const sources = signals.filter((s): s is AbortSignal => s !== undefined);
  if (ms <= 0 || sources.some((s) => s.aborted)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      for (const source of sources) source.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    for (const source of sources) source.addEventListener("abort", done, { once: true });
  });
}
