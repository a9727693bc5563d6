import { WireType } from "@bufbuild/protobuf/wire";

export { WireType } from "@bufbuild/protobuf/wire";

/** `fieldEnd`: the field is not all in the bytes given (more data may complete it). */
export const INCOMPLETE = -1;
/** `fieldEnd`: a group, an unknown wire type or an over-long tag: not ours to read. */
export const UNSUPPORTED = -2;

const EMPTY = new Uint8Array(0);
/** Eight bytes to turn two 32-bit halves into one 64-bit bigint. */
const SCRATCH = new DataView(new ArrayBuffer(8));

/**
 * Reads the protobuf binary encoding in place, for the few hot paths that decode without the
 * generated message objects (a large RangeResponse) or find field boundaries in a message that
 * arrived in pieces. It keeps its position in the reader itself, so readers are independent of
 * each other (no module-level state); `reset` lets one reader be reused without allocating. Take field numbers from the
 * generated schemas (`RangeResponseSchema.field.kvs.number`), never write them by hand.
 *
 * Tags and lengths are read as 32-bit varints of at most 5 bytes; 64-bit values as bigint.
 *
 * @example
 * const reader = new WireReader(bytes);
 * while (!reader.done) {
 *   const tag = reader.uint32();
 *   if (tag >>> 3 === RangeResponseSchema.field.count.number) count = reader.int64(true);
 *   else reader.skip(tag & 7);
 * }
 */
export class WireReader {
  buf: Uint8Array = EMPTY;
  pos = 0;
  /** Reading stops here: the end of the buffer or of the enclosing message. */
  end = 0;

  constructor(buf: Uint8Array = EMPTY, pos = 0, end: number = buf.byteLength) {
    this.reset(buf, pos, end);
  }

