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
import { endingError, H2 } from "./grpc-status.ts";

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
  /** False when `frameStream` answers undefined for every call (interceptors are configured). */
  readonly framesAvailable: boolean;
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
  // TypeScript-private fields, not #private ones, as in UnaryCall: after a few clients had come
  // and gone and a collection ran, a new client's keep-alive stream was a dictionary-mode object.
  private readonly stream: ClientHttp2Stream;
  private readonly session: Http2SessionManager;
  private readonly handler: FrameStreamHandler;
  private readonly maxReceiveBytes: number;
  /**
   * The chunks of a message not complete yet (a frame split across DATA chunks), joined once
   * when all its bytes are in: a message of megabytes arrives in hundreds of chunks.
   */
  private pieces: Uint8Array[] = [];
  private pieceBytes = 0;
  /** The whole frame's length once its prefix is in, else -1. */
  private pieceNeed = -1;
  private headers: (IncomingHttpHeaders & IncomingHttpStatusHeader) | undefined;
  private headersEnded = false;
  private trailers: IncomingHttpHeaders | undefined;
  private streamError: unknown;
  private ended = false;
  private reportedAt = 0;

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
    this.stream = stream;
    this.session = session;
    this.handler = handler;
    this.maxReceiveBytes = maxReceiveBytes;
    stream.on("response", this.onResponse);
    stream.on("data", this.onData);
    stream.on("trailers", this.onTrailers);
    stream.on("error", this.onError);
    stream.on("close", this.onClose);
  }

  /** Sends bytes: one or more length-prefixed request messages. Ignored once ended. */
  write(frames: Uint8Array): void {
    if (this.ended || this.stream.closed || this.stream.destroyed) return;
    this.stream.write(frames);
  }

  /** Ends the stream from this side (RST_STREAM CANCEL); the handler hears nothing more. */
  cancel(): void {
    if (this.ended) return;
    this.ended = true;
    this.detach();
    // A reset arriving as it closes must not become an unhandled 'error' event.
    this.stream.on("error", ignore);
    if (!this.stream.closed && !this.stream.destroyed) this.stream.close(H2.CANCEL);
  }

  private readonly onResponse = (
    headers: IncomingHttpHeaders & IncomingHttpStatusHeader,
    flags: number,
  ): void => {
    this.headers = headers;
    this.headersEnded = (flags & END_STREAM) !== 0;
  };

  private readonly onData = (chunk: Buffer): void => {
    if (this.ended) return;
    const now = Date.now();
    if (now - this.reportedAt >= ALIVE_REPORT_INTERVAL_MS) {
      this.reportedAt = now;
      this.session.notifyResponseByteRead(this.stream);
    }
    let bytes: Uint8Array = chunk;
    if (this.pieceBytes > 0) {
      this.pieces.push(chunk);
      this.pieceBytes += chunk.byteLength;
      if (this.pieceNeed < 0) {
        this.pieces = [joinPieces(this.pieces, this.pieceBytes)];
        this.pieceNeed = this.frameNeed(this.pieces[0] as Uint8Array);
      }
      if (this.pieceNeed < 0 || this.pieceBytes < this.pieceNeed) return;
      bytes = joinPieces(this.pieces, this.pieceBytes);
      this.pieces = [];
      this.pieceBytes = 0;
      this.pieceNeed = -1;
    }
    let offset = 0;
    try {
      for (;;) {
        const length = frameLength(bytes, offset);
        if (length === -1) break;
        if (length > this.maxReceiveBytes) {
          this.fail(
            new ConnectError(
              `response message of ${length} bytes exceeds maxReceiveBytes (${this.maxReceiveBytes})`,
              Code.ResourceExhausted,
            ),
          );
          return;
        }
        const start = offset + FRAME_HEADER_BYTES;
        if (bytes.byteLength - start < length) break;
        offset = start + length;
        this.handler.message(bytes.subarray(start, offset));
        if (this.ended) return;
      }
    } catch (error) {
      this.fail(ConnectError.from(error, Code.Internal));
      return;
    }
    if (offset < bytes.byteLength) {
      const rest = bytes.subarray(offset);
      this.pieces = [rest];
      this.pieceBytes = rest.byteLength;
      this.pieceNeed = this.frameNeed(rest);
    }
  };

  /**
   * The length of the frame that starts `bytes`, prefix included: -1 while the prefix is not all
   * there, 0 (join now, so the loop refuses it) when the message is over the limit or compressed.
   */
  private frameNeed(bytes: Uint8Array): number {
    if (bytes.byteLength >= FRAME_HEADER_BYTES && ((bytes[0] as number) & 1) !== 0) return 0;
    const length = frameLength(bytes, 0);
    if (length === -1) return -1;
    return length > this.maxReceiveBytes ? 0 : FRAME_HEADER_BYTES + length;
  }

  private readonly onTrailers = (trailers: IncomingHttpHeaders): void => {
    this.trailers = trailers;
  };

  private readonly onError = (error: unknown): void => {
    this.streamError = error;
  };

  private readonly onClose = (): void => {
    this.detach();
    if (this.ended) return;
    this.ended = true;
    let error: ConnectError | undefined;
    try {
      error = this.outcome(this.stream.rstCode ?? H2.NO_ERROR);
    } catch (thrown) {
      error = ConnectError.from(thrown, Code.Internal);
    }
    this.handler.end(error);
  };

  private outcome(rstCode: number): ConnectError | undefined {
    const error = endingError({
      authority: this.session.authority,
      headers: this.headers,
      headersEnded: this.headersEnded,
      trailers: this.trailers,
      streamError: this.streamError,
      rstCode,
    });
    if (error) return error;
    if (this.pieceBytes > 0) return new ConnectError("truncated gRPC message", Code.Internal);
    return undefined;
  }

  private fail(error: ConnectError): void {
    if (this.ended) return;
    this.cancel();
    this.handler.end(error);
  }

  private detach(): void {
    const stream = this.stream;
    stream.off("response", this.onResponse);
    stream.off("data", this.onData);
    stream.off("trailers", this.onTrailers);
    stream.off("error", this.onError);
    stream.off("close", this.onClose);
  }
}

function ignore(): void {}

function joinPieces(pieces: readonly Uint8Array[], total: number): Uint8Array {
  if (pieces.length === 1) return pieces[0] as Uint8Array;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const piece of pieces) {
    out.set(piece, offset);
    offset += piece.byteLength;
  }
  return out;
}
