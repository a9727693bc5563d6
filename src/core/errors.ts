import { Code, ConnectError } from "@connectrpc/connect";
import { EtcdMessage } from "./etcd-messages.ts";
import { findTlsFailure, type TlsFailureReason } from "./tls-errors.ts";

export { Code } from "@connectrpc/connect";

/**
 * Every error this client throws. `code` is the gRPC status code (Connect's `Code`), `rawMessage`
 * etcd's own message (such as "etcdserver: mvcc: required revision has been compacted"), and
 * `cause` the original error, when there is one.
 *
 * @example
 * try { await etcd.get("k", { revision: 1 }); }
 * catch (e) { if (e instanceof EtcdError) console.log(e.code, e.rawMessage); }
 */
export class EtcdError extends Error {
  override name = "EtcdError";
  /** The gRPC status code; `Code.Unknown` when etcd sent none that fits. */
  readonly code: Code;
  /** The message as etcd (or the client) wrote it, without the code prefix. */
  readonly rawMessage: string;

  constructor(message: string, code: Code = Code.Unknown, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.rawMessage = message;
  }

  /** The gRPC code's name, such as "FailedPrecondition". */
  get codeName(): string {
    return Code[this.code] ?? String(this.code);
  }
}

type EtcdErrorClass = new (
  message: string,
  code?: Code,
  options?: { cause?: unknown },
) => EtcdError;

function kind(name: string, defaultCode: Code, base: EtcdErrorClass = EtcdError) {
  const cls = class extends base {
    override name = name;
    constructor(message: string, code: Code = defaultCode, options?: { cause?: unknown }) {
      super(message, code, options);
    }
  };
  Object.defineProperty(cls, "name", { value: name });
  return cls;
}

// Client side: the request never reached etcd.
/** Bad input detected before anything was sent. @example new InvalidArgumentError("key must not be empty") */
export const InvalidArgumentError = kind("InvalidArgumentError", Code.InvalidArgument);
export type InvalidArgumentError = InstanceType<typeof InvalidArgumentError>;
/** The client was closed; no more calls are accepted. @example if (e instanceof ClientClosedError) {} */
export const ClientClosedError = kind("ClientClosedError", Code.Canceled);
export type ClientClosedError = InstanceType<typeof ClientClosedError>;
/** No endpoint was given, or none can be reached. @example if (e instanceof NoEndpointsError) {} */
export const NoEndpointsError = kind("NoEndpointsError", Code.Unavailable);
export type NoEndpointsError = InstanceType<typeof NoEndpointsError>;
/** The caller's signal fired. @example if (e instanceof CanceledError) {} */
export const CanceledError = kind("CanceledError", Code.Canceled);
export type CanceledError = InstanceType<typeof CanceledError>;
/** The member could not be reached or went away mid-call. @example if (e instanceof UnavailableError) {} */
export const UnavailableError = kind("UnavailableError", Code.Unavailable);
export type UnavailableError = InstanceType<typeof UnavailableError>;

// Revisions.
/** The revision asked for was compacted. @example if (e instanceof CompactedError) relist(); */
export class CompactedError extends EtcdError {
  override name = "CompactedError";
  /** The compaction revision when etcd reported it (watch), else undefined. */
  readonly compactRevision: bigint | undefined;
  constructor(
    message: string,
    code: Code = Code.OutOfRange,
    options?: { cause?: unknown; compactRevision?: bigint },
  ) {
    super(message, code, options);
    this.compactRevision = options?.compactRevision;
  }
}
/** A watcher's next revision was compacted: re-list, then watch from the list's revision. @example if (e instanceof WatchCompactedError) e.compactRevision */
export class WatchCompactedError extends CompactedError {
  override name = "WatchCompactedError";
}
/** The revision asked for is newer than the store. @example if (e instanceof FutureRevisionError) {} */
export const FutureRevisionError = kind("FutureRevisionError", Code.OutOfRange);
export type FutureRevisionError = InstanceType<typeof FutureRevisionError>;

