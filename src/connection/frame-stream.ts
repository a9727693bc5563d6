import type {
  ClientHttp2Stream,
  IncomingHttpHeaders,
  IncomingHttpStatusHeader,
  OutgoingHttpHeaders,
} from "node:http2";
import type { DescMethodStreaming } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Http2SessionManager } from "@connectrpc/connect-node";
import { FRAME_HEADER_BYTES, frameLength } from "./grpc-frame.ts";
import { codeFromHttpStatus, H2, resetError, statusError, toHeaders } from "./grpc-status.ts";

/**
 * Receives what arrives on a `FrameStream`: each response message's payload (a view valid only
 * during the call), then once the end — undefined for an OK status, the error otherwise.
 *
 * @example
 * const handler: FrameStreamHandler = { message: (payload) => {}, end: (error) => {} };
 */
export interface FrameStreamHandler {
  message(payload: Uint8Array): void;
  end(error: ConnectError | undefined): void;
}

/**
 * A transport that can open a `FrameStream` (the lean transport): undefined when it cannot for
 * this call, and the caller uses `stream()`. Found on a transport by duck typing, so that code
 * that may run in a browser need not import the Node transport.
 *
 * @example
 * const opening = (transport as Partial<FrameStreamSource>).frameStream?.(method, headers, handler);
 */
export interface FrameStreamSource {
  frameStream(
    method: DescMethodStreaming,
    header: HeadersInit | undefined,
    handler: FrameStreamHandler,
  ): Promise<FrameStream> | undefined;
}

/** connect-node's keep-alive hears of data at most this often (it resets a timer each time). */
const ALIVE_REPORT_INTERVAL_MS = 1_000;
const END_STREAM = 0x1;

/**
 * A gRPC bidi stream on node:http2 for a caller that encodes its requests itself and reads the
 * responses' bytes: no async iterable, no promise per message, and whatever requests the caller
 * writes in one go leave as one write. The gRPC ending is complete: HTTP status, content type,
 * trailers-only errors, `grpc-status-details-bin`, resets and lost connections become the same
 * `ConnectError`s as on a unary call. For the one stream of many tiny messages (lease
 * keep-alive), where Connect's per-message machinery costs more than the message.
 *
 * @example
 * const stream = await FrameStream.open(session, "/etcdserverpb.Lease/LeaseKeepAlive", headers, handler, max);
 * stream.write(encodedFrames);
 */
export class FrameStream {
  readonly #stream: ClientHttp2Stream;
  readonly #session: Http2SessionManager;
  readonly #handler: FrameStreamHandler;
  readonly #maxReceiveBytes: number;
  /** Bytes of a message not complete yet (a frame split across DATA chunks). */
  #partial: Uint8Array | undefined;
  #headers: (IncomingHttpHeaders & IncomingHttpStatusHeader) | undefined;
  #headersEnded = false;
  #trailers: IncomingHttpHeaders | undefined;
  #streamError: unknown;
  #ended = false;
  #reportedAt = 0;

  /**
   * Opens the stream on `session` (connecting when needed, as Connect's calls do). Rejects with
   * Unavailable when the connection cannot be had.
   */
  static async open(
    session: Http2SessionManager,
    path: string,
    headers: OutgoingHttpHeaders,
    handler: FrameStreamHandler,
    maxReceiveBytes: number,
  ): Promise<FrameStream> {
    let stream: ClientHttp2Stream;
    try {
      stream = await session.request("POST", path, headers, {});
    } catch (error) {
      throw ConnectError.from(error, Code.Unavailable);
    }
    return new FrameStream(stream, session, handler, maxReceiveBytes);
  }

