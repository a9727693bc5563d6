import type {
  ClientHttp2Stream,
  IncomingHttpHeaders,
  IncomingHttpStatusHeader,
  OutgoingHttpHeaders,
} from "node:http2";
import {
  create,
  type DescMessage,
  type DescMethodStreaming,
  type DescMethodUnary,
  type MessageInitShape,
  type MessageShape,
  toBinary,
} from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  type ContextValues,
  createContextValues,
  type Interceptor,
  type StreamResponse,
  type Transport,
  type UnaryRequest,
  type UnaryResponse,
} from "@connectrpc/connect";
import { createLinkedAbortController } from "@connectrpc/connect/protocol";
import type { Http2SessionManager } from "@connectrpc/connect-node";
import { errorText } from "../core/error-text.ts";
import { FrameStream, type FrameStreamHandler, type FrameStreamSource } from "./frame-stream.ts";
import {
  decodeMessage,
  encodeFrame,
  FRAME_HEADER_BYTES,
  UnaryMessageReader,
} from "./grpc-frame.ts";
import { endingError, H2, notSent, toHeaders } from "./grpc-status.ts";
import { knownRequestFrame } from "./kv-request-frames.ts";
import { type PieceDecoder, pieceDecoderKey } from "./piece-decoder.ts";
import { isPureRead } from "./retry-policy.ts";
import { type AbandonableCall, EtcdSessionManager } from "./session.ts";
import { canceledError, deadlineError } from "./signals.ts";

/**
 * Settings of `createLeanTransport`.
 *
 * @example
 * const options: LeanTransportOptions = { baseUrl, session, streams };
 */
export interface LeanTransportOptions {
  /** The endpoint, such as "http://127.0.0.1:2379". */
  baseUrl: string;
  /** The endpoint's HTTP/2 session; unary calls open their streams on it. */
  session: Http2SessionManager;
  /** Carries the streaming calls (connect-node's gRPC transport on the same session). */
  streams: Transport;
  /** Connect interceptors, applied to unary calls here (the stream transport applies its own). */
  interceptors?: Interceptor[];
  /** Largest response message accepted, in bytes. */
  maxReceiveBytes?: number;
  /** Largest request message sent, in bytes. */
  maxSendBytes?: number;
}

type AnyFn = Parameters<Interceptor>[0];

const GRPC_CONTENT_TYPE = "application/grpc+proto";
const USER_AGENT = "etcd-connect";
const END_STREAM = 0x1;
const MAX_GRPC_TIMEOUT_MS = 99_999_999;

const paths = new WeakMap<object, string>();

function methodPath(method: DescMethodUnary): string {
  let path = paths.get(method);
  if (path === undefined) {
    path = `/${method.parent.typeName}/${method.name}`;
    paths.set(method, path);
  }
  return path;
}

/**
 * A Connect `Transport` whose unary calls go straight over node:http2 on the endpoint's session,
 * without Connect's per-call machinery of async iterables, `Headers` and signals; streaming
 * calls go to `streams`. gRPC semantics are complete: `grpc-timeout` and a local deadline, abort
 * as RST_STREAM CANCEL, trailers-only errors, `grpc-message` and `grpc-status-details-bin`,
 * size limits, and Connect interceptors when configured (free when there are none). Response
 * headers and trailers become `Headers` only when read.
 *
 * @example
 * const session = new Http2SessionManager("http://127.0.0.1:2379");
 * const streams = createGrpcTransport({ baseUrl: "http://127.0.0.1:2379", sessionManager: session });
 * const kv = createClient(KV, createLeanTransport({ baseUrl: "http://127.0.0.1:2379", session, streams }));
 */
export function createLeanTransport(options: LeanTransportOptions): Transport {
  return new LeanTransport(options);
}

class LeanTransport implements Transport, FrameStreamSource {
  readonly #baseUrl: string;
  readonly #session: Http2SessionManager;
  readonly #streams: Transport;
  readonly #maxReceiveBytes: number;
  readonly #maxSendBytes: number;
  readonly #intercepted: ((req: UnaryRequest) => Promise<UnaryResponse>) | undefined;

  constructor(options: LeanTransportOptions) {
    this.#baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.#session = options.session;
    this.#streams = options.streams;
    this.#maxReceiveBytes = options.maxReceiveBytes ?? 0xffffffff;
    this.#maxSendBytes = options.maxSendBytes ?? 0xffffffff;
    const interceptors = options.interceptors ?? [];
    this.#intercepted =
      interceptors.length === 0
        ? undefined
        : // The first interceptor is the outermost, as in Connect.
          (interceptors.reduceRight<AnyFn>(
            (next, interceptor) => interceptor(next),
            (req) => this.#fromInterceptors(req as UnaryRequest),
          ) as (req: UnaryRequest) => Promise<UnaryResponse>);
  }

