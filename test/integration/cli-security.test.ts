/**
 * The `etcd-connect` command's TLS flags (--cacert, --cert, --key) against an etcd that requires
 * client certificates, and its auth flags (--user name:password, --password) against an etcd with
 * authentication on; etcdctl with the same flags reads what we wrote. Failures are one line.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { runCli } from "../support/cli.ts";
import {
  CLI_ON_DENO,
  Cluster,
  etcdctl,
  etcdVersion,
  generatePki,
  hasOpenssl,
  type TestPki,
  uniquePrefix,
  unsupportedOn,
} from "../support/index.ts";

const skip = hasOpenssl() ? false : "openssl is needed to make test certificates";
const cliSkip = unsupportedOn({ deno: CLI_ON_DENO });
let pki: TestPki | undefined;
let mtls: Cluster | undefined;
let plain: Cluster | undefined;

before(async () => {
  if (skip) return;
  pki = generatePki();
  [mtls, plain] = await Promise.all([
    Cluster.start({
      tls: {
        certFile: pki.server.certFile,
        keyFile: pki.server.keyFile,
        trustedCaFile: pki.ca.certFile,
        clientCertAuth: true,
      },
    }),
    Cluster.start(),
  ]);
});

after(async () => {
  await mtls?.stop();
  await plain?.stop();
  pki?.remove();
});

test("--cacert, --cert and --key reach an etcd that requires client certificates", {
  skip: skip || cliSkip,
}, async () => {
  const cluster = mtls as Cluster;
  const certs = pki as TestPki;
  // A bare host:port means https once TLS flags are given, as with etcdctl.
  const endpoints = cluster.endpoints.map((e) => e.replace("https://", ""));
  const flags = [
    `--cacert=${certs.ca.certFile}`,
    `--cert=${certs.client.certFile}`,
    `--key=${certs.client.keyFile}`,
  ];
  const key = `${uniquePrefix("cli-tls")}k`;
  const put = await runCli(endpoints, [...flags, "put", key, "over tls"]);
  assert.equal(put.code, 0, put.stderr);
  const read = await etcdctl(cluster.endpoints, [...flags, "get", key, "--print-value-only"]);
  assert.equal(read.stdout.toString(), "over tls\n");
  const status = await runCli(endpoints, [...flags, "endpoint", "health"]);
  assert.equal(status.code, 0, status.stderr);

  const noCert = await runCli(endpoints, [`--cacert=${certs.ca.certFile}`, "get", key]);
  assert.equal(noCert.code, 2);
  assert.match(noCert.stderr, /^Error: TlsError \(Unavailable\): [^\n]+\n$/);
  const noCa = await runCli(cluster.endpoints, ["get", key, "--dial-timeout=2s"]);
  assert.equal(noCa.code, 2);
  assert.match(noCa.stderr, /^Error: TlsError \(Unavailable\): [^\n]+\n$/);
  // No CA, but told to accept any server certificate: the call goes through.
  const insecure = await runCli(endpoints, [
    "--insecure-skip-tls-verify",
    `--cert=${certs.client.certFile}`,
    `--key=${certs.client.keyFile}`,
    "get",
    key,
    "--print-value-only",
  ]);
  assert.equal(insecure.code, 0, insecure.stderr);
  assert.equal(insecure.stdout.toString(), "over tls\n");
  const missingFile = await runCli(endpoints, ["--cacert=/nonexistent/ca.pem", "get", key]);
  assert.equal(missingFile.code, 6);
  assert.match(missingFile.stderr, /^Error: ENOENT[^\n]*\n$/);
});

test("--user and --password with authentication on; errors name the auth failure", {
  skip: skip || cliSkip,
}, async () => {
  const endpoints = (plain as Cluster).endpoints;
  const ok = async (args: string[], input?: string) => {
    const run = await runCli(endpoints, args, input === undefined ? {} : { input });
    assert.equal(run.code, 0, `${args.join(" ")}: ${run.stderr}`);
    return run.stdout.toString();
  };
  assert.equal(
    await ok(["user", "add", "root", "--new-user-password=rootpw"]),
    "User root created\n",
  );
  await ok(["user", "grant-role", "root", "root"]);
  await ok(["user", "add", "app"], "apppw\n");
  await ok(["role", "add", "app"]);
  await ok(["role", "grant-permission", "app", "readwrite", "--prefix", "app/"]);
  await ok(["user", "grant-role", "app", "app"]);
  assert.equal(await ok(["auth", "enable"]), "Authentication Enabled\n");
  try {
    assert.equal(await ok(["--user=app:apppw", "put", "app/x", "1"]), "OK\n");
    assert.equal(
      await ok(["--user=app", "--password=apppw", "get", "app/x", "--print-value-only"]),
      "1\n",
    );
    const ctl = await etcdctl(endpoints, [
      "--user=app:apppw",
      "get",
      "app/x",
      "--print-value-only",
    ]);
    assert.equal(ctl.stdout.toString(), "1\n");
    // Without stdin on a terminal, a missing password is read from stdin.
    assert.equal(await ok(["--user=app", "get", "app/x", "--print-value-only"], "apppw\n"), "1\n");

    const anonymous = await runCli(endpoints, ["get", "app/x"]);
    assert.equal(anonymous.code, 1);
    assert.equal(
      anonymous.stderr,
      "Error: UserEmptyError (InvalidArgument): etcdserver: user name is empty\n",
    );
    const wrong = await runCli(endpoints, ["--user=app:nope", "get", "app/x"]);
    assert.equal(wrong.code, 1);
    assert.equal(
      wrong.stderr,
      "Error: AuthFailedError (InvalidArgument): etcdserver: authentication failed, invalid user ID or password\n",
    );
    assert.doesNotMatch(wrong.stderr, /nope/, "the password is not echoed");
    const denied = await runCli(endpoints, ["--user=app:apppw", "put", "other/x", "1"]);
    assert.equal(denied.code, 1);
    assert.equal(
      denied.stderr,
      "Error: PermissionDeniedError (PermissionDenied): etcdserver: permission denied\n",
    );
    if (!etcdVersion().startsWith("3.4")) {
      assert.match(
        await ok(["--user=root:rootpw", "auth", "status"]),
        /^Authentication Status: true\n/,
      );
    }
  } finally {
    assert.equal(await ok(["--user=root:rootpw", "auth", "disable"]), "Authentication Disabled\n");
  }
});