// Requests.
/** etcd got an empty key. @example if (e instanceof KeyNotProvidedError) {} */
export const KeyNotProvidedError = kind("KeyNotProvidedError", Code.InvalidArgument);
export type KeyNotProvidedError = InstanceType<typeof KeyNotProvidedError>;
/**
 * A put with `ignoreValue` or `ignoreLease` named a key that does not exist (etcd's
 * "etcdserver: key not found"); also an `InvalidArgumentError`, as etcd reports it.
 *
 * @example
 * try { await etcd.put("k", "", { ignoreValue: true }); } catch (e) { if (e instanceof KeyNotFoundError) {} }
 */
export const KeyNotFoundError = kind(
  "KeyNotFoundError",
  Code.InvalidArgument,
  InvalidArgumentError,
);
export type KeyNotFoundError = InstanceType<typeof KeyNotFoundError>;
/** A txn has more operations than the server allows (128 by default). @example if (e instanceof TooManyOpsError) {} */
export const TooManyOpsError = kind("TooManyOpsError", Code.InvalidArgument);
export type TooManyOpsError = InstanceType<typeof TooManyOpsError>;
/** A txn writes the same key twice. @example if (e instanceof DuplicateKeyError) {} */
export const DuplicateKeyError = kind("DuplicateKeyError", Code.InvalidArgument);
export type DuplicateKeyError = InstanceType<typeof DuplicateKeyError>;
/** The request exceeds the size limit (etcd's --max-request-bytes, 1.5 MiB by default). @example if (e instanceof RequestTooLargeError) {} */
export const RequestTooLargeError = kind("RequestTooLargeError", Code.InvalidArgument);
export type RequestTooLargeError = InstanceType<typeof RequestTooLargeError>;
/** A response was larger than the client accepts (`maxReceiveBytes`); raise it or read less at a time (`limit`, `list`). @example if (e instanceof ResponseTooLargeError) {} */
export const ResponseTooLargeError = kind("ResponseTooLargeError", Code.ResourceExhausted);
export type ResponseTooLargeError = InstanceType<typeof ResponseTooLargeError>;
/** The backend quota is exhausted; an alarm is raised. @example if (e instanceof NoSpaceError) {} */
export const NoSpaceError = kind("NoSpaceError", Code.ResourceExhausted);
export type NoSpaceError = InstanceType<typeof NoSpaceError>;
/** etcd refused the request because too many are pending. @example if (e instanceof TooManyRequestsError) {} */
export const TooManyRequestsError = kind("TooManyRequestsError", Code.ResourceExhausted);
export type TooManyRequestsError = InstanceType<typeof TooManyRequestsError>;
/** The server build cannot serve this request (cluster version too old). @example if (e instanceof NotCapableError) {} */
export const NotCapableError = kind("NotCapableError", Code.Unavailable);
export type NotCapableError = InstanceType<typeof NotCapableError>;

// Leases.
/** The lease does not exist (expired or revoked). @example if (e instanceof LeaseNotFoundError) {} */
export const LeaseNotFoundError = kind("LeaseNotFoundError", Code.NotFound);
export type LeaseNotFoundError = InstanceType<typeof LeaseNotFoundError>;
/** A lease kept alive by this client ended: expired, revoked or not renewed in time. @example lease.lost.catch((e: LeaseLostError) => ...) */
export const LeaseLostError = kind("LeaseLostError", Code.NotFound);
export type LeaseLostError = InstanceType<typeof LeaseLostError>;
/** A session's lease ended, so its locks and elections are gone. @example if (e instanceof SessionExpiredError) {} */
export const SessionExpiredError = kind("SessionExpiredError", Code.NotFound, LeaseLostError);
export type SessionExpiredError = InstanceType<typeof SessionExpiredError>;

