import type { Interceptor, Transport } from "@connectrpc/connect";
import { createGrpcTransport, type Http2SessionManager } from "@connectrpc/connect-node";
import { createLeanTransport } from "./lean-transport.ts";
import { EtcdSessionManager } from "./session.ts";
import type { TlsOptions } from "./tls-options.ts";

/**
 * What a transport factory gets to build the transport for one endpoint.
 *
 * @example
 * const factory: TransportFactory = (config) => createConnectEndpointTransport(config);
 */
export interface EndpointConfig {
  /** Normalized base URL, such as "http://127.0.0.1:2379". */
  url: string;
  tls: TlsOptions | undefined;
  interceptors: Interceptor[];
  pingIntervalMs: number;
  pingTimeoutMs: number;
  maxReceiveBytes: number;
  maxSendBytes: number;
}

/**
 * One endpoint's connection: a Connect `Transport` and the HTTP/2 session under it.
 *
 * @example
 * const ep = createConnectEndpointTransport(config);
 * const kv = createClient(KV, ep.transport);
 */
export interface EndpointTransport {
  readonly url: string;
  /** Carries unary and streaming calls; any `Transport` implementation works. */
  readonly transport: Transport;
  /** The HTTP/2 session shared by every call to this endpoint. */
  readonly session: Http2SessionManager;
  /** Drops the connection; open calls fail. */
  close(): void;
}

/**
 * Builds the transport for one endpoint.
 *
 * @example
 * new Etcd({ endpoints, transport: (config) => createConnectEndpointTransport(config) });
 */
export type TransportFactory = (config: EndpointConfig) => EndpointTransport;

/**
 * The HTTP/2 session for one endpoint with our ping settings and TLS material: an
 * `EtcdSessionManager` (pings that cannot crash the process, connection established on the
 * server's SETTINGS).
 *
 * @example
 * const session = createSession(config);
 */
export function createSession(config: EndpointConfig): Http2SessionManager {
  const tls = config.tls;
  const nodeOptions = tls
    ? {
        ...(tls.ca === undefined ? {} : { ca: toPem(tls.ca) }),
        ...(tls.cert === undefined ? {} : { cert: toPem(tls.cert) }),
        ...(tls.key === undefined ? {} : { key: toPem(tls.key) }),
        ...(tls.servername === undefined ? {} : { servername: tls.servername }),
        ...(tls.insecureSkipVerify === true ? { rejectUnauthorized: false } : {}),
      }
    : {};
  return new EtcdSessionManager(
    config.url,
    {
      pingIntervalMs: config.pingIntervalMs,
      pingTimeoutMs: config.pingTimeoutMs,
      pingIdleConnection: false,
    },
    nodeOptions,
  );
}

/**
 * connect-node's own gRPC transport for every call, on a session this client owns.
 *
 * @example
 * new Etcd({ endpoints, transport: "connect" });
 */
export function createConnectEndpointTransport(config: EndpointConfig): EndpointTransport {
  const session = createSession(config);
  const transport = createGrpcTransport({
    baseUrl: config.url,
    sessionManager: session,
    interceptors: config.interceptors,
    readMaxBytes: config.maxReceiveBytes,
    writeMaxBytes: config.maxSendBytes,
  });
  return {
    url: config.url,
    transport,
    session,
    close: () => session.abort(),
  };
}

/**
 * The default: unary calls straight over node:http2 (`createLeanTransport`), streams through
 * connect-node's gRPC transport, both on one HTTP/2 session per endpoint.
 *
 * @example
 * new Etcd({ endpoints, transport: "lean" });
 */
export function createLeanEndpointTransport(config: EndpointConfig): EndpointTransport {
  const session = createSession(config);
  const streams = createGrpcTransport({
    baseUrl: config.url,
    sessionManager: session,
    interceptors: config.interceptors,
    readMaxBytes: config.maxReceiveBytes,
    writeMaxBytes: config.maxSendBytes,
  });
  const transport = createLeanTransport({
    baseUrl: config.url,
    session,
    streams,
    interceptors: config.interceptors,
    maxReceiveBytes: config.maxReceiveBytes,
    maxSendBytes: config.maxSendBytes,
  });
  return {
    url: config.url,
    transport,
    session,
    close: () => session.abort(),
  };
}

function toPem(value: string | Uint8Array): string | Buffer {
  return typeof value === "string" ? value : Buffer.from(value);
}
