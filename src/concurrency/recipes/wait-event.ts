import { toEtcdError } from "../../core/errors.ts";
import type { KeyOrRange } from "../../core/keys.ts";
import type { WatchEvent } from "../../watch/events.ts";
import type { ConcurrencyScope, Waiting } from "../scope.ts";

/**
 * The first event of `type` on `target` at or after `startRevision` (Go's recipe `WaitEvents`
 * and `WaitPrefixEvents`). The client's watch resumes across member failures; rejects with the
 * waiting's reason when its signal fires, or with the watch's own error (compaction, say).
 *
 * @example
 * const event = await waitEvent(scope, prefix(queuePrefix), revision, "put", waiting);
 */
export async function waitEvent(
  scope: ConcurrencyScope,
  target: KeyOrRange,
  startRevision: bigint,
  type: WatchEvent["type"],
  waiting: Pick<Waiting, "signal" | "reason">,
): Promise<WatchEvent> {
  const watcher = scope.watchStream.watch(
    target,
    { startRevision, signal: waiting.signal },
    scope.keyspace,
  );
  try {
    for await (const batch of watcher) {
      const event = batch.events.find((e) => e.type === type);
      if (event) return event;
    }
  } catch (error) {
    if (waiting.signal.aborted) throw waiting.reason();
    throw toEtcdError(error);
  } finally {
    void watcher.close();
  }
  throw waiting.reason();
}
