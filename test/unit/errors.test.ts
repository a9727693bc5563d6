import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ConnectError } from "@connectrpc/connect";
import {
  AlreadyExistsError,
  AuthFailedError,
  AuthNotEnabledError,
  CanceledError,
  Code,
  CompactedError,
  DowngradeError,
  DuplicateKeyError,
  ElectionNoLeaderError,
  EtcdError,
  FutureRevisionError,
  InvalidArgumentError,
  InvalidAuthTokenError,
  KeyNotProvidedError,
  LeaderChangedError,
  LeaseLostError,
  LeaseNotFoundError,
  MembershipError,
  NoLeaderError,
  NoSpaceError,
  NotCapableError,
  NotFoundError,
  NotLeaderError,
  PermissionDeniedError,
  RequestTooLargeError,
  SessionExpiredError,
  TimeoutError,
  TooManyOpsError,
  TooManyRequestsError,
  toEtcdError,
  UnavailableError,
  UnhealthyClusterError,
  UserEmptyError,
  WatchCompactedError,
} from "../../src/index.ts";

type ErrorClass = abstract new (...args: never[]) => EtcdError;

/** etcd's messages with the gRPC code etcd sends them with (v3rpc/rpctypes), and our class. */
const etcdErrors: Array<[string, Code, ErrorClass]> = [
  ["etcdserver: mvcc: required revision has been compacted", Code.OutOfRange, CompactedError],
  [
    "etcdserver: mvcc: required revision is a future revision",
    Code.OutOfRange,
    FutureRevisionError,
  ],
  ["etcdserver: requested lease not found", Code.NotFound, LeaseNotFoundError],
  ["etcdserver: key is not provided", Code.InvalidArgument, KeyNotProvidedError],
  ["etcdserver: too many operations in txn request", Code.InvalidArgument, TooManyOpsError],
  ["etcdserver: duplicate key given in txn request", Code.InvalidArgument, DuplicateKeyError],
  ["etcdserver: request is too large", Code.InvalidArgument, RequestTooLargeError],
  ["etcdserver: mvcc: database space exceeded", Code.ResourceExhausted, NoSpaceError],
  ["etcdserver: too many requests", Code.ResourceExhausted, TooManyRequestsError],
  ["etcdserver: not capable", Code.Unavailable, NotCapableError],
  ["etcdserver: permission denied", Code.PermissionDenied, PermissionDeniedError],
  ["etcdserver: invalid auth token", Code.Unauthenticated, InvalidAuthTokenError],
  ["etcdserver: revision of auth store is old", Code.InvalidArgument, InvalidAuthTokenError],
  [
    "etcdserver: authentication failed, invalid user ID or password",
    Code.InvalidArgument,
    AuthFailedError,
  ],
  ["etcdserver: authentication is not enabled", Code.FailedPrecondition, AuthNotEnabledError],
  ["etcdserver: user name is empty", Code.InvalidArgument, UserEmptyError],
  ["etcdserver: user name already exists", Code.FailedPrecondition, AlreadyExistsError],
  ["etcdserver: role name already exists", Code.FailedPrecondition, AlreadyExistsError],
  ["etcdserver: user name not found", Code.FailedPrecondition, NotFoundError],
  ["etcdserver: role name not found", Code.FailedPrecondition, NotFoundError],
  ["etcdserver: no leader", Code.Unavailable, NoLeaderError],
  ["etcdserver: leader changed", Code.Unavailable, LeaderChangedError],
  ["etcdserver: not leader", Code.Unavailable, LeaderChangedError],
  ["etcdserver: request timed out", Code.Unavailable, TimeoutError],
  [
    "etcdserver: request timed out, possibly due to previous leader failure",
    Code.Unavailable,
    TimeoutError,
  ],
  [
    "etcdserver: request timed out, possibly due to connection lost",
    Code.Unavailable,
    TimeoutError,
  ],
  [
    "etcdserver: request timed out, waiting for the applied index took too long",
    Code.Unavailable,
    TimeoutError,
  ],
  ["etcdserver: unhealthy cluster", Code.Unavailable, UnhealthyClusterError],
  ["etcdserver: member not found", Code.NotFound, MembershipError],
  ["etcdserver: member ID already exist", Code.FailedPrecondition, MembershipError],
  ["etcdserver: invalid downgrade target version", Code.InvalidArgument, DowngradeError],
  ["etcdserver: wrong downgrade target version format", Code.InvalidArgument, DowngradeError],
  ["etcdserver: cluster has a downgrade job in progress", Code.FailedPrecondition, DowngradeError],
  ["etcdserver: no inflight downgrade job", Code.FailedPrecondition, DowngradeError],
  // These arrive as Unknown: the code alone would say nothing.
  ["election: no leader", Code.Unknown, ElectionNoLeaderError],
  ["election: not leader", Code.Unknown, NotLeaderError],
  ["election: session expired", Code.Unknown, SessionExpiredError],
  ["lock: session expired", Code.Unknown, SessionExpiredError],
  ["context deadline exceeded", Code.Unknown, TimeoutError],
];