  unary<I extends DescMessage, O extends DescMessage>(
    method: DescMethodUnary<I, O>,
    signal: AbortSignal | undefined,
    timeoutMs: number | undefined,
    header: HeadersInit | undefined,
    input: MessageInitShape<I>,
    contextValues?: ContextValues,
  ): Promise<UnaryResponse<I, O>> {
    const timeout = timeoutMs === undefined || timeoutMs <= 0 ? 0 : timeoutMs;
    if (this.#intercepted) {
      let message: MessageShape<I>;
      try {
        message = toMessage(method.input, input);
      } catch (error) {
        return Promise.reject(ConnectError.from(error, Code.InvalidArgument));
      }
      return this.#unaryIntercepted(method, signal, timeout, header, message, contextValues);
    }
    return this.#send(
      method,
      signal,
      timeout,
      requestHeaders(header, timeout),
      input,
      contextValues?.get(pieceDecoderKey),
    );
  }

  stream<I extends DescMessage, O extends DescMessage>(
    method: DescMethodStreaming<I, O>,
    signal: AbortSignal | undefined,
    timeoutMs: number | undefined,
    header: HeadersInit | undefined,
    input: AsyncIterable<MessageInitShape<I>>,
    contextValues?: ContextValues,
  ): Promise<StreamResponse<I, O>> {
    return this.#streams.stream(method, signal, timeoutMs, header, input, contextValues);
  }

  /** A `FrameStream` on this endpoint's session; undefined with interceptors (they expect Connect's streams). */
  get framesAvailable(): boolean {
    return !this.#intercepted;
  }

  frameStream(
    method: DescMethodStreaming,
    header: HeadersInit | undefined,
    handler: FrameStreamHandler,
  ): Promise<FrameStream> | undefined {
    if (this.#intercepted) return undefined;
    const headers = requestHeaders(header, 0);
    return FrameStream.open(
      this.#session,
      `/${method.parent.typeName}/${method.name}`,
      headers,
      handler,
      this.#maxReceiveBytes,
    );
  }

  /**
   * With interceptors: they see and may change a Connect `UnaryRequest`, as with stock Connect.
   * The deadline stays outside the chain: `grpc-timeout` goes into the request headers and the
   * request's signal fires with DeadlineExceeded when it passes.
   */
  async #unaryIntercepted<I extends DescMessage, O extends DescMessage>(
    method: DescMethodUnary<I, O>,
    signal: AbortSignal | undefined,
    timeout: number,
    header: HeadersInit | undefined,
    message: MessageShape<I>,
    contextValues: ContextValues | undefined,
  ): Promise<UnaryResponse<I, O>> {
    // Interceptors expect a signal that fires when the call ends, for whatever reason.
    // Aborting it at the end also detaches it from the caller's signal.
    const controller = createLinkedAbortController(signal);
    const timer =
      timeout > 0 ? setTimeout(() => controller.abort(deadlineError(timeout)), timeout) : undefined;
    const headers = new Headers(header);
    if (timeout > 0) headers.set("grpc-timeout", grpcTimeout(timeout));
    const req: UnaryRequest<I, O> = {
      stream: false,
      service: method.parent,
      method,
      requestMethod: "POST",
      url: `${this.#baseUrl}${methodPath(method)}`,
      signal: controller.signal,
      header: headers,
      contextValues: contextValues ?? createContextValues(),
      message,
    };
    try {
      const next = this.#intercepted as (r: UnaryRequest) => Promise<UnaryResponse>;
      return (await next(req as unknown as UnaryRequest)) as unknown as UnaryResponse<I, O>;
    } catch (error) {
      throw controller.signal.aborted ? canceledError(controller.signal) : ConnectError.from(error);
    } finally {
      clearTimeout(timer);
      controller.abort();
    }
  }

  /** The innermost function of the interceptor chain: sends what the interceptors left. */
  #fromInterceptors(req: UnaryRequest): Promise<UnaryResponse> {
    return this.#send(
      req.method,
      req.signal,
      0,
      requestHeaders(req.header, 0),
      req.message,
      req.contextValues.get(pieceDecoderKey),
    );
  }

  #send<I extends DescMessage, O extends DescMessage>(
    method: DescMethodUnary<I, O>,
    signal: AbortSignal | undefined,
    timeout: number,
    headers: OutgoingHttpHeaders,
    input: MessageInitShape<I>,
    decoder: (() => PieceDecoder<unknown>) | undefined,
  ): Promise<UnaryResponse<I, O>> {
    if (signal?.aborted) return Promise.reject(canceledError(signal));
    // Range and Put, the most frequent, are written straight from the caller's init object.
    let frame = knownRequestFrame(method.input, input);
    try {
      if (frame === undefined) {
        let message: MessageShape<I>;
        try {
          message = toMessage(method.input, input);
        } catch (error) {
          return Promise.reject(ConnectError.from(error, Code.InvalidArgument));
        }
        frame = encodeFrame(toBinary(method.input, message));
      }
      const bodyBytes = frame.byteLength - FRAME_HEADER_BYTES;
      if (bodyBytes > this.#maxSendBytes) {
        return Promise.reject(
          new ConnectError(
            `request message of ${bodyBytes} bytes exceeds maxSendBytes (${this.#maxSendBytes})`,
            Code.ResourceExhausted,
          ),
        );
      }
    } catch (error) {
      return Promise.reject(ConnectError.from(error, Code.Internal));
    }
    return new Promise<UnaryResponse<I, O>>((resolve, reject) => {
      new UnaryCall(
        this.#session,
        method,
        signal,
        timeout,
        this.#maxReceiveBytes,
        decoder?.(),
        resolve,
        reject,
      ).start(headers, frame);
    });
  }
}

