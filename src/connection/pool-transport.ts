import type {
  DescMessage,
  DescMethodStreaming,
  DescMethodUnary,
  MessageInitShape,
} from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  type ContextValues,
  createContextKey,
  type StreamResponse,
  type Transport,
  type UnaryResponse,
} from "@connectrpc/connect";
import { Cluster } from "../../gen/etcdserverpb/rpc_pb.ts";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/grpc/health/v1/health_pb.ts";
import { ClientClosedError, InvalidArgumentError } from "../core/errors.ts";
import { STALE_TOKEN_MESSAGES } from "../core/etcd-messages.ts";
import { findTlsFailure, withTlsFailure } from "../core/tls-errors.ts";
import { CallTrace } from "../diagnostics/call-trace.ts";
import { callChannel, callRetryChannel } from "../diagnostics/channels.ts";
import { withHeaders } from "./call-headers.ts";
import { isManagedSession, type LeaderReport, noteRaftTerm } from "./endpoint-session.ts";
import { normalizeEndpoints } from "./endpoints.ts";
import type { FrameStream, FrameStreamHandler, FrameStreamSource } from "./frame-stream.ts";
import { isUnknownMethod } from "./missing-methods.ts";
import type { EndpointPool, PooledEndpoint } from "./pool.ts";
import { isEndpointFailure, outcomeUnknown, shouldRetry, toCallError } from "./retry-policy.ts";
import { canceledError, sleep } from "./signals.ts";

/**
 * Supplies the auth token for each call. `refresh` is asked after etcd rejected `rejected`; it
 * resolves true when a new token was obtained, so that the call may be repeated once.
 *
 * @example
 * transport.auth = { token: () => "abc", refresh: async () => false };
 */
export interface TokenProvider {
  token(signal?: AbortSignal): string | undefined | Promise<string | undefined>;
  refresh(rejected: string | undefined, signal?: AbortSignal): Promise<boolean>;
}

/**
 * Context value that turns retries off for one call.
 *
 * @example
 * client.range(req, { contextValues: createContextValues().set(noRetryKey, true) });
 */
export const noRetryKey = createContextKey<boolean>(false, {
  description: "etcd-connect no retry",
});

/**
 * Context value that pins one call to one endpoint of the pool (a URL as given to the client):
 * no other endpoint is tried. For per-member calls such as status, defragment and hash.
 *
 * @example
 * client.status({}, { contextValues: createContextValues().set(endpointKey, "http://127.0.0.1:2379") });
 */
export const endpointKey = createContextKey<string | undefined>(undefined, {
  description: "etcd-connect endpoint",
});

/**
 * Context value that sends one call without an auth token (the Authenticate call itself).
 *
 * @example
 * auth.authenticate(req, { contextValues: createContextValues().set(noAuthKey, true) });
 */
export const noAuthKey = createContextKey<boolean>(false, {
  description: "etcd-connect no auth token",
});

/**
 * The probe asks for a member with a leader: etcd refuses any unary call carrying `hasleader`
 * with Unavailable "no leader" while the member has none, so a member cut off from its quorum
 * stays aside. The health service checks no token or role, so probing works for every user on
 * every etcd line (3.5.28+ and 3.6 restrict Status).
 */
const PROBE_HEADERS = { hasleader: "true" } as const;

/** Go's clientv3: at most 100 retries of a unary call. */
const MAX_ATTEMPTS = 101;
/** Go's clientv3: wait 25 ms (plus up to 10% jitter) after each sweep over a quorum of endpoints. */
const SWEEP_BACKOFF_MS = 25;
const SWEEP_JITTER = 0.1;
/**
 * How often one call may be refused for its token and repeated with a new one. A member rejects
 * a token it has not applied yet (Authenticate goes through raft and returns once the member
 * that served it applied it), so a fresh token can be refused by a lagging follower; from the
 * second refusal on the call waits `STALE_TOKEN_PAUSE_MS` times the count before repeating.
 */
