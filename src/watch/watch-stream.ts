import type { MessageInitShape } from "@bufbuild/protobuf";
import { type Client, Code, ConnectError } from "@connectrpc/connect";
import {
  Watch,
  WatchCreateRequest_FilterType,
  type WatchRequestSchema,
} from "../../gen/etcdserverpb/rpc_pb.ts";
import type { FrameStream, FrameStreamHandler } from "../connection/frame-stream.ts";
import {
  isStaleTokenError,
  STALE_TOKEN_PAUSE_MS,
  STALE_TOKEN_RETRIES,
  type TokenProvider,
} from "../connection/pool-transport.ts";
import { PushQueue } from "../connection/push-queue.ts";
import {
  AuthFailedError,
  ClientClosedError,
  type EtcdError,
  InvalidArgumentError,
  PermissionDeniedError,
  ResponseTooLargeError,
  toEtcdError,
  UnavailableError,
  UserEmptyError,
  WatchCompactedError,
} from "../core/errors.ts";
import { EtcdMessage } from "../core/etcd-messages.ts";
import { type KeyOrRange, toKeyRange } from "../core/keys.ts";
import { nextTurn } from "../core/next-turn.ts";
import { toInt64 } from "../core/numbers.ts";
import { type ClientEvents, silentEvents } from "../diagnostics/client-events.ts";
import type { Keyspace } from "../kv/keyspace.ts";
import { progressBatch, toBatches, type WatchEvent } from "./events.ts";
import type { BufferedBatch } from "./pending-batch.ts";
import type { WatchFrameCodec } from "./watch-frame-codec.ts";
import { messageReply, type WatchReply } from "./watch-reply.ts";
import { type WatchSpec, WatchState } from "./watch-state.ts";
import { type WatchControl, Watcher, type WatchOptions } from "./watcher.ts";

type WatchRequestInit = MessageInitShape<typeof WatchRequestSchema>;

/**
 * What the watch stream needs of the client's transport (the pool transport): the auth token
 * provider, and where it has one, a raw frame stream for the Watch call.
 *
 * @example
 * const stream = new WatchStream(createClient(Watch, etcd.transport), etcd.transport);
 */
export interface WatchTransport {
  readonly auth: TokenProvider | undefined;
  frameStream?(
    method: typeof Watch.method.watch,
    header: HeadersInit | undefined,
    handler: FrameStreamHandler,
  ): Promise<FrameStream | undefined>;
}

/**
 * Buffered events per watcher before it is paused on the server (see `WatchOptions`).
 *
 * @example
 * etcd.watch(prefix("logs/"), { maxBufferedEvents: DEFAULT_MAX_BUFFERED_EVENTS * 10 });
 */
export const DEFAULT_MAX_BUFFERED_EVENTS = 1000;
const BACKOFF_BASE_MS = 50;
const BACKOFF_MAX_MS = 3_000;
const PROGRESS_ID = -1n;
/** Create requests in flight at most on one stream. */
const CREATE_WINDOW = 256;
const STREAM_HEADERS = { hasleader: "true" } as const;
/** `#serveFrames`: the transport has no frame stream for this call; use Connect's. */
const NO_FRAME_STREAM = Symbol("no frame stream");

/** One open Watch stream and what is in flight on it. */
interface Connection {
  readonly controller: AbortController;
  /** Requests made before the stream was there to take them, in order. */
  backlog: WatchRequestInit[];
  /** The stream as raw frames (lean transport): requests of one turn leave in one write. */
  frames: FrameStream | undefined;
  /**
   * The requests of Connect's bidi call (any other transport); Connect's createWritableIterable
   * would make each write await once per message queued before it.
   */
  requests: PushQueue<WatchRequestInit> | undefined;
  /** A flush of the backlog to `frames` is scheduled. */
  flushing: boolean;
  /** etcd answered at least once on this stream. */
  answered: boolean;
  /** Closed on purpose (no watchers left, or the client closed): no backoff, no error. */
  retired: boolean;
}

