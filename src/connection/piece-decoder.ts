import { createContextKey } from "@connectrpc/connect";

/**
 * Decodes one response message from the pieces of its payload as they arrive, so decoding
 * overlaps the transfer of a large response instead of starting after its last byte. `finish()`
 * gives what the caller asked for, which need not be the generated message type.
 *
 * @example
 * const decoder = new RangeResultDecoder(keyspace);
 * for (const piece of pieces) decoder.push(piece);
 * const result = decoder.finish();
 */
export interface PieceDecoder<T> {
  /** The next bytes of the payload (the gRPC prefix already removed). Throws on bad data. */
  push(piece: Uint8Array): void;
  /** The decoded value once every piece was pushed. Throws when the payload was cut short. */
  finish(): T;
}

/**
 * A context value asking the lean transport to decode the response with this decoder instead of
 * the method's generated schema. Transports that do not know it ignore it, so whoever sets it
 * must also accept the generated message.
 *
 * @example
 * const contextValues = createContextValues().set(pieceDecoderKey, () => new RangeResultDecoder(ks));
 * const response = await kv.range(request, { contextValues });
 */
export const pieceDecoderKey = createContextKey<(() => PieceDecoder<unknown>) | undefined>(
  undefined,
  { description: "decode the response incrementally with this decoder" },
);
