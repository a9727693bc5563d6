import type {
  ClientHttp2Session,
  ClientHttp2Stream,
  ClientSessionOptions,
  OutgoingHttpHeaders,
  SecureClientSessionOptions,
} from "node:http2";
import { constants as h2constants } from "node:http2";
import { Code, ConnectError } from "@connectrpc/connect";
import { Http2SessionManager, type Http2SessionOptions } from "@connectrpc/connect-node";
import type { ClientEvents } from "../diagnostics/client-events.ts";
import { absorbUnheardSessionErrors } from "./deno-http2.ts";
import type { LeaderReport } from "./endpoint-session.ts";
import { widenConnectionWindow } from "./receive-window.ts";

/** The part of connect-node's private connection state this class looks at. */
interface ManagerState {
  t: string;
  conn?: unknown;
  reason?: unknown;
}

/** connect-node's private state of an open connection, as `requestNow` uses it. */
interface ReadyState {
  t: "ready";
  conn: ClientHttp2Session;
  isShuttingDown(): boolean;
  requiresVerify(): boolean;
  registerRequest(stream: ClientHttp2Stream): void;
  streamCount(): number;
}

/**
 * connect-node's `Http2SessionManager` with two things an etcd client needs on top:
 *
 * - Keep-alive pings cannot crash the process. connect-node arms a ping timer per connection and
 *   calls `ping()` when it fires; Node throws synchronously from `ping()` on a destroyed session,
 *   and a session is destroyed a few ticks before the handlers that stop the timer run (connect-es
 *   issue #1795). Every connection this manager opens gets a `ping()` that reports such a failure
 *   to its callback instead of throwing.
 * - A hung member is found within seconds, without waiting for the keep-alive interval. While
 *   unary calls wait on a connection and no frame has come from the server for
 *   `STALL_QUIET_MS`, a ping is sent on demand (never within `MIN_PING_GAP_MS` of the previous
 *   one, etcd's ping policy). An answer proves the server alive: the calls keep waiting, however
 *   long etcd takes (a long Range, a loaded machine). Unanswered for `SUSPECT_MS`, the pure
 *   reads waiting on the connection are abandoned so that the pool retries them on another
 *   member; unanswered for the ping timeout, the connection is destroyed with an error coded
 *   `ETCD_MEMBER_HUNG`, which fails every call still on it.
 * - A member cut off from its peers (a partition) answers pings, and etcd holds its linearizable
 *   calls until its own request timeout (7 s by default). When a call has waited
 *   `LEADER_CHECK_AFTER_MS`, the member is asked whether it has a leader (health check with
 *   `hasleader`); when it says it has none, the calls waiting there are abandoned with an error
 *   coded `ETCD_MEMBER_LEADERLESS`: reads are retried on another member, writes fail with their
 *   outcome unknown. Likewise, coded `ETCD_MEMBER_NEW_LEADER`, when its raft term moved on
 *   since they were sent: a leader that hung took the requests passed to it along.
 * - A connection counts as established only once the server's HTTP/2 SETTINGS frame arrived
 *   (`handshake()`), the way gRPC's own clients see it. TCP alone proves nothing: the kernel
 *   accepts connections for a hung (SIGSTOPped) member, and a request sent there may be applied
 *   when the member wakes up. Waiting for SETTINGS lets a dial timeout fail such an attempt while
 *   the request provably never left.
 *
 * @example
 * const session = new EtcdSessionManager("http://127.0.0.1:2379", { pingIntervalMs: 30_000 });
 * if (await session.handshake()) console.log("connected");
 */
