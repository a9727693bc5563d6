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
 * Collects the one message of a unary gRPC response from its DATA chunks. A message in one chunk
 * stays a view of it; a message spread over several chunks is copied once, as the chunks arrive,
 * into a buffer of its declared size (so the chunks can be freed at once). Decoded `bytes` fields
 * are views of the message.
 *
 * @example
 * const reader = new UnaryMessageReader();
 * stream.on("data", (chunk) => reader.push(chunk));
 * const message = reader.message(); // Uint8Array, or a string saying what is wrong
 */
export class UnaryMessageReader {
  /** Bytes received so far, prefixes included. */
  received = 0;
  /** The declared payload length, -1 until the prefix has arrived. */
  declared = -1;
  #chunks: Uint8Array[] = [];
  #body: Uint8Array | undefined;
  #filled = 0;
  #skip = FRAME_HEADER_BYTES;
  #extra = 0;

  /**
   * Adds a DATA chunk. Throws on a compressed message. The caller checks `declared` and
   * `received` against its size limit before the next chunk.
   */
  push(chunk: Uint8Array): void {
    this.received += chunk.byteLength;
    if (this.#body !== undefined) {
      this.#copy(chunk);
      return;
    }
    this.#chunks.push(chunk);
    if (this.declared === -1) {
      const head = this.#chunks.length === 1 ? chunk : joinChunks(this.#chunks, this.received);
      this.declared = frameLength(head, 0);
      if (this.declared === -1) return;
    }
    if (this.#chunks.length > 1) {
      const body = Buffer.allocUnsafe(this.declared);
      this.#body = new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
      for (const c of this.#chunks) this.#copy(c);
      this.#chunks = [];
    }
  }

  /** True when no data arrived at all. */
  get empty(): boolean {
    return this.received === 0;
  }

  /** The message payload, or what is wrong with the data received. */
  message(): Uint8Array | string {
    if (this.declared === -1) return "truncated gRPC message prefix";
    if (this.#body !== undefined) {
      if (this.#filled < this.declared) return "truncated gRPC message";
      if (this.#extra > 0) return "more than one message for a unary call";
      return this.#body;
    }
    const only = this.#chunks[0] as Uint8Array;
    const end = FRAME_HEADER_BYTES + this.declared;
    if (only.byteLength < end) return "truncated gRPC message";
    if (only.byteLength > end) return "more than one message for a unary call";
    return new Uint8Array(only.buffer, only.byteOffset + FRAME_HEADER_BYTES, this.declared);
  }

  #copy(chunk: Uint8Array): void {
    let from = 0;
    if (this.#skip > 0) {
      from = Math.min(this.#skip, chunk.byteLength);
      this.#skip -= from;
    }
    const body = this.#body as Uint8Array;
    const room = body.byteLength - this.#filled;
    const take = Math.min(room, chunk.byteLength - from);
    if (take > 0) {
      body.set(
        from === 0 && take === chunk.byteLength ? chunk : chunk.subarray(from, from + take),
        this.#filled,
      );
      this.#filled += take;
    }
    this.#extra += chunk.byteLength - from - take;
  }
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
