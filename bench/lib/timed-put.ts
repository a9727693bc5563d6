import type { WatcherCrowd } from "./bench-client.ts";

/**
 * One put of a watched key, for put-to-event latency: registers the time just before the put
 * in `sentAt` under `expected` (the revision the put should get: its events may arrive before
 * it returns) and under the revision it got, if another write came between; waits until every
 * watcher of `crowd` has the event, then forgets both entries. Returns the put's revision.
 *
 * @example
 * const revision = await timedPut(() => admin.put(key, "x"), next, sentAt, crowd);
 */
export async function timedPut(
  put: () => Promise<{ revision: bigint }>,
  expected: number,
  sentAt: Map<number, number>,
  crowd: WatcherCrowd,
): Promise<number> {
  const t = performance.now();
  const pending = put();
  sentAt.set(expected, t);
  const revision = Number((await pending).revision);
  if (revision !== expected) sentAt.set(revision, t);
  await crowd.reached(revision);
  sentAt.delete(expected);
  sentAt.delete(revision);
  return revision;
}
