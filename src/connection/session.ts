import type {
  ClientHttp2Session,
  ClientHttp2Stream,
  ClientSessionOptions,
  OutgoingHttpHeaders,
  SecureClientSessionOptions,
} from "node:http2";
import { Http2SessionManager, type Http2SessionOptions } from "@connectrpc/connect-node";
import type { ClientEvents } from "../diagnostics/client-events.ts";

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
}

/**
 * connect-node's `Http2SessionManager` with two things an etcd client needs on top:
 *
 * - Keep-alive pings cannot crash the process. connect-node arms a ping timer per connection and
 *   calls `ping()` when it fires; Node throws synchronously from `ping()` on a destroyed session,
 *   and a session is destroyed a few ticks before the handlers that stop the timer run (connect-es
 *   issue #1795). Every connection this manager opens gets a `ping()` that reports such a failure
 *   to its callback instead of throwing.
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
  /** Where connection up and down go, with the endpoint's URL as the client knows it. */
  events: { readonly events: ClientEvents; readonly endpoint: string } | undefined;

  constructor(
    url: URL | string,
    pingOptions?: Http2SessionOptions,
    http2SessionOptions?: ClientSessionOptions | SecureClientSessionOptions,
  ) {
    super(url, pingOptions, http2SessionOptions);
    // connect-node moves to its "ready" state with the new ClientHttp2Session in `setState`, a
    // private method: wrapping it is the one place every new connection passes through.
    const self = this as unknown as { setState?: (state: ManagerState) => void };
    const setState = self.setState;
    if (typeof setState !== "function") {
      throw new Error("unsupported @connectrpc/connect-node: Http2SessionManager.setState missing");
    }
    self.setState = (state: ManagerState) => {
      if (state.t === "ready" && isSession(state.conn)) this.#adopt(state.conn);
      if (state.t === "connecting" && state.conn instanceof Promise) {
        state.conn.catch((error: unknown) => {
          this.#lastError = error;
        });
      }
      if (state.t === "error") this.#lastError = state.reason;
      setState.call(this, state);
    };
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
  requestNow(headers: OutgoingHttpHeaders): ClientHttp2Stream | undefined {
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
      group = new StreamGroup(conn);
      this.#unaryStreams = group;
    }
    group.add(stream, ready);
    return stream;
  }

  /**
   * Tells connect-node's keep-alive that a response arrived on a stream from `requestNow`, so it
   * does not ping a connection that is plainly alive. Passed on at most once a second.
   */
  responded(): void {
    const group = this.#unaryStreams;
    if (group === undefined) return;
    const now = Date.now();
    if (now - group.reportedAt < ALIVE_REPORT_INTERVAL_MS) return;
    group.reportedAt = now;
    this.notifyResponseByteRead(group as unknown as ClientHttp2Stream);
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
  #open = 0;
  #onClose: (() => void) | undefined;

  constructor(session: ClientHttp2Session) {
    this.session = session;
  }

  add(stream: ClientHttp2Stream, ready: ReadyState): void {
    if (this.#open++ === 0) ready.registerRequest(this as unknown as ClientHttp2Stream);
    stream.once("close", this.#remove);
  }

  /**
   * connect-node's registration listens for the group's "close" (its stream count) and
   * "response" (liveness, which arrives through `responded()` instead).
   */
  once(event: string, listener: () => void): this {
    if (event === "close") this.#onClose = listener;
    return this;
  }

  readonly #remove = (): void => {
    if (--this.#open > 0) return;
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
