import type { PieceDecoder } from "../connection/piece-decoder.ts";
import { KeyValue, type ResponseHeader } from "./key-value.ts";
import type { Keyspace } from "./keyspace.ts";
import type { RangeResult } from "./results.ts";

// Wire types of the protobuf encoding.
const VARINT = 0;
const FIXED64 = 1;
const LEN = 2;
const FIXED32 = 5;

const EMPTY: Uint8Array = new Uint8Array(0);

/**
 * Decodes etcd's RangeResponse straight into a `RangeResult` while its pieces arrive: every
 * complete `KeyValue` becomes a `KeyValue` object as soon as its bytes are in, the generated
 * message objects are never built, and keys and values stay views of the received pieces. Only a
 * field cut by a piece boundary is copied, once, to join it.
 *
 * Field numbers are etcd's: RangeResponse {header 1, kvs 2, more 3, count 4}, ResponseHeader
 * {cluster_id 1, member_id 2, revision 3, raft_term 4}, mvccpb.KeyValue {key 1, create_revision
 * 2, mod_revision 3, version 4, value 5, lease 6}. Unknown fields are skipped.
 *
 * @example
 * const decoder = new RangeResultDecoder(keyspace);
 * decoder.push(payload);
 * const { kvs, count } = decoder.finish();
 */
export class RangeResultDecoder implements PieceDecoder<RangeResult> {
  readonly #keyspace: Keyspace;
  readonly #kvs: KeyValue[] = [];
  #header: ResponseHeader | undefined;
  #more = false;
  #count = 0n;
  /** The start of a field cut by a piece boundary, waiting for the rest. */
  #carry: Uint8Array[] = [];
  #carryBytes = 0;
  /** The carried field's whole length once its tag and length prefix are in, else -1. */
  #carryNeed = -1;

  constructor(keyspace: Keyspace) {
    this.#keyspace = keyspace;
  }

  push(piece: Uint8Array): void {
    let pos = 0;
    if (this.#carryBytes > 0) {
      pos = this.#completeCarried(piece);
      if (pos < 0) return;
    }
    const stop = this.#fields(piece, pos, piece.byteLength);
    if (stop < piece.byteLength) {
      this.#carry = [piece.subarray(stop)];
      this.#carryBytes = piece.byteLength - stop;
    }
  }

  finish(): RangeResult {
    if (this.#carryBytes > 0) throw new Error("RangeResponse cut short inside a field");
    const header = this.#header ?? { clusterId: 0n, memberId: 0n, revision: 0n, raftTerm: 0n };
    return {
      kind: "range",
      header,
      revision: header.revision,
      kvs: this.#kvs,
      more: this.#more,
      count: this.#count,
    };
  }

  /**
   * Joins the carried start of a field with the head of `piece`. Returns where the fields after
   * it start in `piece`, or -1 when the field is still incomplete (the piece is then carried).
   */
  #completeCarried(piece: Uint8Array): number {
    const carried = this.#carryBytes;
    if (this.#carryNeed < 0) {
      // Enough bytes for any tag and length prefix (two varints of at most 10 bytes).
      const head = join(this.#carry, carried, piece, Math.min(piece.byteLength, 20));
      const end = fieldEnd(head, 0, head.byteLength);
      this.#carryNeed = end >= 0 ? end : fieldEndIgnoringData(head);
    }
    const need = this.#carryNeed;
    if (need < 0 || carried + piece.byteLength < need) {
      this.#carry.push(piece);
      this.#carryBytes += piece.byteLength;
      return -1;
    }
    this.#field(join(this.#carry, carried, piece, need - carried), 0, need);
    this.#carry = [];
    this.#carryBytes = 0;
    this.#carryNeed = -1;
    return need - carried;
  }

  /** Decodes the complete fields of buf[pos, end); returns where the first incomplete one starts. */
  #fields(buf: Uint8Array, pos: number, end: number): number {
    while (pos < end) {
      const next = fieldEnd(buf, pos, end);
      if (next < 0) return pos;
      this.#field(buf, pos, next);
      pos = next;
    }
    return pos;
  }

