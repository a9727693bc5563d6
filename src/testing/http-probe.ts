import { readFileSync } from "node:fs";
import { get as httpGet } from "node:http";
import { get as httpsGet } from "node:https";

/**
 * TLS files of a cluster's client URLs.
 *
 * @example
 * const tls: ClusterTls = { certFile: "server.pem", keyFile: "server-key.pem", trustedCaFile: "ca.pem" };
 */
export interface ClusterTls {
  certFile: string;
  keyFile: string;
  /** The CA that signed `certFile`: the harness trusts it; etcd gets it with `clientCertAuth`. */
  trustedCaFile: string;
  /** Require client certificates signed by `trustedCaFile` (else server-side TLS only). */
  clientCertAuth?: boolean;
}

/**
 * GET over http or https (https with the cluster's CA and, with client auth, its certificate).
 * For a member's /health, /metrics or /version.
 *
 * @example
 * const version = JSON.parse(await fetchText(`${cluster.endpoints[0]}/version`, cluster.tls));
 */
export function fetchText(url: string, tls?: ClusterTls): Promise<string> {
  const get = url.startsWith("https:") ? httpsGet : httpGet;
  return new Promise((resolve, reject) => {
    const options = tls
      ? {
          ca: readFileSync(tls.trustedCaFile),
          cert: readFileSync(tls.certFile),
          key: readFileSync(tls.keyFile),
          // The harness checks health, not identity: tests may serve a certificate for another host.
          checkServerIdentity: () => undefined,
        }
      : {};
    const req = get(url, { ...options, timeout: 2000 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
      });
      res.on("end", () => resolve(body));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
  });
}

/**
 * Whether the member at `url` answers /health with `"health":"true"`.
 *
 * @example
 * if (await isHealthy(member.clientUrl, cluster.tls)) console.log("up");
 */
export async function isHealthy(url: string, tls?: ClusterTls): Promise<boolean> {
  try {
    const body = await fetchText(`${url}/health`, tls);
    return /"health":\s*"true"/.test(body);
  } catch {
    return false;
  }
}
