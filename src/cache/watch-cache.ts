import { canceledError, deadlineError, sleep } from "../connection/signals.ts";
import type { CallOptions } from "../core/call-options.ts";
import {
  ClientClosedError,
  CompactedError,
  type EtcdError,
  FutureRevisionError,
  InvalidArgumentError,
  toEtcdError,
} from "../core/errors.ts";
import { type Bytes, type KeyOrRange, toBytes } from "../core/keys.ts";
import { type Int64, toInt64 } from "../core/numbers.ts";
import type { KeyValue } from "../kv/key-value.ts";
import type { WatchEvent } from "../watch/events.ts";
import type { Watcher, WatchOptions } from "../watch/watcher.ts";
import type { CacheChange } from "./cache-change.ts";
import { diffSnapshot } from "./cache-change.ts";
import { CacheStore } from "./cache-store.ts";
import { Feed } from "./feed.ts";
import { KeyBounds, orderKey } from "./key-order.ts";
import { ownedCopy, type RangeSource, readSnapshot, type Snapshot } from "./snapshot.ts";

/** What a cache reads from: the client or a namespace. */
export interface CacheSource extends RangeSource {
  watch(target: KeyOrRange, options?: WatchOptions): Watcher;
}

/**
 * Options of `etcd.cache()`.
 *
 * @example
 * const cache = await etcd.cache(prefix("cfg/"), { pageSize: 500, signal });
 */
export interface CacheOptions {
  /** Keys per request while listing, default 1000. Every page is read at one revision. */
  pageSize?: number;
  /** Closes the cache when it fires (as `close()` does). */
  signal?: AbortSignal;
}

/**
 * What the cache's range read gives: the cached keys inside a range, in key order, and the
 * revision of the store they reflect.
 *
 * @example
 * const { revision, kvs } = cache.range(prefix("cfg/db/"));
 */
export interface CacheRangeResult {
  readonly revision: bigint;
  readonly kvs: readonly KeyValue[];
}

const BACKOFF_BASE_MS = 50;
const BACKOFF_MAX_MS = 3_000;
const PROBE_FIRST_MS = 100;
const PROBE_MAX_MS = 2_000;

interface RevisionWaiter {
  readonly revision: bigint;
  resolve(revision: bigint): void;
  reject(error: unknown): void;
}

/**
 * An in-memory copy of a key range, kept up to date by one watch. It lists the range at one
 * revision (paged, every page pinned to the first page's revision), then watches from the next
 * revision, so it never misses or repeats a change; reads (`get`, `range`, iteration) are served
 * from memory and say the revision they reflect. When the watch falls behind a compaction, or
 * is lost for another reason, the cache lists again and delivers the difference between what
 * it held and what it listed as one `resync` change: subscribers see one consistent step, never
 * a half-applied state. Member failures need no relist: the watch resumes on another member.
 *
 * Any number of local subscribers (`onChange`, `changes()`) share the cache's one watcher, and
 * that watcher shares the client's Watch streams.
 *
 * Memory: the key and value bytes plus about 650 bytes per cached key (Node 24: the
 * `KeyValue`, its two byte views and their buffer, four bigints, the index entries). Measured
 * with `node --expose-gc bench/cache-memory.ts`: 100,000 keys of 20 bytes with 100-byte values
 * took 77 MB, 770 bytes per key.
 *
 * @example
 * await using cache = await etcd.cache(prefix("cfg/"));
 * cache.get("cfg/a")?.text;
 * const { revision } = await etcd.put("cfg/a", "2");
 * await cache.waitForRevision(revision);      // read your own write
 * cache.get("cfg/a")?.text;                  // "2"
 */
export class WatchCache implements Iterable<KeyValue>, AsyncDisposable {
  readonly #source: CacheSource;
  readonly #target: KeyOrRange;
  readonly #bounds: KeyBounds;
  readonly #pageSize: number;
  readonly #store = new CacheStore();
  readonly #changes = new Feed<CacheChange>();
  readonly #errors = new Feed<EtcdError>();
  readonly #controller = new AbortController();
  readonly #waiters = new Set<RevisionWaiter>();
  readonly #userSignal: AbortSignal | undefined;
  readonly #onUserAbort = () => this.#shutdown();
  #revision = 0n;
  #watcher: Watcher | undefined;
  #probing = false;
  #closedError: EtcdError | undefined;
  #closed = false;
  #done: Promise<void> = Promise.resolve();

