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
import { ClientClosedError, InvalidArgumentError } from "../errors.ts";
import { normalizeEndpoints } from "./endpoints.ts";
import type { EndpointPool, PooledEndpoint } from "./pool.ts";
import { shouldRetry } from "./retry-policy.ts";
import { findTlsFailure, withTlsFailure } from "./tls-errors.ts";

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

const MAX_ATTEMPTS = 100;
const SWEEP_BACKOFF_MS = 25;

const staleTokenMessages = new Set([
  "etcdserver: invalid auth token",
  "etcdserver: user name is empty",
  "etcdserver: revision of auth store is old",
]);

/**
 * A Connect `Transport` over every endpoint of a client: it picks an endpoint per call, adds the
 * auth token, waits for a connection up to the dial timeout, applies the default deadline, and
 * retries by Go's clientv3 rules (repeatable RPCs on Unavailable; writes only when they never
 * left). Streams go to one healthy endpoint; their owners (watch, keep-alive) move them on failure.
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
  }

  async unary<I extends DescMessage, O extends DescMessage>(
    method: DescMethodUnary<I, O>,
    signal: AbortSignal | undefined,
    timeoutMs: number | undefined,
    header: HeadersInit | undefined,
    input: MessageInitShape<I>,
    contextValues?: ContextValues,
  ): Promise<UnaryResponse<I, O>> {
    if (this.closed) throw new ClientClosedError("etcd client is closed");
    const budget = timeoutMs === undefined ? this.#defaultTimeoutMs : timeoutMs || undefined;
    const deadline = budget === undefined ? 0 : Date.now() + budget;
    const pinned = this.#pinned(contextValues);
    const retries = pinned === undefined && contextValues?.get(noRetryKey) !== true;
    const auth = contextValues?.get(noAuthKey) === true ? undefined : this.auth;
    let previous: PooledEndpoint | undefined;
    let authRepeated = false;
    for (let attempt = 1; ; attempt++) {
      const endpoint = pinned ?? this.pool.pick(previous);
      previous = endpoint;
      let token: string | undefined;
      try {
        const remaining = deadline === 0 ? undefined : Math.max(1, deadline - Date.now());
        await this.#ready(endpoint, signal, remaining);
        token = auth ? await auth.token(signal) : undefined;
        const response = await endpoint.connection.transport.unary(
          method,
          signal,
          deadline === 0 ? undefined : Math.max(1, deadline - Date.now()),
          token === undefined ? header : withToken(header, token),
          input,
          contextValues,
        );
        this.pool.markHealthy(endpoint);
        return response;
      } catch (error) {
        if (this.closed)
          throw new ClientClosedError("etcd client is closed", Code.Canceled, { cause: error });
        if (signal?.aborted || (deadline !== 0 && Date.now() >= deadline)) throw error;
        if (auth && !authRepeated && isStaleTokenError(error)) {
          authRepeated = true;
          if (await auth.refresh(token, signal)) continue;
          throw error;
        }
        const tls = findTlsFailure(error, { clientCert: this.#clientCert, endpoint: endpoint.url });
        if (tls) {
          // Settings, not a passing fault: try each endpoint once, then say what is wrong.
          this.pool.markFailed(endpoint);
          if (!retries || attempt >= this.pool.endpoints.length) {
            throw withTlsFailure(
              new ConnectError(tls.message, Code.Unavailable, undefined, undefined, error),
              tls,
            );
          }
          continue;
        }
        if (!retries || attempt >= MAX_ATTEMPTS || !shouldRetry(method, error)) throw error;
        this.pool.markFailed(endpoint);
        if (attempt % quorum(this.pool.endpoints.length) === 0)
          await sleep(SWEEP_BACKOFF_MS, signal);
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
    if (this.closed) throw new ClientClosedError("etcd client is closed");
    const endpoint = this.#pinned(contextValues) ?? this.pool.pick();
    try {
      await this.#ready(endpoint, signal, timeoutMs || undefined);
    } catch (error) {
      this.pool.markFailed(endpoint);
      throw error;
    }
    const auth = contextValues?.get(noAuthKey) === true ? undefined : this.auth;
    const token = auth ? await auth.token(signal) : undefined;
    return endpoint.connection.transport.stream(
      method,
      signal,
      timeoutMs,
      token === undefined ? header : withToken(header, token),
      input,
      contextValues,
    );
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

  /** Waits for the endpoint's HTTP/2 session, up to the dial timeout. Free when it is open. */
  async #ready(
    endpoint: PooledEndpoint,
    signal: AbortSignal | undefined,
    budgetMs: number | undefined,
  ) {
    const session = endpoint.connection.session;
    if (session.state() === "open") return;
    const limit = Math.min(this.#dialTimeoutMs, budgetMs ?? Number.POSITIVE_INFINITY);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), limit);
    });
    const aborted = signal ? abortPromise(signal) : undefined;
    try {
      const state = await Promise.race(
        aborted ? [session.connect(), timedOut, aborted] : [session.connect(), timedOut],
      );
      if (state === "error" || state === "timeout") {
        const cause = state === "timeout" ? dialTimeout(endpoint.url, limit) : session.error();
        throw new ConnectError(
          `cannot connect to ${endpoint.url}: ${String((cause as Error)?.message ?? cause)}`,
          Code.Unavailable,
          undefined,
          undefined,
          Object.assign(new Error("not sent"), { notSent: true, cause }),
        );
      }
    } finally {
      clearTimeout(timer);
    }
  }
}

function dialTimeout(url: string, ms: number): Error {
  return Object.assign(new Error(`dial timeout after ${ms} ms to ${url}`), {
    code: "ETCD_DIAL_TIMEOUT",
  });
}

function abortPromise(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(ConnectError.from(signal.reason, Code.Canceled));
    signal.addEventListener(
      "abort",
      () => reject(ConnectError.from(signal.reason, Code.Canceled)),
      {
        once: true,
      },
    );
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
  if (typeof error === "string") return staleTokenMessages.has(error);
  if (error instanceof ConnectError) return staleTokenMessages.has(error.rawMessage);
  const raw = (error as { rawMessage?: unknown } | null)?.rawMessage;
  return typeof raw === "string" && staleTokenMessages.has(raw);
}

function withToken(header: HeadersInit | undefined, token: string): HeadersInit {
  const headers = new Headers(header);
  headers.set("token", token);
  return headers;
}

function quorum(n: number): number {
  return Math.floor(n / 2) + 1;
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