export class EtcdSessionManager extends Http2SessionManager {
  #current: ClientHttp2Session | undefined;
  #generation = 0;
  #unaryStreams: StreamGroup | undefined;
  readonly #settled = new WeakSet<ClientHttp2Session>();
  readonly #waiting = new WeakMap<ClientHttp2Session, Promise<boolean>>();
  #lastError: unknown;
  readonly #pingTimeoutMs: number;
  /** Where connection up and down go, with the endpoint's URL as the client knows it. */
  events: { readonly events: ClientEvents; readonly endpoint: string } | undefined;
  /**
   * Asks the member whether it has a leader, and its raft term (undefined: no answer to go by).
   * Set by the pool; the stall watchdog asks when calls wait long on a live member.
   */
  leaderCheck: (() => Promise<LeaderReport | undefined>) | undefined;
  /** The highest raft term in this member's answers so far (0n before any); set by the pool. */
  raftTerm = 0n;

  constructor(
    url: URL | string,
    pingOptions?: Http2SessionOptions,
    http2SessionOptions?: ClientSessionOptions | SecureClientSessionOptions,
  ) {
    super(url, pingOptions, http2SessionOptions);
    absorbUnheardSessionErrors();
    this.#pingTimeoutMs = pingOptions?.pingTimeoutMs ?? DEFAULT_PING_TIMEOUT_MS;
    // connect-node moves to its "ready" state with the new ClientHttp2Session in `setState`, a
    // private method: wrapping it is the one place every new connection passes through.
    const self = this as unknown as { setState?: (state: ManagerState) => void };
    const setState = self.setState;
    if (typeof setState !== "function") {
      throw new Error("unsupported @connectrpc/connect-node: Http2SessionManager.setState missing");
    }
    self.setState = (next: ManagerState) => {
      const state = this.#closedBeforeSettings(next) ? this.#neverEstablished() : next;
      if (state.t === "ready" && isSession(state.conn)) this.#adopt(state.conn);
      if (state.t === "connecting" && state.conn instanceof Promise) {
        const conn = state.conn.then(this.#refuseDead);
        conn.catch((error: unknown) => {
          this.#lastError = error;
        });
        state.conn = conn;
      }
      if (state.t === "error") this.#lastError = state.reason;
      setState.call(this, state);
    };
  }

  /**
   * Passes on a new connection unless it died already: connect-node's "ready" state refuses a
   * dead one by throwing inside its own promise handler, which leaves it "connecting" on a
   * settled promise, and its `gotoReady` then awaits that promise in a loop that never yields
   * to timers or I/O. A connection that breaks within the tick of its "connect" event (as on
   * Deno 2.9, where the first write to a peer that closed at once fails right away) becomes a
   * failed attempt instead, like a refused one.
   */
  readonly #refuseDead = (conn: unknown): unknown => {
    if (!isSession(conn) || !(conn.destroyed || conn.closed)) return conn;
    throw new ConnectError(
      "the connection closed as soon as it opened",
      Code.Unavailable,
      undefined,
      undefined,
      this.#lastError,
    );
  };

