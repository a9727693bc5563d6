import type { WatchCreateRequest_FilterType } from "../../gen/etcdserverpb/rpc_pb.ts";
import type { Keyspace } from "../kv/keyspace.ts";
import type { WatchBatch } from "./events.ts";
import { type BufferedBatch, bufferedSize, readyBatch } from "./pending-batch.ts";

/** What a watcher asks etcd for, without the start revision (that moves as events arrive). */
export interface WatchSpec {
  key: Uint8Array;
  rangeEnd: Uint8Array;
  filters?: WatchCreateRequest_FilterType[];
  prevKv?: boolean;
  progressNotify?: boolean;
}

/**
 * Where a watcher is in its life on the shared stream:
 * - queued: waiting to be created on the stream (first time, after a reconnect, or after a pause)
 * - creating: its create request is the one in flight
 * - active: created; events flow
 * - paused: cancelled on the server because its consumer fell behind; created again from its
 *   next revision when the consumer catches up
 * - ended: closed, failed or cancelled; nothing more is delivered after the buffer
 */
export type WatchPhase = "queued" | "creating" | "active" | "paused" | "ended";

interface Waiter {
  resolve(result: IteratorResult<WatchBatch, undefined>): void;
  reject(error: unknown): void;
}

const NO_ITEMS: BufferedBatch[] = [];
const DONE: IteratorResult<WatchBatch, undefined> = { done: true, value: undefined };

/**
 * One watcher's state, shared by the stream (which feeds it) and the public `Watcher` (which reads
 * it): what to watch, the revision to resume from, the phase on the stream, and the bounded buffer
 * between the stream and the consumer.
 *
 * @example
 * const state = new WatchState(spec, 0n, keyspace, 1000);
 */
export class WatchState {
  readonly spec: WatchSpec;
  readonly keyspace: Keyspace;
  /** Buffered events at which the watcher is paused on the server. */
  readonly limit: number;
  /** The revision to (re-)create the watcher at; 0n = "now", until the first creation. */
  nextRevision: bigint;
  /** The watch id on the current stream, while created. */
  serverId: bigint | undefined;
  phase: WatchPhase = "queued";
  /** A slow-consumer check is scheduled. */
  checkPending = false;
  /** A refused create was retried with a fresh token since the last successful creation. */
  authRetried = false;
  /** Called when a paused watcher's consumer has drained the buffer to half the limit. */
  onDrained: ((state: WatchState) => void) | undefined;
  /** Called once when the watcher ends, however it ends. */
  onEnded: (() => void) | undefined;

  // TypeScript-private fields, not #private ones: V8 defines #fields like computed keys, and an
  // object given more than 12 of its properties that way outside its own slots becomes a
  // dictionary. After a few watchers had come and gone and a collection ran, V8 gave this
  // class no slots of its own, and every later WatchState was a dictionary: ~2,040 B per idle
  // watcher instead of ~640, and slower field access on every event.
  /** Batches not yet taken; `NO_ITEMS` (shared, never written) while there are none. */
  private items: BufferedBatch[] = NO_ITEMS;
  private head = 0;
  private bufferedCount = 0;
  // Fields that an idle watcher never needs are made when first needed, and `created` is a
  // promise only while someone waits for it: 10,000 idle watchers are mostly this object.
  private waiters: Waiter[] | undefined;
  private error: unknown;
  private hasError = false;
  /** `created` while the watcher is not yet created and someone asked for it. */
  private pendingCreated: PendingCreated | undefined;
  private firstCreatedRevision: bigint | undefined;
  /** Why the watcher ended before it was created, once it did. */
  private neverCreated: unknown;
  private cancelled: Array<() => void> | undefined;
  private goneFromServer = false;

  constructor(spec: WatchSpec, startRevision: bigint, keyspace: Keyspace, limit: number) {
    this.spec = spec;
    this.nextRevision = startRevision;
    this.keyspace = keyspace;
    this.limit = limit;
  }

  /** Events waiting for the consumer. */
  get bufferedEvents(): number {
    return this.bufferedCount;
  }

  /**
   * Resolves with the revision etcd reported when the watcher was first created; rejects if it
   * ended before that. Unhandled, its rejection is not reported as unhandled.
   */
  get created(): Promise<bigint> {
    if (this.firstCreatedRevision !== undefined) return Promise.resolve(this.firstCreatedRevision);
    if (this.phase === "ended") return handled(Promise.reject(this.neverCreated));
    if (this.pendingCreated === undefined) {
      let settle!: Omit<PendingCreated, "promise">;
      const promise = new Promise<bigint>((resolve, reject) => {
        settle = { resolve, reject };
      });
      this.pendingCreated = { ...settle, promise: handled(promise) };
    }
    return this.pendingCreated.promise;
  }

  /** The revision etcd reported at the first creation, once created. */
  get createdRevision(): bigint | undefined {
    return this.firstCreatedRevision;
  }

