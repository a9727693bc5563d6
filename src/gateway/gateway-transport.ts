import type {
  DescMessage,
  DescMethod,
  DescMethodStreaming,
  DescMethodUnary,
  JsonValue,
  MessageInitShape,
  MessageShape,
} from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  type ContextValues,
  createContextValues,
  type Interceptor,
  type StreamResponse,
  type Transport,
  type UnaryResponse,
} from "@connectrpc/connect";
import { runStreamingCall, runUnaryCall } from "@connectrpc/connect/protocol";
import { canceledError } from "../connection/signals.ts";
import { fromGatewayJson, toGatewayJson } from "./gateway-codec.ts";
import { brokenOff, checkedSize, serverStream } from "./gateway-json.ts";
import { gatewayError } from "./gateway-status.ts";
import { httpBidiStream } from "./http-bidi.ts";
import { protobufSize } from "./protobuf-size.ts";
import { gatewayRoutes } from "./routes.ts";
import { webSocketStream } from "./web-socket-stream.ts";

/**
 * How `createGatewayTransport` reaches one member.
 *
 * @example
 * const options: GatewayTransportOptions = { baseUrl: "http://127.0.0.1:2379" };
 */
export interface GatewayTransportOptions {
  /** The member's client URL, such as "http://127.0.0.1:2379". */
  baseUrl: string;
  /** Connect interceptors applied to every call. */
  interceptors?: Interceptor[] | undefined;
  /** The fetch to use; default the runtime's `fetch`. */
  fetch?: typeof globalThis.fetch | undefined;
  /**
   * How bidirectional streams (Watch, LeaseKeepAlive) travel: "websocket" uses etcd's WebSocket
   * mode (one socket per stream, all the client's watchers on it); "http" opens one HTTP stream
   * per watcher and sends each keep-alive as its own request. Default: "websocket" where the
   * runtime has `WebSocket` and the call carries no auth token, else "http": etcd before 3.6.13
   * and 3.7.0 reads no token from a WebSocket, so authenticated streams take WebSocket only
   * when asked for (with etcd 3.6.13+ or 3.7+).
   */
  streams?: "websocket" | "http" | undefined;
  /**
   * Largest request, counted as gRPC would (its protobuf size): over it, a call fails with
   * ResourceExhausted before anything is sent. Default none.
   */
  maxSendBytes?: number | undefined;
  /**
   * Largest response message, counted as gRPC would (its protobuf size): over it, the call
   * fails with ResourceExhausted (a watcher then asks etcd to fragment). Default none.
   */
  maxReceiveBytes?: number | undefined;
  /** When it fires, every stream still open is ended (the endpoint was closed). */
  closed?: AbortSignal | undefined;
}

/** What the gateway accepts from a browser besides the body: only these pass etcd's CORS. */
const JSON_HEADERS = { "content-type": "application/json", accept: "application/json" };

/**
 * A Connect `Transport` over etcd's JSON gateway (grpc-gateway on every client port), for
 * runtimes that have `fetch` but cannot speak gRPC: browsers, workers, Deno. Each RPC goes to
 * the route in its `google.api.http` option (`POST /v3/kv/range`, ...), as protobuf JSON; etcd's
 * errors come back as `ConnectError` with etcd's code and message, as over gRPC. Server streams
 * (snapshot, election observe) read the response body line by line; Watch and LeaseKeepAlive go
 * over a WebSocket, or over one HTTP stream per watcher and one request per keep-alive
 * (`streams: "http"`). The auth token travels in the `Authorization` header.
 *
 * @example
 * const kv = createClient(KV, createGatewayTransport({ baseUrl: "http://127.0.0.1:2379" }));
 * await kv.put({ key: new TextEncoder().encode("k"), value: new TextEncoder().encode("v") });
 */
export function createGatewayTransport(options: GatewayTransportOptions): Transport {
  return new GatewayTransport(options);
}

class GatewayTransport implements Transport {
  readonly #baseUrl: string;
  readonly #interceptors: Interceptor[];
  readonly #fetch: typeof globalThis.fetch;
  readonly #streams: "websocket" | "http" | undefined;
  readonly #closed: AbortSignal | undefined;
  readonly #maxSendBytes: number;
  readonly #maxReceiveBytes: number;

  constructor(options: GatewayTransportOptions) {
    this.#baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.#interceptors = options.interceptors ?? [];
    const f = options.fetch ?? globalThis.fetch;
    this.#fetch = (input, init) => f(input, init);
    this.#streams =
      options.streams ?? (typeof globalThis.WebSocket === "function" ? undefined : "http");
    this.#closed = options.closed;
    this.#maxSendBytes = options.maxSendBytes ?? Number.POSITIVE_INFINITY;
    this.#maxReceiveBytes = options.maxReceiveBytes ?? Number.POSITIVE_INFINITY;
  }

