import { CanceledError } from "../core/errors.ts";
import type { Int64 } from "../core/numbers.ts";
import type { WatchBatch, WatchEvent } from "./events.ts";
import type { WatchState } from "./watch-state.ts";

/**
 * Options of `etcd.watch()`.
 *
 * @example
 * etcd.watch(prefix("cfg/"), { startRevision: list.revision + 1n, prevKv: true });
 */
export interface WatchOptions {
  /**
   * First revision to deliver (inclusive). Unset or 0: changes from the moment etcd creates the
   * watcher (see `watcher.ready()`). A compacted revision ends the watcher with
   * `WatchCompactedError`.
   */
  startRevision?: Int64;
  /** Include each event's previous key state (`event.prevKv`). */
  prevKv?: boolean;
  /** Leave out put events. */
  noPut?: boolean;
  /** Leave out delete events. */
  noDelete?: boolean;
  /**
   * Have etcd send a bookmark (`kind: "progress"`) now and then while nothing changes (etcd's
   * interval, 10 minutes unless the server sets `--experimental-watch-progress-notify-interval`).
   * It also lets the watcher resume past quiet stretches of history after a reconnect.
   */
  progressNotify?: boolean;
  /** Cancels the watch; the iteration then rejects with `CanceledError`. */
  signal?: AbortSignal;
  /**
   * Slow-consumer bound, default 1000: when this many events wait unread, the watcher is
   * cancelled on the server (the shared stream keeps flowing for every other watcher) and created
   * again from its next revision once the consumer has read half of them. Nothing is lost or
   * repeated; the cost is a catch-up read from etcd's history, which fails with
   * `WatchCompactedError` only if that history was compacted meanwhile. Memory per watcher stays
   * at about this many events plus one etcd response.
   */
  maxBufferedEvents?: number;
}

/** What a watcher asks of the stream that carries it (`WatchStream` implements it). */
export interface WatchControl {
  cancel(state: WatchState, error?: unknown): Promise<void>;
  requestProgress(): void;
}

/**
 * A watch on a key or range, on one of the client's shared Watch streams. Iterate it for batches
 * (all events of one revision, never split; bookmarks as `kind: "progress"`), or `events()` for
 * single events. It resumes by itself across member failures, with every revision exactly once and in
 * order. It ends when you break out of the loop, call `close()`, leave an `await using` scope or
 * fire the signal (each cancels the watcher on the server); or with an error:
 * `WatchCompactedError` (its next revision was compacted: re-list, then watch from the list's
 * revision + 1), `PermissionDeniedError` (refused by auth), `CanceledError` (your signal),
 * `ClientClosedError` (the client closed). Buffered batches are delivered before the error.
 * One consumer at a time.
 *
 * @example
 * await using watcher = etcd.watch(prefix("cfg/"), { prevKv: true });
 * for await (const batch of watcher) {
 *   for (const event of batch.events) console.log(event.type, event.kv.keyText, batch.revision);
 * }
 */
export class Watcher implements AsyncIterable<WatchBatch>, AsyncDisposable {
  readonly #state: WatchState;
  readonly #stream: WatchControl;
  readonly #signal: AbortSignal | undefined;
  #onAbort: (() => void) | undefined;

  /** @internal */
  constructor(state: WatchState, stream: WatchControl, signal: AbortSignal | undefined) {
    this.#state = state;
    this.#stream = stream;
    this.#signal = signal;
    if (!signal) return;
    const reason = () =>
      new CanceledError("watch cancelled by its signal", undefined, { cause: signal.reason });
    if (signal.aborted) {
      state.end(reason());
      state.markServerGone();
      return;
    }
    this.#onAbort = () => {
      this.#onAbort = undefined;
      void stream.cancel(state, reason());
    };
    signal.addEventListener("abort", this.#onAbort, { once: true });
    state.onEnded = () => this.#detach();
  }

  /**
   * Resolves with the store revision at which etcd created the watcher: from then on every
   * change is seen. Rejects if the watcher ends before it is created.
   *
   * @example
   * const watcher = etcd.watch("k");
   * await watcher.ready();
   * await etcd.put("k", "v"); // certainly seen
   */
  ready(): Promise<bigint> {
    return this.#state.created;
  }

  /** The revision the watcher resumes from after a reconnect (0n until created, for "now"). */
  get nextRevision(): bigint {
    return this.#state.nextRevision;
  }

  /** True once the watcher has ended (closed, cancelled or failed). */
  get closed(): boolean {
    return this.#state.phase === "ended";
  }

  /**
   * Asks etcd for a bookmark now: a `kind: "progress"` batch with the revision reached arrives
   * on every watcher of this client (the request is per stream, not per watcher).
   *
   * @example
   * watcher.requestProgress();
   */
  requestProgress(): void {
    this.#stream.requestProgress();
  }

  /**
   * Stops the watcher: buffered batches are dropped and the iteration ends. Resolves when etcd
   * acknowledged the cancel (or the stream carrying it is gone). Idempotent.
   *
   * @example
   * await watcher.close();
   */
  close(): Promise<void> {
    return this.#stream.cancel(this.#state);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  [Symbol.asyncIterator](): AsyncIterator<WatchBatch, undefined> {
    const state = this.#state;
    return {
      next: () => state.take(),
      return: () => {
        // Breaking out must not wait for etcd: a hung member would hold the loop until the ping
        // timeout. The cancel is sent now; close() is the call that waits.
        void this.close();
        return Promise.resolve({ done: true, value: undefined });
      },
    };
  }

  /**
   * The events one by one (bookmarks skipped). Ending the loop closes the watcher.
   *
   * @example
   * for await (const event of etcd.watch(prefix("jobs/")).events()) console.log(event.kv.keyText);
   */
  async *events(): AsyncGenerator<WatchEvent, void, undefined> {
    try {
      for await (const batch of this) yield* batch.events;
    } finally {
      void this.close();
    }
  }

  #detach(): void {
    if (this.#onAbort) {
      this.#signal?.removeEventListener("abort", this.#onAbort);
      this.#onAbort = undefined;
    }
  }
}
