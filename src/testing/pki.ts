import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * PEM files of one certificate: the certificate and its private key.
 *
 * @example
 * const { certFile, keyFile } = pki.client;
 */
export interface CertFiles {
  certFile: string;
  keyFile: string;
  /** The certificate as PEM text. */
  cert: string;
  /** The private key as PEM text. */
  key: string;
}

/**
 * A test certificate authority and certificates it issued, in a temporary directory.
 *
 * @example
 * const pki = generatePki();
 * const other = pki.issue("other", { cn: "other-client" });
 */
export interface TestPki {
  dir: string;
  /** The CA (its certificate is `ca.certFile`, PEM text `ca.cert`). */
  ca: CertFiles;
  /** Server certificate for 127.0.0.1 and localhost (also usable as a client certificate). */
  server: CertFiles;
  /** Client certificate with common name `clientName`. */
  client: CertFiles;
  /** Issues another certificate from this CA. */
  issue(name: string, options: { cn: string; altNames?: string[] }): CertFiles;
  /** Removes the directory. */
  remove(): void;
}

/**
 * Whether `openssl` can be run (Debian package `openssl`): TLS test clusters need it.
 *
 * @example
 * test("over TLS", { skip: !hasOpenssl() && "needs openssl" }, async () => {});
 */
export function hasOpenssl(): boolean {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/**
 * Generates a throwaway CA (EC P-256, valid two days), a server certificate with SANs
 * 127.0.0.1 and localhost, and a client certificate, with `openssl`. Each call makes a new,
 * independent CA, so two calls give a "wrong CA" for each other. The files go to `options.dir`
 * (created if needed), else to a new temporary directory; `remove()` deletes it.
 *
 * @example
 * const pki = generatePki();
 * const cluster = await TestCluster.start({
 *   tls: { certFile: pki.server.certFile, keyFile: pki.server.keyFile, trustedCaFile: pki.ca.certFile },
 * });
 */
export function generatePki(options: { clientName?: string; dir?: string } = {}): TestPki {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), "etcd-connect-pki-"));
  mkdirSync(dir, { recursive: true });
  const config = join(dir, "openssl.cnf");
  writeFileSync(
    config,
    [
      "[req]",
      "distinguished_name = dn",
      "prompt = no",
      "[dn]",
      "CN = unused",
      "[ca]",
      "basicConstraints = critical, CA:TRUE",
      "keyUsage = critical, keyCertSign, cRLSign",
      "subjectKeyIdentifier = hash",
      "",
    ].join("\n"),
  );
  const openssl = (args: string[]) =>
    execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  const read = (name: string): CertFiles => {
    const certFile = join(dir, `${name}.pem`);
    const keyFile = join(dir, `${name}-key.pem`);
    return {
      certFile,
      keyFile,
      cert: readFileSync(certFile, "utf8"),
      key: readFileSync(keyFile, "utf8"),
    };
  };
  const ecKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  openssl([
    "req",
    "-x509",
    ...ecKey,
    "-config",
    config,
    "-extensions",
    "ca",
    "-subj",
    "/CN=etcd-connect test CA",
    "-days",
    "2",
    "-keyout",
    "ca-key.pem",
    "-out",
    "ca.pem",
  ]);
  let serial = 1;
  const issue = (name: string, spec: { cn: string; altNames?: string[] }): CertFiles => {
    const ext = join(dir, `${name}.ext`);
    writeFileSync(
      ext,
      [
        "basicConstraints = CA:FALSE",
        "keyUsage = critical, digitalSignature, keyEncipherment",
        "extendedKeyUsage = serverAuth, clientAuth",
        ...(spec.altNames?.length ? [`subjectAltName = ${spec.altNames.join(", ")}`] : []),
        "",
      ].join("\n"),
    );
    openssl([
      "req",
      ...ecKey,
      "-config",
      config,
      "-subj",
      `/CN=${spec.cn}`,
      "-keyout",
      `${name}-key.pem`,
      "-out",
      `${name}.csr`,
    ]);
    openssl([
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca-key.pem",
      "-set_serial",
      String(++serial),
      "-days",
      "2",
      "-extfile",
      ext,
      "-out",
      `${name}.pem`,
    ]);
    return read(name);
  };
  const server = issue("server", {
    cn: "etcd-server",
    altNames: ["IP:127.0.0.1", "DNS:localhost"],
  });
  const client = issue("client", { cn: options.clientName ?? "etcd-connect-client" });
  return {
    dir,
    ca: read("ca"),
    server,
    client,
    issue,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