  #field(buf: Uint8Array, pos: number, end: number): void {
    const tag = varint(buf, pos, end);
    pos = cursor;
    const wireType = tag & 7;
    switch (tag >>> 3) {
      case 1:
        expectWireType(wireType, LEN, "RangeResponse.header");
        pos = lengthPrefixed(buf, pos, end);
        this.#header = decodeHeader(buf, pos, cursor);
        return;
      case 2:
        expectWireType(wireType, LEN, "RangeResponse.kvs");
        pos = lengthPrefixed(buf, pos, end);
        this.#kvs.push(decodeKeyValue(buf, pos, cursor, this.#keyspace));
        return;
      case 3:
        expectWireType(wireType, VARINT, "RangeResponse.more");
        this.#more = varint(buf, pos, end) !== 0;
        return;
      case 4:
        expectWireType(wireType, VARINT, "RangeResponse.count");
        this.#count = int64(buf, pos, end, true);
        return;
      default:
        return;
    }
  }
}

/** Where the last varint read ended (one decoder runs at a time: JavaScript is single-threaded). */
let cursor = 0;

function decodeHeader(buf: Uint8Array, pos: number, end: number): ResponseHeader {
  const header = { clusterId: 0n, memberId: 0n, revision: 0n, raftTerm: 0n };
  while (pos < end) {
    const tag = varint(buf, pos, end);
    pos = cursor;
    const wireType = tag & 7;
    const field = tag >>> 3;
    if (field >= 1 && field <= 4 && wireType === VARINT) {
      const value = int64(buf, pos, end, field === 3);
      if (field === 1) header.clusterId = value;
      else if (field === 2) header.memberId = value;
      else if (field === 3) header.revision = value;
      else header.raftTerm = value;
      pos = cursor;
    } else pos = skip(buf, pos, end, wireType);
  }
  return header;
}

function decodeKeyValue(buf: Uint8Array, pos: number, end: number, keyspace: Keyspace): KeyValue {
  let key = EMPTY;
  let value = EMPTY;
  let createRevision = 0n;
  let modRevision = 0n;
  let version = 0n;
  let lease = 0n;
  while (pos < end) {
    const tag = varint(buf, pos, end);
    pos = cursor;
    const wireType = tag & 7;
    const field = tag >>> 3;
    if ((field === 1 || field === 5) && wireType === LEN) {
      const start = lengthPrefixed(buf, pos, end);
      const bytes = buf.subarray(start, cursor);
      if (field === 1) key = bytes;
      else value = bytes;
      pos = cursor;
    } else if (field >= 2 && field <= 6 && field !== 5 && wireType === VARINT) {
      const number = int64(buf, pos, end, true);
      if (field === 2) createRevision = number;
      else if (field === 3) modRevision = number;
      else if (field === 4) version = number;
      else lease = number;
      pos = cursor;
    } else if (field >= 1 && field <= 6) {
      throw new Error(`mvccpb.KeyValue field ${field} has wire type ${wireType}`);
    } else pos = skip(buf, pos, end, wireType);
  }
  return new KeyValue(keyspace.decodeKey(key), value, createRevision, modRevision, version, lease);
}

function expectWireType(actual: number, expected: number, field: string): void {
  if (actual !== expected) throw new Error(`${field} has wire type ${actual}`);
}

/**
 * The end of the field starting at `pos`, or -1 when buf[pos, end) does not hold all of it.
 */
function fieldEnd(buf: Uint8Array, pos: number, end: number): number {
  const tag = varintOrMissing(buf, pos, end);
  if (tag < 0) return -1;
  pos = cursor;
  switch (tag & 7) {
    case VARINT: {
      const next = varintEnd(buf, pos, end);
      return next;
    }
    case FIXED64:
      return pos + 8 <= end ? pos + 8 : -1;
    case LEN: {
      const length = varintOrMissing(buf, pos, end);
      if (length < 0) return -1;
      const next = cursor + length;
      return next <= end ? next : -1;
    }
    case FIXED32:
      return pos + 4 <= end ? pos + 4 : -1;
    default:
      throw new Error(`unsupported wire type ${tag & 7}`);
  }
}