/**
 * One bidirectional Watch stream, shared by up to `WATCHERS_PER_STREAM` watchers of a client
 * (`WatchStreams` spreads them; etcd's own client shares a stream per auth identity).
 *
 * - Create requests are pipelined, up to `CREATE_WINDOW` unanswered (10,000 watchers resume
 *   after a failover in a few round trips, not 10,000); each `created` reply belongs to the
 *   oldest create in flight. etcd (3.4 to 3.7) handles a stream's requests in order and sends
 *   every `created` reply, refusals included, through one ordered control queue, so the order
 *   is exact; ids cannot be used to match, as a refusal comes back with watch id -1.
 * - Large responses: etcd sends a watcher up to 1000 revisions in one response while it catches
 *   up, so a response can be big. They come whole (etcd's fragmenting is quadratic in the events
 *   per response: 100,000 events took 26 s in fragments, 1.2 s whole, on etcd 3.4.23), until one
 *   exceeds the client's `maxReceiveBytes`; then the stream reopens asking etcd to split
 *   responses at its request size limit (`fragment: true`), and the fragments are merged before
 *   delivery. A fragment still too large (a single event over `maxReceiveBytes`) is fatal.
 * - Each watcher's next revision is the last event's revision + 1, or after a progress
 *   notification for that watcher its revision + 1, or for a watch from "now" the creation
 *   header's revision + 1. Stream-wide progress replies (watch id -1, from `requestProgress()`)
 *   reach every created watcher that is not replaying history as bookmarks, and do not move the
 *   next revision: etcd before 3.4.24/3.5.8 sends them ahead of events still in flight (etcd
 *   issue 15220; seen here on 3.4.23 with a watcher replaying from revision 1).
 * - When the stream fails (member killed, hung past the keep-alive ping timeout, no leader with
 *   `hasleader`, connection reset), it is opened again through the client's endpoint pool
 *   (another endpoint when there are several) after an exponential, capped, jittered backoff,
 *   and every watcher is created again at its next revision: nothing is lost or repeated.
 * - When the last watcher ends, the stream is closed; the next watch opens a new one.
 * - On the lean transport the stream is a `FrameStream`: responses are decoded from their bytes
 *   straight into events (`WatchResponseDecoder`), with no async iterable or message object per
 *   response; on any other transport (gateway, interceptors) it is Connect's bidi call.
 *
 * @example
 * const stream = new WatchStream(createClient(Watch, etcd.transport), etcd.transport);
 * const watcher = stream.watch(prefix("cfg/"), {}, new Keyspace());
 */
export class WatchStream implements WatchControl {
  readonly #client: Client<typeof Watch>;
  readonly #transport: WatchTransport | undefined;
  readonly #frameCodec: WatchFrameCodec | undefined;
  readonly #decoder: { read(payload: Uint8Array): WatchReply } | undefined;
  readonly #watchers = new Set<WatchState>();
  #queue: WatchState[] = [];
  /** Create requests sent and not yet answered, oldest first. */
  #creating: WatchState[] = [];
  readonly #byId = new Map<bigint, WatchState>();
  /** Watch ids we sent a cancel for, and whose watcher waits for the acknowledgement. */
  readonly #cancelling = new Map<bigint, WatchState>();
  readonly #fragments = new Map<bigint, WatchEvent[]>();
  #conn: Connection | undefined;
  #running = false;
  #closed = false;
  #progressWanted = false;
  #wake: (() => void) | undefined;
  #refreshToken = false;
  /** Ask etcd to split large responses (after one exceeded maxReceiveBytes). */
  #fragment = false;
  /** Times the stream was (re)opened; for tests and diagnostics. */
  connects = 0;
  readonly #events: ClientEvents;
  /** The last stream ended by a failure (not retired for lack of watchers). */
  #failed = false;

  /**
   * @param client the generated Watch client over the client's transport
   * @param transport the client's transport: where the auth token comes from, so that a create
   *   refused because the token expired is retried once with a fresh token, and the frame
   *   stream when it has one
   * @param events where the stream reports reopening and resumed watchers
   * @param frameCodec the Watch call's bytes for the transport's frame stream; without it the
   *   stream is always Connect's bidi call
   */
  constructor(
    client: Client<typeof Watch>,
    transport?: WatchTransport,
    events: ClientEvents = silentEvents,
    frameCodec?: WatchFrameCodec,
  ) {
    this.#client = client;
    this.#transport = transport;
    this.#events = events;
    this.#frameCodec = frameCodec;
    this.#decoder = frameCodec?.decoder();
  }

