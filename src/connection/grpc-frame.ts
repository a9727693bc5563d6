import {
  create,
  type DescMessage,
  fromBinary,
  type MessageShape,
  mergeFromBinary,
} from "@bufbuild/protobuf";
import { INCOMPLETE, UNSUPPORTED, WireReader } from "../core/wire.ts";
import type { PieceDecoder } from "./piece-decoder.ts";

/** Length of the gRPC message prefix: one flag byte and a 32-bit big-endian length. */
export const FRAME_HEADER_BYTES = 5;

/**
 * A serialized message with its gRPC length prefix (uncompressed), ready to send as the body of
 * a unary call.
 *
 * @example
 * stream.end(encodeFrame(toBinary(PutRequestSchema, request)));
 */
export function encodeFrame(message: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + message.byteLength);
  frame[0] = 0;
  frame.writeUInt32BE(message.byteLength, 1);
  frame.set(message, FRAME_HEADER_BYTES);
  return frame;
}

/**
 * The declared payload length of the frame starting at `offset` of `bytes`, or -1 when fewer than
 * five bytes are there. Throws on a compressed frame: the client never offers compression.
 *
 * @example
 * const length = frameLength(chunk, 0);
 */
export function frameLength(bytes: Uint8Array, offset: number): number {
  if (bytes.byteLength - offset < FRAME_HEADER_BYTES) return -1;
  const flags = bytes[offset] as number;
  if ((flags & 1) !== 0)
    throw new Error("compressed message received but no compression was offered");
  return (
    (bytes[offset + 1] as number) * 0x1000000 +
    (((bytes[offset + 2] as number) << 16) |
      ((bytes[offset + 3] as number) << 8) |
      (bytes[offset + 4] as number))
  );
}

/**
 * Collects the one message of a unary gRPC response from its DATA chunks, without joining them:
 * the payload is kept as views of the chunks (the 5-byte prefix cut off), and `decodeMessage`
 * reads it piece by piece. Decoded `bytes` fields are views of the chunks.
 *
 * @example
 * const reader = new UnaryMessageReader();
 * stream.on("data", (chunk) => reader.push(chunk));
 * const pieces = reader.message(); // Uint8Array[], or a string saying what is wrong
 */
export class UnaryMessageReader {
  /** Bytes received so far, prefixes included. */
  received = 0;
  /** The declared payload length, -1 until the prefix has arrived. */
  declared = -1;
  #head: Uint8Array[] = [];
  #pieces: Uint8Array[] = [];
  #payload = 0;
  #extra = 0;
  readonly #sink: PieceDecoder<unknown> | undefined;

  /** With a `sink`, payload pieces go to it as they arrive instead of being kept. */
  constructor(sink?: PieceDecoder<unknown>) {
    this.#sink = sink;
  }

  /**
   * Adds a DATA chunk. Throws on a compressed message. The caller checks `declared` and
   * `received` against its size limit before the next chunk.
   */
  push(chunk: Uint8Array): void {
    this.received += chunk.byteLength;
    if (this.declared === -1) {
      this.#head.push(chunk);
      const head = this.#head.length === 1 ? chunk : joinChunks(this.#head, this.received);
      this.declared = frameLength(head, 0);
      if (this.declared === -1) return;
      this.#head = [];
      this.#add(head, FRAME_HEADER_BYTES);
      return;
    }
    this.#add(chunk, 0);
  }

  /** True when no data arrived at all. */
  get empty(): boolean {
    return this.received === 0;
  }

