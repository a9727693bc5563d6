/**
 * What went wrong in a TLS handshake, as a short word for programs:
 * - "untrusted-server-certificate": the server's certificate does not chain to the CA the
 *   client trusts (`tls.ca`, or the system's when unset);
 * - "hostname-mismatch": the server's certificate is not for the host in the endpoint URL
 *   (or `tls.servername`);
 * - "certificate-expired": the server's certificate is expired or not yet valid;
 * - "client-certificate-required": the server wants a client certificate and none is configured;
 * - "client-certificate-rejected": the server refused the client certificate sent;
 * - "handshake-failed": any other TLS failure.
 *
 * @example
 * if (findTlsFailure(error)?.reason === "hostname-mismatch") console.error("use tls.servername");
 */
export type TlsFailureReason =
  | "untrusted-server-certificate"
  | "hostname-mismatch"
  | "certificate-expired"
  | "client-certificate-required"
  | "client-certificate-rejected"
  | "handshake-failed";

/**
 * A TLS failure found in an error's cause chain.
 *
 * @example
 * const failure = findTlsFailure(err, { clientCert: false });
 * if (failure) console.log(failure.reason, failure.message);
 */
export interface TlsFailure {
  reason: TlsFailureReason;
  /** Node's (OpenSSL's) error code, such as "UNABLE_TO_VERIFY_LEAF_SIGNATURE". */
  tlsCode: string;
  /** What is wrong and what to check, in words. */
  message: string;
}

const untrusted = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "CERT_SIGNATURE_FAILURE",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
  "INVALID_CA",
  "UNABLE_TO_DECRYPT_CERT_SIGNATURE",
  "UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY",
]);

const expired = new Set(["CERT_HAS_EXPIRED", "CERT_NOT_YET_VALID"]);

/** Alerts a server sends when it does not accept the client's certificate (or its absence). */
const clientCertAlerts =
  /^ERR_SSL_(?:SSL\/TLS|SSLV3|TLSV1|TLSV13)_ALERT_(?:BAD_CERTIFICATE|CERTIFICATE_REQUIRED|UNKNOWN_CA|UNSUPPORTED_CERTIFICATE|CERTIFICATE_UNKNOWN|ACCESS_DENIED)$/;

/**
 * Marks an error with a TLS failure found by the transport (which knows the endpoint and whether
 * a client certificate was configured), so `findTlsFailure` returns it as is later.
 *
 * @example
 * throw withTlsFailure(new ConnectError(failure.message, Code.Unavailable), failure);
 */
export function withTlsFailure<E extends object>(error: E, failure: TlsFailure): E {
  Object.defineProperty(error, "tlsFailure", { value: failure, enumerable: false });
  return error;
}

/**
 * Looks through an error and its causes for a TLS failure and says what it means.
 * `clientCert` tells whether the client was configured with a certificate: it turns a server's
 * refusal into "required" (none configured) or "rejected" (one was sent); unknown gives a
 * message covering both.
 *
 * @example
 * findTlsFailure(err)?.reason; // "hostname-mismatch"
 */
export function findTlsFailure(
  error: unknown,
  context: { clientCert?: boolean; endpoint?: string } = {},
): TlsFailure | undefined {
  const where = context.endpoint ? ` (${context.endpoint})` : "";
  for (let e: unknown = error, depth = 0; e && depth < 8; depth++) {
    const known = (e as { tlsFailure?: TlsFailure }).tlsFailure;
    if (known) return known;
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") {
      if (untrusted.has(code)) {
        return {
          reason: "untrusted-server-certificate",
          tlsCode: code,
          message: `TLS: the server's certificate is not signed by a trusted CA${where}: set tls.ca to the CA that issued it`,
        };
      }
      if (code === "ERR_TLS_CERT_ALTNAME_INVALID") {
        const detail = (e as Error).message ?? "";
        return {
          reason: "hostname-mismatch",
          tlsCode: code,
          message: `TLS: the server's certificate is not valid for this host${where} (${detail}): use a host name the certificate names, or set tls.servername`,
        };
      }
      if (expired.has(code)) {
        return {
          reason: "certificate-expired",
          tlsCode: code,
          message: `TLS: the server's certificate is expired or not yet valid${where}`,
        };
      }
      if (clientCertAlerts.test(code)) {
        if (context.clientCert === false) {
          return {
            reason: "client-certificate-required",
            tlsCode: code,
            message: `TLS: the server requires a client certificate${where} and none is configured: set tls.cert and tls.key`,
          };
        }
        return {
          reason: "client-certificate-rejected",
          tlsCode: code,
          message:
            context.clientCert === true
              ? `TLS: the server rejected the client certificate${where}: it must be signed by a CA the server trusts (etcd's --trusted-ca-file) and allow client authentication`
              : `TLS: the server refused the client certificate${where}: none was configured (set tls.cert and tls.key), or it is not signed by a CA the server trusts`,
        };
      }
      if (code === "ERR_SSL_WRONG_VERSION_NUMBER" || code === "ERR_SSL_PACKET_LENGTH_TOO_LONG") {
        return {
          reason: "handshake-failed",
          tlsCode: code,
          message: `TLS: the endpoint does not answer TLS${where}: is it an http:// endpoint?`,
        };
      }
      if (/^ERR_SSL_|^ERR_TLS_/.test(code)) {
        return {
          reason: "handshake-failed",
          tlsCode: code,
          message: `TLS handshake failed${where}: ${(e as Error).message ?? code}`,
        };
      }
    }
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}