describe("toEtcdError", () => {
  test("maps each etcd message to its class, keeping code, raw message and cause", () => {
    for (const [message, code, cls] of etcdErrors) {
      const wire = new ConnectError(message, code);
      const error = toEtcdError(wire);
      assert.ok(error instanceof cls, `${message} -> ${error.name}, expected ${cls.name}`);
      assert.ok(error instanceof EtcdError);
      assert.ok(error instanceof Error);
      assert.equal(error.code, code, message);
      assert.equal(error.rawMessage, message);
      assert.equal(error.message, message);
      assert.equal(error.cause, wire);
      assert.equal(error.name, cls.name);
    }
  });

  test("the message decides before the code", () => {
    // A known message with an unexpected code: the class follows the message, the code is kept.
    const e1 = toEtcdError(new ConnectError("etcdserver: no leader", Code.Unknown));
    assert.ok(e1 instanceof NoLeaderError);
    assert.equal(e1.code, Code.Unknown);
    assert.equal(e1.codeName, "Unknown");
    // etcd's "key is not provided" is InvalidArgument, but more specific than InvalidArgumentError.
    const e2 = toEtcdError(
      new ConnectError("etcdserver: key is not provided", Code.InvalidArgument),
    );
    assert.ok(e2 instanceof KeyNotProvidedError);
    assert.ok(!(e2 instanceof InvalidArgumentError));
    // "election: no leader" would otherwise be a plain Unknown error.
    const e3 = toEtcdError(new ConnectError("election: no leader", Code.Unknown));
    assert.ok(e3 instanceof ElectionNoLeaderError);
  });

  test("then the code, for messages etcd does not define", () => {
    const cases: Array<[Code, ErrorClass]> = [
      [Code.Unavailable, UnavailableError],
      [Code.DeadlineExceeded, TimeoutError],
      [Code.PermissionDenied, PermissionDeniedError],
      [Code.Unauthenticated, InvalidAuthTokenError],
      [Code.Canceled, CanceledError],
      [Code.InvalidArgument, InvalidArgumentError],
    ];
    for (const [code, cls] of cases) {
      const wire = new ConnectError("something new", code);
      const error = toEtcdError(wire);
      assert.ok(error instanceof cls, `${Code[code]} -> ${error.name}`);
      assert.equal(error.code, code);
      assert.equal(error.rawMessage, "something new");
      assert.equal(error.cause, wire);
    }
  });

  test("an unknown message with an unmapped code is a plain EtcdError with that code", () => {
    const wire = new ConnectError("etcdserver: brand new failure", Code.Aborted);
    const error = toEtcdError(wire);
    assert.equal(error.constructor, EtcdError);
    assert.equal(error.code, Code.Aborted);
    assert.equal(error.codeName, "Aborted");
    assert.equal(error.rawMessage, "etcdserver: brand new failure");
  });

  test("raw message is etcd's text, without Connect's [code] prefix", () => {
    const wire = new ConnectError("etcdserver: request timed out", Code.Unavailable);
    assert.match(wire.message, /^\[unavailable\]/);
    const error = toEtcdError(wire);
    assert.equal(error.rawMessage, "etcdserver: request timed out");
    assert.doesNotMatch(error.message, /\[unavailable\]/);
  });

  test("new variants of known families are recognized by their start", () => {
    const timeout = toEtcdError(
      new ConnectError("etcdserver: request timed out, some future reason", Code.Unavailable),
    );
    assert.ok(timeout instanceof TimeoutError);
    assert.equal(timeout.code, Code.Unavailable);
    const large = toEtcdError(
      new ConnectError("etcdserver: request is too large (2 MB)", Code.InvalidArgument),
    );
    assert.ok(large instanceof RequestTooLargeError);
  });

  test("size limits enforced by gRPC itself are RequestTooLargeError", () => {
    for (const message of [
      "grpc: received message larger than max (3000000 vs. 2097152)",
      "message size 3000000 is larger than configured writeMaxBytes 2097152",
      "request message of 3000000 bytes exceeds maxSendBytes (2097152)",
    ]) {
      const error = toEtcdError(new ConnectError(message, Code.ResourceExhausted));
      assert.ok(error instanceof RequestTooLargeError, message);
      assert.equal(error.code, Code.ResourceExhausted);
    }
    // ResourceExhausted for other reasons, a too large response included, is not a request size
    // problem.
    for (const message of [
      "quota",
      "message size 3000000 is larger than configured readMaxBytes 2097152",
      "response message of 3000000 bytes exceeds maxReceiveBytes (2097152)",
      "grpc: trying to send message larger than max (3000000 vs. 2097152)",
    ]) {
      const other = toEtcdError(new ConnectError(message, Code.ResourceExhausted));
      assert.ok(!(other instanceof RequestTooLargeError), message);
      assert.equal(other.code, Code.ResourceExhausted);
    }
  });

  test("an EtcdError is returned as it is", () => {
    const original = new LeaseLostError("lease 5 lost");
    assert.equal(toEtcdError(original), original);
  });

  test("errors that are not ConnectErrors keep their cause", () => {
    const plain = new Error("boom");
    const e1 = toEtcdError(plain);
    assert.equal(e1.constructor, EtcdError);
    assert.equal(e1.code, Code.Unknown);
    assert.equal(e1.rawMessage, "boom");
    assert.equal(e1.cause, plain);

    const abort = new DOMException("This operation was aborted", "AbortError");
    const e2 = toEtcdError(abort);
    assert.ok(e2 instanceof CanceledError);
    assert.equal(e2.code, Code.Canceled);
    assert.equal(e2.cause, abort);

    const e3 = toEtcdError("a string");
    assert.equal(e3.rawMessage, "a string");
    assert.equal(e3.cause, "a string");
  });
});

