import type { DescMethod } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";

/**
 * RPCs that read, or whose repetition is harmless, following Go's clientv3 retry interceptor:
 * these are retried on another endpoint when a member is unavailable. Everything else is a write
 * and is retried only when the request provably never left the client.
 */
const repeatable = new Set([
  "etcdserverpb.KV/Range",
  "etcdserverpb.KV/RangeStream",
  "etcdserverpb.Lease/LeaseGrant",
  "etcdserverpb.Lease/LeaseRevoke",
  "etcdserverpb.Lease/LeaseTimeToLive",
  "etcdserverpb.Lease/LeaseLeases",
  "etcdserverpb.Lease/LeaseKeepAlive",
  "etcdserverpb.Cluster/MemberList",
  "etcdserverpb.Maintenance/Alarm",
  "etcdserverpb.Maintenance/Status",
  "etcdserverpb.Maintenance/Hash",
  "etcdserverpb.Maintenance/HashKV",
  "etcdserverpb.Maintenance/Snapshot",
  "etcdserverpb.Maintenance/MoveLeader",
  "etcdserverpb.Auth/AuthStatus",
  "etcdserverpb.Auth/Authenticate",
  "etcdserverpb.Auth/UserGet",
  "etcdserverpb.Auth/UserList",
  "etcdserverpb.Auth/RoleGet",
  "etcdserverpb.Auth/RoleList",
]);

/**
 * True when repeating the RPC cannot apply a change twice.
 *
 * @example
 * isRepeatable(KV.method.range); // true
 */
export function isRepeatable(method: DescMethod): boolean {
  return repeatable.has(`${method.parent.typeName}/${method.name}`);
}

/** Repeatable RPCs that change nothing: safe to abandon on a stalled member and send elsewhere. */
const pureReads = new Set([
  "etcdserverpb.KV/Range",
  "etcdserverpb.Lease/LeaseTimeToLive",
  "etcdserverpb.Lease/LeaseLeases",
  "etcdserverpb.Cluster/MemberList",
  "etcdserverpb.Maintenance/Status",
  "etcdserverpb.Auth/AuthStatus",
  "etcdserverpb.Auth/UserGet",
  "etcdserverpb.Auth/UserList",
  "etcdserverpb.Auth/RoleGet",
  "etcdserverpb.Auth/RoleList",
]);

/**
 * True for reads that change nothing on the server (a Range, a member list...): unlike a
 * lease grant, sending one twice leaves no trace, so a read stuck on a member that stopped
 * answering may be abandoned and sent to another.
 *
 * @example
 * isPureRead(KV.method.range); // true
 */
export function isPureRead(method: DescMethod): boolean {
  let pure = pureReadCache.get(method);
  if (pure === undefined) {
    pure = pureReads.has(`${method.parent.typeName}/${method.name}`);
    pureReadCache.set(method, pure);
  }
  return pure;
}

/** The answer per method descriptor: asked on every unary call, built once. */
const pureReadCache = new WeakMap<DescMethod, boolean>();

/**
 * True when a write failed after it may have reached etcd: the connection was lost or the
 * member stopped answering (not an answer from etcd, not a request that provably never left).
 * Takes an error after `toCallError`. Such a write is never sent again.
 *
 * @example
 * if (outcomeUnknown(KV.method.put, error)) throw new OutcomeUnknownError(...);
 */
export function outcomeUnknown(method: DescMethod, error: ConnectError): boolean {
  return (
    error.code === Code.Unavailable &&
    !isRepeatable(method) &&
    !neverLeft(error) &&
    fromConnection(error)
  );
}

/**
 * Node's codes for a stream that was never written to the connection: a request made on a
 * session already destroyed (ERR_HTTP2_INVALID_SESSION) or closing after a GOAWAY
 * (ERR_HTTP2_GOAWAY_SESSION) fails on its stream before anything is sent; a stream still waiting
 * for the session to connect is cancelled with ERR_HTTP2_STREAM_CANCEL.
 */
const unsentStreamCodes = new Set([
  "ERR_HTTP2_INVALID_SESSION",
  "ERR_HTTP2_GOAWAY_SESSION",
  "ERR_HTTP2_STREAM_CANCEL",
]);

/** System calls whose failure means no connection was made: connecting, resolving the name. */
const connectSyscalls = new Set(["connect", "getaddrinfo", "queryA", "queryAaaa"]);