  /** Watchers not yet ended. */
  get size(): number {
    return this.#watchers.size;
  }

  /** True while a Watch stream is open or being opened. */
  get open(): boolean {
    return this.#conn !== undefined;
  }

  /**
   * Starts a watcher on this stream; keys are mapped through `keyspace`.
   *
   * @example
   * const watcher = stream.watch(prefix("cfg/"), { prevKv: true }, keyspace);
   */
  watch(target: KeyOrRange, options: WatchOptions, keyspace: Keyspace): Watcher {
    if (this.#closed) throw new ClientClosedError("etcd client is closed");
    const { spec, startRevision, limit } = toSpec(target, options ?? {}, keyspace);
    const state = new WatchState(spec, startRevision, keyspace, limit);
    const watcher = new Watcher(state, this, options?.signal);
    if (state.phase === "ended") return watcher;
    state.onDrained = this.#onDrained;
    this.#watchers.add(state);
    this.#queue.push(state);
    if (this.#running) this.#sendNextCreate();
    else this.#start();
    return watcher;
  }

  /**
   * Ends a watcher: it is cancelled on the server (or simply not created). Resolves when etcd
   * acknowledged the cancel or the stream that carried it is gone.
   */
  cancel(state: WatchState, error?: unknown): Promise<void> {
    const phase = state.phase;
    if (phase === "ended") return state.serverGone();
    state.end(error);
    this.#watchers.delete(state);
    const id = state.serverId;
    state.serverId = undefined;
    switch (phase) {
      case "active":
        if (id !== undefined && this.#conn && !this.#conn.retired) {
          this.#byId.delete(id);
          this.#fragments.delete(id);
          this.#cancelling.set(id, state);
          this.#send({ requestUnion: { case: "cancelRequest", value: { watchId: id } } });
        } else state.markServerGone();
        break;
      case "queued": {
        const index = this.#queue.indexOf(state);
        if (index >= 0) this.#queue.splice(index, 1);
        state.markServerGone();
        break;
      }
      case "paused":
        // Its pause cancel may still be in flight: then the acknowledgement settles it.
        if (![...this.#cancelling.values()].includes(state)) state.markServerGone();
        break;
      // "creating": its created reply (or the stream's end) settles it.
    }
    this.#maybeRetire();
    return state.serverGone();
  }

  /**
   * What a watcher's `requestProgress()` does: by default a progress request on this stream;
   * `WatchStreams` sets it to ask on each of the client's streams.
   */
  progressRequested: (() => void) | undefined;

  /** A watcher's request for progress (see `progressRequested`). */
  requestProgress(): void {
    if (this.progressRequested) this.progressRequested();
    else this.requestOwnProgress();
  }

  /**
   * Asks etcd for a progress notification on this stream; every created watcher gets a bookmark.
   * Sent when the stream is next open if it is not open now.
   */
  requestOwnProgress(): void {
    if (this.#conn) this.#sendProgress();
    else this.#progressWanted = true;
  }

  /** Ends every watcher with `ClientClosedError` and closes the stream. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const error = new ClientClosedError("etcd client is closed");
    for (const state of [...this.#watchers]) {
      state.end(error);
      state.markServerGone();
    }
    this.#watchers.clear();
    this.#queue = [];
    if (this.#conn) {
      this.#conn.retired = true;
      this.#conn.controller.abort(error);
    }
    this.#wake?.();
  }

  #start(): void {
    this.#running = true;
    this.#run().then(
      () => {
        this.#running = false;
      },
      (error: unknown) => {
        // Unreachable by design; never leave watchers hanging if it happens.
        this.#running = false;
        this.#failAll(toEtcdError(error));
      },
    );
  }

  async #run(): Promise<void> {
    let failures = 0;
    let staleTokenRetries = 0;
    while (!this.#closed && this.#watchers.size > 0) {
      if (this.#refreshToken) {
        this.#refreshToken = false;
        try {
          await this.#transport?.auth?.refresh(undefined);
        } catch (error) {
          this.#failAll(toEtcdError(error));
          return;
        }
        if (this.#closed) return;
      }
      const conn: Connection = {
        controller: new AbortController(),
        backlog: [],
        frames: undefined,
        requests: undefined,
        flushing: false,
        answered: false,
        retired: false,
      };
      this.#open(conn);
      this.#sendNextCreate();
      if (this.#progressWanted) this.#sendProgress();
      let error =
        this.#transport?.frameStream && this.#decoder
          ? await this.#serveFrames(conn, this.#decoder)
          : NO_FRAME_STREAM;
      if (error === NO_FRAME_STREAM) error = await this.#serveConnect(conn);
      this.#teardown(conn);
      if (conn.answered) {
        failures = 0;
        staleTokenRetries = 0;
      }
      if (this.#closed) return;
      if (conn.retired) continue;
      this.#failed = true;
      const mapped = toEtcdError(error);
      if (mapped instanceof ResponseTooLargeError && !this.#fragment) {
        // A response over maxReceiveBytes: from now on etcd splits them (see #sendNextCreate).
        this.#fragment = true;
        continue;
      }
      // The stream itself was refused for its token: log in again and reopen (a few times, as
      // for unary calls: a lagging member refuses a token it has not applied yet).
      if (isStaleTokenError(mapped) && this.#transport?.auth) {
        if (staleTokenRetries < STALE_TOKEN_RETRIES) {
          if (staleTokenRetries++ > 0) await this.#sleep(STALE_TOKEN_PAUSE_MS * staleTokenRetries);
          if (this.#closed) return;
          this.#refreshToken = true;
          continue;
        }
        this.#failAll(mapped);
        return;
      }
      if (isFatal(mapped)) {
        this.#failAll(mapped);
        return;
      }
      failures++;
      if (failures > 1) await this.#sleep(backoff(failures - 1));
    }
  }

  /**
   * Runs the stream as a `FrameStream` until it ends; resolves with why it ended, or with
   * `NO_FRAME_STREAM` when the transport has none for this call.
   */
  #serveFrames(
    conn: Connection,
    decoder: { read(payload: Uint8Array): WatchReply },
  ): Promise<unknown> {
    const transport = this.#transport as Required<WatchTransport>;
    const signal = conn.controller.signal;
    return new Promise((resolve) => {
      let ended = false;
      const finish = (why: unknown): void => {
        if (ended) return;
        ended = true;
        signal.removeEventListener("abort", onAbort);
        resolve(why);
      };
      const onAbort = (): void => {
        conn.frames?.cancel();
        finish(signal.reason);
      };
      if (signal.aborted) {
        finish(signal.reason);
        return;
      }
      signal.addEventListener("abort", onAbort);
      transport
        .frameStream(Watch.method.watch, STREAM_HEADERS, {
          message: (payload) => {
            conn.answered = true;
            this.#handle(decoder.read(payload));
          },
          end: (error) => finish(error ?? new UnavailableError("etcd ended the watch stream")),
        })
        .then(
          (frames) => {
            if (frames === undefined) finish(NO_FRAME_STREAM);
            else if (ended) frames.cancel();
            else {
              conn.frames = frames;
              this.#flush(conn);
            }
          },
          (error: unknown) => finish(error),
        );
    });
  }

  /** Runs the stream as Connect's bidi call until it ends; resolves with why it ended. */
  async #serveConnect(conn: Connection): Promise<unknown> {
    const requests = new PushQueue<WatchRequestInit>();
    for (const request of conn.backlog) requests.push(request);
    conn.backlog = [];
    conn.requests = requests;
    try {
      const responses = this.#client.watch(requests, {
        signal: conn.controller.signal,
        timeoutMs: 0,
        headers: STREAM_HEADERS,
      });
      for await (const response of responses) {
        conn.answered = true;
        this.#handle(messageReply(response));
      }
      return new UnavailableError("etcd ended the watch stream");
    } catch (error) {
      return error;
    }
  }

  /** A fresh stream: every live watcher that is not paused is created again, in order. */
  #open(conn: Connection): void {
    this.connects++;
    this.#conn = conn;
    this.#queue = [];
    for (const state of this.#watchers) {
      if (state.phase === "paused") continue;
      state.phase = "queued";
      state.serverId = undefined;
      state.resumeReason = "stream";
      this.#queue.push(state);
    }
    this.#events.watchOpened(this.connects, this.#failed, this.#queue.length);
    this.#failed = false;
  }