export const STALE_TOKEN_RETRIES = 3;
export const STALE_TOKEN_PAUSE_MS = 100;

/**
 * A Connect `Transport` over every endpoint of a client: it picks an endpoint per call
 * (round-robin over the healthy ones), adds the auth token, waits for a connection up to the dial
 * timeout, applies the default deadline, and retries by Go's clientv3 rules: repeatable RPCs on
 * Unavailable, on the next endpoint, 25 ms after each sweep over a quorum; writes only when they
 * provably never left (`neverLeft`). The caller's deadline and signal bound every retry loop.
 * An endpoint that fails (unreachable, gone, not answering in time, not serving) is set aside
 * and probed back in the background with gRPC's health check (which any user may call, and which
 * a member without a leader refuses because the probe asks for one). Failures of the connection reach
 * the caller as Unavailable. Streams go to one healthy endpoint; their owners (watch,
 * keep-alive) open them again on failure, and a failed stream sets its endpoint aside. A server
 * that answers a stream "unknown method" (a member older than the RPC) is not asked for it again
 * until its endpoint reconnects; with no endpoint left to ask, the stream fails at once with
 * Unimplemented, sending nothing.
 *
 * @example
 * const kv = createClient(KV, new PoolTransport(pool, { dialTimeoutMs: 5000 }));
 */
export class PoolTransport implements Transport {
  readonly pool: EndpointPool;
  auth: TokenProvider | undefined;
  closed = false;
  readonly #dialTimeoutMs: number;
  readonly #defaultTimeoutMs: number | undefined;
  readonly #clientCert: boolean;

  constructor(
    pool: EndpointPool,
    options: {
      dialTimeoutMs: number;
      defaultTimeoutMs?: number | undefined;
      /** Whether a TLS client certificate is configured (for clearer TLS errors). */
      clientCert?: boolean | undefined;
    },
  ) {
    this.pool = pool;
    this.#dialTimeoutMs = options.dialTimeoutMs;
    this.#defaultTimeoutMs = options.defaultTimeoutMs || undefined;
    this.#clientCert = options.clientCert === true;
    pool.probe = (endpoint) => this.#probe(endpoint);
    pool.leaderCheck = (endpoint) => this.#leaderReport(endpoint);
  }

