export type { EndpointConfig, EndpointTransport, TransportFactory } from "./endpoint-transport.ts";

import { createGrpcTransport, type Http2SessionManager } from "@connectrpc/connect-node";
import type { EndpointConfig, EndpointTransport } from "./endpoint-transport.ts";
import { createLeanTransport } from "./lean-transport.ts";
import { STREAM_WINDOW_BYTES } from "./receive-window.ts";
import { EtcdSessionManager } from "./session.ts";

/**
 * The HTTP/2 session for one endpoint with our ping settings, receive windows
 * (`receive-window.ts`) and TLS material: an `EtcdSessionManager` (pings that cannot crash the
 * process, connection established on the server's SETTINGS).
 *
 * @example
 * const session = createSession(config);
 */
export function createSession(config: EndpointConfig): Http2SessionManager {
  const tls = config.tls;
  const tlsOptions = tls
    ? {
        ...(tls.ca === undefined ? {} : { ca: toPem(tls.ca) }),
        ...(tls.cert === undefined ? {} : { cert: toPem(tls.cert) }),
        ...(tls.key === undefined ? {} : { key: toPem(tls.key) }),
        ...(tls.servername === undefined ? {} : { servername: tls.servername }),
        ...(tls.insecureSkipVerify === true ? { rejectUnauthorized: false } : {}),
      }
    : {};
  const nodeOptions = { ...tlsOptions, settings: { initialWindowSize: STREAM_WINDOW_BYTES } };
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
