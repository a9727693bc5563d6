import type { EndpointSession } from "../connection/endpoint-session.ts";
import type { EndpointConfig, EndpointTransport } from "../connection/endpoint-transport.ts";
import { InvalidArgumentError } from "../core/errors.ts";
import { createGatewayTransport, type GatewayTransportOptions } from "./gateway-transport.ts";

/**
 * The gateway transport for one endpoint (`transport: "gateway"`): calls over the runtime's
 * `fetch` and `WebSocket`, which also bring TLS (https endpoints; the runtime's trust store).
 * There is no connection of the client's own: the session answers "open", and closing aborts
 * every call still running.
 *
 * @example
 * new Etcd({ endpoints, transport: (config) => createGatewayEndpointTransport(config, { streams: "http" }) });
 */
export function createGatewayEndpointTransport(
  config: EndpointConfig,
  options: Pick<GatewayTransportOptions, "fetch" | "streams"> = {},
): EndpointTransport {
  const tls = config.tls;
  if (tls && Object.values(tls).some((value) => value !== undefined)) {
    throw new InvalidArgumentError(
      "the gateway transport uses the runtime's TLS (fetch, WebSocket): tls options cannot be applied; trust the CA in the runtime instead",
    );
  }
  const closing = new AbortController();
  const base = options.fetch ?? globalThis.fetch;
  const fetchUntilClosed: typeof globalThis.fetch = (input, init) =>
    base(input, {
      ...init,
      signal: init?.signal ? AbortSignal.any([init.signal, closing.signal]) : closing.signal,
    });
  const transport = createGatewayTransport({
    baseUrl: config.url,
    interceptors: config.interceptors,
    maxSendBytes: config.maxSendBytes,
    maxReceiveBytes: config.maxReceiveBytes,
    fetch: fetchUntilClosed,
    streams: options.streams,
    closed: closing.signal,
  });
  const close = () => closing.abort(new Error("the endpoint was closed"));
  const session: EndpointSession = {
    state: () => (closing.signal.aborted ? "closed" : "open"),
    connect: async () => (closing.signal.aborted ? "closed" : "open"),
    error: () => undefined,
    abort: close,
  };
  return { url: config.url, transport, session, close };
}
