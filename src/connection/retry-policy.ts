import type { DescMethod } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";

/**
 * RPCs that read, or whose repetition is harmless, following Go's clientv3 retry interceptor:
 * these are retried on another endpoint when a member is unavailable. Everything else is a write
 * and is retried only when the request provably never left the client.
 */
const repeatable = new Set([
  "etcdserverpb.KV/Range",
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

const neverSentCodes = new Set([
  "ECONNREFUSED",
  "ECONNRESET_BEFORE_SEND",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ERR_HTTP2_GOAWAY_SESSION",
  "ERR_HTTP2_INVALID_SESSION",
  "ERR_HTTP2_STREAM_CANCEL",
  "ETCD_DIAL_TIMEOUT",
]);

/**
 * True when the error shows the request never reached the server: the connection could not be
 * made (refused, unreachable, dial timeout), or the session was already gone when the stream was
 * to be opened. Only then is a write safe to send again.
 *
 * @example
 * if (neverLeft(err)) retryOnNextEndpoint();
 */
export function neverLeft(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 6; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && neverSentCodes.has(code)) return true;
    if (e instanceof Error && "notSent" in e && (e as { notSent?: boolean }).notSent) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * Whether a failed call may be sent again on another endpoint: repeatable RPCs on
 * `Unavailable`; any RPC when it never left.
 *
 * @example
 * if (shouldRetry(method, err)) continue;
 */
export function shouldRetry(method: DescMethod, error: unknown): boolean {
  if (neverLeft(error)) return true;
  const code = error instanceof ConnectError ? error.code : ConnectError.from(error).code;
  if (code !== Code.Unavailable) return false;
  return isRepeatable(method);
}