  unary<I extends DescMessage, O extends DescMessage>(
    method: DescMethodUnary<I, O>,
    signal: AbortSignal | undefined,
    timeoutMs: number | undefined,
    header: HeadersInit | undefined,
    input: MessageInitShape<I>,
    contextValues?: ContextValues,
  ): Promise<UnaryResponse<I, O>> {
    // Nobody tracing: one property read, nothing built.
    if (!callChannel.hasSubscribers) {
      return this.#unary(method, signal, timeoutMs, header, input, contextValues, undefined);
    }
    const trace = new CallTrace(method.parent.typeName, method.name);
    return callChannel.tracePromise(async () => {
      try {
        const response = await this.#unary(
          method,
          signal,
          timeoutMs,
          header,
          input,
          contextValues,
          trace,
        );
        trace.code = 0;
        return response;
      } catch (error) {
        trace.code = statusCode(error);
        throw error;
      }
    }, trace);
  }

  async #unary<I extends DescMessage, O extends DescMessage>(
    method: DescMethodUnary<I, O>,
    signal: AbortSignal | undefined,
    timeoutMs: number | undefined,
    header: HeadersInit | undefined,
    input: MessageInitShape<I>,
    contextValues: ContextValues | undefined,
    trace: CallTrace | undefined,
  ): Promise<UnaryResponse<I, O>> {
    if (this.closed) throw new ClientClosedError("etcd client is closed");
    if (trace?.metadata !== undefined) header = withHeaders(header, trace.metadata);
    const budget = timeoutMs === undefined ? this.#defaultTimeoutMs : timeoutMs || undefined;
    const deadline = budget === undefined ? 0 : Date.now() + budget;
    const pinned = this.#pinned(contextValues);
    const retries = pinned === undefined && contextValues?.get(noRetryKey) !== true;
    const auth = contextValues?.get(noAuthKey) === true ? undefined : this.auth;
    let tried: Set<PooledEndpoint> | undefined;
    // Endpoints whose dial timed out in this call: waited for once, not again.
    let hung: Set<PooledEndpoint> | undefined;
    let staleTokenRetries = 0;
    let previous: PooledEndpoint | undefined;
    let reason: unknown;
    for (let attempt = 1; ; attempt++) {
      const endpoint = pinned ?? this.pool.pick(tried);
      if (trace !== undefined) {
        trace.attempt = attempt;
        trace.endpoint = endpoint.url;
        trace.retryReason = reason;
      }
      if (previous !== undefined && callRetryChannel.hasSubscribers) {
        callRetryChannel.publish({
          call: trace,
          service: method.parent.typeName,
          method: method.name,
          attempt,
          endpoint: endpoint.url,
          previousEndpoint: previous.url,
          failover: previous !== endpoint,
          reason,
        });
      }
      previous = endpoint;
      let token: string | undefined;
      try {
        // Established (the common case): no async step before the request leaves.
        if (!isEstablished(endpoint)) {
          await this.#ready(endpoint, signal, hung?.has(endpoint) ? 0 : remainingMs(deadline));
        }
        token = auth ? await auth.token(signal) : undefined;
        const response = await endpoint.connection.transport.unary(
          method,
          signal,
          remainingMs(deadline),
          token === undefined ? header : withHeaders(header, { token }),
          input,
          contextValues,
        );
        this.pool.markHealthy(endpoint);
        noteRaftTerm(endpoint.connection.session, response.message);
        return response;
      } catch (thrown) {
        if (this.closed)
          throw new ClientClosedError("etcd client is closed", Code.Canceled, { cause: thrown });
        // The caller's own cancel: nothing to learn about the endpoint.
        if (signal?.aborted) throw thrown;
        const error = toCallError(thrown);
        reason = error;
        if (isEndpointFailure(error)) this.pool.markFailed(endpoint, error);
        if (isDialTimeout(error)) {
          hung ??= new Set();
          hung.add(endpoint);
        }
        // The next attempt goes to an endpoint this call has not tried in this sweep.
        tried ??= new Set();
        tried.add(endpoint);
        if (tried.size >= this.pool.endpoints.length) tried.clear();
        if (deadline !== 0 && Date.now() >= deadline) throw unknownOutcome(method, error);
        if (auth && staleTokenRetries < STALE_TOKEN_RETRIES && isStaleTokenError(error)) {
          if (staleTokenRetries++ > 0) {
            const pause = STALE_TOKEN_PAUSE_MS * staleTokenRetries;
            await sleep(deadline === 0 ? pause : Math.min(pause, deadline - Date.now()), signal);
            if (signal?.aborted) throw canceledError(signal);
          }
          if (await auth.refresh(token, signal)) continue;
          throw error;
        }
        const tls = findTlsFailure(thrown, {
          clientCert: this.#clientCert,
          endpoint: endpoint.url,
        });
        if (tls) {
          // Settings, not a passing fault: try each endpoint once, then say what is wrong.
          this.pool.markFailed(endpoint, error);
          if (!retries || attempt >= this.pool.endpoints.length) {
            throw withTlsFailure(
              new ConnectError(tls.message, Code.Unavailable, undefined, undefined, thrown),
              tls,
            );
          }
          continue;
        }
        if (!retries || attempt >= MAX_ATTEMPTS || !shouldRetry(method, error)) {
          throw unknownOutcome(method, error);
        }
        if (attempt % quorum(this.pool.endpoints.length) === 0) {
          const pause = SWEEP_BACKOFF_MS * (1 + SWEEP_JITTER * Math.random());
          await sleep(deadline === 0 ? pause : Math.min(pause, deadline - Date.now()), signal);
          if (signal?.aborted) throw canceledError(signal);
        }
      }
    }
  }

  async stream<I extends DescMessage, O extends DescMessage>(
    method: DescMethodStreaming<I, O>,
    signal: AbortSignal | undefined,
    timeoutMs: number | undefined,
    header: HeadersInit | undefined,
    input: AsyncIterable<MessageInitShape<I>>,
    contextValues?: ContextValues,
  ): Promise<StreamResponse<I, O>> {
    const path = methodPath(method);
    const endpoint = await this.#streamEndpoint(path, signal, timeoutMs, contextValues);
    const auth = contextValues?.get(noAuthKey) === true ? undefined : this.auth;
    const token = auth ? await auth.token(signal) : undefined;
    let response: StreamResponse<I, O>;
    try {
      response = await endpoint.connection.transport.stream(
        method,
        signal,
        timeoutMs,
        token === undefined ? header : withHeaders(header, { token }),
        input,
        contextValues,
      );
    } catch (thrown) {
      throw this.#streamFailure(thrown, endpoint, signal, path);
    }
    // The response with its messages observed; everything else read through to the original.
    return Object.create(response, {
      message: {
        value: this.#watchStream(response.message, endpoint, signal, path),
        enumerable: true,
      },
    }) as StreamResponse<I, O>;
  }

  /**
   * A stream of raw gRPC frames (`FrameStream`) for `method`, chosen, authenticated and watched
   * as `stream()` does, when the endpoint's transport is the lean one without interceptors;
   * undefined otherwise (use `stream()`). Its failures reach `handler.end` as `stream()`'s
   * reach the reader: the endpoint set aside when it failed, a missing method remembered.
   * `signal` gives up the opening (waiting for a connection or a token).
   *
   * @example
   * const frames = await transport.frameStream(Lease.method.leaseKeepAlive, { hasleader: "true" }, handler);
   */
  async frameStream(
    method: DescMethodStreaming,
    header: HeadersInit | undefined,
    handler: FrameStreamHandler,
    contextValues?: ContextValues,
    signal?: AbortSignal,
  ): Promise<FrameStream | undefined> {
    // Decided before an endpoint is picked: where the caller falls back to stream(), picking one
    // here would move the round-robin and wait for a connection that stream() does not use.
    const pinned = this.#pinned(contextValues);
    const sample = (pinned ?? this.pool.endpoints[0])?.connection.transport as
      | Partial<FrameStreamSource>
      | undefined;
    if (sample?.framesAvailable !== true) return undefined;
    const path = methodPath(method);
    const endpoint = await this.#streamEndpoint(path, signal, undefined, contextValues);
    const auth = contextValues?.get(noAuthKey) === true ? undefined : this.auth;
    const token = auth ? await auth.token(signal) : undefined;
    if (signal?.aborted) throw canceledError(signal);
    const watched: FrameStreamHandler = {
      message: (payload) => handler.message(payload),
      end: (error) =>
        handler.end(
          error === undefined
            ? undefined
            : ConnectError.from(this.#streamFailure(error, endpoint, undefined, path)),
        ),
    };
    const source = endpoint.connection.transport as Partial<FrameStreamSource>;
    try {
      return await source.frameStream?.(
        method,
        token === undefined ? header : withHeaders(header, { token }),
        watched,
      );
    } catch (thrown) {
      throw this.#streamFailure(thrown, endpoint, undefined, path);
    }
  }

  /**
   * The endpoint for a new stream: the pinned one, or a healthy one that connects (each tried
   * once; opening a stream sends nothing until connected). Endpoints whose server said it has no
   * such method are not asked again (until they reconnect); when none is left, the call fails
   * here as the server would, sending nothing.
   */
  async #streamEndpoint(
    path: string,
    signal: AbortSignal | undefined,
    timeoutMs: number | undefined,
    contextValues: ContextValues | undefined,
  ): Promise<PooledEndpoint> {
    if (this.closed) throw new ClientClosedError("etcd client is closed");
    const pinned = this.#pinned(contextValues);
    const tried = this.#lacking(path, pinned);
    let endpoint = pinned ?? this.pool.pick(tried);
    for (;;) {
      tried.add(endpoint);
      try {
        await this.#ready(endpoint, signal, timeoutMs || undefined);
        return endpoint;
      } catch (error) {
        if (this.closed)
          throw new ClientClosedError("etcd client is closed", Code.Canceled, { cause: error });
        if (signal?.aborted) throw error;
        this.pool.markFailed(endpoint, error);
        if (pinned !== undefined || tried.size >= this.pool.endpoints.length) throw error;
        endpoint = this.pool.pick(tried);
      }
    }
  }

  /**
   * The endpoints known to lack the method `path`, as a set a call starts its tried endpoints
   * from. Throws Unimplemented, marked as never sent, when that leaves no endpoint to ask.
   */
  #lacking(path: string, pinned: PooledEndpoint | undefined): Set<PooledEndpoint> {
    const lacking = new Set<PooledEndpoint>();
    let answer: string | undefined;
    for (const endpoint of pinned ? [pinned] : this.pool.endpoints) {
      const known = endpoint.missing.answer(path);
      if (known === undefined) continue;
      lacking.add(endpoint);
      answer = known;
    }
    if (answer !== undefined && lacking.size >= (pinned ? 1 : this.pool.endpoints.length)) {
      throw new ConnectError(
        answer,
        Code.Unimplemented,
        undefined,
        undefined,
        Object.assign(new Error("not sent: every endpoint answered this before"), {
          notSent: true,
        }),
      );
    }
    return lacking;
  }

  /**
   * For stream owners (watch, keep-alive): call when a stream failed, or a watch was refused,
   * because of the auth token (`isStaleTokenError(errorOrCancelReason)`). Resolves true when a
   * new token was obtained: open the stream again, once (`stream()` fetches the token on every
   * open). Resolves false when there is nothing to refresh (no credentials, or a token the user
   * supplied): give up with the error. Concurrent calls share one authentication.
   *
   * @example
   * if (isStaleTokenError(reply.cancelReason) && (await etcd.transport.refreshAuth())) reopen();
   */
  async refreshAuth(rejected?: string, signal?: AbortSignal): Promise<boolean> {
    if (!this.auth || this.closed) return false;
    return this.auth.refresh(rejected, signal);
  }

  /** The pool endpoint a call is pinned to with `endpointKey`, if any. */
  #pinned(contextValues: ContextValues | undefined): PooledEndpoint | undefined {
    const wanted = contextValues?.get(endpointKey);
    if (wanted === undefined) return undefined;
    const url = normalizeEndpoints([wanted])[0];
    const found = this.pool.endpoints.find((e) => e.url === url);
    if (!found) {
      const known = this.pool.endpoints.map((e) => e.url).join(", ");
      throw new InvalidArgumentError(`endpoint ${wanted} is not one of this client's: ${known}`);
    }
    return found;
  }

  /** Passes a stream's messages through; a failure sets the endpoint aside, as Unavailable. */
  async *#watchStream<T>(
    messages: AsyncIterable<T>,
    endpoint: PooledEndpoint,
    signal: AbortSignal | undefined,
    path: string,
  ): AsyncGenerator<T, void, undefined> {
    try {
      yield* messages;
    } catch (thrown) {
      throw this.#streamFailure(thrown, endpoint, signal, path);
    }
  }

  /**
   * A stream's failure as the caller sees it: the endpoint set aside when it failed, and
   * remembered as lacking the method when its server does not know it.
   */
  #streamFailure(
    thrown: unknown,
    endpoint: PooledEndpoint,
    signal: AbortSignal | undefined,
    path: string,
  ) {
    if (this.closed || signal?.aborted) return thrown;
    const error = toCallError(thrown);
    if (isEndpointFailure(error)) this.pool.markFailed(endpoint, error);
    else if (isUnknownMethod(error)) endpoint.missing.add(path, error.rawMessage);
    return error;
  }

  /**
   * Whether a set-aside endpoint serves again: it connects within the dial timeout and answers
   * Status, with a leader. Any answer from etcd other than Unavailable (an auth error, say)
   * also shows it alive.
   */
  async #probe(endpoint: PooledEndpoint): Promise<boolean> {
    if (this.closed) return false;
    try {
      await this.#ready(endpoint, undefined, this.#dialTimeoutMs);
      const response = await endpoint.connection.transport.unary(
        Health.method.check,
        undefined,
        this.#dialTimeoutMs,
        PROBE_HEADERS,
        {},
        undefined,
      );
      return response.message.status === HealthCheckResponse_ServingStatus.SERVING;
    } catch (error) {
      return !isEndpointFailure(toCallError(error));
    }
  }

  /**
   * Whether the member has a leader, by its own account, and its raft term: a local MemberList
   * with `hasleader`, which etcd refuses with "no leader" at once when it has none (cut off from
   * its peers, or during an election) and otherwise answers from memory with the term in its
   * header. When MemberList is refused (etcd 3.6+ checks the token), the health check, which
   * any user may call, still tells whether there is a leader. Undefined when neither says.
   */
  async #leaderReport(endpoint: PooledEndpoint): Promise<LeaderReport | undefined> {
    if (this.closed) return undefined;
    try {
      const token = this.auth ? await this.auth.token() : undefined;
      const response = await endpoint.connection.transport.unary(
        Cluster.method.memberList,
        undefined,
        this.#dialTimeoutMs,
        token === undefined ? PROBE_HEADERS : withHeaders(PROBE_HEADERS, { token }),
        {},
        undefined,
      );
      noteRaftTerm(endpoint.connection.session, response.message);
      return { hasLeader: true, term: response.message.header?.raftTerm };
    } catch (error) {
      if (/\bno leader\b/.test(toCallError(error).rawMessage)) return { hasLeader: false };
    }
    const hasLeader = await this.#hasLeader(endpoint);
    return hasLeader === undefined ? undefined : { hasLeader };
  }

  /**
   * Whether the member has a leader, by its own account: the health check with `hasleader`,
   * which etcd refuses with "no leader" at once when it has none (cut off from its peers, or
   * during an election). Undefined when the answer says nothing about it.
   */
  async #hasLeader(endpoint: PooledEndpoint): Promise<boolean | undefined> {
    if (this.closed) return undefined;
    try {
      await endpoint.connection.transport.unary(
        Health.method.check,
        undefined,
        this.#dialTimeoutMs,
        PROBE_HEADERS,
        {},
        undefined,
      );
      return true;
    } catch (error) {
      const callError = toCallError(error);
      return /\bno leader\b/.test(callError.rawMessage) ? false : undefined;
    }
  }

  /**
   * Waits until the endpoint's connection is established (the server's HTTP/2 SETTINGS arrived),
   * up to the dial timeout or the call's budget. Free when it is. A failure here is marked
   * `notSent`: the request never left.
   */
  async #ready(
    endpoint: PooledEndpoint,
    signal: AbortSignal | undefined,
    budgetMs: number | undefined,
  ) {
    if (isEstablished(endpoint)) return;
    const session = endpoint.connection.session;
    const managed = isManagedSession(session) ? session : undefined;
    const limit = Math.min(this.#dialTimeoutMs, budgetMs ?? Number.POSITIVE_INFINITY);
    const connected = managed
      ? managed.handshake()
      : session.connect().then((state) => state !== "error");
    const outcome = limit <= 0 ? "timeout" : await within(connected, limit, signal);
    if (outcome === true) return;
    if (outcome === "aborted") throw canceledError(signal as AbortSignal);
    const cause =
      outcome === "timeout"
        ? dialTimeout(endpoint.url, limit)
        : (session.error() ?? managed?.lastError);
    throw new ConnectError(
      `cannot connect to ${endpoint.url}: ${String((cause as Error | undefined)?.message ?? cause ?? "connection closed")}`,
      Code.Unavailable,
      undefined,
      undefined,
      Object.assign(new Error("not sent", { cause }), { notSent: true }),
    );
  }
}

