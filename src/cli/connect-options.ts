import type { EtcdOptions } from "../index.ts";
import { usageError } from "./cli-error.ts";
import { parseDuration } from "./duration.ts";
import type { GatewayAddress } from "./gateway-post.ts";

const DEFAULT_ENDPOINT = "127.0.0.1:2379";
const DEFAULT_DIAL_TIMEOUT = "2s";
const DEFAULT_COMMAND_TIMEOUT = "5s";

/** The global flags that say how to reach etcd, as parsed. */
export interface ConnectFlags {
  endpoints?: string | undefined;
  "dial-timeout"?: string | undefined;
  "command-timeout"?: string | undefined;
  cacert?: string | undefined;
  cert?: string | undefined;
  key?: string | undefined;
  "insecure-skip-tls-verify"?: boolean | undefined;
  user?: string | undefined;
  password?: string | undefined;
}

/**
 * The endpoints as the user wrote them (for display): `--endpoints`, else `ETCD_ENDPOINTS`,
 * else 127.0.0.1:2379.
 *
 * @example
 * endpointList({ endpoints: "a:2379,b:2379" }, {}); // ["a:2379", "b:2379"]
 */
export function endpointList(flags: ConnectFlags, env: NodeJS.ProcessEnv): string[] {
  const raw = flags.endpoints ?? env.ETCD_ENDPOINTS ?? DEFAULT_ENDPOINT;
  const list = raw
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  if (list.length === 0) throw usageError("--endpoints is empty");
  return list;
}

/**
 * `EtcdOptions` from the global flags: timeouts, TLS files (read here), user and password.
 * A bare host:port becomes https when any TLS flag is given.
 *
 * @example
 * const etcd = new Etcd(await connectOptions(flags, process.env, askPassword));
 */
export async function connectOptions(
  flags: ConnectFlags,
  env: NodeJS.ProcessEnv,
  askPassword: (user: string) => Promise<string>,
): Promise<EtcdOptions> {
  const insecure = flags["insecure-skip-tls-verify"] === true;
  const tlsWanted = flags.cacert !== undefined || flags.cert !== undefined || insecure;
  if ((flags.cert === undefined) !== (flags.key === undefined)) {
    throw usageError("--cert and --key go together");
  }
  const endpoints = endpointList(flags, env).map((e) =>
    tlsWanted && !e.includes("://") ? `https://${e}` : e,
  );
  const options: EtcdOptions = { endpoints, ...timeouts(flags) };
  if (tlsWanted) {
    // Loaded only here: node:fs/promises took ~5 ms of every command's start.
    const { readFile } = await import("node:fs/promises");
    options.tls = {
      ...(flags.cacert === undefined ? {} : { ca: await readFile(flags.cacert) }),
      ...(flags.cert === undefined ? {} : { cert: await readFile(flags.cert) }),
      ...(flags.key === undefined ? {} : { key: await readFile(flags.key) }),
      ...(insecure ? { insecureSkipVerify: true } : {}),
    };
  }
  if (flags.user !== undefined) {
    const colon = flags.user.indexOf(":");
    const username = colon < 0 ? flags.user : flags.user.slice(0, colon);
    let password = colon < 0 ? flags.password : flags.user.slice(colon + 1);
    if (colon >= 0 && flags.password !== undefined) {
      throw usageError("give the password in --user name:password or in --password, not both");
    }
    if (!username) throw usageError("--user needs a user name");
    password ??= await askPassword(username);
    options.username = username;
    options.password = password;
  } else if (flags.password !== undefined) {
    throw usageError("--password needs --user");
  }
  return options;
}

/**
 * The member a read may go to over etcd's JSON gateway instead of the client: only when the
 * command line names exactly one plain-HTTP endpoint (`host:port` or `http://host:port`) and no
 * TLS flag, user or password. Everything else (several endpoints, whose failover the client
 * handles; TLS; authentication) goes through the client.
 *
 * @example
 * gatewayAddress({ endpoints: "127.0.0.1:2379" }, {}); // { host: "127.0.0.1", port: 2379, ... }
 */
export function gatewayAddress(
  flags: ConnectFlags,
  env: NodeJS.ProcessEnv,
): GatewayAddress | undefined {
  const tls =
    flags.cacert !== undefined ||
    flags.cert !== undefined ||
    flags.key !== undefined ||
    flags["insecure-skip-tls-verify"] === true;
  if (tls || flags.user !== undefined || flags.password !== undefined) return;
  const endpoints = endpointList(flags, env);
  if (endpoints.length !== 1) return;
  const endpoint = endpoints[0] as string;
  let url: URL;
  try {
    url = new URL(endpoint.includes("://") ? endpoint : `http://${endpoint}`);
  } catch {
    return;
  }
  const bare = url.pathname === "/" && !url.search && !url.hash && !url.username;
  if (url.protocol !== "http:" || !bare || url.port === "") return;
  return {
    host: url.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: Number(url.port),
    hostHeader: url.host,
  };
}

/**
 * The dial and command timeouts the flags give, in milliseconds.
 *
 * @example
 * timeouts({ "dial-timeout": "1s" }); // { dialTimeoutMs: 1000, timeoutMs: 5000 }
 */
export function timeouts(flags: ConnectFlags): { dialTimeoutMs: number; timeoutMs: number } {
  return {
    dialTimeoutMs: parseDuration(flags["dial-timeout"] ?? DEFAULT_DIAL_TIMEOUT, "--dial-timeout"),
    timeoutMs: parseDuration(
      flags["command-timeout"] ?? DEFAULT_COMMAND_TIMEOUT,
      "--command-timeout",
    ),
  };
}