  private constructor(
    stream: ClientHttp2Stream,
    session: Http2SessionManager,
    handler: FrameStreamHandler,
    maxReceiveBytes: number,
  ) {
    this.#stream = stream;
    this.#session = session;
    this.#handler = handler;
    this.#maxReceiveBytes = maxReceiveBytes;
    stream.on("response", this.#onResponse);
    stream.on("data", this.#onData);
    stream.on("trailers", this.#onTrailers);
    stream.on("error", this.#onError);
    stream.on("close", this.#onClose);
  }

  /** Sends bytes: one or more length-prefixed request messages. Ignored once ended. */
  write(frames: Uint8Array): void {
    if (this.#ended || this.#stream.closed || this.#stream.destroyed) return;
    this.#stream.write(frames);
  }

  /** Ends the stream from this side (RST_STREAM CANCEL); the handler hears nothing more. */
  cancel(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#detach();
    // A reset arriving as it closes must not become an unhandled 'error' event.
    this.#stream.on("error", ignore);
    if (!this.#stream.closed && !this.#stream.destroyed) this.#stream.close(H2.CANCEL);
  }

  readonly #onResponse = (
    headers: IncomingHttpHeaders & IncomingHttpStatusHeader,
    flags: number,
  ): void => {
    this.#headers = headers;
    this.#headersEnded = (flags & END_STREAM) !== 0;
  };

  readonly #onData = (chunk: Buffer): void => {
    if (this.#ended) return;
    const now = Date.now();
    if (now - this.#reportedAt >= ALIVE_REPORT_INTERVAL_MS) {
      this.#reportedAt = now;
      this.#session.notifyResponseByteRead(this.#stream);
    }
    let bytes: Uint8Array = chunk;
    const partial = this.#partial;
    if (partial !== undefined) {
      bytes = new Uint8Array(partial.byteLength + chunk.byteLength);
      bytes.set(partial);
      bytes.set(chunk, partial.byteLength);
      this.#partial = undefined;
    }
    let offset = 0;
    try {
      for (;;) {
        const length = frameLength(bytes, offset);
        if (length === -1) break;
        if (length > this.#maxReceiveBytes) {
          this.#fail(
            new ConnectError(
              `response message of ${length} bytes exceeds maxReceiveBytes (${this.#maxReceiveBytes})`,
              Code.ResourceExhausted,
            ),
          );
          return;
        }
        const start = offset + FRAME_HEADER_BYTES;
        if (bytes.byteLength - start < length) break;
        offset = start + length;
        this.#handler.message(bytes.subarray(start, offset));
        if (this.#ended) return;
      }
    } catch (error) {
      this.#fail(ConnectError.from(error, Code.Internal));
      return;
    }
    if (offset < bytes.byteLength) this.#partial = bytes.slice(offset);
  };

  readonly #onTrailers = (trailers: IncomingHttpHeaders): void => {
    this.#trailers = trailers;
  };

  readonly #onError = (error: unknown): void => {
    this.#streamError = error;
  };

  readonly #onClose = (): void => {
    this.#detach();
    if (this.#ended) return;
    this.#ended = true;
    let error: ConnectError | undefined;
    try {
      error = this.#outcome(this.#stream.rstCode ?? H2.NO_ERROR);
    } catch (thrown) {
      error = ConnectError.from(thrown, Code.Internal);
    }
    this.#handler.end(error);
  };

  #outcome(rstCode: number): ConnectError | undefined {
    const headers = this.#headers;
    if (headers === undefined) return this.#lost(rstCode, "before response headers");
    const httpStatus = headers[":status"];
    if (httpStatus !== 200) {
      return new ConnectError(
        `HTTP status ${String(httpStatus)} from ${this.#session.authority}`,
        codeFromHttpStatus(httpStatus ?? 0),
        toHeaders(headers),
      );
    }
    const contentType = headers["content-type"];
    if (typeof contentType !== "string" || !contentType.startsWith("application/grpc")) {
      return new ConnectError(
        `unexpected content-type "${String(contentType)}"`,
        Code.Unknown,
        toHeaders(headers),
      );
    }
    const status = this.#trailers ?? (this.#headersEnded ? headers : undefined);
    if (status === undefined) return this.#lost(rstCode, "before the gRPC status");
    const error = statusError(status);
    if (error) return error;
    if (status["grpc-status"] === undefined) {
      return new ConnectError("gRPC status missing in trailers", Code.Internal, toHeaders(status));
    }
    if (this.#partial !== undefined)
      return new ConnectError("truncated gRPC message", Code.Internal);
    return undefined;
  }

  /** The stream ended without a status: the connection went away, or the server reset it. */
  #lost(rstCode: number, when: string): ConnectError {
    const cause = this.#streamError;
    if (cause === undefined) {
      if (rstCode !== H2.NO_ERROR) return resetError(rstCode);
      return new ConnectError(`stream ended ${when}`, Code.Internal);
    }
    if (rstCode === H2.REFUSED_STREAM) return resetError(rstCode, cause);
    return new ConnectError(
      `connection to ${this.#session.authority} lost ${when}: ${cause instanceof Error ? cause.message : String(cause)}`,
      Code.Unavailable,
      undefined,
      undefined,
      cause,
    );
  }

  #fail(error: ConnectError): void {
    if (this.#ended) return;
    this.cancel();
    this.#handler.end(error);
  }

  #detach(): void {
    const stream = this.#stream;
    stream.off("response", this.#onResponse);
    stream.off("data", this.#onData);
    stream.off("trailers", this.#onTrailers);
    stream.off("error", this.#onError);
    stream.off("close", this.#onClose);
  }
}

function ignore(): void {}