  #teardown(conn: Connection): void {
    if (!conn.controller.signal.aborted) conn.controller.abort();
    conn.requests?.close();
    conn.backlog = [];
    if (this.#conn === conn) this.#conn = undefined;
    for (const state of this.#creating) if (state.phase === "ended") state.markServerGone();
    this.#creating = [];
    for (const state of this.#cancelling.values()) {
      if (state.phase === "ended") state.markServerGone();
    }
    this.#cancelling.clear();
    this.#byId.clear();
    this.#fragments.clear();
    for (const state of this.#watchers) {
      if (state.phase !== "paused") {
        state.phase = "queued";
        state.serverId = undefined;
      }
    }
  }

  #send(request: WatchRequestInit): void {
    const conn = this.#conn;
    if (!conn) return;
    if (conn.requests) {
      conn.requests.push(request);
      return;
    }
    conn.backlog.push(request);
    if (conn.frames && !conn.flushing) {
      conn.flushing = true;
      queueMicrotask(() => {
        conn.flushing = false;
        this.#flush(conn);
      });
    }
  }

  /** Writes the requests waiting for the frame stream, in one write. */
  #flush(conn: Connection): void {
    const frames = conn.frames;
    if (!frames || conn.backlog.length === 0) return;
    const requests = conn.backlog;
    conn.backlog = [];
    frames.write((this.#frameCodec as WatchFrameCodec).encode(requests));
  }

  #sendProgress(): void {
    this.#progressWanted = false;
    this.#send({ requestUnion: { case: "progressRequest", value: {} } });
  }

