/**
 * TLS against real etcd with certificates this file generates (openssl): https with a CA,
 * mutual TLS with --client-cert-auth, and the typed errors for the usual mistakes: a CA that
 * did not sign the server's certificate, no client certificate, a client certificate from
 * another CA, a server certificate for another host name.
 */
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { Etcd, TlsError, type TlsFailureReason, type TlsOptions } from "../../src/index.ts";
import {
  Cluster,
  etcdctl,
  generatePki,
  hasOpenssl,
  type TestPki,
  TLS_ON_DENO,
  testClientOptions,
  uniquePrefix,
  unsupportedOn,
} from "../support/index.ts";

const skip = hasOpenssl() ? false : "openssl is not installed (Debian package openssl)";

describe("TLS", { skip: skip || unsupportedOn({ deno: TLS_ON_DENO }) }, () => {
  let pki: TestPki;
  let otherPki: TestPki;
  /** Requires client certificates. */
  let mtls: Cluster;
  /** Serves a certificate for "etcd.test.invalid" only, no client certificates needed. */
  let otherHost: Cluster;

  before(async () => {
    pki = generatePki();
    otherPki = generatePki();
    const named = pki.issue("other-host", { cn: "etcd", altNames: ["DNS:etcd.test.invalid"] });
    [mtls, otherHost] = await Promise.all([
      Cluster.start({
        tls: {
          certFile: pki.server.certFile,
          keyFile: pki.server.keyFile,
          trustedCaFile: pki.ca.certFile,
          clientCertAuth: true,
        },
      }),
      Cluster.start({
        tls: { certFile: named.certFile, keyFile: named.keyFile, trustedCaFile: pki.ca.certFile },
      }),
    ]);
  });

  after(async () => {
    await mtls?.stop();
    await otherHost?.stop();
    pki?.remove();
    otherPki?.remove();
  });

  function client(endpoints: string[], tls: TlsOptions): Etcd {
    return new Etcd({ ...testClientOptions(), endpoints, tls, timeoutMs: 10_000 });
  }

  async function expectTlsError(etcd: Etcd, reason: TlsFailureReason): Promise<TlsError> {
    try {
      const error = await etcd.get("k").then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(error instanceof TlsError, `expected a TlsError, got ${String(error)}`);
      assert.equal(error.reason, reason, error.message);
      return error;
    } finally {
      await etcd.close();
    }
  }

  test("mutual TLS: https endpoint with CA, client certificate and key", async () => {
    const etcd = client(mtls.endpoints, {
      ca: pki.ca.cert,
      cert: pki.client.cert,
      key: pki.client.key,
    });
    try {
      const k = `${uniquePrefix("tls")}a`;
      await etcd.put(k, "over mTLS");
      assert.equal((await etcd.get(k))?.text, "over mTLS");
      // etcdctl (Go's TLS) reads what we wrote over the same certificates.
      const out = await etcdctl(mtls.endpoints, [
        `--cacert=${pki.ca.certFile}`,
        `--cert=${pki.client.certFile}`,
        `--key=${pki.client.keyFile}`,
        "get",
        k,
        "--print-value-only",
      ]);
      assert.equal(out.stdout.toString().trim(), "over mTLS");
      // A server stream over TLS too.
      let bytes = 0;
      const sink = new Writable({
        write(chunk: Buffer, _encoding, done) {
          bytes += chunk.length;
          done();
        },
      });
      const snapshot = await etcd.maintenance.snapshot(sink);
      assert.equal(snapshot.bytes, bytes);
      assert.ok(bytes > 0);
    } finally {
      await etcd.close();
    }
  });

  test("https with a CA and a server name the certificate names", async () => {
    const etcd = client(otherHost.endpoints, { ca: pki.ca.cert, servername: "etcd.test.invalid" });
    try {
      const k = `${uniquePrefix("tls")}b`;
      await etcd.put(k, "1");
      assert.equal((await etcd.get(k))?.text, "1");
    } finally {
      await etcd.close();
    }
  });

  test("a CA that did not sign the server's certificate: untrusted-server-certificate", async () => {
    const error = await expectTlsError(
      client(mtls.endpoints, {
        ca: otherPki.ca.cert,
        cert: pki.client.cert,
        key: pki.client.key,
      }),
      "untrusted-server-certificate",
    );
    assert.match(error.message, /not signed by a trusted CA/);
    assert.match(error.message, /tls\.ca/);
  });

  test("no CA at all (system roots) for a private CA: untrusted-server-certificate", async () => {
    await expectTlsError(
      client(mtls.endpoints, { cert: pki.client.cert, key: pki.client.key }),
      "untrusted-server-certificate",
    );
  });

  test("no client certificate for --client-cert-auth: client-certificate-required", async () => {
    const error = await expectTlsError(
      client(mtls.endpoints, { ca: pki.ca.cert }),
      "client-certificate-required",
    );
    assert.match(error.message, /requires a client certificate/);
    assert.match(error.message, /tls\.cert and tls\.key/);
  });

  test("a client certificate from another CA: client-certificate-rejected", async () => {
    const error = await expectTlsError(
      client(mtls.endpoints, {
        ca: pki.ca.cert,
        cert: otherPki.client.cert,
        key: otherPki.client.key,
      }),
      "client-certificate-rejected",
    );
    assert.match(error.message, /rejected the client certificate/);
  });

  test("a server certificate for another host name: hostname-mismatch", async () => {
    const error = await expectTlsError(
      client(otherHost.endpoints, { ca: pki.ca.cert }),
      "hostname-mismatch",
    );
    assert.match(error.message, /not valid for this host/);
    assert.match(error.message, /127\.0\.0\.1/);
  });

  test("insecureSkipVerify accepts an untrusted server certificate for another host name", async () => {
    // Without it, the same settings fail: untrusted-server-certificate and hostname-mismatch
    // above.
    const named = client(otherHost.endpoints, { insecureSkipVerify: true });
    const mutual = client(mtls.endpoints, {
      insecureSkipVerify: true,
      cert: pki.client.cert,
      key: pki.client.key,
    });
    try {
      const k = `${uniquePrefix("tls")}insecure`;
      await named.put(k, "1");
      assert.equal((await named.get(k))?.text, "1");
      // The client certificate still goes out: the mutual-TLS member serves the call.
      await mutual.put(k, "2");
      assert.equal((await mutual.get(k))?.text, "2");
    } finally {
      await named.close();
      await mutual.close();
    }
    await expectTlsError(
      client(mtls.endpoints, { insecureSkipVerify: true }),
      "client-certificate-required",
    );
  });

  test("TLS errors tell which endpoint when several fail the same way", async () => {
    const endpoints = [...mtls.endpoints, ...otherHost.endpoints];
    const etcd = client(endpoints, { ca: otherPki.ca.cert });
    const error = await expectTlsError(etcd, "untrusted-server-certificate");
    assert.ok(
      endpoints.some((url) => error.message.includes(url)),
      `message names an endpoint: ${error.message}`,
    );
  });
});
