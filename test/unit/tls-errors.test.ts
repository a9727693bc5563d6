/**
 * How Node's TLS error codes (anywhere in an error's cause chain) become a `TlsError` with a
 * reason and a message that says what to check. The integration tests produce each failure
 * against etcd; these pin the mapping of codes that are hard to produce there (expiry, other
 * alerts, TLS spoken to a plain endpoint).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { findTlsFailure, withTlsFailure } from "../../src/core/tls-errors.ts";
import { TlsError, toEtcdError } from "../../src/index.ts";

function nodeError(code: string, message = code): Error {
  return Object.assign(new Error(message), { code });
}

function wrapped(code: string): ConnectError {
  return new ConnectError(
    "[internal] failed",
    Code.Internal,
    undefined,
    undefined,
    nodeError(code),
  );
}

describe("findTlsFailure", () => {
  const cases: Array<[string, string]> = [
    ["UNABLE_TO_VERIFY_LEAF_SIGNATURE", "untrusted-server-certificate"],
    ["DEPTH_ZERO_SELF_SIGNED_CERT", "untrusted-server-certificate"],
    ["SELF_SIGNED_CERT_IN_CHAIN", "untrusted-server-certificate"],
    ["UNABLE_TO_GET_ISSUER_CERT_LOCALLY", "untrusted-server-certificate"],
    ["ERR_TLS_CERT_ALTNAME_INVALID", "hostname-mismatch"],
    ["CERT_HAS_EXPIRED", "certificate-expired"],
    ["CERT_NOT_YET_VALID", "certificate-expired"],
    ["ERR_SSL_SSL/TLS_ALERT_BAD_CERTIFICATE", "client-certificate-rejected"],
    ["ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED", "client-certificate-rejected"],
    ["ERR_SSL_TLSV1_ALERT_UNKNOWN_CA", "client-certificate-rejected"],
    ["ERR_SSL_WRONG_VERSION_NUMBER", "handshake-failed"],
    ["ERR_SSL_SOMETHING_ELSE", "handshake-failed"],
  ];
  for (const [code, reason] of cases) {
    test(`${code} -> ${reason}`, () => {
      const failure = findTlsFailure(wrapped(code));
      assert.equal(failure?.reason, reason);
      assert.equal(failure?.tlsCode, code);
      const error = toEtcdError(wrapped(code));
      assert.ok(error instanceof TlsError);
      assert.equal(error.reason, reason);
      assert.equal(error.code, Code.Unavailable);
    });
  }

  test("a server's refusal: required when no certificate is configured, rejected when one is", () => {
    const alert = wrapped("ERR_SSL_SSL/TLS_ALERT_BAD_CERTIFICATE");
    const none = findTlsFailure(alert, { clientCert: false, endpoint: "https://h:1" });
    assert.equal(none?.reason, "client-certificate-required");
    assert.match(none?.message ?? "", /tls\.cert and tls\.key/);
    assert.match(none?.message ?? "", /https:\/\/h:1/);
    const some = findTlsFailure(alert, { clientCert: true });
    assert.equal(some?.reason, "client-certificate-rejected");
    assert.match(some?.message ?? "", /trusted-ca-file/);
  });

  test("a failure found by the transport is kept as it is", () => {
    const failure = findTlsFailure(wrapped("ERR_SSL_SSL/TLS_ALERT_BAD_CERTIFICATE"), {
      clientCert: false,
    });
    assert.ok(failure);
    const marked = withTlsFailure(new ConnectError(failure.message, Code.Unavailable), failure);
    const error = toEtcdError(marked);
    assert.ok(error instanceof TlsError);
    assert.equal(error.reason, "client-certificate-required");
    assert.equal(error.message, failure.message);
  });

  test("errors without a TLS code are not TLS failures", () => {
    assert.equal(findTlsFailure(nodeError("ECONNREFUSED")), undefined);
    assert.equal(findTlsFailure(new ConnectError("x", Code.Unavailable)), undefined);
    assert.equal(findTlsFailure(undefined), undefined);
    assert.ok(!(toEtcdError(nodeError("ECONNREFUSED")) instanceof TlsError));
  });
});
