/**
 * Go's retry rules, decided from errors of the shapes the transports produce (found by driving
 * connect-node and the lean transport against killed and SIGSTOPped etcd members).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { KV, Lease, Maintenance } from "../../gen/etcdserverpb/rpc_pb.ts";
import {
  isEndpointFailure,
  isRepeatable,
  neverLeft,
  shouldRetry,
  toCallError,
} from "../../src/connection/retry-policy.ts";

function nodeError(message: string, code: string, syscall?: string): Error {
  return Object.assign(new Error(message), { code, ...(syscall ? { syscall } : {}) });
}

/** connect-node wraps Node errors in a ConnectError with the Node error as cause. */
function wrapped(cause: Error, code: Code): ConnectError {
  return new ConnectError(cause.message, code, undefined, undefined, cause);
}

const refused = wrapped(
  nodeError("connect ECONNREFUSED 127.0.0.1:2379", "ECONNREFUSED", "connect"),
  Code.Unavailable,
);
const resetMidCall = wrapped(nodeError("read ECONNRESET", "ECONNRESET", "read"), Code.Aborted);
const dnsFailure = wrapped(
  nodeError("getaddrinfo ENOTFOUND etcd-0", "ENOTFOUND", "getaddrinfo"),
  Code.Unavailable,
);
const connectTimedOut = wrapped(
  nodeError("connect ETIMEDOUT 10.0.0.1:2379", "ETIMEDOUT", "connect"),
  Code.Unavailable,
);
const readTimedOut = wrapped(nodeError("read ETIMEDOUT", "ETIMEDOUT", "read"), Code.Internal);
const deadSession = wrapped(
  nodeError("The session has been destroyed", "ERR_HTTP2_INVALID_SESSION"),
  Code.Internal,
);
const refusedStream = wrapped(
  nodeError("Stream closed with error code NGHTTP2_REFUSED_STREAM", "ERR_HTTP2_STREAM_ERROR"),
  Code.Internal,
);
const streamReset = wrapped(
  nodeError("Stream closed with error code NGHTTP2_INTERNAL_ERROR", "ERR_HTTP2_STREAM_ERROR"),
  Code.Internal,
);
const dialTimeout = new ConnectError(
  "cannot connect to http://127.0.0.1:2379: dial timeout after 300 ms",
  Code.Unavailable,
  undefined,
  undefined,
  Object.assign(new Error("not sent"), { notSent: true }),
);
const deadline = new ConnectError("deadline of 2000 ms exceeded", Code.DeadlineExceeded);
const noLeader = new ConnectError("etcdserver: no leader", Code.Unavailable);
const timedOutInEtcd = new ConnectError("etcdserver: request timed out", Code.Unavailable);
const killedUnderStream = new ConnectError("context canceled", Code.Canceled);
const compacted = new ConnectError(
  "etcdserver: mvcc: required revision has been compacted",
  Code.OutOfRange,
);

describe("neverLeft: proof that a request never reached a server", () => {
  test("a connection that could not be made", () => {
    assert.equal(neverLeft(refused), true);
    assert.equal(neverLeft(dnsFailure), true);
    assert.equal(neverLeft(connectTimedOut), true);
  });

  test("the client's dial timeout (no HTTP/2 SETTINGS from the server)", () => {
    assert.equal(neverLeft(dialTimeout), true);
  });

  test("a stream opened on a session already dead, or refused by the server", () => {
    assert.equal(neverLeft(deadSession), true);
    assert.equal(neverLeft(refusedStream), true);
  });

  test("anything after the request may have been written is no proof", () => {
    for (const error of [
      resetMidCall,
      readTimedOut,
      streamReset,
      deadline,
      noLeader,
      timedOutInEtcd,
      killedUnderStream,
      compacted,
      new Error("something else"),
      undefined,
    ]) {
      assert.equal(neverLeft(error), false, String(error));
    }
  });

  test("the proof is found under facade errors (causes are followed)", () => {
    const facade = new Error("UnavailableError", { cause: refused });
    assert.equal(neverLeft(facade), true);
    const cyclic: { cause?: unknown } & Error = new Error("loop");
    cyclic.cause = cyclic;
    assert.equal(neverLeft(cyclic), false);
  });
});

describe("toCallError: connection failures become Unavailable", () => {
  test("a reset connection, a reset stream, a killed server", () => {
    for (const error of [resetMidCall, streamReset, killedUnderStream, readTimedOut]) {
      const mapped = toCallError(error);
      assert.equal(mapped.code, Code.Unavailable, String(error));
      assert.equal(mapped.cause, error, "the original is kept as cause");
    }
  });

  test("errors etcd sent are kept as they are", () => {
    for (const error of [noLeader, timedOutInEtcd, compacted, deadline]) {
      assert.equal(toCallError(error), error);
    }
    const internalFromEtcd = new ConnectError("etcdserver: corrupt cluster", Code.Internal);
    assert.equal(toCallError(internalFromEtcd).code, Code.Internal);
  });

  test("an endpoint failure: unreachable, gone, not answering in time, not serving", () => {
    for (const error of [refused, resetMidCall, deadline, noLeader, dialTimeout]) {
      assert.equal(isEndpointFailure(toCallError(error)), true, String(error));
    }
    assert.equal(isEndpointFailure(toCallError(compacted)), false);
  });
});

describe("shouldRetry: Go's clientv3 rules", () => {
  const range = KV.method.range;
  const put = KV.method.put;
  const txn = KV.method.txn;

  test("repeatable and non-repeatable RPCs", () => {
    assert.equal(isRepeatable(range), true);
    assert.equal(isRepeatable(Lease.method.leaseGrant), true);
    assert.equal(isRepeatable(Maintenance.method.status), true);
    assert.equal(isRepeatable(put), false);
    assert.equal(isRepeatable(txn), false);
    assert.equal(isRepeatable(KV.method.deleteRange), false);
    assert.equal(isRepeatable(KV.method.compact), false);
    assert.equal(isRepeatable(Maintenance.method.defragment), false);
  });

  test("reads are retried on Unavailable, wherever the request got", () => {
    for (const error of [refused, resetMidCall, noLeader, timedOutInEtcd, killedUnderStream]) {
      assert.equal(shouldRetry(range, toCallError(error)), true, String(error));
    }
    assert.equal(shouldRetry(range, toCallError(deadline)), false);
    assert.equal(shouldRetry(range, toCallError(compacted)), false);
  });

  test("writes are retried only when they never left", () => {
    for (const error of [refused, dialTimeout, deadSession, refusedStream]) {
      assert.equal(shouldRetry(put, toCallError(error)), true, String(error));
      assert.equal(shouldRetry(txn, toCallError(error)), true, String(error));
    }
    for (const error of [resetMidCall, streamReset, noLeader, timedOutInEtcd, deadline]) {
      assert.equal(shouldRetry(put, toCallError(error)), false, String(error));
      assert.equal(shouldRetry(txn, toCallError(error)), false, String(error));
    }
  });
});