  /** Sends queued creates while fewer than `CREATE_WINDOW` are unanswered. */
  #sendNextCreate(): void {
    const conn = this.#conn;
    if (!conn || conn.retired) return;
    while (this.#creating.length < CREATE_WINDOW) {
      let state = this.#queue.shift();
      while (state && state.phase !== "queued") state = this.#queue.shift();
      if (!state) {
        this.#maybeRetire();
        return;
      }
      state.phase = "creating";
      state.sentRevision = state.nextRevision;
      this.#creating.push(state);
      this.#send({
        requestUnion: {
          case: "createRequest",
          value: { ...state.spec, startRevision: state.nextRevision, fragment: this.#fragment },
        },
      });
    }
  }

  /** Closes the stream when nothing is watched and nothing is waiting for etcd. */
  #maybeRetire(): void {
    if (this.#watchers.size > 0 || this.#cancelling.size > 0 || this.#creating.length > 0) return;
    this.#wake?.();
    const conn = this.#conn;
    if (!conn) return;
    conn.retired = true;
    conn.controller.abort();
  }

  #handle(reply: WatchReply): void {
    const id = reply.watchId;
    if (reply.created) {
      const state = this.#creating.shift();
      if (state) this.#onCreated(state, reply);
      this.#sendNextCreate();
      return;
    }
    if (reply.canceled) {
      this.#onCanceled(reply);
      return;
    }
    if (id === PROGRESS_ID && reply.eventCount === 0) {
      const batch = progressBatch(reply.header);
      for (const state of this.#byId.values()) {
        // Skip watchers still replaying history: older servers answer ahead of their events.
        if (state.nextRevision > state.lastCreatedRevision) state.pushProgress(batch);
      }
      return;
    }
    // Events are only built for a watcher that is there to take them.
    const state = this.#byId.get(id);
    if (reply.fragment) {
      if (!state) return;
      const events = reply.events(state.keyspace);
      const pieces = this.#fragments.get(id);
      if (pieces) for (const event of events) pieces.push(event);
      else this.#fragments.set(id, events);
      return;
    }
    const pieces = this.#fragments.get(id);
    if (pieces) this.#fragments.delete(id);
    if (!state) return;
    const header = reply.header;
    let batches: BufferedBatch[];
    let count: number;
    if (pieces) {
      for (const event of reply.events(state.keyspace)) pieces.push(event);
      batches = toBatches(pieces, header);
      count = pieces.length;
    } else {
      count = reply.eventCount;
      batches = count === 0 ? [] : reply.batches(state.keyspace);
    }
    if (count === 0) {
      if (header.revision >= state.nextRevision) state.nextRevision = header.revision + 1n;
      state.pushProgress(progressBatch(header));
      return;
    }
    const last = batches[batches.length - 1];
    if (last) {
      state.nextRevision = last.revision + 1n;
      if (this.#events.watchEventsObserved) {
        this.#events.watchEvents(count, last.revision, header.revision);
      }
    }
    if (state.push(batches)) this.#checkLater(state);
  }

  /**
   * A response can hold thousands of events at once (etcd sends up to 1000 revisions per
   * response when a watcher catches up): that alone is no sign of a slow consumer. The check
   * runs after the consumer had its turn; only a buffer still over the limit pauses the watcher.
   */
  #checkLater(state: WatchState): void {
    if (state.checkPending) return;
    state.checkPending = true;
    nextTurn(() => {
      state.checkPending = false;
      const id = state.serverId;
      if (state.phase === "active" && id !== undefined && state.bufferedEvents >= state.limit) {
        this.#pause(state, id);
      }
    });
  }

  #onCreated(state: WatchState, reply: WatchReply): void {
    const id = reply.watchId;
    const header = reply.header;
    if (reply.canceled) {
      if (state.phase === "ended") {
        state.markServerGone();
        return;
      }
      const error = cancelReasonError(reply.cancelReason);
      // etcd refuses a create for the stream's token ("invalid auth token" from 3.4.23 and 3.5
      // after a restart or expiry; "revision of auth store is old"; or "permission denied").
      // With a token provider, get a fresh token, reopen the stream and try once more.
      const tokenRefused = error instanceof PermissionDeniedError || isStaleTokenError(error);
      if (tokenRefused && !state.authRetried && this.#transport?.auth) {
        state.authRetried = true;
        state.phase = "queued";
        this.#refreshToken = true;
        const conn = this.#conn;
        if (conn) {
          conn.retired = true;
          conn.controller.abort();
        }
        return;
      }
      this.#fail(state, error);
      return;
    }
    if (state.phase === "ended") {
      this.#cancelling.set(id, state);
      this.#send({ requestUnion: { case: "cancelRequest", value: { watchId: id } } });
      return;
    }
    state.phase = "active";
    state.authRetried = false;
    state.serverId = id;
    this.#byId.set(id, state);
    if (state.nextRevision === 0n) state.nextRevision = header.revision + 1n;
    if (state.lastCreatedRevision !== 0n) {
      this.#events.watchResumed(state.spec.key, state.sentRevision, state.resumeReason);
    }
    state.markCreated(header.revision);
  }

  #onCanceled(reply: WatchReply): void {
    const id = reply.watchId;
    this.#fragments.delete(id);
    const cancelling = this.#cancelling.get(id);
    if (cancelling) {
      this.#cancelling.delete(id);
      if (cancelling.phase === "ended") cancelling.markServerGone();
      this.#maybeRetire();
      return;
    }
    const state = this.#byId.get(id);
    if (!state) return;
    this.#byId.delete(id);
    state.serverId = undefined;
    if (reply.compactRevision > 0n) {
      this.#fail(
        state,
        new WatchCompactedError(EtcdMessage.compacted, Code.OutOfRange, {
          compactRevision: reply.compactRevision,
        }),
      );
    } else if (reply.cancelReason) {
      this.#fail(state, cancelReasonError(reply.cancelReason));
    } else {
      // Cancelled by etcd for no stated reason: create it again where it stopped.
      state.phase = "queued";
      this.#queue.push(state);
      this.#sendNextCreate();
    }
  }

  /** Slow consumer: cancel on the server, keep the buffer; `#resume` creates it again. */
  #pause(state: WatchState, id: bigint): void {
    state.phase = "paused";
    state.serverId = undefined;
    this.#byId.delete(id);
    this.#fragments.delete(id);
    this.#cancelling.set(id, state);
    this.#send({ requestUnion: { case: "cancelRequest", value: { watchId: id } } });
  }

  /** One function for every watcher of the stream, rather than a closure each. */
  readonly #onDrained = (state: WatchState): void => this.#resume(state);

  #resume(state: WatchState): void {
    if (state.phase !== "paused" || this.#closed) return;
    state.phase = "queued";
    state.resumeReason = "consumer";
    this.#queue.push(state);
    this.#sendNextCreate();
  }

  #fail(state: WatchState, error: EtcdError): void {
    state.end(error);
    state.markServerGone();
    this.#watchers.delete(state);
    this.#maybeRetire();
  }

  #failAll(error: EtcdError): void {
    for (const state of [...this.#watchers]) this.#fail(state, error);
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = () => {
        this.#wake = undefined;
        done();
      };
    });
  }
}

