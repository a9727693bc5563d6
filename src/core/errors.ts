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

  /**
   * `options.rawMessage` is etcd's own message when `message` adds the client's explanation to it.
   */
  constructor(
    message: string,
    code: Code = Code.Unknown,
    options?: { cause?: unknown; rawMessage?: string },
  ) {
    super(message, options);
    this.code = code;
    this.rawMessage = options?.rawMessage ?? message;
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

// Client side: the request never reached etcd.
/**
 * Bad input: detected by the client before anything was sent, or refused by etcd as invalid
 * (a bad user or role name).
 *
 * @example
 * // Thrown at once, nothing is sent: fix the call, retrying cannot help.
 * await etcd.auth.userAdd("app", ""); // InvalidArgumentError: use { noPassword: true }
 */
export class InvalidArgumentError extends EtcdError {
  override name = "InvalidArgumentError";
  constructor(message: string, code: Code = Code.InvalidArgument, options?: { cause?: unknown }) {
    super(message, code, options);
  }
}
/**
 * The client was closed; no more calls are accepted. Calls in flight when `close()` ran end
 * with it too.
 *
 * @example
 * await etcd.close();
 * await etcd.get("k"); // ClientClosedError: create a new Etcd to talk to the cluster again
 */
export class ClientClosedError extends EtcdError {
  override name = "ClientClosedError";
  constructor(message: string, code: Code = Code.Canceled, options?: { cause?: unknown }) {
    super(message, code, options);
  }
}
/**
 * No endpoint was given, or none can be reached.
 *
 * @example
 * // Thrown by the constructor: pass at least one endpoint, such as "http://127.0.0.1:2379".
 * new Etcd({ endpoints: [] }); // NoEndpointsError
 */
export class NoEndpointsError extends EtcdError {
  override name = "NoEndpointsError";
  constructor(message: string, code: Code = Code.Unavailable, options?: { cause?: unknown }) {
    super(message, code, options);
  }
}
/**
 * The caller's own signal fired (a member killed under an open call is an `UnavailableError`
 * instead). Nothing to retry: the caller asked to stop.
 *
 * @example
 * const controller = new AbortController();
 * const pending = etcd.get("k", { signal: controller.signal });
 * controller.abort();
 * await pending; // CanceledError
 */
export class CanceledError extends EtcdError {
  override name = "CanceledError";
  constructor(message: string, code: Code = Code.Canceled, options?: { cause?: unknown }) {
    super(message, code, options);
  }
}
/**
 * The member could not be reached or went away mid-call, after the client's own retries on the
 * other endpoints. A read may be repeated; a write may or may not have been applied.
 *
 * @example
 * try {
 *   await etcd.get("cfg/a");
 * } catch (e) {
 *   if (!(e instanceof UnavailableError)) throw e;
 *   await setTimeout(1000); // every endpoint is down: wait, then try again
 *   await etcd.get("cfg/a");
 * }
 */
export class UnavailableError extends EtcdError {
  override name = "UnavailableError";
  constructor(message: string, code: Code = Code.Unavailable, options?: { cause?: unknown }) {
    super(message, code, options);
  }
}
/**
 * A write (put, delete, txn, compact, a lease revoke...) reached the connection, and then the
 * member stopped answering (hung: its pings went unanswered) or the connection was lost before
 * etcd replied: it may or may not have been applied. The client never sends it again by itself,
 * so it is applied at most once. Read back to learn the outcome, or make the write conditional
 * (a txn comparing a revision) before repeating it. A subclass of `UnavailableError`.
 *
 * @example
 * try {
 *   await etcd.put("jobs/42", "done");
 * } catch (e) {
 *   if (!(e instanceof OutcomeUnknownError)) throw e;
 *   const now = await etcd.get("jobs/42"); // applied or not: the read tells
 *   if (now?.text !== "done") await etcd.put("jobs/42", "done");
 * }
 */
export class OutcomeUnknownError extends UnavailableError {
  override name = "OutcomeUnknownError";
}

/** A cause marked `outcomeUnknown: true` (by the pool transport) makes an `OutcomeUnknownError`. */
function isOutcomeUnknown(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && typeof e === "object" && depth < 8; depth++) {
    if ((e as { outcomeUnknown?: unknown }).outcomeUnknown === true) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

// Revisions.
/**
 * The revision asked for was compacted: read at the current revision instead.
 *
 * @example
 * await etcd.compact(rev);
 * await etcd.range(prefix("cfg/"), { revision: rev - 1n }); // CompactedError: read without `revision`
 */
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
/**
 * A watcher's next revision was compacted, so events were missed: re-list, then watch from the
 * list's revision. `compactRevision` says where history now starts.
 *
 * @example
 * try {
 *   for await (const batch of etcd.watch(prefix("cfg/"), { startRevision })) apply(batch);
 * } catch (e) {
 *   if (!(e instanceof WatchCompactedError)) throw e;
 *   const page = await etcd.range(prefix("cfg/")); // rebuild the state, then watch from
 *   startRevision = page.revision + 1n;               // the list's revision
 * }
 */
export class WatchCompactedError extends CompactedError {
  override name = "WatchCompactedError";
}
/**
 * The revision asked for is newer than the store's current revision.
 *
 * @example
 * const { revision } = await etcd.range(key("k"));
 * await etcd.range(key("k"), { revision: revision + 100n }); // FutureRevisionError
 */
export class FutureRevisionError extends EtcdError {
  override name = "FutureRevisionError";
  constructor(message: string, code: Code = Code.OutOfRange, options?: { cause?: unknown }) {
    super(message, code, options);
  }
}

// Requests.
/**
 * etcd got an empty key (etcd's "etcdserver: key is not provided"), such as from a raw call.
 *
 * @example
 * try { await etcd.raw.kv.put({ key: new Uint8Array(0), value }); } catch (e) { throw toEtcdError(e); }
 */
export class KeyNotProvidedError extends EtcdError {
  override name = "KeyNotProvidedError";
  constructor(message: string, code: Code = Code.InvalidArgument, options?: { cause?: unknown }) {
    super(message, code, options);
  }
}
/**
 * A put with `ignoreValue` or `ignoreLease` named a key that does not exist (etcd's
 * "etcdserver: key not found"); also an `InvalidArgumentError`, as etcd reports it.
 *
 * @example
 * // Touching the lease of a key that is not there: create it with a value first.
 * await etcd.put("missing", "", { ignoreValue: true }); // KeyNotFoundError
 */
export class KeyNotFoundError extends InvalidArgumentError {
  override name = "KeyNotFoundError";
  constructor(message: string, code: Code = Code.InvalidArgument, options?: { cause?: unknown }) {
    super(message, code, options);
  }
}
/**
 * A txn has more operations than the server allows (`--max-txn-ops`, 128 by default).
 *
 * @example
 * const success = keys.map((k) => op.put(k, "v")); // 200 puts
 * await etcd.txn({ success }); // TooManyOpsError: split into txns of at most 128
 */
export class TooManyOpsError extends EtcdError {
  override name = "TooManyOpsError";
  constructor(message: string, code: Code = Code.InvalidArgument, options?: { cause?: unknown }) {
    super(message, code, options);
  }
}
/**
 * A txn writes the same key twice in one branch.
 *
 * @example
 * await etcd.txn({ success: [op.put("k", "1"), op.put("k", "2")] }); // DuplicateKeyError
 */
export class DuplicateKeyError extends EtcdError {
  override name = "DuplicateKeyError";
  constructor(message: string, code: Code = Code.InvalidArgument, options?: { cause?: unknown }) {
    super(message, code, options);
  }
}
/**
 * The request exceeds a size limit: etcd's `--max-request-bytes` (1.5 MiB by default) or the
 * client's own send limit. Store large values in pieces, or raise the server's limit.
 *
 * @example
 * await etcd.put("blob", new Uint8Array(2 * 1024 * 1024)); // RequestTooLargeError
 */
export class RequestTooLargeError extends EtcdError {
  override name = "RequestTooLargeError";
  constructor(message: string, code: Code = Code.InvalidArgument, options?: { cause?: unknown }) {
    super(message, code, options);
  }
}
/**
 * A response was larger than the client accepts (`maxReceiveBytes`); raise it or read less at
 * a time (`limit`, `list`).
 *
 * @example
 * // Instead of one huge range, page through it:
 * for await (const kv of etcd.list(prefix("big/"), { pageSize: 500 })) use(kv);
 */
export class ResponseTooLargeError extends EtcdError {
  override name = "ResponseTooLargeError";
  constructor(message: string, code: Code = Code.ResourceExhausted, options?: { cause?: unknown }) {
    super(message, code, options);
  }
}
/**
 * The backend quota is exhausted and etcd raised the NOSPACE alarm: writes fail until an
 * operator compacts, defragments and disarms the alarm.
 *
 * @example
 * await etcd.put("k", "v"); // NoSpaceError once the quota is reached
 * // Operator: compact, defragment each member, then disarm.
 * await etcd.compact(revision);
 * await etcd.maintenance.defragment("http://127.0.0.1:2379");
 */
export class NoSpaceError extends EtcdError {
  override name = "NoSpaceError";
  constructor(message: string, code: Code = Code.ResourceExhausted, options?: { cause?: unknown }) {
    super(message, code, options);
  }
}
/**
 * etcd refused the request because too many proposals are pending (its apply loop is behind).
 * Back off and send again.
 *
 * @example
 * // Thrown by writes under overload; slow down rather than retry in a tight loop.
 * await etcd.put("k", "v"); // TooManyRequestsError
 */
export class TooManyRequestsError extends EtcdError {
  override name = "TooManyRequestsError";
  constructor(message: string, code: Code = Code.ResourceExhausted, options?: { cause?: unknown }) {
    super(message, code, options);
  }
}
/**
 * The cluster cannot serve this request: its cluster version is too old for the feature.
 *
 * @example
 * // A feature the cluster version does not have yet: upgrade every member, then retry.
 * await etcd.cluster.memberPromote(learnerId); // NotCapableError on a cluster too old for it
 */
export class NotCapableError extends EtcdError {
  override name = "NotCapableError";
  constructor(message: string, code: Code = Code.Unavailable, options?: { cause?: unknown }) {
    super(message, code, options);
  }
}

// Leases.
/**
 * The lease does not exist: it expired or was revoked. Grant a new one.
 *
 * @example
 * await lease.revoke();
 * await etcd.put("k", "v", { lease }); // LeaseNotFoundError
 */
export class LeaseNotFoundError extends EtcdError {
  override name = "LeaseNotFoundError";
  constructor(message: string, code: Code = Code.NotFound, options?: { cause?: unknown }) {
    super(message, code, options);
  }
}
/**
 * A lease kept alive by this client ended: expired, revoked or not renewed in time. Its keys
 * are gone (or about to be); whatever they stood for must be rebuilt on a new lease.
 *
 * @example
 * const lease = (await etcd.lease.grant(10)).keepAlive();
 * lease.onLost((e: LeaseLostError) => {
 *   console.error("lease lost:", e.message); // re-register on a new lease
 * });
 */
export class LeaseLostError extends EtcdError {
  override name = "LeaseLostError";
  constructor(message: string, code: Code = Code.NotFound, options?: { cause?: unknown }) {
    super(message, code, options);
  }
}
/**
 * A session's lease ended, so its locks and elections are gone. Also a `LeaseLostError`.
 *
 * @example
 * const session = await etcd.session({ ttl: 10 });
 * session.onLost((e: SessionExpiredError) => {
 *   stopWork(); // the mutex this session held may already belong to someone else
 * });
 */
export class SessionExpiredError extends LeaseLostError {
  override name = "SessionExpiredError";
  constructor(message: string, code: Code = Code.NotFound, options?: { cause?: unknown }) {
    super(message, code, options);
  }
}

/**
 * A double barrier already has as many parties as it was made for: `enter()` refused this one
 * (Go's `ErrTooManyClients`). Nothing of this party is left on the barrier.
 *
 * @example
 * try { await barrier.enter(); }
 * catch (e) { if (e instanceof BarrierFullError) console.log("too late: the round started"); }
 */
export class BarrierFullError extends EtcdError {
  override name = "BarrierFullError";
  constructor(
    message: string,
    code: Code = Code.FailedPrecondition,
    options?: { cause?: unknown },
  ) {
    super(message, code, options);
  }
}

// Auth.
/**
 * The authenticated user's roles do not allow this key range or operation. Grant the role a
 * permission; retrying as the same user cannot help.
 *
 * @example
 * await etcd.put("other-team/k", "v"); // PermissionDeniedError: the user has no write permission
 */
export class PermissionDeniedError extends EtcdError {
  override name = "PermissionDeniedError";
  constructor(
    message: string,
    code: Code = Code.PermissionDenied,
    options?: { cause?: unknown; rawMessage?: string },
  ) {
    super(message, code, options);
  }
}
/**
 * The token is unknown, expired, or older than the auth store. With username/password the
 * client authenticates again and repeats the call once, so this reaches you with a token you
 * supplied yourself, or when the new one was refused too.
 *
 * @example
 * const etcd = new Etcd({ endpoints, token: expiredToken });
 * await etcd.get("k"); // InvalidAuthTokenError: supply a fresh token
 */
export class InvalidAuthTokenError extends EtcdError {
  override name = "InvalidAuthTokenError";
  constructor(message: string, code: Code = Code.Unauthenticated, options?: { cause?: unknown }) {
    super(message, code, options);
  }
}
/**
 * Wrong user name or password.
 *
 * @example
 * const etcd = new Etcd({ endpoints, username: "app", password: "wrong" });
 * await etcd.get("k"); // AuthFailedError
 */
export class AuthFailedError extends EtcdError {
  override name = "AuthFailedError";
  constructor(message: string, code: Code = Code.InvalidArgument, options?: { cause?: unknown }) {
    super(message, code, options);
  }
}
/**
 * Authentication is not enabled on the cluster (or the auth change is not allowed, such as
 * enabling auth without a root user).
 *
 * @example
 * await etcd.auth.authEnable(); // AuthNotEnabledError (as etcd's "invalid auth management") without a root user
 */
export class AuthNotEnabledError extends EtcdError {
  override name = "AuthNotEnabledError";
  constructor(
    message: string,
    code: Code = Code.FailedPrecondition,
    options?: { cause?: unknown },
  ) {
    super(message, code, options);
  }
}
/**
 * The call needs a user: auth is on and no token was sent. Give the client credentials.
 *
 * @example
 * const etcd = new Etcd({ endpoints }); // no username/password on an auth-enabled cluster
 * await etcd.get("k"); // UserEmptyError
 */
export class UserEmptyError extends EtcdError {
  override name = "UserEmptyError";
  constructor(message: string, code: Code = Code.InvalidArgument, options?: { cause?: unknown }) {
    super(message, code, options);
  }
}
/**
 * A user or role with that name exists already.
 *
 * @example
 * await etcd.auth.roleAdd("reader");
 * await etcd.auth.roleAdd("reader"); // AlreadyExistsError
 */
export class AlreadyExistsError extends EtcdError {
  override name = "AlreadyExistsError";
  constructor(
    message: string,
    code: Code = Code.FailedPrecondition,
    options?: { cause?: unknown },
  ) {
    super(message, code, options);
  }
}
/**
 * A user, role, member or grant with that name does not exist.
 *
 * @example
 * await etcd.auth.roleDelete("no-such-role"); // NotFoundError
 */
export class NotFoundError extends EtcdError {
  override name = "NotFoundError";
  constructor(
    message: string,
    code: Code = Code.FailedPrecondition,
    options?: { cause?: unknown },
  ) {
    super(message, code, options);
  }
}

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

/**
 * A snapshot stream ended without etcd's checksum, or its data does not match it: the file is
 * not a usable backup. Take the snapshot again.
 *
 * @example
 * await etcd.maintenance.snapshot(file); // SnapshotError when the member died mid-stream
 */
export class SnapshotError extends EtcdError {
  override name = "SnapshotError";
  constructor(message: string, code: Code = Code.DataLoss, options?: { cause?: unknown }) {
    super(message, code, options);
  }
}

// Cluster state.
/**
 * The member has no leader (it lost quorum, or an election is in progress). Another member
 * may have one; the client fails over for repeatable calls.
 *
 * @example
 * await etcd.put("k", "v"); // NoLeaderError while a majority of members is down
 */
export class NoLeaderError extends EtcdError {
  override name = "NoLeaderError";
  constructor(message: string, code: Code = Code.Unavailable, options?: { cause?: unknown }) {
    super(message, code, options);
  }
}
/**
 * The leader changed while the request was in flight; a write may or may not have been applied.
 * Read back before writing again when it matters.
 *
 * @example
 * try {
 *   await etcd.put("counter", next);
 * } catch (e) {
 *   if (!(e instanceof LeaderChangedError)) throw e;
 *   const current = await etcd.get("counter"); // applied or not? look before writing again
 * }
 */
export class LeaderChangedError extends EtcdError {
  override name = "LeaderChangedError";
  constructor(message: string, code: Code = Code.Unavailable, options?: { cause?: unknown }) {
    super(message, code, options);
  }
}
/**
 * A deadline passed: the client's (`timeoutMs`, `AbortSignal.timeout()`), or one of etcd's
 * request timeouts. A write may have been applied.
 *
 * @example
 * await etcd.get("k", { timeoutMs: 1 }); // TimeoutError: DeadlineExceeded
 */
export class TimeoutError extends EtcdError {
  override name = "TimeoutError";
  constructor(message: string, code: Code = Code.DeadlineExceeded, options?: { cause?: unknown }) {
    super(message, code, options);
  }
}
/**
 * etcd refused a member change that would leave the cluster without enough started members.
 * Bring the stopped members back first.
 *
 * @example
 * // Two of three members stopped: removing one would lose quorum.
 * await etcd.cluster.memberRemove(id); // UnhealthyClusterError
 */
export class UnhealthyClusterError extends EtcdError {
  override name = "UnhealthyClusterError";
  constructor(message: string, code: Code = Code.Unavailable, options?: { cause?: unknown }) {
    super(message, code, options);
  }
}
/**
 * A membership change etcd refused: member exists, not found, not a learner, learner not
 * ready, peer URL taken, or a bad leader transferee.
 *
 * @example
 * await etcd.cluster.memberAdd(["http://127.0.0.1:2380"]); // MembershipError: peer URL exists
 */
export class MembershipError extends EtcdError {
  override name = "MembershipError";
  constructor(
    message: string,
    code: Code = Code.FailedPrecondition,
    options?: { cause?: unknown },
  ) {
    super(message, code, options);
  }
}

/**
 * A downgrade request etcd refused: the target version is malformed or not the previous minor
 * version, a downgrade is already in progress (enable), or none is (cancel, etcd 3.5).
 * `rawMessage` is etcd's reason.
 *
 * @example
 * await etcd.maintenance.downgradeValidate("2.0"); // DowngradeError: invalid downgrade target version
 */
export class DowngradeError extends EtcdError {
  override name = "DowngradeError";
  constructor(
    message: string,
    code: Code = Code.FailedPrecondition,
    options?: { cause?: unknown },
  ) {
    super(message, code, options);
  }
}

// Concurrency.
/**
 * The lock is no longer held by this mutex (unlocked, or its key was deleted), so a guarded
 * txn was refused.
 *
 * @example
 * await mutex.unlock();
 * await mutex.txn({ success: [op.put("k", "v")] }); // LockReleasedError
 */
export class LockReleasedError extends EtcdError {
  override name = "LockReleasedError";
  constructor(
    message: string,
    code: Code = Code.FailedPrecondition,
    options?: { cause?: unknown },
  ) {
    super(message, code, options);
  }
}
/**
 * This election candidate is not (or no longer) the leader.
 *
 * @example
 * await election.resign();
 * await election.proclaim("new value"); // NotLeaderError: campaign again first
 */
export class NotLeaderError extends EtcdError {
  override name = "NotLeaderError";
  constructor(
    message: string,
    code: Code = Code.FailedPrecondition,
    options?: { cause?: unknown },
  ) {
    super(message, code, options);
  }
}
/**
 * An election has no leader yet (etcd's "election: no leader").
 *
 * @example
 * // etcd's Election service answers "election: no leader" before anyone campaigned:
 * try { await etcd.raw.election.leader({ name }); } catch (e) { throw toEtcdError(e); }
 */
export class ElectionNoLeaderError extends EtcdError {
  override name = "ElectionNoLeaderError";
  constructor(message: string, code: Code = Code.NotFound, options?: { cause?: unknown }) {
    super(message, code, options);
  }
}
/**
 * An STM gave up: every attempt conflicted with other writers (`maxAttempts`).
 *
 * @example
 * await etcd.stm((stm) => stm.put("hot", "v"), { maxAttempts: 3 }); // StmConflictError under heavy contention
 */
export class StmConflictError extends EtcdError {
  override name = "StmConflictError";
  constructor(message: string, code: Code = Code.Aborted, options?: { cause?: unknown }) {
    super(message, code, options);
  }
}

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
  [EtcdMessage.downgradeVersionFormat, DowngradeError],
  [EtcdMessage.downgradeInvalidTarget, DowngradeError],
  [EtcdMessage.downgradeNoClusterVersion, DowngradeError],
  [EtcdMessage.downgradeInProgress, DowngradeError],
  [EtcdMessage.downgradeNotInProgress, DowngradeError],
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
  if (code === Code.Unavailable && isOutcomeUnknown(error)) {
    return new OutcomeUnknownError(message, code, { cause });
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