// Auth.
/** The user (or role) may not do this. @example if (e instanceof PermissionDeniedError) {} */
export const PermissionDeniedError = kind("PermissionDeniedError", Code.PermissionDenied);
export type PermissionDeniedError = InstanceType<typeof PermissionDeniedError>;
/** The token is unknown, expired, or older than the auth store. @example if (e instanceof InvalidAuthTokenError) {} */
export const InvalidAuthTokenError = kind("InvalidAuthTokenError", Code.Unauthenticated);
export type InvalidAuthTokenError = InstanceType<typeof InvalidAuthTokenError>;
/** Wrong user name or password. @example if (e instanceof AuthFailedError) {} */
export const AuthFailedError = kind("AuthFailedError", Code.InvalidArgument);
export type AuthFailedError = InstanceType<typeof AuthFailedError>;
/** Authentication is not enabled on the cluster. @example if (e instanceof AuthNotEnabledError) {} */
export const AuthNotEnabledError = kind("AuthNotEnabledError", Code.FailedPrecondition);
export type AuthNotEnabledError = InstanceType<typeof AuthNotEnabledError>;
/** The call needs a user: auth is on and no token was sent. @example if (e instanceof UserEmptyError) {} */
export const UserEmptyError = kind("UserEmptyError", Code.InvalidArgument);
export type UserEmptyError = InstanceType<typeof UserEmptyError>;
/** A user or role with that name exists already. @example if (e instanceof AlreadyExistsError) {} */
export const AlreadyExistsError = kind("AlreadyExistsError", Code.FailedPrecondition);
export type AlreadyExistsError = InstanceType<typeof AlreadyExistsError>;
/** A user, role, member or grant with that name does not exist. @example if (e instanceof NotFoundError) {} */
export const NotFoundError = kind("NotFoundError", Code.FailedPrecondition);
export type NotFoundError = InstanceType<typeof NotFoundError>;

// TLS.
/**
 * A TLS handshake failed: `reason` says what (untrusted server certificate, host name mismatch,
 * client certificate required or rejected...), the message says what to check, `tlsCode` is
 * Node's code.
 *
 * @example
 * if (e instanceof TlsError && e.reason === "hostname-mismatch") console.error(e.message);
 */
export class TlsError extends EtcdError {
  override name = "TlsError";
  readonly reason: TlsFailureReason;
  /** Node's (OpenSSL's) error code, such as "UNABLE_TO_VERIFY_LEAF_SIGNATURE". */
  readonly tlsCode: string;
  constructor(
    message: string,
    code: Code = Code.Unavailable,
    options?: { cause?: unknown; reason?: TlsFailureReason; tlsCode?: string },
  ) {
    super(message, code, options);
    this.reason = options?.reason ?? "handshake-failed";
    this.tlsCode = options?.tlsCode ?? "";
  }
}

/** A snapshot stream ended without etcd's checksum, or its data does not match it. @example if (e instanceof SnapshotError) retry(); */
export const SnapshotError = kind("SnapshotError", Code.DataLoss);
export type SnapshotError = InstanceType<typeof SnapshotError>;

// Cluster state.
/** The member has no leader (lost quorum or mid election). @example if (e instanceof NoLeaderError) {} */
export const NoLeaderError = kind("NoLeaderError", Code.Unavailable);
export type NoLeaderError = InstanceType<typeof NoLeaderError>;
/** The leader changed while the request was in flight; it may or may not have been applied. @example if (e instanceof LeaderChangedError) {} */
export const LeaderChangedError = kind("LeaderChangedError", Code.Unavailable);
export type LeaderChangedError = InstanceType<typeof LeaderChangedError>;
/** A deadline passed: the client's, or one of etcd's request timeouts. The request may have been applied. @example if (e instanceof TimeoutError) {} */
export const TimeoutError = kind("TimeoutError", Code.DeadlineExceeded);
export type TimeoutError = InstanceType<typeof TimeoutError>;
/** etcd refused a member change that would leave the cluster without enough started members. @example if (e instanceof UnhealthyClusterError) {} */
export const UnhealthyClusterError = kind("UnhealthyClusterError", Code.Unavailable);
export type UnhealthyClusterError = InstanceType<typeof UnhealthyClusterError>;
/** A membership change etcd refused (member exists, not found, not a learner, learner not ready...). @example if (e instanceof MembershipError) {} */
export const MembershipError = kind("MembershipError", Code.FailedPrecondition);
export type MembershipError = InstanceType<typeof MembershipError>;

