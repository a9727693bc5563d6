import { createClient, createContextValues } from "@connectrpc/connect";
import { Auth } from "../../gen/etcdserverpb/rpc_pb.ts";
import { PasswordAuth, StaticToken } from "../connection/auth-token.ts";
import type { EndpointConfig } from "../connection/endpoint-transport.ts";
import { noAuthKey, type PoolTransport, type TokenProvider } from "../connection/pool-transport.ts";
import { InvalidArgumentError } from "../core/errors.ts";
import type { EtcdOptions } from "./options.ts";

const DEFAULT_DIAL_TIMEOUT_MS = 5_000;
const DEFAULT_PING_INTERVAL_MS = 30_000;
/** etcd answers pings more often than every 5 s with GOAWAY too_many_pings; keep well above. */
const MIN_PING_INTERVAL_MS = 10_000;
/** A live etcd answers a ping within milliseconds; a hung member is given up on after this. */
const DEFAULT_PING_TIMEOUT_MS = 3_000;
const DEFAULT_MAX_RECEIVE_BYTES = 64 * 1024 * 1024;
const DEFAULT_MAX_SEND_BYTES = 2 * 1024 * 1024;
const DEFAULT_AUTHENTICATE_TIMEOUT_MS = 30_000;

/** @internal `EtcdOptions` checked and completed with the defaults. */
export interface ResolvedOptions {
  endpoint: Omit<EndpointConfig, "url">;
  pool: { dialTimeoutMs: number; clientCert: boolean };
}

/** @internal Checks `options` and fills in every default; throws `InvalidArgumentError`. */
export function resolveOptions(options: EtcdOptions): ResolvedOptions {
  if (typeof options !== "object" || options === null) {
    throw new InvalidArgumentError("Etcd expects an options object with endpoints");
  }
  const pingIntervalMs = options.pingIntervalMs ?? DEFAULT_PING_INTERVAL_MS;
  if (pingIntervalMs < MIN_PING_INTERVAL_MS) {
    throw new InvalidArgumentError(
      `pingIntervalMs must be >= ${MIN_PING_INTERVAL_MS}: etcd answers faster pings with GOAWAY too_many_pings`,
    );
  }
  if (options.token !== undefined && options.username !== undefined) {
    throw new InvalidArgumentError("give either token or username/password, not both");
  }
  return {
    endpoint: {
      tls: options.tls,
      interceptors: options.interceptors ?? [],
      pingIntervalMs,
      pingTimeoutMs: options.pingTimeoutMs ?? DEFAULT_PING_TIMEOUT_MS,
      maxReceiveBytes: options.maxReceiveBytes ?? DEFAULT_MAX_RECEIVE_BYTES,
      maxSendBytes: options.maxSendBytes ?? DEFAULT_MAX_SEND_BYTES,
    },
    pool: {
      dialTimeoutMs: options.dialTimeoutMs ?? DEFAULT_DIAL_TIMEOUT_MS,
      clientCert: options.tls?.cert !== undefined,
    },
  };
}

/** @internal The token source the options ask for: password login, a fixed token, or none. */
export function tokenProvider(
  options: EtcdOptions,
  transport: PoolTransport,
): TokenProvider | undefined {
  const { username, password, token } = options;
  if (username !== undefined) {
    if (typeof username !== "string" || username.length === 0) {
      throw new InvalidArgumentError("username must be a non-empty string");
    }
    if (typeof password !== "string") {
      throw new InvalidArgumentError("password must be a string when username is given");
    }
    const auth = createClient(Auth, transport);
    const contextValues = createContextValues().set(noAuthKey, true);
    const timeoutMs = options.timeoutMs || DEFAULT_AUTHENTICATE_TIMEOUT_MS;
    let initial = true;
    return new PasswordAuth(username, password, async (name, secret, signal) => {
      const call = signal ? { contextValues, timeoutMs, signal } : { contextValues, timeoutMs };
      const { token } = await auth.authenticate({ name, password: secret }, call);
      transport.pool.events.tokenRefreshed(name, initial);
      initial = false;
      return token;
    });
  }
  if (password !== undefined) throw new InvalidArgumentError("password needs a username");
  if (token !== undefined) {
    if (typeof token !== "string" || token.length === 0) {
      throw new InvalidArgumentError("token must be a non-empty string");
    }
    return new StaticToken(token);
  }
  return undefined;
}