/**
 * For a field whose data is not all in `head`: its end, computed from its tag and length prefix,
 * or -1 when even those are cut off (or it is a varint field, which `head` would hold whole).
 */
function fieldEndIgnoringData(head: Uint8Array): number {
  const tag = varintOrMissing(head, 0, head.byteLength);
  if (tag < 0) return -1;
  const pos = cursor;
  switch (tag & 7) {
    case FIXED64:
      return pos + 8;
    case FIXED32:
      return pos + 4;
    case LEN: {
      const length = varintOrMissing(head, pos, head.byteLength);
      return length < 0 ? -1 : cursor + length;
    }
    default:
      return -1;
  }
}

/** Reads a length prefix; returns where the data starts, and leaves its end in `cursor`. */
function lengthPrefixed(buf: Uint8Array, pos: number, end: number): number {
  const length = varint(buf, pos, end);
  const start = cursor;
  if (start + length > end) throw new Error("length-delimited field runs past its message");
  cursor = start + length;
  return start;
}

function skip(buf: Uint8Array, pos: number, end: number, wireType: number): number {
  switch (wireType) {
    case VARINT:
      varintEnd(buf, pos, end);
      if (cursor < 0) throw new Error("truncated varint");
      return cursor;
    case FIXED64:
      return checked(pos + 8, end);
    case LEN:
      lengthPrefixed(buf, pos, end);
      return cursor;
    case FIXED32:
      return checked(pos + 4, end);
    default:
      throw new Error(`unsupported wire type ${wireType}`);
  }
}

function checked(next: number, end: number): number {
  if (next > end) throw new Error("field runs past its message");
  return next;
}

/** The end of the varint at `pos`, or -1 when it is cut off. Also left in `cursor`. */
function varintEnd(buf: Uint8Array, pos: number, end: number): number {
  const start = pos;
  while (pos < end) {
    if (pos - start === 10) throw new Error("varint longer than 10 bytes");
    if ((buf[pos++] as number) < 0x80) {
      cursor = pos;
      return pos;
    }
  }
  cursor = -1;
  return -1;
}

/** A varint of up to 32 bits (tags and lengths), or -1 when it is cut off. */
function varintOrMissing(buf: Uint8Array, pos: number, end: number): number {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 5; i++) {
    if (pos >= end) return -1;
    const byte = buf[pos++] as number;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) {
      cursor = pos;
      return value;
    }
    scale *= 128;
  }
  throw new Error("tag or length varint longer than 5 bytes");
}

/** A varint of up to 32 bits inside a complete field. */
function varint(buf: Uint8Array, pos: number, end: number): number {
  const value = varintOrMissing(buf, pos, end);
  if (value < 0) throw new Error("truncated varint");
  return value;
}

/**
 * A 64-bit varint as a bigint (signed for int64, unsigned for uint64), exact for every value.
 * Up to 7 bytes (49 bits) it is computed as a number first, which covers every realistic
 * revision, version and lease ID cheaply.
 */
function int64(buf: Uint8Array, pos: number, end: number, signed: boolean): bigint {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 7; i++) {
    if (pos >= end) throw new Error("truncated varint");
    const byte = buf[pos++] as number;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) {
      cursor = pos;
      return BigInt(value);
    }
    scale *= 128;
  }
  let big = BigInt(value);
  let shift = 49n;
  for (let i = 7; i < 10; i++) {
    if (pos >= end) throw new Error("truncated varint");
    const byte = buf[pos++] as number;
    big |= BigInt(byte & 0x7f) << shift;
    if (byte < 0x80) {
      cursor = pos;
      return signed ? BigInt.asIntN(64, big) : BigInt.asUintN(64, big);
    }
    shift += 7n;
  }
  throw new Error("varint longer than 10 bytes");
}

/** The carried pieces followed by the first `take` bytes of `piece`, as one array. */
function join(carry: Uint8Array[], carried: number, piece: Uint8Array, take: number): Uint8Array {
  const out = new Uint8Array(carried + take);
  let offset = 0;
  for (const part of carry) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  out.set(piece.subarray(0, take), offset);
  return out;
}
