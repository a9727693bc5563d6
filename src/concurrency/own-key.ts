import { compare, op } from "../kv/txn.ts";
import { operationSignal, retrying } from "./retry.ts";
import type { Waiting } from "./scope.ts";
import type { SessionHandle } from "./session-handle.ts";

/**
 * Deletes a session's own key (a mutex waiter or an election candidate) if it is still the one
 * created at `revision`, retrying until `waiting` ends; the session's signal is part of it, so a
 * lost session stops the retries (its lease takes the key anyway).
 *
 * @example
 * await deleteOwnKey(session, key, revision, waiting);
 */
export async function deleteOwnKey(
  session: SessionHandle,
  key: Uint8Array,
  revision: bigint,
  waiting: Waiting,
): Promise<void> {
  await retrying(waiting.signal, waiting.attemptTimeoutMs, waiting.reason, (o) =>
    session.scope.kv.txn(
      { compare: [compare.createRevision(key, "=", revision)], success: [op.delete(key)] },
      o,
    ),
  );
}

/**
 * Best-effort `deleteOwnKey` bounded by two attempt timeouts, for cleanup after a failed lock or
 * a resignation: errors are dropped, since the key ends with the session's lease at the latest.
 *
 * @example
 * await removeOwnKey(session, key, revision, "unlock");
 */
export async function removeOwnKey(
  session: SessionHandle,
  key: Uint8Array,
  revision: bigint,
  what: string,
): Promise<void> {
  if (session.done) return;
  const cleanup = operationSignal(
    { timeoutMs: session.attemptTimeoutMs * 2 },
    [session.signal],
    what,
  );
  try {
    await deleteOwnKey(session, key, revision, {
      ...cleanup,
      attemptTimeoutMs: session.attemptTimeoutMs,
    });
  } catch {
    // The key goes with the session's lease at the latest.
  } finally {
    cleanup.dispose();
  }
}