  /**
   * The payload as views of the chunks (none when they went to the sink), or what is wrong with
   * the data received.
   */
  message(): Uint8Array[] | string {
    if (this.declared === -1) return "truncated gRPC message prefix";
    if (this.#payload < this.declared) return "truncated gRPC message";
    if (this.#extra > 0) return "more than one message for a unary call";
    return this.#pieces;
  }

  #add(chunk: Uint8Array, from: number): void {
    const take = Math.min(chunk.byteLength - from, this.declared - this.#payload);
    if (take > 0) {
      const piece = new Uint8Array(chunk.buffer, chunk.byteOffset + from, take);
      if (this.#sink) this.#sink.push(piece);
      else this.#pieces.push(piece);
      this.#payload += take;
    }
    this.#extra += chunk.byteLength - from - Math.max(take, 0);
  }
}

/**
 * Decodes a message whose bytes arrived in pieces, without joining them into one buffer. A
 * message may be cut at any boundary between its top-level fields and the parts merged (that
 * is how protobuf defines merging), so the runs of whole fields inside each piece are decoded in
 * place and only a field that straddles two pieces is copied. For a 10,000-key range that means
 * no multi-megabyte buffer at all.
 *
 * @example
 * const response = decodeMessage(RangeResponseSchema, pieces);
 */
export function decodeMessage<D extends DescMessage>(
  schema: D,
  pieces: Uint8Array[],
): MessageShape<D> {
  if (pieces.length <= 1) return fromBinary(schema, pieces[0] ?? new Uint8Array(0));
  const message = create(schema);
  const merge = (piece: number, from: number, to: number) => {
    if (to > from) {
      mergeFromBinary(schema, message, (pieces[piece] as Uint8Array).subarray(from, to));
    }
  };
  const cursor = new PieceCursor(pieces);
  // The run of whole fields not yet decoded: [runStart, end of the field before) in runPiece.
  let runPiece = 0;
  let runStart = 0;
  for (;;) {
    cursor.normalize();
    if (cursor.atEnd) break;
    const piece = cursor.piece;
    const start = cursor.offset;
    if (piece !== runPiece) {
      merge(runPiece, runStart, (pieces[runPiece] as Uint8Array).byteLength);
      runPiece = piece;
      runStart = start;
    }
    if (!cursor.skipField()) {
      // A group or malformed data: leave it to the regular decoder, on the joined bytes.
      return fromBinary(schema, joinChunks(pieces, totalLength(pieces)));
    }
    if (cursor.piece !== piece) {
      merge(runPiece, runStart, start);
      mergeFromBinary(
        schema,
        message,
        copyRange(pieces, piece, start, cursor.piece, cursor.offset),
      );
      runPiece = cursor.piece;
      runStart = cursor.offset;
    }
  }
  if (runPiece < pieces.length) {
    merge(runPiece, runStart, (pieces[runPiece] as Uint8Array).byteLength);
  }
  return message;
}

/**
 * Walks field boundaries across pieces. A position may sit at the very end of a piece (where a
 * field ended); `normalize()` moves it to the start of the next.
 */
class PieceCursor {
  readonly #pieces: Uint8Array[];
  readonly #reader = new WireReader();
  #buf: Uint8Array;
  piece = 0;
  offset = 0;

  constructor(pieces: Uint8Array[]) {
    this.#pieces = pieces;
    this.#buf = pieces[0] as Uint8Array;
  }

  get atEnd(): boolean {
    return this.piece >= this.#pieces.length;
  }

  normalize(): void {
    while (this.offset >= this.#buf.byteLength && this.piece < this.#pieces.length) {
      this.piece++;
      this.offset = 0;
      this.#buf = this.#pieces[this.piece] ?? EMPTY;
    }
  }

  /** Skips one field, leaving the position at its end; false for a group or bad data. */
  skipField(): boolean {
    const reader = this.#reader.reset(this.#buf, this.offset);
    const end = reader.fieldEnd();
    if (end >= 0) {
      this.offset = end;
      return true;
    }
    if (end === UNSUPPORTED) return false;
    // The field runs on into the next pieces: its tag and length prefix (two varints of at most
    // 10 bytes) are in a copy of its first 20 bytes.
    reader.reset(this.#head(20));
    let length = reader.fieldEnd();
    if (length === INCOMPLETE) length = reader.fieldEndFromHead();
    return length >= 0 && this.#advance(length);
  }

  /** Up to `count` bytes from the position on, across pieces, copied; the position stays. */
  #head(count: number): Uint8Array {
    const out = new Uint8Array(count);
    let at = 0;
    let piece = this.piece;
    let offset = this.offset;
    while (at < count && piece < this.#pieces.length) {
      const buf = this.#pieces[piece] as Uint8Array;
      const take = Math.min(buf.byteLength - offset, count - at);
      out.set(buf.subarray(offset, offset + take), at);
      at += take;
      piece++;
      offset = 0;
    }
    return out.subarray(0, at);
  }

  #advance(count: number): boolean {
    if (this.offset + count <= this.#buf.byteLength) {
      this.offset += count;
      return true;
    }
    let left = count;
    while (left > 0) {
      this.normalize();
      if (this.atEnd) return false;
      const step = Math.min(this.#buf.byteLength - this.offset, left);
      this.offset += step;
      left -= step;
    }
    return true;
  }
}

const EMPTY = new Uint8Array(0);

function copyRange(
  pieces: Uint8Array[],
  fromPiece: number,
  fromOffset: number,
  toPiece: number,
  toOffset: number,
): Uint8Array {
  let length = 0;
  for (let p = fromPiece; p <= Math.min(toPiece, pieces.length - 1); p++) {
    const piece = pieces[p] as Uint8Array;
    const start = p === fromPiece ? fromOffset : 0;
    const end = p === toPiece ? toOffset : piece.byteLength;
    length += end - start;
  }
  const out = new Uint8Array(length);
  let at = 0;
  for (let p = fromPiece; p <= Math.min(toPiece, pieces.length - 1); p++) {
    const piece = pieces[p] as Uint8Array;
    const start = p === fromPiece ? fromOffset : 0;
    const end = p === toPiece ? toOffset : piece.byteLength;
    out.set(piece.subarray(start, end), at);
    at += end - start;
  }
  return out;
}

function totalLength(pieces: Uint8Array[]): number {
  let total = 0;
  for (const piece of pieces) total += piece.byteLength;
  return total;
}

/**
 * Joins chunks into one plain `Uint8Array` (a view, without copying, of a single chunk).
 *
 * @example
 * const bytes = joinChunks(chunks, total);
 */
export function joinChunks(chunks: Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) {
    const only = chunks[0] as Uint8Array;
    return new Uint8Array(only.buffer, only.byteOffset, only.byteLength);
  }
  const joined = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    joined.set(chunk, at);
    at += chunk.byteLength;
  }
  return joined;
}
