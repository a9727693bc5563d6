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
 * Joins the DATA chunks of a response into one plain `Uint8Array` view (no copy for the usual
 * single chunk). Decoded `bytes` fields then are views of this array.
 *
 * @example
 * const body = joinChunks(chunks, total);
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