  /** The store revision when the watcher was last created on a stream. */
  lastCreatedRevision = 0n;

  /** The start revision of the create request in flight (diagnostics: where it resumes). */
  sentRevision = 0n;

  /** Why the next creation is a resumption: the stream failed, or a paused consumer caught up. */
  resumeReason: "stream" | "consumer" = "stream";

  /**
   * Records a creation on the stream (the first one resolves `created`). A watcher created at a
   * revision at or below this one is catching up on history until it passes it.
   */
  markCreated(revision: bigint): void {
    this.lastCreatedRevision = revision;
    if (this.firstCreatedRevision === undefined) {
      this.firstCreatedRevision = revision;
      this.pendingCreated?.resolve(revision);
      this.pendingCreated = undefined;
    }
  }

  /**
   * Hands event batches to the consumer. Returns true when the buffer reached the limit, so the
   * stream should pause the watcher on the server.
   */
  push(batches: readonly BufferedBatch[]): boolean {
    for (const batch of batches) this.deliver(batch);
    return this.bufferedCount >= this.limit;
  }

  /** Hands a bookmark to the consumer; an unread bookmark is replaced by a newer one. */
  pushProgress(batch: WatchBatch): void {
    const last = this.items[this.items.length - 1];
    if (this.items.length > this.head && last?.kind === "progress") {
      if (batch.revision >= last.revision) this.items[this.items.length - 1] = batch;
      return;
    }
    this.deliver(batch);
  }

  private deliver(batch: BufferedBatch): void {
    const waiter = this.waiters?.shift();
    if (waiter) {
      waiter.resolve({ done: false, value: readyBatch(batch) });
      return;
    }
    if (this.items === NO_ITEMS) this.items = [];
    this.items.push(batch);
    this.bufferedCount += bufferedSize(batch);
  }

  /** The next batch for the consumer: buffered, then the terminal error, then done. */
  take(): Promise<IteratorResult<WatchBatch, undefined>> {
    if (this.head < this.items.length) {
      const batch = this.items[this.head] as BufferedBatch;
      this.items[this.head] = undefined as unknown as BufferedBatch;
      this.head++;
      if (this.head === this.items.length) {
        this.items = NO_ITEMS;
        this.head = 0;
      } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
        this.items = this.items.slice(this.head);
        this.head = 0;
      }
      this.bufferedCount -= bufferedSize(batch);
      if (this.phase === "paused" && this.bufferedCount <= this.limit / 2) this.onDrained?.(this);
      return Promise.resolve({ done: false, value: readyBatch(batch) });
    }
    if (this.hasError) {
      const error = this.error;
      this.hasError = false;
      this.error = undefined;
      return Promise.reject(error);
    }
    if (this.phase === "ended") return Promise.resolve(DONE);
    return new Promise((resolve, reject) => {
      this.waiters ??= [];
      this.waiters.push({ resolve, reject });
    });
  }

  /**
   * Ends the watcher. With an error, the consumer gets the buffered batches first, then the
   * error; without one (the consumer closed it), the buffer is dropped.
   */
  end(error?: unknown): void {
    if (this.phase === "ended") return;
    this.phase = "ended";
    if (this.firstCreatedRevision === undefined) {
      this.neverCreated = error ?? new Error("watcher closed before it was created");
    }
    this.onDrained = undefined;
    const onEnded = this.onEnded;
    this.onEnded = undefined;
    onEnded?.();
    if (this.firstCreatedRevision === undefined) {
      this.pendingCreated?.reject(this.neverCreated);
      this.pendingCreated = undefined;
    }
    if (error === undefined) {
      this.items = NO_ITEMS;
      this.head = 0;
      this.bufferedCount = 0;
      for (const waiter of this.waiters?.splice(0) ?? []) waiter.resolve(DONE);
      return;
    }
    const waiters = this.waiters?.splice(0) ?? [];
    if (waiters.length > 0) {
      for (const waiter of waiters) waiter.reject(error);
      return;
    }
    this.error = error;
    this.hasError = true;
  }

  /** Resolves when etcd no longer has this watcher (cancel acknowledged, or its stream gone). */
  serverGone(): Promise<void> {
    if (this.goneFromServer) return Promise.resolve();
    return new Promise((resolve) => {
      this.cancelled ??= [];
      this.cancelled.push(resolve);
    });
  }

  /** Records that etcd no longer has this watcher. */
  markServerGone(): void {
    this.goneFromServer = true;
    for (const resolve of this.cancelled?.splice(0) ?? []) resolve();
  }
}

interface PendingCreated {
  promise: Promise<bigint>;
  resolve(revision: bigint): void;
  reject(error: unknown): void;
}

/** The promise, marked as handled: rejections nobody waits for are not reported. */
function handled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(ignore);
  return promise;
}

function ignore(): void {}
