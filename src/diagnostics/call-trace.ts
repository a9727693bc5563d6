/**
 * The context object of the `etcd-connect:call` tracing channel: one unary call, from its first
 * attempt to its outcome (retries included). Subscribers read it, and may add request metadata
 * in their `start` handler (trace context such as `traceparent`); it is sent with every attempt.
 * Node's `tracePromise` sets `result` or `error` when the call settles.
 *
 * @example
 * tracingChannel(diagnosticsChannels.call).subscribe({
 *   start(ctx) { (ctx as CallTrace).setMetadata("traceparent", header); },
 *   asyncEnd(ctx) { console.log((ctx as CallTrace).method, (ctx as CallTrace).code); },
 *   end() {}, asyncStart() {}, error() {},
 * });
 */
export class CallTrace {
  /** The gRPC service, such as "etcdserverpb.KV". */
  readonly service: string;
  /** The RPC, such as "Put". */
  readonly method: string;
  /** The endpoint of the current (finally: the last) attempt, such as "http://127.0.0.1:2379". */
  endpoint = "";
  /** The current (finally: the last) attempt, from 1. */
  attempt = 0;
  /** Why the previous attempt failed, from the second attempt on (see also `callRetry`). */
  retryReason: unknown;
  /** The gRPC status code of the outcome, once settled: 0 for OK. */
  code: number | undefined;
  /** Metadata subscribers added, sent with every attempt. */
  metadata: Record<string, string> | undefined;
  /** Set by the tracing channel when the call succeeds. */
  result?: unknown;
  /** Set by the tracing channel when the call fails. */
  error?: unknown;

  /** Made by the client for each traced call. */
  constructor(service: string, method: string) {
    this.service = service;
    this.method = method;
  }

  /** Adds a request header (lowercase gRPC metadata name) to every attempt of the call. */
  setMetadata(name: string, value: string): void {
    this.metadata ??= {};
    this.metadata[name.toLowerCase()] = value;
  }
}
