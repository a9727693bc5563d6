import type { Interceptor } from "@connectrpc/connect";
import type { TransportFactory } from "../connection/endpoint-transport.ts";

import type { TlsOptions } from "../connection/tls-options.ts";
import type { Logger } from "../diagnostics/logger.ts";

/**
 * How the client reaches etcd.
 *
 * @example
 * const etcd = new Etcd({ endpoints: ["http://127.0.0.1:2379"], timeoutMs: 5000 });
 */
export interface EtcdOptions {
  /** Member URLs such as "http://127.0.0.1:2379" (a bare "host:port" means http). */
  endpoints: string[] | string;
  /** Default deadline for unary calls in milliseconds; 0 or unset means none. */
  timeoutMs?: number;
  /**
   * Member discovery: every this many milliseconds, replace the endpoints with the client URLs of
   * the cluster's voting members (MemberList; learners left out). Unset or 0: off (call
   * `etcd.sync()` when wanted).
   */
  autoSyncIntervalMs?: number;
  /** How long to wait for a connection to a member, in milliseconds. Default 5000. */
  dialTimeoutMs?: number;
  /** HTTP/2 ping interval to detect hung members, at least 10000 (etcd's floor is 5 s). Default 30000. */
  pingIntervalMs?: number;
  /**
   * How long a ping may go unanswered before the connection is dropped and the calls on it fail
   * (reads move to another member; a write that may have been sent fails with
   * `OutcomeUnknownError`). Besides the keep-alive pings, a ping is sent when calls have waited
   * 500 ms without a frame from the server (at most one every 5 s, etcd's policy). Default 3000.
   */
  pingTimeoutMs?: number;
  /** User name for etcd authentication (with `password`); the token is fetched and refreshed. */
  username?: string;
  /** Password for `username`. Never printed, logged or put in errors. */
  password?: string;
  /** A token obtained elsewhere; sent as is and never refreshed. */
  token?: string;
  /** TLS material for https endpoints. */
  tls?: TlsOptions;
  /** Connect interceptors applied to every call. */
  interceptors?: Interceptor[];
  /**
   * Largest response accepted, in bytes. Default 64 MiB: room for big ranges, still a guard
   * against a runaway one (Go's client accepts up to 2 GiB, math.MaxInt32).
   */
  maxReceiveBytes?: number;
  /** Largest request sent, in bytes. Default 2 MiB (etcd accepts 1.5 MiB unless configured). */
  maxSendBytes?: number;
  /**
   * Which implementation carries the calls to one endpoint: "lean" (default on Node: unary
   * calls straight over node:http2, streams through connect-node), "connect" (connect-node's
   * gRPC transport for everything), "gateway" (etcd's JSON gateway over `fetch` and WebSocket:
   * the only one in `etcd-connect/web`, for browsers, workers and Deno), or a factory of your own.
   */
  transport?: "lean" | "connect" | "gateway" | TransportFactory;
  /**
   * Batch reads: linearizable single-key `get`s issued in the same event-loop turn go out as one
   * Txn of up to 128 range operations (one quorum round instead of one each), with results
   * identical to separate calls; a failed batch is retried as separate calls. Worth it when many
   * gets run concurrently; a lone get waits one turn of the event loop. Per call:
   * `get(key, { coalesce: true | false })`. Default false.
   */
  coalesceReads?: boolean;
  /**
   * Where connection-level events are reported, one line each: connections up and down,
   * endpoints set aside and back, the Watch stream reopened, watchers resumed, late renewals,
   * leases lost, tokens refreshed. Never per call, never a password or token. `console`, pino
   * and winston loggers fit. For metrics and traces, see `diagnosticsChannels` and
   * `etcd-connect/otel`.
   */
  logger?: Logger;
}
