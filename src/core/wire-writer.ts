/**
 * Sizes and writers of protobuf varints for the hand-written encoders, which size a message
 * first and then write it into one buffer.
 */

/** Bytes of a varint of `value`, an integer in [0, 2^32). */
export function uint32VarintSize(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x200000) return 3;
  if (value < 0x10000000) return 4;
  return 5;
}

/**
 * Writes `value`, an integer in [0, 2^32), as a varint at `pos` of `out`; returns where it ends.
 *
 * @example
 * pos = writeUint32Varint(out, pos, bytes.byteLength);
 */
export function writeUint32Varint(out: Uint8Array, pos: number, value: number): number {
  while (value > 0x7f) {
    out[pos++] = (value & 0x7f) | 0x80;
    value >>>= 7;
  }
  out[pos++] = value;
  return pos;
}

/** Bytes of an int64 varint of `value` (a negative value always takes ten). */
export function int64VarintSize(value: bigint): number {
  if (value >= 0n && value < 0x80000000n) return uint32VarintSize(Number(value));
  if (value < 0n) return 10;
  // 2^31 and up: five bytes hold 35 bits, each further byte 7 more.
  let size = 5;
  for (let rest = value >> 35n; rest !== 0n; rest >>= 7n) size++;
  return size;
}

/**
 * Writes an int64 (or uint64) at `pos` of `out` as protobuf does: its 64-bit two's complement
 * in 7-bit groups from the low end. Returns where it ends.
 *
 * @example
 * pos = writeInt64Varint(out, pos, -1n); // ten bytes
 */
export function writeInt64Varint(out: Uint8Array, pos: number, value: bigint): number {
  if (value >= 0n && value < 0x80000000n) return writeUint32Varint(out, pos, Number(value));
  const bits = BigInt.asUintN(64, value);
  let low = Number(bits & 0xffffffffn);
  let high = Number(bits >> 32n);
  while (high !== 0 || low > 0x7f) {
    out[pos++] = (low & 0x7f) | 0x80;
    low = ((low >>> 7) | (high << 25)) >>> 0;
    high >>>= 7;
  }
  out[pos++] = low;
  return pos;
}
