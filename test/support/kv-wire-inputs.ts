/**
 * Inputs for the tests of the hand-written KV response decoders (range, put): fast-check
 * arbitraries for the fields etcd sends, a payload cut into pieces as the network may deliver
 * it, and unknown fields of every wire type as a newer etcd might add. Each decoder must give
 * what protobuf-es's `fromBinary` gives for all of them.
 */
import fc from "fast-check";

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** int64 values: small, around 2^48 (past the decoders' fast path), and any. */
export const int64 = fc.oneof(
  fc.bigInt({ min: 0n, max: 2n ** 20n }),
  fc.bigInt({ min: 2n ** 48n, max: 2n ** 50n }),
  fc.bigInt({ min: INT64_MIN, max: INT64_MAX }),
);

/** uint64 values (cluster and member IDs are random 64-bit numbers). */
export const uint64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });

/** Keys and values: short ones, and ones longer than a one-byte length prefix. */
export const bytes = fc.oneof(
  fc.uint8Array({ maxLength: 12 }),
  fc.uint8Array({ minLength: 120, maxLength: 400 }),
);

/** An etcdserverpb.ResponseHeader's fields. */
export const responseHeader = fc.record({
  clusterId: uint64,
  memberId: uint64,
  revision: int64,
  raftTerm: uint64,
});

/** An mvccpb.KeyValue's fields. */
export const keyValue = fc.record({
  key: bytes,
  value: bytes,
  createRevision: int64,
  modRevision: int64,
  version: int64,
  lease: int64,
});

/** An unknown field of every wire type (fields 15-18), to put before a payload. */
export const unknownFields = new Uint8Array([
  ...[0x78, 0x96, 0x01], // field 15, varint 150
  ...[0x81, 0x01, 1, 2, 3, 4, 5, 6, 7, 8], // field 16, fixed64
  ...[0x8a, 0x01, 3, 0x61, 0x62, 0x63], // field 17, 3 bytes
  ...[0x95, 0x01, 1, 2, 3, 4], // field 18, fixed32
]);

/**
 * `payload` cut at `offsets` (each taken modulo its length + 1, then sorted and deduplicated),
 * each piece a copy.
 *
 * @example
 * const pieces = cutPayload(payload, [3, 17]);
 */
export function cutPayload(payload: Uint8Array, offsets: number[]): Uint8Array[] {
  const points = [...new Set(offsets.map((o) => o % (payload.length + 1)))].sort((a, b) => a - b);
  const pieces: Uint8Array[] = [];
  let start = 0;
  for (const point of [...points, payload.length]) {
    pieces.push(payload.slice(start, point));
    start = point;
  }
  return pieces;
}