/** Where a stream holds its call while it is open (see `UnaryCall.#send`). */
const CALL = Symbol("etcd-connect.unaryCall");
type SomeCall = UnaryCall<DescMessage, DescMessage>;
type CallStream = ClientHttp2Stream & { [CALL]?: SomeCall | undefined };

/**
 * One unary call on one HTTP/2 stream, from request to status. The session's stall watchdog may
 * abandon it: a pure read when its member stops answering (to be retried elsewhere), any call
 * when its member says it has no leader (a write then fails with its outcome unknown).
 */
class UnaryCall<I extends DescMessage, O extends DescMessage> implements AbandonableCall {
  group: { readonly calls: Set<AbandonableCall> } | undefined;
  startedAt = 0;
  term = 0n;
  readonly pure: boolean;
  // TypeScript-private fields, not #private ones, as in WatchState: after a few calls and a
  // collection, V8 can leave this class without in-object slots, and an object given more than
  // 12 #fields outside its own slots becomes a dictionary (every later call then was one).
  private readonly session: Http2SessionManager;
  private readonly method: DescMethodUnary<I, O>;
  private readonly signal: AbortSignal | undefined;
  private readonly timeout: number;
  private readonly maxReceiveBytes: number;
  private readonly resolve: (response: UnaryResponse<I, O>) => void;
  private readonly reject: (error: ConnectError) => void;
  private stream: ClientHttp2Stream | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private settled = false;
  private headers: (IncomingHttpHeaders & IncomingHttpStatusHeader) | undefined;
  private headersEnded = false;
  private trailers: IncomingHttpHeaders | undefined;
  private reader: UnaryMessageReader | undefined;
  private readonly decoder: PieceDecoder<unknown> | undefined;
  private streamError: unknown;

  constructor(
    session: Http2SessionManager,
    method: DescMethodUnary<I, O>,
    signal: AbortSignal | undefined,
    timeout: number,
    maxReceiveBytes: number,
    decoder: PieceDecoder<unknown> | undefined,
    resolve: (response: UnaryResponse<I, O>) => void,
    reject: (error: ConnectError) => void,
  ) {
    this.decoder = decoder;
    this.pure = isPureRead(method);
    this.reader = new UnaryMessageReader(decoder);
    this.session = session;
    this.method = method;
    this.signal = signal;
    this.timeout = timeout;
    this.maxReceiveBytes = maxReceiveBytes;
    this.resolve = resolve;
    this.reject = reject;
  }