/** Exponential backoff with equal jitter: half fixed, half random, capped. */
function backoff(attempt: number): number {
  const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.min(attempt - 1, 16));
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

/** Errors no reconnect can fix: every watcher ends with them. */
function isFatal(error: EtcdError): boolean {
  return (
    error instanceof PermissionDeniedError ||
    error instanceof AuthFailedError ||
    error instanceof UserEmptyError ||
    error instanceof ClientClosedError ||
    error instanceof ResponseTooLargeError
  );
}

/**
 * etcd's cancel_reason is a Go gRPC status string ("rpc error: code = PermissionDenied desc =
 * etcdserver: permission denied") or a bare message: map it like any other etcd error.
 */
function cancelReasonError(reason: string): EtcdError {
  const match = /^rpc error: code = (\w+) desc = ([\s\S]*)$/.exec(reason);
  const message = match?.[2] ?? (reason || "etcd refused the watch");
  const name = match?.[1];
  const code =
    name !== undefined && name in Code ? Code[name as keyof typeof Code] : Code.FailedPrecondition;
  return toEtcdError(new ConnectError(message, code));
}

function toSpec(
  target: KeyOrRange,
  options: WatchOptions,
  keyspace: Keyspace,
): { spec: WatchSpec; startRevision: bigint; limit: number } {
  if (typeof options !== "object" || options === null) {
    throw new InvalidArgumentError("watch options must be an object");
  }
  const range = keyspace.encodeRange(toKeyRange(target));
  const startRevision =
    options.startRevision === undefined ? 0n : toInt64(options.startRevision, "startRevision");
  if (options.noPut && options.noDelete) {
    throw new InvalidArgumentError("noPut and noDelete together leave nothing to watch");
  }
  const limit = options.maxBufferedEvents ?? DEFAULT_MAX_BUFFERED_EVENTS;
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new InvalidArgumentError(`maxBufferedEvents must be a positive integer, got ${limit}`);
  }
  const filters: WatchCreateRequest_FilterType[] = [];
  if (options.noPut) filters.push(WatchCreateRequest_FilterType.NOPUT);
  if (options.noDelete) filters.push(WatchCreateRequest_FilterType.NODELETE);
  // Kept for the watcher's life: copied into Node's shared buffer pool, so that an idle watcher
  // holds no ArrayBuffer of its own (about 130 bytes with its backing store); a plain copy where
  // there is no Buffer.
  const spec: WatchSpec = { key: pooled(range.key), rangeEnd: pooled(range.rangeEnd) };
  if (filters.length > 0) spec.filters = filters;
  if (options.prevKv) spec.prevKv = true;
  if (options.progressNotify) spec.progressNotify = true;
  return { spec, startRevision, limit };
}

function pooled(bytes: Uint8Array): Uint8Array {
  if (bytes.byteLength === 0) return EMPTY;
  return NodeBuffer ? NodeBuffer.from(bytes) : bytes.slice();
}

const EMPTY = new Uint8Array(0);
/** Node's Buffer where the runtime has one; browsers and workers have none (etcd-connect/web). */
const NodeBuffer = (globalThis as { Buffer?: { from(bytes: Uint8Array): Uint8Array } }).Buffer;