// Concurrency.
/** The lock is no longer held by this mutex. @example if (e instanceof LockReleasedError) {} */
export const LockReleasedError = kind("LockReleasedError", Code.FailedPrecondition);
export type LockReleasedError = InstanceType<typeof LockReleasedError>;
/** This election candidate is not (or no longer) the leader. @example if (e instanceof NotLeaderError) {} */
export const NotLeaderError = kind("NotLeaderError", Code.FailedPrecondition);
export type NotLeaderError = InstanceType<typeof NotLeaderError>;
/** An election has no leader yet. @example if (e instanceof ElectionNoLeaderError) {} */
export const ElectionNoLeaderError = kind("ElectionNoLeaderError", Code.NotFound);
export type ElectionNoLeaderError = InstanceType<typeof ElectionNoLeaderError>;
/** An STM gave up: every attempt conflicted with other writers (`maxAttempts`). @example if (e instanceof StmConflictError) {} */
export const StmConflictError = kind("StmConflictError", Code.Aborted);
export type StmConflictError = InstanceType<typeof StmConflictError>;

const byMessage = new Map<string, EtcdErrorClass>([
  [EtcdMessage.compacted, CompactedError],
  [EtcdMessage.futureRevision, FutureRevisionError],
  [EtcdMessage.leaseNotFound, LeaseNotFoundError],
  [EtcdMessage.keyNotProvided, KeyNotProvidedError],
  [EtcdMessage.keyNotFound, KeyNotFoundError],
  [EtcdMessage.tooManyOps, TooManyOpsError],
  [EtcdMessage.duplicateKey, DuplicateKeyError],
  [EtcdMessage.requestTooLarge, RequestTooLargeError],
  [EtcdMessage.noSpace, NoSpaceError],
  [EtcdMessage.tooManyRequests, TooManyRequestsError],
  [EtcdMessage.notCapable, NotCapableError],
  [EtcdMessage.permissionDenied, PermissionDeniedError],
  [EtcdMessage.invalidAuthToken, InvalidAuthTokenError],
  [EtcdMessage.authOldRevision, InvalidAuthTokenError],
  [EtcdMessage.authFailed, AuthFailedError],
  [EtcdMessage.authNotEnabled, AuthNotEnabledError],
  [EtcdMessage.invalidAuthManagement, AuthNotEnabledError],
  [EtcdMessage.userEmpty, UserEmptyError],
  [EtcdMessage.userAlreadyExists, AlreadyExistsError],
  [EtcdMessage.roleAlreadyExists, AlreadyExistsError],
  [EtcdMessage.userNotFound, NotFoundError],
  [EtcdMessage.roleNotFound, NotFoundError],
  [EtcdMessage.roleNotGranted, NotFoundError],
  [EtcdMessage.permissionNotGranted, NotFoundError],
  [EtcdMessage.rootUserNotExist, NotFoundError],
  [EtcdMessage.rootRoleNotExist, NotFoundError],
  [EtcdMessage.userNameInvalid, InvalidArgumentError],
  [EtcdMessage.roleEmpty, InvalidArgumentError],
  [EtcdMessage.roleNameInvalid, InvalidArgumentError],
  [EtcdMessage.noLeader, NoLeaderError],
  [EtcdMessage.leaderChanged, LeaderChangedError],
  [EtcdMessage.notLeader, LeaderChangedError],
  [EtcdMessage.timeout, TimeoutError],
  [EtcdMessage.timeoutDueToLeaderFail, TimeoutError],
  [EtcdMessage.timeoutDueToConnectionLost, TimeoutError],
  [EtcdMessage.timeoutWaitAppliedIndex, TimeoutError],
  [EtcdMessage.timeoutReadIndex, TimeoutError],
  [EtcdMessage.contextDeadlineExceeded, TimeoutError],
  [EtcdMessage.unhealthyCluster, UnhealthyClusterError],
  [EtcdMessage.notEnoughStartedMembers, UnhealthyClusterError],
  [EtcdMessage.memberExist, MembershipError],
  [EtcdMessage.memberNotFound, MembershipError],
  [EtcdMessage.peerUrlExist, MembershipError],
  [EtcdMessage.memberIdNotFound, MembershipError],
  [EtcdMessage.memberNotLearner, MembershipError],
  [EtcdMessage.learnerNotReady, MembershipError],
  [EtcdMessage.tooManyLearners, MembershipError],
  [EtcdMessage.memberLearnerNotReady, MembershipError],
  [EtcdMessage.badLeaderTransferee, MembershipError],
  [EtcdMessage.electionNotLeader, NotLeaderError],
  [EtcdMessage.electionNoLeader, ElectionNoLeaderError],
  [EtcdMessage.electionSessionExpired, SessionExpiredError],
  [EtcdMessage.lockSessionExpired, SessionExpiredError],
]);