  start(headers: OutgoingHttpHeaders, frame: Buffer): void {
    if (this.signal) this.signal.addEventListener("abort", this);
    if (this.timeout > 0)
      this.timer = setTimeout(expireCall, this.timeout, this as unknown as SomeCall);
    const path = methodPath(this.method);
    if (this.session instanceof EtcdSessionManager) {
      headers[":method"] = "POST";
      headers[":path"] = path;
      let stream: ClientHttp2Stream | undefined;
      try {
        this.startedAt = Date.now();
        this.term = this.session.raftTerm;
        stream = this.session.requestNow(headers, this);
      } catch {
        // The connection died between the checks and the request: the slow path reconnects.
      }
      if (stream !== undefined) {
        this.send(stream, frame);
        return;
      }
    }
    this.session.request("POST", path, headers, {}).then(
      (stream) => {
        if (this.settled) {
          // Aborted or timed out while the session was connecting.
          stream.close(H2.CANCEL);
          return;
        }
        this.send(stream, frame);
      },
      (error: unknown) => {
        this.fail(
          new ConnectError(
            `cannot reach ${this.session.authority}: ${errorText(error)}`,
            Code.Unavailable,
            undefined,
            undefined,
            notSent(error),
          ),
        );
      },
    );
  }

  /**
   * The stream's listeners are shared by every call and find theirs on the stream, so a call
   * makes no closures; once the stream closes it forgets its call (node:http2 keeps a closed
   * stream reachable for a while, and through it would keep the call and every received chunk
   * alive: a 10,000-key range's megabytes promoted to the old generation, then costly
   * collections).
   */
  private send(stream: ClientHttp2Stream, frame: Buffer): void {
    this.stream = stream;
    (stream as CallStream)[CALL] = this as unknown as SomeCall;
    stream.on("response", onStreamResponse);
    stream.on("data", onStreamData);
    stream.on("trailers", onStreamTrailers);
    stream.on("error", onStreamError);
    stream.on("close", onStreamClose);
    stream.end(frame);
  }

  /** The stream's "response": the response headers. */
  headersArrived(headers: IncomingHttpHeaders & IncomingHttpStatusHeader, flags: number): void {
    this.headers = headers;
    this.headersEnded = (flags & END_STREAM) !== 0;
    if (this.session instanceof EtcdSessionManager) this.session.responded();
  }

  /** The stream's "trailers". */
  trailersArrived(trailers: IncomingHttpHeaders): void {
    this.trailers = trailers;
  }

  /** The stream's "error" (its "close" follows and settles the call). */
  streamFailed(error: unknown): void {
    this.streamError = error;
  }

  /** The deadline timer. */
  expire(): void {
    this.timer = undefined;
    this.fail(deadlineError(this.timeout), H2.CANCEL);
  }

  /** The signal's "abort" (the call is its listener object, so it needs no closure). */
  handleEvent(): void {
    this.fail(canceledError(this.signal as AbortSignal), H2.CANCEL);
  }

  /** The stream's "data": a piece of the response body. */
  dataArrived(chunk: Buffer): void {
    if (this.session instanceof EtcdSessionManager) this.session.progressed();
    const reader = this.reader;
    if (this.settled || reader === undefined) return;
    try {
      reader.push(chunk);
    } catch (error) {
      this.fail(ConnectError.from(error, Code.Internal), H2.CANCEL);
      return;
    }
    const size = Math.max(reader.declared, reader.received - FRAME_HEADER_BYTES);
    if (size > this.maxReceiveBytes) {
      this.fail(
        new ConnectError(
          `response message of ${size} bytes exceeds maxReceiveBytes (${this.maxReceiveBytes})`,
          Code.ResourceExhausted,
        ),
        H2.CANCEL,
      );
    }
  }

  abandon(reason: Error): void {
    this.fail(
      new ConnectError(
        `${this.session.authority}: ${reason.message}`,
        Code.Unavailable,
        undefined,
        undefined,
        reason,
      ),
      H2.CANCEL,
    );
  }

  /** The stream's "close": the call ends with the response or an error. */
  streamClosed(stream: ClientHttp2Stream): void {
    this.stream = undefined;
    if (this.settled) return;
    let outcome: UnaryResponse<I, O> | ConnectError;
    try {
      outcome = this.outcome(stream.rstCode ?? H2.NO_ERROR);
    } catch (error) {
      outcome = ConnectError.from(error, Code.Internal);
    }
    this.reader = undefined;
    if (outcome instanceof ConnectError) this.fail(outcome);
    else {
      this.settle();
      this.resolve(outcome);
    }
  }

  private outcome(rstCode: number): UnaryResponse<I, O> | ConnectError {
    const headers = this.headers;
    const error = endingError({
      authority: this.session.authority,
      headers,
      headersEnded: this.headersEnded,
      trailers: this.trailers,
      streamError: this.streamError,
      rstCode,
    });
    if (error || headers === undefined) return error as ConnectError;
    const reader = this.reader;
    if (reader === undefined || reader.empty) {
      return new ConnectError("gRPC response without a message", Code.Unimplemented);
    }
    const body = reader.message();
    if (typeof body === "string") {
      return new ConnectError(body, body.startsWith("more") ? Code.Unimplemented : Code.Internal);
    }
    // A piece decoder gives what its caller asked for instead of the generated message.
    const message = this.decoder
      ? (this.decoder.finish() as MessageShape<O>)
      : decodeMessage(this.method.output, body);
    return new LeanUnaryResponse(this.method, message, headers, this.trailers);
  }

