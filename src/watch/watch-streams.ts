import type { KeyOrRange } from "../core/keys.ts";
import type { Keyspace } from "../kv/keyspace.ts";
import type { WatchStream } from "./watch-stream.ts";
import type { Watcher, WatchOptions } from "./watcher.ts";

/**
 * A stream takes new watchers until it carries this many. etcd queues a Watch stream's
 * responses in a buffer of 128 and sets aside the watchers whose event does not fit, to retry
 * them every 10 ms: 1,000 watchers of one key on one stream got a put's event up to 40-70 ms
 * later in one put of ten (etcd 3.4.23), against at most 11-15 ms spread over streams of 125.
 */
export const WATCHERS_PER_STREAM = 100;

/**
 * More watchers than streams of `WATCHERS_PER_STREAM` share the least loaded of this many (on
 * HTTP/2, where every stream rides the endpoint's one connection).
 */
export const MAX_WATCH_STREAMS = 16;

/**
 * The client's Watch streams: a watcher goes to the first stream with room, a new stream opens
 * when none has any (up to `maxStreams`), and each stream resumes its own watchers after
 * a failure. A watcher's events keep their order and come exactly once; between watchers on
 * different streams, nothing orders events, as between any two etcd watchers. A stream with no
 * watcher left closes its gRPC call and opens it again with the next watcher.
 *
 * @example
 * const streams = new WatchStreams(() => new WatchStream(createClient(Watch, transport), transport));
 * const watcher = streams.watch(prefix("cfg/"), {}, new Keyspace());
 */
export class WatchStreams {
  readonly #open: () => WatchStream;
  readonly #maxStreams: number;
  readonly #streams: WatchStream[] = [];
  #closed = false;

  /**
   * @param open makes one more stream
   * @param maxStreams at most this many streams (1 where each stream costs a connection, as a
   *   WebSocket to the gateway does)
   */
  constructor(open: () => WatchStream, maxStreams = MAX_WATCH_STREAMS) {
    this.#open = open;
    this.#maxStreams = Math.max(1, maxStreams);
  }

  /**
   * Starts a watcher on a stream with room; keys are mapped through `keyspace`.
   *
   * @example
   * const watcher = streams.watch("k", { prevKv: true }, keyspace);
   */
  watch(target: KeyOrRange, options: WatchOptions, keyspace: Keyspace): Watcher {
    return this.#pick().watch(target, options, keyspace);
  }

  /** A progress request on every stream with watchers: each created watcher gets a bookmark. */
  requestProgress(): void {
    for (const stream of this.#streams) if (stream.size > 0) stream.requestOwnProgress();
  }

  /** Ends every watcher with `ClientClosedError` and closes the streams. */
  close(): void {
    this.#closed = true;
    for (const stream of this.#streams) stream.close();
  }

  /** Watchers not yet ended, on all streams. */
  get size(): number {
    let size = 0;
    for (const stream of this.#streams) size += stream.size;
    return size;
  }

  /** True while any stream's gRPC call is open or being opened. */
  get open(): boolean {
    return this.#streams.some((stream) => stream.open);
  }

  /** Times a stream was (re)opened, all streams together; for tests and diagnostics. */
  get connects(): number {
    let connects = 0;
    for (const stream of this.#streams) connects += stream.connects;
    return connects;
  }

  /** Streams made so far. */
  get count(): number {
    return this.#streams.length;
  }

  #pick(): WatchStream {
    let least: WatchStream | undefined;
    for (const stream of this.#streams) {
      if (stream.size < WATCHERS_PER_STREAM) return stream;
      if (least === undefined || stream.size < least.size) least = stream;
    }
    if (least !== undefined && this.#streams.length >= this.#maxStreams) return least;
    const stream = this.#open();
    stream.progressRequested = () => this.requestProgress();
    if (this.#closed) stream.close();
    this.#streams.push(stream);
    return stream;
  }
}