  /** Points the reader at buf[pos, end). */
  reset(buf: Uint8Array, pos = 0, end: number = buf.byteLength): this {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
    return this;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /**
   * A varint of up to 32 bits (a tag or a length), or INCOMPLETE when the data ends first (the
   * position is then unchanged). Throws when it runs past 5 bytes.
   */
  uint32OrIncomplete(): number {
    const value = this.#peekUint32(this.pos);
    if (value === UNSUPPORTED) throw new Error("tag or length varint longer than 5 bytes");
    if (value !== INCOMPLETE) this.pos = this.#peekEnd;
    return value;
  }

  /** Where the varint `#peekUint32` read last ends. */
  #peekEnd = 0;

  /**
   * The 32-bit varint at `pos`, without moving: its value (its end in `#peekEnd`), INCOMPLETE
   * when the data ends first, or UNSUPPORTED past 5 bytes.
   */
  #peekUint32(pos: number): number {
    const buf = this.buf;
    const end = this.end;
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 5; i++) {
      if (pos >= end) return INCOMPLETE;
      const byte = buf[pos++] as number;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) {
        this.#peekEnd = pos;
        return value;
      }
      scale *= 128;
    }
    return UNSUPPORTED;
  }

  /** A varint of up to 32 bits inside a complete field; throws when it is cut off. */
  uint32(): number {
    const value = this.uint32OrIncomplete();
    if (value < 0) throw new Error("truncated varint");
    return value;
  }

  /**
   * A 64-bit varint as a bigint (signed for int64, unsigned for uint64), exact for every value.
   * Up to 7 bytes (49 bits) it is computed as a number first, which covers every realistic
   * revision, version and lease ID cheaply.
   */
  int64(signed: boolean): bigint {
    const buf = this.buf;
    const end = this.end;
    let pos = this.pos;
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 7; i++) {
      if (pos >= end) throw new Error("truncated varint");
      const byte = buf[pos++] as number;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) {
        this.pos = pos;
        return BigInt(value);
      }
      scale *= 128;
    }
    // Longer (cluster and member IDs are random 64-bit numbers): the two 32-bit halves as
    // numbers, then one bigint read from them instead of a bigint operation per byte.
    let high = Math.floor(value / 2 ** 32);
    const low = value - high * 2 ** 32;
    let scaleHigh = 2 ** 17;
    for (let i = 7; i < 10; i++) {
      if (pos >= end) throw new Error("truncated varint");
      const byte = buf[pos++] as number;
      high += (byte & 0x7f) * scaleHigh;
      if (byte < 0x80) {
        this.pos = pos;
        SCRATCH.setUint32(0, low, true);
        SCRATCH.setUint32(4, high % 2 ** 32, true);
        return signed ? SCRATCH.getBigInt64(0, true) : SCRATCH.getBigUint64(0, true);
      }
      scaleHigh *= 128;
    }
    throw new Error("varint longer than 10 bytes");
  }

  /** Reads a length prefix: the position moves to the data's start; returns the data's end. */
  lengthPrefixed(): number {
    const length = this.uint32();
    const stop = this.pos + length;
    if (stop > this.end) throw new Error("length-delimited field runs past its message");
    return stop;
  }

  /** A length-delimited field's bytes, as a view (no copy). */
  bytes(): Uint8Array {
    const stop = this.lengthPrefixed();
    const bytes = this.buf.subarray(this.pos, stop);
    this.pos = stop;
    return bytes;
  }

  /** Skips the data of a field whose tag was read. */
  skip(wireType: number): void {
    switch (wireType) {
      case WireType.Varint:
        if (this.#varintEnd() < 0) throw new Error("truncated varint");
        return;
      case WireType.Bit64:
        this.#advance(8);
        return;
      case WireType.LengthDelimited:
        this.pos = this.lengthPrefixed();
        return;
      case WireType.Bit32:
        this.#advance(4);
        return;
      default:
        throw new Error(`unsupported wire type ${wireType}`);
    }
  }

  /**
   * The end of the field starting at the position, INCOMPLETE when [pos, end) does not hold all
   * of it, or UNSUPPORTED (group, bad wire type, over-long tag). The position does not move.
   */
  fieldEnd(): number {
    return this.#fieldEnd(true);
  }

  /**
   * Like `fieldEnd`, for a field whose data need not all be here: its end as its tag and length
   * prefix say, or INCOMPLETE when even those are cut off (or for a varint field, whose end only
   * its data tells).
   */
  fieldEndFromHead(): number {
    return this.#fieldEnd(false);
  }

  #fieldEnd(wholeField: boolean): number {
    const buf = this.buf;
    const limit = this.end;
    // The tag, then per wire type what follows it; nothing here moves the reader.
    const tag = this.#peekUint32(this.pos);
    if (tag < 0) return tag;
    let pos = this.#peekEnd;
    switch (tag & 7) {
      case WireType.Varint: {
        if (!wholeField) return INCOMPLETE;
        for (let i = 0; i < 10; i++) {
          if (pos >= limit) return INCOMPLETE;
          if ((buf[pos++] as number) < 0x80) return pos;
        }
        return UNSUPPORTED;
      }
      case WireType.Bit64:
        return !wholeField || pos + 8 <= limit ? pos + 8 : INCOMPLETE;
      case WireType.LengthDelimited: {
        const length = this.#peekUint32(pos);
        if (length < 0) return length;
        const stop = this.#peekEnd + length;
        return !wholeField || stop <= limit ? stop : INCOMPLETE;
      }
      case WireType.Bit32:
        return !wholeField || pos + 4 <= limit ? pos + 4 : INCOMPLETE;
      default:
        return UNSUPPORTED;
    }
  }

  /** Moves past a varint of any length; returns its end, or INCOMPLETE when it is cut off. */
  #varintEnd(): number {
    const buf = this.buf;
    const start = this.pos;
    let pos = start;
    while (pos < this.end) {
      if (pos - start === 10) throw new Error("varint longer than 10 bytes");
      if ((buf[pos++] as number) < 0x80) {
        this.pos = pos;
        return pos;
      }
    }
    return INCOMPLETE;
  }

  #advance(count: number): void {
    if (this.pos + count > this.end) throw new Error("field runs past its message");
    this.pos += count;
  }
}