  private settle(): void {
    this.settled = true;
    if (this.group !== undefined) {
      this.group.calls.delete(this);
      this.group = undefined;
    }
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.signal) this.signal.removeEventListener("abort", this);
  }

  private fail(error: ConnectError, reset?: number): void {
    if (this.settled) return;
    this.settle();
    const stream = this.stream;
    if (reset !== undefined && stream && !stream.closed && !stream.destroyed) stream.close(reset);
    this.reject(error);
  }
}

function onStreamResponse(
  this: CallStream,
  headers: IncomingHttpHeaders & IncomingHttpStatusHeader,
  flags: number,
): void {
  this[CALL]?.headersArrived(headers, flags);
}

function onStreamData(this: CallStream, chunk: Buffer): void {
  this[CALL]?.dataArrived(chunk);
}

function onStreamTrailers(this: CallStream, trailers: IncomingHttpHeaders): void {
  this[CALL]?.trailersArrived(trailers);
}

function onStreamError(this: CallStream, error: unknown): void {
  this[CALL]?.streamFailed(error);
}

function onStreamClose(this: CallStream): void {
  const call = this[CALL];
  this[CALL] = undefined;
  call?.streamClosed(this);
}

function expireCall(call: SomeCall): void {
  call.expire();
}

/**
 * A unary response whose `header` and `trailer` turn into `Headers` only when read.
 */
class LeanUnaryResponse<I extends DescMessage, O extends DescMessage>
  implements UnaryResponse<I, O>
{
  readonly stream = false as const;
  readonly method: DescMethodUnary<I, O>;
  readonly message: MessageShape<O>;
  readonly #rawHeader: IncomingHttpHeaders;
  readonly #rawTrailer: IncomingHttpHeaders | undefined;
  #header: Headers | undefined;
  #trailer: Headers | undefined;

  constructor(
    method: DescMethodUnary<I, O>,
    message: MessageShape<O>,
    header: IncomingHttpHeaders,
    trailer: IncomingHttpHeaders | undefined,
  ) {
    this.method = method;
    this.message = message;
    this.#rawHeader = header;
    this.#rawTrailer = trailer;
  }

  get service() {
    return this.method.parent;
  }

  get header(): Headers {
    if (this.#header === undefined) this.#header = toHeaders(this.#rawHeader);
    return this.#header;
  }

  get trailer(): Headers {
    if (this.#trailer === undefined) this.#trailer = toHeaders(this.#rawTrailer);
    return this.#trailer;
  }
}

function toMessage<D extends DescMessage>(schema: D, input: MessageInitShape<D>): MessageShape<D> {
  const candidate = input as { $typeName?: unknown };
  return candidate.$typeName === schema.typeName
    ? (input as MessageShape<D>)
    : create(schema, input);
}

/** The request headers as node:http2 takes them: the caller's, plus gRPC's own. */
function requestHeaders(header: HeadersInit | undefined, timeout: number): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {};
  if (header !== undefined) {
    if (header instanceof Headers) {
      header.forEach((value, name) => {
        headers[name] = value;
      });
    } else if (Array.isArray(header)) {
      for (const [name, value] of header) addHeader(headers, name.toLowerCase(), value);
    } else {
      for (const name of Object.keys(header)) {
        const value = (header as Record<string, string>)[name];
        if (value !== undefined) addHeader(headers, name.toLowerCase(), value);
      }
    }
  }
  headers["content-type"] = GRPC_CONTENT_TYPE;
  headers.te = "trailers";
  if (headers["user-agent"] === undefined) headers["user-agent"] = USER_AGENT;
  if (timeout > 0) headers["grpc-timeout"] = grpcTimeout(timeout);
  return headers;
}

function addHeader(headers: OutgoingHttpHeaders, name: string, value: string): void {
  const existing = headers[name];
  headers[name] = existing === undefined ? value : `${String(existing)}, ${value}`;
}

/** gRPC's timeout header value: at most 8 digits and a unit. */
function grpcTimeout(ms: number): string {
  const whole = Math.ceil(ms);
  return whole <= MAX_GRPC_TIMEOUT_MS ? `${whole}m` : `${Math.ceil(whole / 1000)}S`;
}