  /**
   * True when `next` closes a connection that never got the server's SETTINGS. connect-node's
   * `gotoReady` loops without yielding while its state is "closed" (it awaits only while
   * "connecting"): when a connection closes right after "connect", before that loop resumes (as
   * on Deno 2.9, where a write to a peer that closed at once fails within the same tick), the
   * process would spin forever.
   */
  #closedBeforeSettings(next: ManagerState): boolean {
    if (next.t !== "closed") return false;
    const current = (this as unknown as { s: ManagerState }).s;
    return current.t === "ready" && isSession(current.conn) && !this.#settled.has(current.conn);
  }

  /** connect-node's error state for a connection that closed before it was established. */
  #neverEstablished(): ManagerState {
    const reason =
      this.#lastError ?? new Error("the connection closed before the server's SETTINGS arrived");
    return { t: "error", reason };
  }

  /**
   * True when the current connection is up and the server has spoken HTTP/2 on it: calls can be
   * sent without waiting.
   */
  get established(): boolean {
    const conn = this.#current;
    if (conn === undefined || conn.destroyed || conn.closed || !this.#settled.has(conn)) {
      return false;
    }
    const state = this.state();
    return state === "open" || state === "idle";
  }

  /**
   * Counts the connections this manager has opened: it changes whenever the endpoint
   * reconnects, so that what was learned about the server on one connection (such as the RPCs
   * it lacks) can be forgotten when a new one may lead to an upgraded server.
   */
  get generation(): number {
    return this.#generation;
  }

  /**
   * Opens a stream right away when the connection is established, not going away and recently
   * alive, exactly as `request()` would after its checks, but without its two asynchronous
   * steps (a unary call on the lean transport pays for each). Returns undefined in every other
   * case; the caller then goes through `request()`, which connects, verifies or waits.
   * `headers` must include `:method` and `:path`.
   */
  requestNow(headers: OutgoingHttpHeaders, call?: AbandonableCall): ClientHttp2Stream | undefined {
    const state = (this as unknown as { s: ManagerState }).s;
    if (state.t !== "ready") return undefined;
    const ready = state as ReadyState;
    const conn = ready.conn;
    if (conn !== this.#current || conn.closed || conn.destroyed || !this.#settled.has(conn)) {
      return undefined;
    }
    if (ready.isShuttingDown() || ready.requiresVerify()) return undefined;
    const stream = conn.request(headers);
    let group = this.#unaryStreams;
    if (group?.session !== conn) {
      group?.stop();
      group = new StreamGroup(conn, this.#pingTimeoutMs, () => this.leaderCheck);
      this.#unaryStreams = group;
    }
    group.add(stream, ready);
    if (call !== undefined) {
      call.group = group;
      group.calls.add(call);
    }
    return stream;
  }

  /**
   * Tells connect-node's keep-alive that a response arrived on a stream from `requestNow`, so it
   * does not ping a connection that is plainly alive. Passed on at most once a second.
   */
  responded(): void {
    const group = this.#unaryStreams;
    if (group === undefined) return;
    group.progress = true;
    group.heardSinceAck = true;
    const now = Date.now();
    if (now - group.reportedAt < ALIVE_REPORT_INTERVAL_MS) return;
    group.reportedAt = now;
    this.notifyResponseByteRead(group as unknown as ClientHttp2Stream);
  }

  /**
   * Tells the stall watchdog that a frame arrived on a stream from `requestNow`: the server is
   * alive. Costs one property write.
   */
  progressed(): void {
    const group = this.#unaryStreams;
    if (group !== undefined) {
      group.progress = true;
      group.heardSinceAck = true;
    }
  }

  /**
   * Closes the connection, as connect-node's `abort`. With nothing in flight and no reason
   * given, the connection closes with a plain error instead of connect-node's default
   * `ConnectError`: no call can receive it, and the first `ConnectError` of a process builds a
   * `Headers`, which loads Node's fetch implementation (about 15 ms, a CLI command's start-up).
   */
  override abort(reason?: Error): void {
    super.abort(reason ?? (this.#idle() ? idleAbort() : undefined));
  }

  /**
   * No call on the connection: connect-node says idle or closed, or its one open "stream" is the
   * unary group, still registered for a turn after its last stream closed (a command that
   * closes the client right after its call).
   */
  #idle(): boolean {
    const state = this.state();
    if (state === "idle" || state === "closed") return true;
    const ready = (this as unknown as { s: ManagerState }).s;
    return (
      state === "open" &&
      (ready as ReadyState).streamCount() === 1 &&
      this.#unaryStreams?.lingering === true
    );
  }

  /**
   * What ended the last connection before it was established (a refused connection, a TLS
   * failure...), also when connect-node reports the connection merely "closed": the cause to
   * give when `handshake()` resolves false. Cleared by an established connection.
   */
  get lastError(): unknown {
    return this.#lastError;
  }

  /**
   * Opens a connection when there is none and resolves true once the server's SETTINGS frame has
   * arrived on it, false when connecting fails or the connection dies first. Never rejects.
   * The caller bounds the wait (the dial timeout).
   */
  async handshake(): Promise<boolean> {
    if (this.established) return true;
    if ((await this.connect()) === "error") return false;
    const conn = this.#current;
    if (conn === undefined) return false;
    if (this.#settled.has(conn)) return true;
    return this.#waiting.get(conn) ?? false;
  }

  #adopt(conn: ClientHttp2Session): void {
    if (conn !== this.#current) this.#generation++;
    this.#current = conn;
    guardPing(conn);
    if (this.#settled.has(conn) || this.#waiting.has(conn)) return;
    widenConnectionWindow(conn);
    const settled = new Promise<boolean>((resolve) => {
      // A TLS alert after the handshake (etcd refusing the client certificate under TLS 1.3)
      // destroys the session from its socket's error without any session event.
      const socket = conn.socket as ClientHttp2Session["socket"] | undefined;
      const done = (ok: boolean) => {
        conn.off("remoteSettings", onSettings);
        conn.off("close", onEnd);
        conn.off("error", onEnd);
        try {
          socket?.off("error", onEnd);
        } catch {
          // The session let go of its socket (ERR_HTTP2_SOCKET_UNBOUND): nothing to remove.
        }
        if (ok) {
          this.#settled.add(conn);
          this.#lastError = undefined;
          this.#reportUp(conn);
        }
        resolve(ok);
      };
      const onSettings = () => done(true);
      const onEnd = (error?: unknown) => {
        if (error !== undefined) this.#lastError = error;
        done(false);
      };
      conn.once("remoteSettings", onSettings);
      conn.once("close", onEnd);
      conn.once("error", onEnd);
      socket?.once("error", onEnd);
    });
    this.#waiting.set(conn, settled);
  }

  /** Connection up now, and down when it closes (established connections only). */
  #reportUp(conn: ClientHttp2Session): void {
    const observer = this.events;
    if (observer === undefined) return;
    observer.events.connectionUp(observer.endpoint);
    let cause: unknown;
    conn.once("error", (error: unknown) => {
      cause = error;
    });
    conn.once("goaway", (code: number) => {
      cause ??= new Error(`GOAWAY with code ${code}`);
    });
    conn.once("close", () => observer.events.connectionDown(observer.endpoint, cause));
  }
}

const ALIVE_REPORT_INTERVAL_MS = 1000;
/** connect-node's default, when the options give none. */
const DEFAULT_PING_TIMEOUT_MS = 15_000;
/** How often the stall watchdog looks at a connection with calls waiting. */
const WATCHDOG_TICK_MS = 100;
/** Calls waiting and no frame from the server for this long: ask with a ping. */
export const STALL_QUIET_MS = 500;
/** A ping unanswered for this long: pure reads move to another member (nothing is closed). */
export const SUSPECT_MS = 250;
/**
 * etcd (grpc-go) counts a strike for a ping less than 5 s after the previous one and closes the
 * connection with GOAWAY too_many_pings at the third. A ping that follows data the server sent
 * after handling the previous ping clears the strikes instead: the watchdog pings sooner only
 * when a frame arrived after the answer to its own previous ping.
 */
export const MIN_PING_GAP_MS = 5_000;
/**
 * A call waiting this long on a member that answers pings: ask the member whether it has a
 * leader. One cut off from its peers (a partition) keeps answering pings, and etcd holds its
 * linearizable calls until its own request timeout (7 s with default settings).
 */
export const LEADER_CHECK_AFTER_MS = 1_000;
/** At most one leader check per connection this often. */
const LEADER_CHECK_GAP_MS = 500;
/** Ticks without any call waiting before the watchdog stops (it restarts with the next call). */
const WATCHDOG_IDLE_TICKS = 20;

/**
 * A unary call the stall watchdog may abandon: a pure read (`pure`), harmless to send twice, is
 * then retried elsewhere; another call only when its member says it has no leader or has
 * elected a new one since the call was sent, and then fails with its outcome unknown. `group` is set when it is registered.
 */
export interface AbandonableCall {
  group: { readonly calls: Set<AbandonableCall> } | undefined;
  /** When it was sent (Date.now()). */
  readonly startedAt: number;
  /** The member's raft term as last seen before it was sent (0n: not known). */
  readonly term: bigint;
  readonly pure: boolean;
  /** Fails the call with `reason` (Unavailable for the pool, which retries a pure read elsewhere). */
  abandon(reason: Error): void;
}

/** When each connection last sent a ping (ours, and connect-node's keep-alive and verify pings). */
const lastPingAt = new WeakMap<ClientHttp2Session, number>();

/**
 * The streams `requestNow` opened on one connection, registered with connect-node as a single
 * stream: open while any of them is (which keeps the process alive and the idle timer off, as
 * connect-node does per stream), closed when the last one closes. connect-node's per-stream
 * bookkeeping (two listeners and a timer reset for every call) cost about 5 µs per unary call.
 */
class StreamGroup {
  /** The connection; connect-node's liveness report checks a stream's `session`. */
  readonly session: ClientHttp2Session;
  /** When liveness was last passed on to connect-node. */
  reportedAt = 0;
  /** Set by every frame from the server; the watchdog clears it on each tick. */
  progress = false;
  /** Unary calls waiting on this connection, which the watchdog may abandon. */
  readonly calls = new Set<AbandonableCall>();
  #open = 0;
  /** Counted as one open stream by connect-node (see `#remove`). */
  #registered = false;
  #lingering = false;
  #onClose: (() => void) | undefined;
  readonly #pingTimeoutMs: number;
  #watchdog: ReturnType<typeof setInterval> | undefined;
  #idleTicks = 0;
  #quietSince = 0;
  /** Set by every frame from the server; cleared when the answer to our ping arrives. */
  heardSinceAck = false;
  /** When the watchdog last pinged (as `lastPingAt` has it), and whether the answer came. */
  #ownPingAt = 0;
  #ownPingSentAt = 0;
  #ownPingAnswered = false;
  #pingSentAt = 0;
  #suspected = false;
  #verdict = false;
  readonly #leaderCheck: () => (() => Promise<LeaderReport | undefined>) | undefined;
  #leaderCheckAt = 0;
  #leaderChecking = false;

  constructor(
    session: ClientHttp2Session,
    pingTimeoutMs: number,
    leaderCheck: () => (() => Promise<LeaderReport | undefined>) | undefined = () => undefined,
  ) {
    this.session = session;
    this.#pingTimeoutMs = pingTimeoutMs;
    this.#leaderCheck = leaderCheck;
  }

  /** Registered with connect-node while none of its streams is open (see `#remove`). */
  get lingering(): boolean {
    return this.#registered && this.#open === 0;
  }

  add(stream: ClientHttp2Stream, ready: ReadyState): void {
    this.#open++;
    if (!this.#registered) {
      this.#registered = true;
      ready.registerRequest(this as unknown as ClientHttp2Stream);
    }
    // A stream closes once: `on` spares the wrapper `once` makes and removes per call.
    stream.on("close", this.#remove);
    if (this.#watchdog === undefined) {
      this.#quietSince = Date.now();
      this.#idleTicks = 0;
      this.#watchdog = setInterval(this.#tick, WATCHDOG_TICK_MS);
      this.#watchdog.unref?.();
    }
  }

  /** Stops the watchdog (the connection was replaced). */
  stop(): void {
    clearInterval(this.#watchdog);
    this.#watchdog = undefined;
  }

  readonly #tick = (): void => {
    const conn = this.session;
    if (conn.destroyed || conn.closed) {
      this.stop();
      return;
    }
    const now = Date.now();
    if (this.#open > 0) this.#checkLeader(now);
    if (this.progress || this.#open === 0) {
      // The server spoke (or nothing waits): alive as of now.
      this.progress = false;
      this.#quietSince = now;
      this.#pingSentAt = 0;
      this.#suspected = false;
      if (this.#open === 0 && ++this.#idleTicks >= WATCHDOG_IDLE_TICKS) this.stop();
      else if (this.#open > 0) this.#idleTicks = 0;
      return;
    }
    this.#idleTicks = 0;
    if (this.#pingSentAt !== 0) {
      const waited = now - this.#pingSentAt;
      if (!this.#suspected && waited >= SUSPECT_MS) {
        this.#suspected = true;
        this.#abandonReads(waited);
      }
      if (waited >= this.#pingTimeoutMs && !this.#verdict) {
        this.#verdict = true;
        // Our own event loop may have been blocked with the answer already read: let I/O run
        // once before deciding.
        setImmediate(() => {
          this.#verdict = false;
          if (this.#pingSentAt === 0 || conn.destroyed) return;
          const error = Object.assign(
            new Error(
              `no answer to a ping within ${this.#pingTimeoutMs} ms while calls waited: the member looks hung`,
            ),
            { code: "ETCD_MEMBER_HUNG" },
          );
          this.stop();
          conn.destroy(error, h2constants.NGHTTP2_CANCEL);
        });
      }
      return;
    }
    if (now - this.#quietSince < STALL_QUIET_MS) return;
    const lastPing = lastPingAt.get(conn) ?? 0;
    if (now - lastPing < MIN_PING_GAP_MS) {
      if (lastPing === this.#ownPingAt && !this.#ownPingAnswered) {
        // Our previous ping is still unanswered (the frames since left the server before it):
        // wait on that one.
        this.#pingSentAt = this.#ownPingSentAt;
        return;
      }
      const forgiven = lastPing === this.#ownPingAt && this.#ownPingAnswered && this.heardSinceAck;
      if (!forgiven) return;
    }
    const sentAt = now;
    this.#pingSentAt = sentAt;
    this.#ownPingAnswered = false;
    conn.ping((error) => {
      if (error === null && lastPingAt.get(conn) === this.#ownPingAt) {
        this.#ownPingAnswered = true;
        this.heardSinceAck = false;
      }
      if (error !== null || this.#pingSentAt !== sentAt) return;
      // Answered: the server is alive, however long it takes with the calls.
      this.#pingSentAt = 0;
      this.#suspected = false;
      this.#quietSince = Date.now();
    });
    this.#ownPingAt = lastPingAt.get(conn) ?? 0;
    this.#ownPingSentAt = sentAt;
  };

  #abandonReads(waited: number): void {
    if (this.calls.size === 0) return;
    const reason = Object.assign(
      new Error(`no frame and no answer to a ping for ${waited} ms: read moved to another member`),
      { code: "ETCD_MEMBER_SUSPECT" },
    );
    for (const call of [...this.calls]) if (call.pure) call.abandon(reason);
  }

  /**
   * When a call has waited `LEADER_CHECK_AFTER_MS`, asks the member whether it has a leader. If
   * it says it has none, the calls that were waiting then are abandoned: reads move to another
   * member, writes fail with their outcome unknown (etcd may have passed them on before it lost
   * its leader). The same for calls that waited that long when the member's raft term is newer
   * than when they were sent: a new leader was elected meanwhile. The connection stays: a member
   * without a leader still serves watches' history.
   */
  #checkLeader(now: number): void {
    if (this.#leaderChecking || now - this.#leaderCheckAt < LEADER_CHECK_GAP_MS) return;
    let oldest = now;
    for (const call of this.calls) if (call.startedAt < oldest) oldest = call.startedAt;
    if (now - oldest < LEADER_CHECK_AFTER_MS) return;
    const check = this.#leaderCheck();
    if (check === undefined) return;
    this.#leaderChecking = true;
    this.#leaderCheckAt = now;
    check().then(
      (report) => {
        this.#leaderChecking = false;
        this.#leaderCheckAt = Date.now();
        if (report === undefined) return;
        if (!report.hasLeader) {
          const reason = Object.assign(
            new Error(
              "the member has no leader (cut off from its peers, or an election): a read moves to another member, a write's outcome is unknown",
            ),
            { code: "ETCD_MEMBER_LEADERLESS" },
          );
          for (const call of [...this.calls]) if (call.startedAt <= now) call.abandon(reason);
          return;
        }
        const term = report.term;
        if (term === undefined) return;
        // etcd drops the proposals and read requests it had passed to a leader that lost its
        // place, and the member's request then waits for its own timeout (7 s by default).
        const reason = Object.assign(
          new Error(
            `the member elected a new leader (term ${term}) while the call waited: a read moves to another member, a write's outcome is unknown`,
          ),
          { code: "ETCD_MEMBER_NEW_LEADER" },
        );
        for (const call of [...this.calls]) {
          const waited = now - call.startedAt >= LEADER_CHECK_AFTER_MS;
          if (waited && call.term !== 0n && term > call.term) call.abandon(reason);
        }
      },
      () => {
        this.#leaderChecking = false;
      },
    );
  }

  /**
   * connect-node's registration listens for the group's "close" (its stream count) and
   * "response" (liveness, which arrives through `responded()` instead).
   */
  once(event: string, listener: () => void): this {
    if (event === "close") this.#onClose = listener;
    return this;
  }

  /**
   * The last stream closed: the group stays registered until the event loop turns, so that a
   * caller awaiting one call after another (the next call starts from the previous one's
   * promise) does not make connect-node re-arm its ping and idle timers and ref/unref the
   * socket for every call (about five timer operations each time).
   */
  readonly #remove = (): void => {
    if (--this.#open > 0 || this.#lingering) return;
    this.#lingering = true;
    setImmediate(this.#release);
  };

  readonly #release = (): void => {
    this.#lingering = false;
    if (this.#open > 0 || !this.#registered) return;
    this.#registered = false;
    const onClose = this.#onClose;
    this.#onClose = undefined;
    onClose?.();
  };
}

const guarded = new WeakSet<ClientHttp2Session>();

type PingCallback = (err: Error | null, duration: number, payload: Buffer) => void;

/**
 * Replaces `session.ping` with one that never throws: on a destroyed session, or when Node
 * throws anyway, the callback gets the error on the next tick (connect-node's ping callbacks
 * ignore errors; its close and error handlers clean up).
 *
 * @example
 * guardPing(session);
 */
export function guardPing(session: ClientHttp2Session): void {
  if (guarded.has(session)) return;
  guarded.add(session);
  const ping = session.ping;
  const safePing = function (this: ClientHttp2Session, ...args: unknown[]): boolean {
    const callback = args.find((a): a is PingCallback => typeof a === "function");
    const fail = (error: unknown) => {
      const err = error instanceof Error ? error : new Error(String(error));
      if (callback) process.nextTick(callback, err, 0, Buffer.alloc(8));
      return false;
    };
    lastPingAt.set(this, Date.now());
    if (this.destroyed) {
      return fail(
        Object.assign(new Error("ping on a destroyed HTTP/2 session"), {
          code: "ERR_HTTP2_INVALID_SESSION",
        }),
      );
    }
    try {
      return (ping as (...a: unknown[]) => boolean).apply(this, args);
    } catch (error) {
      return fail(error);
    }
  };
  Object.defineProperty(session, "ping", { value: safePing, configurable: true, writable: true });
}

function isSession(value: unknown): value is ClientHttp2Session {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { ping?: unknown }).ping === "function" &&
    typeof (value as { request?: unknown }).request === "function"
  );
}

function idleAbort(): Error {
  return Object.assign(new Error("connection aborted"), { code: "ETCD_CONNECTION_CLOSED" });
}