/** True when calls can go to the endpoint's connection without waiting for it. */
function isEstablished(endpoint: PooledEndpoint): boolean {
  const session = endpoint.connection.session;
  return isManagedSession(session) ? session.established : session.state() === "open";
}

/**
 * A write that failed after it may have reached etcd, marked so that the facade reports an
 * `OutcomeUnknownError`; any other error unchanged.
 */
function unknownOutcome(method: DescMethodUnary, error: ConnectError): ConnectError {
  if (!outcomeUnknown(method, error)) return error;
  return new ConnectError(
    error.rawMessage,
    Code.Unavailable,
    error.metadata,
    undefined,
    Object.assign(new Error("the write may have been applied", { cause: error }), {
      outcomeUnknown: true,
    }),
  );
}

function isDialTimeout(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 4; depth++) {
    if ((e as { code?: unknown }).code === "ETCD_DIAL_TIMEOUT") return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** The time left before `deadline` (0: none), at least 1 ms. */
function remainingMs(deadline: number): number | undefined {
  return deadline === 0 ? undefined : Math.max(1, deadline - Date.now());
}

/** Waits for `promise` up to `ms` or until the signal fires; never rejects. */
function within<T>(
  promise: Promise<T>,
  ms: number,
  signal: AbortSignal | undefined,
): Promise<T | "timeout" | "aborted"> {
  if (signal?.aborted) return Promise.resolve("aborted");
  return new Promise((resolve) => {
    const finish = (value: T | "timeout" | "aborted") => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      resolve(value);
    };
    const onAbort = () => finish("aborted");
    const timer = setTimeout(() => finish("timeout"), ms);
    signal?.addEventListener("abort", onAbort, { once: true });
    promise.then(finish, () => finish("timeout"));
  });
}

