import type { Interceptor, Transport } from "@connectrpc/connect";
import type { EndpointSession } from "./endpoint-session.ts";
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
  /** The connection shared by every call to this endpoint (an HTTP/2 session on Node). */
  readonly session: EndpointSession;
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