  unary<I extends DescMessage, O extends DescMessage>(
    method: DescMethodUnary<I, O>,
    signal: AbortSignal | undefined,
    timeoutMs: number | undefined,
    header: HeadersInit | undefined,
    input: MessageInitShape<I>,
    contextValues?: ContextValues,
  ): Promise<UnaryResponse<I, O>> {
    return runUnaryCall<I, O>({
      interceptors: this.#interceptors,
      ...(signal === undefined ? {} : { signal }),
      ...(timeoutMs ? { timeoutMs } : {}),
      req: {
        stream: false,
        service: method.parent,
        method,
        requestMethod: "POST",
        url: this.#url(method),
        header: new Headers(header),
        contextValues: contextValues ?? createContextValues(),
        message: input,
      },
      next: async (req) => {
        const body = toGatewayJson(method.input, req.message);
        // JSON is never smaller than the protobuf it encodes: measure the latter only when needed.
        if (body.length > this.#maxSendBytes) {
          const size = protobufSize(method.input, req.message);
          if (size > this.#maxSendBytes) {
            throw new ConnectError(
              `request message of ${size} bytes exceeds maxSendBytes (${this.#maxSendBytes})`,
              Code.ResourceExhausted,
            );
          }
        }
        const response = await this.#post(req.url, body, req.header, req.signal, method);
        let text: string;
        try {
          text = await response.text();
        } catch (error) {
          if (req.signal.aborted) throw canceledError(req.signal);
          throw brokenOff(method, error);
        }
        if (!response.ok) throw gatewayError(response.status, text, method);
        const message = checkedSize(
          method.output,
          fromGatewayJson(method.output, JSON.parse(text) as JsonValue),
          text.length,
          this.#maxReceiveBytes,
        );
        return {
          stream: false,
          service: method.parent,
          method,
          header: response.headers,
          message,
          trailer: new Headers(),
        };
      },
    });
  }

  stream<I extends DescMessage, O extends DescMessage>(
    method: DescMethodStreaming<I, O>,
    signal: AbortSignal | undefined,
    timeoutMs: number | undefined,
    header: HeadersInit | undefined,
    input: AsyncIterable<MessageInitShape<I>>,
    contextValues?: ContextValues,
  ): Promise<StreamResponse<I, O>> {
    return runStreamingCall<I, O>({
      interceptors: this.#interceptors,
      ...(signal === undefined ? {} : { signal }),
      ...(timeoutMs ? { timeoutMs } : {}),
      req: {
        stream: true,
        service: method.parent,
        method,
        requestMethod: "POST",
        url: this.#url(method),
        header: new Headers(header),
        contextValues: contextValues ?? createContextValues(),
        message: input,
      },
      next: async (req) => {
        const token = req.header.get("token") ?? undefined;
        let messages: AsyncIterable<MessageShape<O>>;
        if (method.methodKind === "bidi_streaming") {
          const open = {
            url: req.url,
            method,
            token,
            requests: req.message,
            maxReceiveBytes: this.#maxReceiveBytes,
            signal: this.#closed ? AbortSignal.any([req.signal, this.#closed]) : req.signal,
          };
          const webSocket =
            this.#streams === "websocket" || (this.#streams === undefined && token === undefined);
          messages = webSocket
            ? webSocketStream(open)
            : httpBidiStream(open, (url, body, s) =>
                this.#post(url, body, req.header, s, method).then((r) => serverStream(method, r)),
              );
        } else {
          const first = await firstMessage(req.message);
          const response = await this.#post(
            req.url,
            toGatewayJson(method.input, first),
            req.header,
            req.signal,
            method,
          );
          messages = serverStream(method, response, this.#maxReceiveBytes);
        }
        return {
          stream: true,
          service: method.parent,
          method,
          header: new Headers(),
          message: messages,
          trailer: new Headers(),
        };
      },
    });
  }

  #url(method: DescMethod): string {
    const route = gatewayRoutes(method)[0];
    if (route === undefined) {
      throw new ConnectError(
        `unknown method ${method.name} for service ${method.parent.typeName}: etcd's JSON gateway does not serve it`,
        Code.Unimplemented,
      );
    }
    return this.#baseUrl + route;
  }

  /** POSTs one JSON body; a network failure becomes Unavailable, the cause kept. */
  async #post(
    url: string,
    body: string,
    header: Headers,
    signal: AbortSignal,
    method: DescMethod,
  ): Promise<Response> {
    const headers: Record<string, string> = { ...JSON_HEADERS };
    const token = header.get("token") ?? header.get("authorization");
    if (token) headers.authorization = token;
    try {
      return await this.#fetch(url, { method: "POST", body, headers, signal });
    } catch (error) {
      if (signal.aborted) throw canceledError(signal);
      throw new ConnectError(
        `${method.name}: cannot reach ${url}: ${(error as Error)?.message ?? String(error)}`,
        Code.Unavailable,
        undefined,
        undefined,
        error,
      );
    }
  }
}

async function firstMessage<T>(messages: AsyncIterable<T>): Promise<T> {
  for await (const message of messages) return message;
  throw new ConnectError("a server-streaming call needs its request message", Code.Internal);
}