function dialTimeout(url: string, ms: number): Error {
  const message =
    ms <= 0
      ? `${url} is still connecting (its dial timed out)`
      : `dial timeout after ${ms} ms to ${url}`;
  return Object.assign(new Error(message), {
    code: "ETCD_DIAL_TIMEOUT",
  });
}

/**
 * True when etcd refused a call, a stream or a watch because of the auth token (expired,
 * unknown, older than the auth store, or missing): authenticating again may help. Takes a
 * thrown error (Connect or Etcd error) or a watch's `cancel_reason` string.
 *
 * @example
 * if (isStaleTokenError(err) && (await etcd.transport.refreshAuth())) retry();
 */
export function isStaleTokenError(error: unknown): boolean {
  if (typeof error === "string") return STALE_TOKEN_MESSAGES.has(error);
  if (error instanceof ConnectError) return STALE_TOKEN_MESSAGES.has(error.rawMessage);
  const raw = (error as { rawMessage?: unknown } | null)?.rawMessage;
  return typeof raw === "string" && STALE_TOKEN_MESSAGES.has(raw);
}

/** The gRPC status code of a failed call (Connect's codes are gRPC's numbers); 2 (Unknown) if none. */
function statusCode(error: unknown): number {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "number" ? code : Code.Unknown;
}

/** "package.Service/Method", as etcd's and gRPC's paths name an RPC. */
function methodPath(method: DescMethodStreaming): string {
  return `${method.parent.typeName}/${method.name}`;
}

function quorum(n: number): number {
  return Math.floor(n / 2) + 1;
}
