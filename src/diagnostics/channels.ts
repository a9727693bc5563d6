import type * as DiagnosticsChannel from "node:diagnostics_channel";
import type { CallTrace } from "./call-trace.ts";

/**
 * The names of the `node:diagnostics_channel` channels this client publishes on. `call` is a
 * tracing channel (subscribe with `tracingChannel(name).subscribe({ start, asyncEnd, error })`);
 * the others are plain channels (`subscribe(name, onMessage)`). Nothing is built or published
 * while a channel has no subscriber.
 *
 * @example
 * import { subscribe } from "node:diagnostics_channel";
 * subscribe(diagnosticsChannels.endpointAside, (m) => console.warn("set aside", m));
 */
export const diagnosticsChannels = {
  /** Tracing channel: one unary call from the first attempt to its outcome; `CallTrace`. */
  call: "etcd-connect:call",
  /** A unary call tried again (on another endpoint: a failover); `CallRetryMessage`. */
  callRetry: "etcd-connect:call:retry",
  /** An HTTP/2 connection to a member is up (the server's SETTINGS arrived); `ConnectionMessage`. */
  connectionUp: "etcd-connect:connection:up",
  /** An established connection closed; `ConnectionMessage`. */
  connectionDown: "etcd-connect:connection:down",
  /** An endpoint failed and is set aside while it is probed; `EndpointAsideMessage`. */
  endpointAside: "etcd-connect:endpoint:aside",
  /** A set-aside endpoint serves again (a probe or a call succeeded); `EndpointBackMessage`. */
  endpointBack: "etcd-connect:endpoint:back",
  /** The client's Watch stream was opened, or opened again after a failure; `WatchOpenMessage`. */
  watchOpen: "etcd-connect:watch:open",
  /** A watcher created again at its next revision; `WatchResumeMessage`. */
  watchResume: "etcd-connect:watch:resume",
  /** Events handed to a watcher, with how far behind etcd's head they are; `WatchEventsMessage`. */
  watchEvents: "etcd-connect:watch:events",
  /** etcd renewed a kept-alive lease; `LeaseRenewedMessage`. */
  leaseRenewed: "etcd-connect:lease:renewed",
  /** A kept-alive lease was lost; `LeaseLostMessage`. */
  leaseLost: "etcd-connect:lease:lost",
  /** A new auth token was obtained with the user name and password; `TokenMessage`. */
  tokenRefreshed: "etcd-connect:auth:token",
} as const;

/**
 * Published on `callRetry` before each attempt after the first.
 *
 * @example
 * subscribe(diagnosticsChannels.callRetry, (m) => {
 *   const { call, failover } = m as CallRetryMessage;
 *   if (failover) console.log(call?.method, "moved to", call?.endpoint);
 * });
 */
export interface CallRetryMessage {
  /** The call's trace when the `call` channel has subscribers, else undefined. */
  readonly call: CallTrace | undefined;
  /** The gRPC service, such as "etcdserverpb.KV". */
  readonly service: string;
  /** The RPC, such as "Put". */
  readonly method: string;
  /** The attempt about to start (2 for the first retry). */
  readonly attempt: number;
  /** The endpoint the attempt goes to. */
  readonly endpoint: string;
  /** The endpoint the previous attempt failed on. */
  readonly previousEndpoint: string;
  /** True when the attempt goes to another endpoint than the previous one. */
  readonly failover: boolean;
  /** Why the previous attempt failed (a `ConnectError` or `EtcdError`). */
  readonly reason: unknown;
}

/**
 * Published on `connectionUp` and `connectionDown`.
 *
 * @example
 * subscribe(diagnosticsChannels.connectionDown, (m) => console.warn((m as ConnectionMessage).endpoint));
 */
export interface ConnectionMessage {
  /** The member's URL as the client knows it, such as "http://127.0.0.1:2379". */
  readonly endpoint: string;
  /** What closed the connection, when known (`connectionDown` only). */
  readonly error?: unknown;
}

/**
 * Published on `endpointAside`.
 *
 * @example
 * subscribe(diagnosticsChannels.endpointAside, (m) => console.warn((m as EndpointAsideMessage).endpoint));
 */
export interface EndpointAsideMessage {
  /** The member's URL as the client knows it. */
  readonly endpoint: string;
  /** Failures in a row: 1 for the call that set it aside, then one more per failed probe. */
  readonly failures: number;
  /** When it is probed next, in milliseconds from now. */
  readonly probeInMs: number;
  /** The failure that set it aside, when known (probes give none). */
  readonly reason?: unknown;
}

/**
 * Published on `endpointBack`.
 *
 * @example
 * subscribe(diagnosticsChannels.endpointBack, (m) => console.info((m as EndpointBackMessage).endpoint));
 */
export interface EndpointBackMessage {
  /** The member's URL as the client knows it. */
  readonly endpoint: string;
  /** Failures in a row it had before coming back. */
  readonly failures: number;
}

/**
 * Published on `watchOpen`.
 *
 * @example
 * subscribe(diagnosticsChannels.watchOpen, (m) => console.info((m as WatchOpenMessage).opens));
 */
export interface WatchOpenMessage {
  /** Times the client's Watch stream was opened, this one included (1 for the first). */
  readonly opens: number;
  /** Whether an earlier stream failed (rather than closed for lack of watchers). */
  readonly reopened: boolean;
  /** Watchers created on the new stream. */
  readonly watchers: number;
}

/**
 * Published on `watchResume`.
 *
 * @example
 * subscribe(diagnosticsChannels.watchResume, (m) => console.info((m as WatchResumeMessage).revision));
 */
