/**
 * TLS settings for https endpoints. PEM strings or buffers.
 *
 * @example
 * new Etcd({ endpoints: ["https://10.0.0.1:2379"], tls: { ca: readFileSync("ca.pem") } });
 */
export interface TlsOptions {
  /** Certificate authority to trust instead of the system's. */
  ca?: string | Uint8Array;
  /** Client certificate, for etcd started with --client-cert-auth. */
  cert?: string | Uint8Array;
  /** Private key of the client certificate. */
  key?: string | Uint8Array;
  /** Host name to verify the server certificate against, when it differs from the URL's. */
  servername?: string;
  /**
   * Accept any server certificate: no CA check, no host name check (a client certificate is
   * still sent). For tests and throwaway setups only: anyone on the path can read and change
   * the traffic.
   */
  insecureSkipVerify?: boolean;
}