/**
 * True when the error proves the request never reached a server, so that a write may be sent
 * again elsewhere:
 * - an error marked `notSent: true` (the dial timeout, a transport that knows it sent nothing);
 * - a failed connect or name lookup (a Node system error from `connect` or `getaddrinfo`, such
 *   as ECONNREFUSED): no connection, no request;
 * - a stream that never went out (see `unsentStreamCodes`);
 * - HTTP/2 REFUSED_STREAM, which a server sends only for a stream it did not process.
 * A reset, a timeout or a lost connection after the request was written is not proof: the write
 * may have been applied.
 *
 * @example
 * if (neverLeft(err)) retryOnNextEndpoint();
 */
export function neverLeft(error: unknown): boolean {
  const seen = new Set<unknown>();
  for (let e: unknown = error; e && typeof e === "object" && !seen.has(e); ) {
    seen.add(e);
    const fields = e as { notSent?: unknown; code?: unknown; syscall?: unknown; message?: unknown };
    if (fields.notSent === true) return true;
    if (typeof fields.code === "string") {
      if (unsentStreamCodes.has(fields.code)) return true;
      if (typeof fields.syscall === "string" && connectSyscalls.has(fields.syscall)) return true;
      if (fields.code === "ENOTFOUND" || fields.code === "EAI_AGAIN") return true;
    }
    if (typeof fields.message === "string" && /REFUSED_STREAM/.test(fields.message)) {
      return true;
    }
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * True when the error comes from the connection rather than from etcd: a Node error code
 * (ECONNRESET, ERR_HTTP2_STREAM_ERROR...) somewhere in its causes.
 */
function fromConnection(error: unknown): boolean {
  const seen = new Set<unknown>();
  for (let e: unknown = error; e && typeof e === "object" && !seen.has(e); ) {
    seen.add(e);
    const code = (e as { code?: unknown }).code;
    if (
      typeof code === "string" &&
      /^(E[A-Z]+|ERR_HTTP2_\w+|ERR_STREAM_\w+|ETCD_MEMBER_HUNG|ETCD_MEMBER_LEADERLESS|ETCD_MEMBER_NEW_LEADER)$/.test(
        code,
      )
    ) {
      return true;
    }
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * Turns a failure of the member or of the connection to it into `Unavailable` (the original is
 * kept as `cause`), the way gRPC reports a lost transport: a reset connection arrives from
 * connect-node as Aborted or Internal, and a killed server as Canceled. Call only when the
 * caller's own signal has not fired: then Canceled is never the caller's cancel. Errors etcd
 * sent are returned unchanged.
 *
 * @example
 * const error = toCallError(thrown); // Aborted "read ECONNRESET" -> Unavailable
 */
export function toCallError(error: unknown): ConnectError {
  const ce = ConnectError.from(error);
  switch (ce.code) {
    case Code.Unavailable:
    case Code.DeadlineExceeded:
      return ce;
    case Code.Canceled:
      return unavailable(ce, error);
    case Code.Aborted:
    case Code.Internal:
    case Code.Unknown:
      return fromConnection(error) ? unavailable(ce, error) : ce;
    default:
      return ce;
  }
}

function unavailable(ce: ConnectError, original: unknown): ConnectError {
  return new ConnectError(ce.rawMessage, Code.Unavailable, ce.metadata, undefined, original);
}

/**
 * True when the endpoint, not the request, failed: it could not be reached, went away, did not
 * answer in time, or is not serving (etcd answers "no leader", "request timed out"... with
 * Unavailable). Takes an error after `toCallError`. Such an endpoint is set aside.
 *
 * @example
 * if (isEndpointFailure(error)) pool.markFailed(endpoint);
 */
export function isEndpointFailure(error: ConnectError): boolean {
  return error.code === Code.Unavailable || error.code === Code.DeadlineExceeded;
}

/**
 * Whether a failed call may be sent again on another endpoint: any RPC when it never left;
 * repeatable RPCs on `Unavailable`. Takes an error after `toCallError`.
 *
 * @example
 * if (shouldRetry(method, toCallError(err))) continue;
 */
export function shouldRetry(method: DescMethod, error: unknown): boolean {
  if (neverLeft(error)) return true;
  const code = error instanceof ConnectError ? error.code : ConnectError.from(error).code;
  return code === Code.Unavailable && isRepeatable(method);
}