export interface WatchResumeMessage {
  /** The watched key (the range's start), as sent to etcd. */
  readonly key: Uint8Array;
  /** The revision it resumed from: every event before it was delivered already. */
  readonly revision: bigint;
  /** "stream" after the Watch stream failed; "consumer" after a paused slow consumer caught up. */
  readonly reason: "stream" | "consumer";
}

/**
 * Published on `watchEvents`, once per batch of events handed to a watcher.
 *
 * @example
 * subscribe(diagnosticsChannels.watchEvents, (m) => console.info((m as WatchEventsMessage).lag));
 */
export interface WatchEventsMessage {
  /** Events in the batch. */
  readonly events: number;
  /** The revision of the batch's last event. */
  readonly revision: bigint;
  /** etcd's current revision when it sent them. */
  readonly headRevision: bigint;
  /** Revisions between etcd's head and the last event: 0 when the watcher is caught up. */
  readonly lag: bigint;
}

/**
 * Published on `leaseRenewed`.
 *
 * @example
 * subscribe(diagnosticsChannels.leaseRenewed, (m) => console.info((m as LeaseRenewedMessage).roundTripMs));
 */
export interface LeaseRenewedMessage {
  /** The lease ID. */
  readonly id: bigint;
  /** The TTL etcd granted, in seconds. */
  readonly ttl: bigint;
  /** From sending the renewal to etcd's answer, in milliseconds. */
  readonly roundTripMs: number;
  /**
   * How much later than planned (a third of the TTL after the previous renewal) the renewal
   * went out, in milliseconds: a blocked event loop or a stream reopening shows here.
   */
  readonly lateMs: number;
}

/**
 * Published on `leaseLost`.
 *
 * @example
 * subscribe(diagnosticsChannels.leaseLost, (m) => console.error((m as LeaseLostMessage).error.message));
 */
export interface LeaseLostMessage {
  /** The lease ID. */
  readonly id: bigint;
  /** The `LeaseLostError` the lease's owners got. */
  readonly error: Error;
}

/**
 * Published on `tokenRefreshed`. Never holds the token or the password.
 *
 * @example
 * subscribe(diagnosticsChannels.tokenRefreshed, (m) => console.info((m as TokenMessage).username));
 */
export interface TokenMessage {
  /** The user the token is for. */
  readonly username: string;
  /** True for the first token of this client, false when a rejected or old one was replaced. */
  readonly initial: boolean;
}

/**
 * Node's `diagnostics_channel`, reached without a static import so that the module graph stays
 * free of `node:` imports for fetch-only runtimes (Bun and Deno have it too). Where the runtime
 * has none (browsers, workers), channels that never have subscribers stand in.
 */
const builtin = (
  globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }
).process?.getBuiltinModule?.("node:diagnostics_channel") as typeof DiagnosticsChannel | undefined;

const silentChannel = { hasSubscribers: false, publish() {} };

const channel = builtin
  ? builtin.channel
  : (_name: string) => silentChannel as unknown as DiagnosticsChannel.Channel;

const tracingChannel = builtin
  ? builtin.tracingChannel
  : <S, C extends object>(_name: string) =>
      ({
        hasSubscribers: false,
        tracePromise: (
          fn: (...args: unknown[]) => unknown,
          _context: unknown,
          thisArg: unknown,
          ...args: unknown[]
        ) => fn.apply(thisArg, args),
      }) as unknown as DiagnosticsChannel.TracingChannel<S, C>;

/** @internal */
export const callChannel = withHasSubscribers(
  tracingChannel<unknown, CallTrace>(diagnosticsChannels.call),
);
/** @internal */
export const callRetryChannel = channel(diagnosticsChannels.callRetry);
/** @internal */
export const connectionUpChannel = channel(diagnosticsChannels.connectionUp);
/** @internal */
export const connectionDownChannel = channel(diagnosticsChannels.connectionDown);
/** @internal */
export const endpointAsideChannel = channel(diagnosticsChannels.endpointAside);
/** @internal */
export const endpointBackChannel = channel(diagnosticsChannels.endpointBack);
/** @internal */
export const watchOpenChannel = channel(diagnosticsChannels.watchOpen);
/** @internal */
export const watchResumeChannel = channel(diagnosticsChannels.watchResume);
/** @internal */
export const watchEventsChannel = channel(diagnosticsChannels.watchEvents);
/** @internal */
export const leaseRenewedChannel = channel(diagnosticsChannels.leaseRenewed);
/** @internal */
export const leaseLostChannel = channel(diagnosticsChannels.leaseLost);
/** @internal */
export const tokenChannel = channel(diagnosticsChannels.tokenRefreshed);

/**
 * Gives a tracing channel the `hasSubscribers` getter where the runtime lacks it (Bun 1.4's
 * `TracingChannel` has none, which would read as "nobody tracing" forever): true when any of its
 * five channels has a subscriber, as in Node. Node's own getter is left as it is.
 */
function withHasSubscribers<T extends DiagnosticsChannel.TracingChannel<unknown, object>>(
  traced: T,
): T {
  if (typeof traced.hasSubscribers === "boolean") return traced;
  Object.defineProperty(traced, "hasSubscribers", {
    get: () =>
      traced.start.hasSubscribers ||
      traced.end.hasSubscribers ||
      traced.asyncStart.hasSubscribers ||
      traced.asyncEnd.hasSubscribers ||
      traced.error.hasSubscribers,
  });
  return traced;
}
