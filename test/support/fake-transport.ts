/**
 * A fake of our own transport layer for unit tests: a `TransportFactory` whose endpoint
 * transports answer each call from a script the test supplies (a message, or a thrown
 * ConnectError). It stands in for `createLeanEndpointTransport`, not for etcd: no wire, no
 * server, only the decisions the pool, the keep-alive machine and the watch stream take on the
 * answers.
 */
import {
  create,
  type DescMessage,
  type DescMethodStreaming,
  type DescMethodUnary,
  type MessageInitShape,
} from "@bufbuild/protobuf";
import type { ContextValues, StreamResponse, Transport, UnaryResponse } from "@connectrpc/connect";
import type { Http2SessionManager } from "@connectrpc/connect-node";
import type { EndpointConfig, EndpointTransport } from "../../src/connection/endpoint.ts";

/** One call an endpoint received. */
export interface FakeCall {
  url: string;
  /** "etcdserverpb.KV/Range" */
  method: string;
  input: unknown;
  signal: AbortSignal | undefined;
  timeoutMs: number | undefined;
  header: Headers;
}

/** Answers a unary call: resolve with the response init, or throw. */
export type UnaryHandler = (call: FakeCall) => unknown;

/** Answers a streaming call: the requests come in, the responses go out. */
export type StreamHandler = (
  call: FakeCall,
  requests: AsyncIterable<unknown>,
) => AsyncIterable<unknown>;

/** Endpoint config the pool passes on; the fake ignores it. */
export const fakeConfig: Omit<EndpointConfig, "url"> = {
  tls: undefined,
  interceptors: [],
  pingIntervalMs: 30_000,
  pingTimeoutMs: 10_000,
  maxReceiveBytes: 1 << 21,
  maxSendBytes: 1 << 21,
};

/**
 * A factory whose transports record every call in `calls` and answer through `unary` /
 * `stream` (replace them at will). Sessions report "open", so the pool never waits to dial.
 */
export class FakeTransports {
  readonly calls: FakeCall[] = [];
  readonly closed: string[] = [];
  unary: UnaryHandler = () => ({});
  stream: StreamHandler = () => ({ async *[Symbol.asyncIterator]() {} });

  readonly factory = (config: EndpointConfig): EndpointTransport => {
    const url = config.url;
    const transport: Transport = {
      unary: async <I extends DescMessage, O extends DescMessage>(
        method: DescMethodUnary<I, O>,
        signal: AbortSignal | undefined,
        timeoutMs: number | undefined,
        header: HeadersInit | undefined,
        input: MessageInitShape<I>,
        _contextValues?: ContextValues,
      ): Promise<UnaryResponse<I, O>> => {
        const call = this.#record(url, method, input, signal, timeoutMs, header);
        const init = await this.unary(call);
        return {
          stream: false,
          service: method.parent,
          method,
          header: new Headers(),
          trailer: new Headers(),
          message: create(method.output, init as MessageInitShape<O>),
        };
      },
      stream: async <I extends DescMessage, O extends DescMessage>(
        method: DescMethodStreaming<I, O>,
        signal: AbortSignal | undefined,
        timeoutMs: number | undefined,
        header: HeadersInit | undefined,
        input: AsyncIterable<MessageInitShape<I>>,
        _contextValues?: ContextValues,
      ): Promise<StreamResponse<I, O>> => {
        const call = this.#record(url, method, input, signal, timeoutMs, header);
        const responses = this.stream(call, input);
        async function* messages() {
          for await (const init of responses) yield create(method.output, init as never);
        }
        return {
          stream: true,
          service: method.parent,
          method,
          header: new Headers(),
          trailer: new Headers(),
          message: messages() as AsyncIterable<never>,
        };
      },
    };
    return {
      url,
      transport,
      session: { state: () => "open" } as unknown as Http2SessionManager,
      close: () => this.closed.push(url),
    };
  };

  /** The calls of one method ("Range", "Put", "Status"...), in order. */
  of(name: string): FakeCall[] {
    return this.calls.filter((c) => c.method.endsWith(`/${name}`));
  }

  #record(
    url: string,
    method: DescMethodUnary | DescMethodStreaming,
    input: unknown,
    signal: AbortSignal | undefined,
    timeoutMs: number | undefined,
    header: HeadersInit | undefined,
  ): FakeCall {
    const call: FakeCall = {
      url,
      method: `${method.parent.typeName}/${method.name}`,
      input,
      signal,
      timeoutMs,
      header: new Headers(header),
    };
    this.calls.push(call);
    return call;
  }
}

/**
 * A queue a test pushes stream responses into; iterating it yields them, and `fail` ends the
 * iteration with an error (the stream broke), `end` without one.
 */
export class ResponseChannel<T> implements AsyncIterable<T> {
  #items: T[] = [];
  #error: unknown;
  #ended = false;
  #wake: (() => void) | undefined;

  push(item: T): void {
    this.#items.push(item);
    this.#wake?.();
  }

  fail(error: unknown): void {
    this.#error = error ?? new Error("failed");
    this.#ended = true;
    this.#wake?.();
  }

  end(): void {
    this.#ended = true;
    this.#wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    for (;;) {
      const item = this.#items.shift();
      if (item !== undefined) {
        yield item;
        continue;
      }
      if (this.#ended) {
        if (this.#error !== undefined) throw this.#error;
        return;
      }
      await new Promise<void>((resolve) => {
        this.#wake = () => {
          this.#wake = undefined;
          resolve();
        };
      });
    }
  }
}

/** Reads a request iterable in the background into an array (the server side of a stream). */
export function collect<T>(requests: AsyncIterable<T>, into: T[]): void {
  void (async () => {
    try {
      for await (const request of requests) into.push(request);
    } catch {
      // The stream was aborted: nothing more arrives.
    }
  })();
}

/** Lets every pending promise callback and I/O-free continuation run (a few event-loop turns). */
export async function settle(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
