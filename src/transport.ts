// etcd-connect/transport: the parts below the client, for libraries and for tuning: endpoint
// transports and their factories, the pool transport's context keys, token providers. An
// application needs none of it; `new Etcd({ transport })` takes a factory from here.
export {
  type Authenticate,
  PasswordAuth,
  StaticToken,
} from "./connection/auth-token.ts";
export {
  createConnectEndpointTransport,
  createLeanEndpointTransport,
  createSession as createHttp2Session,
  type EndpointConfig,
  type EndpointTransport,
  type TransportFactory,
} from "./connection/endpoint.ts";
export type { EndpointSession } from "./connection/endpoint-session.ts";
export { createLeanTransport, type LeanTransportOptions } from "./connection/lean-transport.ts";
export {
  endpointKey,
  isStaleTokenError,
  noAuthKey,
  noRetryKey,
  type TokenProvider,
} from "./connection/pool-transport.ts";
export type { TlsOptions } from "./connection/tls-options.ts";
export { createGatewayEndpointTransport } from "./gateway/gateway-endpoint.ts";
export {
  createGatewayTransport,
  type GatewayTransportOptions,
} from "./gateway/gateway-transport.ts";
