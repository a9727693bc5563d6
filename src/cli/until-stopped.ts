import type { Session } from "../index.ts";

/**
 * Waits until the command is interrupted (resolves "interrupted") or the session's lease is
 * lost (resolves "lost"), whichever comes first.
 *
 * @example
 * if ((await untilStopped(ctx.signal, session)) === "lost") throw session.endedError();
 */
export function untilStopped(
  signal: AbortSignal,
  session: Session,
): Promise<"interrupted" | "lost"> {
  if (signal.aborted) return Promise.resolve("interrupted");
  return new Promise((resolve) => {
    const onAbort = () => {
      unsubscribe();
      resolve("interrupted");
    };
    const unsubscribe = session.onLost(() => {
      signal.removeEventListener("abort", onAbort);
      resolve("lost");
    });
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