describe("error classes", () => {
  test("client-side errors carry their default codes", () => {
    assert.equal(new InvalidArgumentError("x").code, Code.InvalidArgument);
    assert.equal(new TimeoutError("x").code, Code.DeadlineExceeded);
    assert.equal(new CompactedError("x").code, Code.OutOfRange);
    assert.equal(new LeaseNotFoundError("x").code, Code.NotFound);
  });

  test("an explicit code and cause are kept", () => {
    const cause = new Error("inner");
    const e = new NoLeaderError("m", Code.Unknown, { cause });
    assert.equal(e.code, Code.Unknown);
    assert.equal(e.cause, cause);
    assert.equal(e.name, "NoLeaderError");
    assert.match(String(e), /^NoLeaderError: m/);
  });

  test("families nest", () => {
    const expired = new SessionExpiredError("gone");
    assert.ok(expired instanceof LeaseLostError);
    assert.ok(expired instanceof EtcdError);
    const watch = new WatchCompactedError("c", Code.OutOfRange, { compactRevision: 7n });
    assert.ok(watch instanceof CompactedError);
    assert.equal(watch.compactRevision, 7n);
    assert.equal(watch.name, "WatchCompactedError");
    assert.equal(new CompactedError("c").compactRevision, undefined);
  });

  test("classes are distinct: one kind is not an instance of another", () => {
    const e: EtcdError = new TooManyOpsError("x");
    assert.ok(!(e instanceof DuplicateKeyError));
    assert.ok(!(e instanceof InvalidArgumentError));
  });
});