const byCode = new Map<Code, EtcdErrorClass>([
  [Code.DeadlineExceeded, TimeoutError],
  [Code.Unavailable, UnavailableError],
  [Code.PermissionDenied, PermissionDeniedError],
  [Code.Unauthenticated, InvalidAuthTokenError],
  [Code.Canceled, CanceledError],
  [Code.InvalidArgument, InvalidArgumentError],
]);

/**
 * Turns anything thrown by a call into an `EtcdError`: by etcd's message first (its codes are not
 * always telling: "election: no leader" arrives as Unknown), then by the gRPC code. An
 * `EtcdError` is returned as it is.
 *
 * Pass the call's options (`call`) when you have them: then `Canceled` is a `CanceledError` only
 * when the caller's own signal fired, and otherwise an `UnavailableError` (a member killed under
 * an open call or stream surfaces as Canceled); a signal from `AbortSignal.timeout()` gives a
 * `TimeoutError` with DeadlineExceeded, as `timeoutMs` does.
 *
 * @example
 * try { await raw.kv.range({ key }, options); } catch (e) { throw toEtcdError(e, options); }
 */
export function toEtcdError(
  error: unknown,
  call?: { readonly signal?: AbortSignal | undefined },
): EtcdError {
  if (error instanceof EtcdError) return error;
  // Connect wraps whatever a transport throws (such as the token provider's AuthFailedError) in a
  // ConnectError with code Unknown; the EtcdError inside keeps the real code.
  if (
    error instanceof ConnectError &&
    error.code === Code.Unknown &&
    error.cause instanceof EtcdError
  ) {
    return error.cause;
  }
  const connectError = ConnectError.from(error);
  const message = connectError.rawMessage;
  const code = connectError.code;
  const cause = error;
  if (code === Code.Canceled && call !== undefined && call.signal?.aborted !== true) {
    return new UnavailableError(message, Code.Unavailable, { cause });
  }
  // The caller's signal was a deadline (`AbortSignal.timeout()`): as with `timeoutMs`.
  if (code === Code.Canceled && isTimeoutReason(call?.signal)) {
    return new TimeoutError(message, Code.DeadlineExceeded, { cause });
  }
  const tls = findTlsFailure(error);
  if (tls) {
    return new TlsError(tls.message, Code.Unavailable, {
      cause,
      reason: tls.reason,
      tlsCode: tls.tlsCode,
    });
  }
  const cls = byMessage.get(message);
  if (cls) return new cls(message, code, { cause });
  if (message.startsWith(EtcdMessage.requestTooLarge) || isTooLarge(connectError)) {
    return new RequestTooLargeError(message, code, { cause });
  }
  if (code === Code.ResourceExhausted && /readMaxBytes|maxReceiveBytes/.test(message)) {
    return new ResponseTooLargeError(message, code, { cause });
  }
  if (message.startsWith(EtcdMessage.timeout)) return new TimeoutError(message, code, { cause });
  const fallback = byCode.get(code);
  if (fallback) return new fallback(message, code, { cause });
  return new EtcdError(message, code, { cause });
}

function isTimeoutReason(signal: AbortSignal | undefined): boolean {
  const reason: unknown = signal?.aborted === true ? signal.reason : undefined;
  return reason instanceof DOMException && reason.name === "TimeoutError";
}

/** A request over a size limit: the client's own (connect-node, lean transport) or etcd's gRPC one. */
function isTooLarge(error: ConnectError): boolean {
  return (
    error.code === Code.ResourceExhausted &&
    /writeMaxBytes|maxSendBytes|received message larger than max/.test(error.rawMessage)
  );
}