  private constructor(source: CacheSource, target: KeyOrRange, options: CacheOptions) {
    this.#source = source;
    this.#target = target;
    this.#bounds = KeyBounds.of(target);
    const pageSize = options.pageSize ?? 1000;
    if (!Number.isSafeInteger(pageSize) || pageSize <= 0) {
      throw new InvalidArgumentError(`pageSize must be a positive integer, got ${pageSize}`);
    }
    this.#pageSize = pageSize;
    this.#userSignal = options.signal;
  }

  /**
   * @internal Lists the range and starts watching it; resolves once the cache holds the first
   * listing and etcd created its watcher (or the first attempt failed: then it retries). Made by `etcd.cache()` and `namespace.cache()`.
   */
  static async open(
    source: CacheSource,
    target: KeyOrRange,
    options: CacheOptions = {},
  ): Promise<WatchCache> {
    const cache = new WatchCache(source, target, options);
    await cache.#start();
    return cache;
  }

  /** The store revision the cached state reflects: every change up to it is applied. */
  get revision(): bigint {
    return this.#revision;
  }

  /** How many keys the cache holds. */
  get size(): number {
    return this.#store.size;
  }

  /** True once the cache is closed (by `close()`, its signal, or the client closing). */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * A cached key, or undefined when the range holds no such key (at `revision`). The key must
   * be inside the cached range.
   *
   * @example
   * const kv = cache.get("cfg/a");
   */
  get(key: Bytes): KeyValue | undefined {
    const bytes = toBytes(key, "key");
    const ordered = orderKey(bytes);
    if (!this.#bounds.contains(ordered)) this.#bounds.assertCovers(KeyBounds.of(bytes));
    return this.#store.get(ordered);
  }

  /**
   * The cached keys of a range (by default the whole cached range), in key order, with the
   * revision they reflect. The range must lie inside the cached one.
   *
   * @example
   * const { kvs, revision } = cache.range(prefix("cfg/db/"));
   */
  range(target?: KeyOrRange): CacheRangeResult {
    const bounds = target === undefined ? this.#bounds : KeyBounds.of(target);
    this.#bounds.assertCovers(bounds);
    return { revision: this.#revision, kvs: this.#store.range(bounds) };
  }

  /**
   * Every cached key, in key order, as of now (later changes do not affect an iteration
   * already begun).
   *
   * @example
   * for (const kv of cache) console.log(kv.keyText, kv.text);
   */
  [Symbol.iterator](): Iterator<KeyValue> {
    return this.#store.range(this.#bounds)[Symbol.iterator]();
  }

  /**
   * Resolves once the cache reflects `revision` (for instance the revision of your own put:
   * read-your-writes), with the revision reached. A revision that changed nothing in the range
   * is confirmed with a progress request on the watch stream, or else by a small keys-only read
   * that shows the range did not change (the cache then moves to that revision; a key created
   * and deleted again between the two revisions is then never delivered, as it changed nothing).
   * Rejects with `CanceledError`/`TimeoutError` from the signal or `timeoutMs`, or
   * `ClientClosedError` once the cache is closed.
   *
   * @example
   * const { revision } = await etcd.put("cfg/a", "2");
   * await cache.waitForRevision(revision, { timeoutMs: 5000 });
   */
  waitForRevision(revision: Int64, options: CallOptions = {}): Promise<bigint> {
    const wanted = toInt64(revision, "revision");
    if (wanted <= this.#revision) return Promise.resolve(this.#revision);
    if (this.#closed) return Promise.reject(this.#closedReason());
    const { signal, timeoutMs } = options;
    return new Promise<bigint>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const cleanup = () => {
        this.#waiters.delete(waiter);
        if (timer) clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
      };
      const waiter: RevisionWaiter = {
        revision: wanted,
        resolve: (reached) => {
          cleanup();
          resolve(reached);
        },
        reject: (error) => {
          cleanup();
          reject(error);
        },
      };
      const onAbort = () =>
        waiter.reject(toEtcdError(canceledError(signal as AbortSignal), options));
      if (signal?.aborted) return onAbort();
      signal?.addEventListener("abort", onAbort, { once: true });
      if (timeoutMs !== undefined && timeoutMs > 0) {
        timer = setTimeout(() => waiter.reject(toEtcdError(deadlineError(timeoutMs))), timeoutMs);
      }
      this.#waiters.add(waiter);
      this.#watcher?.requestProgress();
      void this.#probe();
    });
  }

  /**
   * Calls `listener` with every change after it is applied; returns a function that stops it.
   *
   * @example
   * const off = cache.onChange((change) => console.log(change.kind, change.revision));
   */
  onChange(listener: (change: CacheChange) => void): () => void {
    return this.#changes.subscribe(listener);
  }

  /**
   * Calls `listener` with what goes wrong while the cache keeps itself up to date (a
   * compaction that forced a relist, a lost watch, a failed listing it retries); the cache
   * carries on. Returns a function that stops it.
   *
   * @example
   * cache.onError((error) => console.warn("cache:", error.message));
   */
  onError(listener: (error: EtcdError) => void): () => void {
    return this.#errors.subscribe(listener);
  }

  /**
   * The changes from now on as an async iterator. It ends when the signal fires, the loop
   * breaks or the cache is closed (with `ClientClosedError` when the client closed). Each
   * iterator buffers what its consumer has not read yet.
   *
   * @example
   * for await (const change of cache.changes({ signal })) render(cache.range().kvs);
   */
  changes(options: { signal?: AbortSignal } = {}): AsyncIterableIterator<CacheChange> {
    return this.#changes.iterate(options.signal);
  }

  /**
   * Stops the watch and ends every subscriber; resolves once etcd dropped the watcher. Reads
   * keep answering from the last state. Idempotent.
   *
   * @example
   * await cache.close();
   */
  async close(): Promise<void> {
    const watcher = this.#watcher;
    this.#shutdown();
    await Promise.all([this.#done, watcher?.close()]);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #start(): Promise<void> {
    const signal = this.#controller.signal;
    if (this.#userSignal?.aborted) this.#shutdown();
    this.#userSignal?.addEventListener("abort", this.#onUserAbort, { once: true });
    let first: Snapshot;
    try {
      first = await readSnapshot(this.#source, this.#target, this.#pageSize, { signal });
    } catch (error) {
      this.#shutdown(error);
      throw toEtcdError(error);
    }
    this.#replace(first);
    let watching: () => void = () => {};
    const created = new Promise<void>((resolve) => {
      watching = resolve;
    });
    this.#done = this.#run(first.revision, watching).finally(watching);
    await created;
  }

  /** Watches from `listed + 1`; relists (and watches again) whenever the watch ends with an error. */
  async #run(listed: bigint, watching: () => void): Promise<void> {
    const signal = this.#controller.signal;
    let failures = 0;
    let next: bigint | undefined = listed + 1n;
    while (!this.#closed) {
      try {
        if (next === undefined) {
          const snapshot = await readSnapshot(this.#source, this.#target, this.#pageSize, {
            signal,
          });
          this.#resync(snapshot);
          next = snapshot.revision + 1n;
        }
        failures = 0;
        const watcher = this.#source.watch(this.#target, { startRevision: next, signal });
        this.#watcher = watcher;
        if (this.#waiters.size > 0) watcher.requestProgress();
        watcher.ready().then(watching, watching);
        for await (const batch of watcher) {
          if (batch.kind === "progress") this.#advance(batch.revision);
          else this.#apply(batch.revision, batch.events);
        }
        return; // ended without an error: closed
      } catch (error) {
        this.#watcher = undefined;
        // open() resolves with the first listing even when the watch cannot be made yet: the
        // cache keeps trying and reports why.
        watching();
        if (this.#closed) return;
        const mapped = toEtcdError(error);
        if (mapped instanceof ClientClosedError) {
          this.#shutdown(mapped);
          return;
        }
        this.#errors.emit(mapped);
        next = undefined; // list again
        if (!(mapped instanceof CompactedError)) {
          failures++;
          const cap = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.min(failures, 10));
          await sleep(cap / 2 + Math.random() * (cap / 2), signal);
        }
      }
    }
  }

  /** The first listing: fills the store without a change (there is no previous state). */
  #replace(snapshot: Snapshot): void {
    for (const kv of snapshot.kvs) this.#store.set(orderKey(kv.key), kv);
    this.#revision = snapshot.revision;
  }

  /** A later listing: applies and delivers the difference as one change. */
  #resync(snapshot: Snapshot): void {
    const events = diffSnapshot(this.#store, snapshot);
    for (const event of events) {
      const key = orderKey(event.kv.key);
      if (event.type === "put") this.#store.set(key, event.kv);
      else this.#store.delete(key);
    }
    if (snapshot.revision > this.#revision) this.#revision = snapshot.revision;
    if (events.length > 0) {
      this.#changes.emit({ kind: "resync", revision: this.#revision, events });
    }
    this.#settleWaiters();
  }

  #apply(revision: bigint, events: readonly WatchEvent[]): void {
    // At or below the revision reached: already reflected (see #probe).
    if (revision <= this.#revision) return;
    const applied: WatchEvent[] = [];
    for (const event of events) {
      const kv = ownedCopy(event.kv);
      const key = orderKey(kv.key);
      const prevKv = this.#store.get(key);
      if (event.type === "put") this.#store.set(key, kv);
      else this.#store.delete(key);
      applied.push({ type: event.type, kv, prevKv });
    }
    this.#revision = revision;
    this.#changes.emit({ kind: "watch", revision, events: applied });
    this.#settleWaiters();
  }

  #advance(revision: bigint): void {
    if (revision <= this.#revision) return;
    this.#revision = revision;
    this.#settleWaiters();
  }

  #settleWaiters(): void {
    for (const waiter of [...this.#waiters]) {
      if (waiter.revision <= this.#revision) waiter.resolve(this.#revision);
    }
  }

  /**
   * While someone waits for a revision: asks for progress bookmarks, and if none arrives in
   * time, checks directly whether the range changed between the cached revision and the one
   * waited for. One keys-only read at that revision, of only the keys modified after the cached
   * revision: when it finds none, and the range holds as many keys as the cache, the state at
   * that revision is the cached state (every key the cache holds is unchanged, and no other
   * key exists), so the cache moves to it; events at or below it that arrive later change
   * nothing and are skipped. Bookmarks alone do not suffice: etcd before 3.4.24 and 3.5.8 may
   * send a stream-wide bookmark ahead of events, so the watch stream withholds them from a
   * watcher that may still be catching up.
   */
  async #probe(): Promise<void> {
    if (this.#probing) return;
    this.#probing = true;
    let delay = PROBE_FIRST_MS;
    try {
      while (this.#waiters.size > 0 && !this.#closed) {
        await sleep(delay, this.#controller.signal);
        if (this.#waiters.size === 0 || this.#closed) return;
        this.#watcher?.requestProgress();
        const from = this.#revision;
        const target = [...this.#waiters].reduce(
          (max, w) => (w.revision > max ? w.revision : max),
          0n,
        );
        if (target <= from) continue;
        try {
          const result = await this.#source.range(this.#target, {
            revision: target,
            keysOnly: true,
            minModRevision: from + 1n,
            signal: this.#controller.signal,
          });
          if (this.#revision === from && result.kvs.length === 0) {
            if (result.count === BigInt(this.#store.size)) this.#advance(target);
          }
        } catch (error) {
          // A revision not reached yet (waiting for a future write), or compacted (the watch will
          // relist): keep waiting.
          const mapped = toEtcdError(error);
          if (!(mapped instanceof FutureRevisionError || mapped instanceof CompactedError)) {
            if (this.#closed) return;
            this.#errors.emit(mapped);
          }
        }
        delay = Math.min(PROBE_MAX_MS, delay * 2);
      }
    } finally {
      this.#probing = false;
    }
  }

  #closedReason(): EtcdError {
    return this.#closedError ?? new ClientClosedError("the cache is closed");
  }

  #shutdown(error?: unknown): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#userSignal?.removeEventListener("abort", this.#onUserAbort);
    const mapped = error === undefined ? undefined : toEtcdError(error);
    if (mapped instanceof ClientClosedError) this.#closedError = mapped;
    this.#controller.abort(new ClientClosedError("the cache is closed"));
    const reason = this.#closedReason();
    for (const waiter of [...this.#waiters]) waiter.reject(reason);
    this.#changes.close(mapped instanceof ClientClosedError ? mapped : undefined);
    this.#errors.close();
  }
}
