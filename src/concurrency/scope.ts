import { sleep } from "../connection/signals.ts";
import type { EtcdError } from "../core/errors.ts";
import { prefix } from "../core/keys.ts";
import type { KeyValue } from "../kv/key-value.ts";
import type { Keyspace } from "../kv/keyspace.ts";
import type { KV } from "../kv/kv.ts";
import type { RangeResult } from "../kv/results.ts";
import type { RangeOptions } from "../kv/txn.ts";
import type { LeaseClient } from "../lease/lease-client.ts";
import type { WatchStreams } from "../watch/watch-streams.ts";
import { isTransient, retrying } from "./retry.ts";

/**
 * Where concurrency primitives live: the client, and the key space (plain or a namespace) their
 * keys are read and written through.
 *
 * @example
 * const scope: ConcurrencyScope = { etcd, kv: ns.kv, keyspace: ns.keyspace };
 */
export interface ConcurrencyScope {
  /** Leases of the client (sessions are kept alive on its shared stream). */
  readonly lease: LeaseClient;
  /** The client's shared Watch streams. */
  readonly watchStream: WatchStreams;
  readonly kv: KV;
  readonly keyspace: Keyspace;
}

/** What a waiting operation needs: its signal, why it stopped, and the per-attempt deadline. */
export interface Waiting {
  readonly signal: AbortSignal;
  readonly reason: () => EtcdError;
  readonly attemptTimeoutMs: number;
}

/**
 * How often a waiter checks with a read that the key it waits on still exists, besides watching
 * it: a watch on a hung member stays silent until the connection's ping timeout, a read moves on.
 */
export const RECHECK_MS = 5_000;

/** Range options of Go's `WithFirstCreate()` (the oldest key of a prefix). */
export const FIRST_CREATED: RangeOptions = {
  sortTarget: "createRevision",
  sortOrder: "ascend",
  limit: 1,
};

/**
 * The key of `prefixBytes` created first: the lock owner or election leader.
 *
 * @example
 * const { kvs } = await firstCreated(scope, prefixBytes, options);
 */
export function firstCreated(
  scope: ConcurrencyScope,
  prefixBytes: Uint8Array,
  options: { signal?: AbortSignal; timeoutMs?: number },
): Promise<RangeResult> {
  return scope.kv.range(prefix(prefixBytes), { ...FIRST_CREATED, ...options });
}

/**
 * Waits until no key of `prefixBytes` created at or before `maxCreateRevision` is left, as Go's
 * concurrency package does: find the newest such key, wait for its deletion, repeat. Transient
 * failures are retried until the waiting signal fires.
 *
 * @example
 * await waitDeletes(scope, prefixBytes, myRevision - 1n, waiting);
 */
export async function waitDeletes(
  scope: ConcurrencyScope,
  prefixBytes: Uint8Array,
  maxCreateRevision: bigint,
  waiting: Waiting,
): Promise<void> {
  for (;;) {
    const result = await retrying(waiting.signal, waiting.attemptTimeoutMs, waiting.reason, (o) =>
      scope.kv.range(prefix(prefixBytes), {
        sortTarget: "createRevision",
        sortOrder: "descend",
        limit: 1,
        maxCreateRevision,
        ...o,
      }),
    );
    const newest = result.kvs[0];
    if (!newest) return;
    await waitDelete(scope, newest, result.revision + 1n, waiting);
  }
}

/**
 * Resolves when `kv.key` is deleted (seen on a watch from `fromRevision`, or by a read that finds
 * it gone or re-created), or when the watch ends for any other reason: the caller looks again.
 */
async function waitDelete(
  scope: ConcurrencyScope,
  kv: KeyValue,
  fromRevision: bigint,
  waiting: Waiting,
): Promise<void> {
  const stop = new AbortController();
  const signal = AbortSignal.any([waiting.signal, stop.signal]);
  const watcher = scope.watchStream.watch(
    kv.key,
    { startRevision: fromRevision, noPut: true, signal },
    scope.keyspace,
  );
  const watched = (async () => {
    try {
      for await (const batch of watcher) {
        if (batch.events.some((e) => e.type === "delete")) return;
      }
    } catch {
      // Ended (compaction, cancel, client closed): the caller reads the prefix again.
    }
  })();
  const rechecked = (async () => {
    for (;;) {
      await sleep(RECHECK_MS, signal);
      if (signal.aborted) return;
      try {
        const now = await scope.kv.get(kv.key, {
          signal,
          timeoutMs: waiting.attemptTimeoutMs,
          keysOnly: true,
        });
        if (!now || now.createRevision !== kv.createRevision) return;
      } catch (error) {
        // Transient: try again at the next check. Otherwise the caller's read reports it.
        if (!isTransient(error)) return;
      }
    }
  })();
  try {
    await Promise.race([watched, rechecked]);
  } finally {
    stop.abort();
    void watcher.close();
  }
}
