import { RangeResponseSchema } from "../../gen/etcdserverpb/rpc_pb.ts";
import type { PieceDecoder } from "../connection/piece-decoder.ts";
import { INCOMPLETE, UNSUPPORTED, WireReader, WireType } from "../core/wire.ts";
import type { KeyValue, ResponseHeader } from "./key-value.ts";
import { decodeHeader, decodeKeyValue, expectWireType } from "./key-value-wire.ts";
import type { Keyspace } from "./keyspace.ts";
import type { RangeResult } from "./results.ts";

const RANGE = RangeResponseSchema.field;
const R_HEADER = RANGE.header.number;
const R_KVS = RANGE.kvs.number;
const R_MORE = RANGE.more.number;
const R_COUNT = RANGE.count.number;

/**
 * Decodes etcd's RangeResponse straight into a `RangeResult` while its pieces arrive: every
 * complete `KeyValue` becomes a `KeyValue` object as soon as its bytes are in, the generated
 * message objects are never built, and keys and values stay views of the received pieces. Only a
 * field cut by a piece boundary is copied, once, to join it.
 *
 * Field numbers come from the generated schemas (RangeResponse, ResponseHeader,
 * mvccpb.KeyValue), so a regenerated API cannot drift from this decoder. Unknown fields are
 * skipped.
 *
 * @example
 * const decoder = new RangeResultDecoder(keyspace);
 * decoder.push(payload);
 * const { kvs, count } = decoder.finish();
 */
export class RangeResultDecoder implements PieceDecoder<RangeResult> {
  readonly #keyspace: Keyspace;
  readonly #reader = new WireReader();
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
      const head = this.#reader.reset(
        join(this.#carry, carried, piece, Math.min(piece.byteLength, 20)),
      );
      const end = checkedEnd(head.fieldEnd());
      this.#carryNeed = end >= 0 ? end : checkedEnd(head.fieldEndFromHead());
    }
    const need = this.#carryNeed;
    if (need < 0 || carried + piece.byteLength < need) {
      this.#carry.push(piece);
      this.#carryBytes += piece.byteLength;
      return -1;
    }
    this.#field(this.#reader.reset(join(this.#carry, carried, piece, need - carried), 0, need));
    this.#carry = [];
    this.#carryBytes = 0;
    this.#carryNeed = -1;
    return need - carried;
  }

  /** Decodes the complete fields of buf[pos, end); returns where the first incomplete one starts. */
  #fields(buf: Uint8Array, pos: number, end: number): number {
    const reader = this.#reader.reset(buf, pos, end);
    while (!reader.done) {
      const start = reader.pos;
      const next = checkedEnd(reader.fieldEnd());
      if (next === INCOMPLETE) return start;
      reader.end = next;
      this.#field(reader);
      reader.pos = next;
      reader.end = end;
    }
    return reader.pos;
  }

  /** Decodes the one complete field in [reader.pos, reader.end). */
  #field(reader: WireReader): void {
    const tag = reader.uint32();
    const wireType = tag & 7;
    const field = tag >>> 3;
    if (field === R_HEADER) {
      expectWireType(wireType, WireType.LengthDelimited, "RangeResponse.header");
      reader.end = reader.lengthPrefixed();
      this.#header = decodeHeader(reader);
    } else if (field === R_KVS) {
      expectWireType(wireType, WireType.LengthDelimited, "RangeResponse.kvs");
      reader.end = reader.lengthPrefixed();
      this.#kvs.push(decodeKeyValue(reader, this.#keyspace));
    } else if (field === R_MORE) {
      expectWireType(wireType, WireType.Varint, "RangeResponse.more");
      this.#more = reader.uint32() !== 0;
    } else if (field === R_COUNT) {
      expectWireType(wireType, WireType.Varint, "RangeResponse.count");
      this.#count = reader.int64(true);
    }
  }
}

/** A field end from `WireReader.fieldEnd`; throws for what this decoder cannot read. */
function checkedEnd(end: number): number {
  if (end === UNSUPPORTED) throw new Error("RangeResponse holds a field of unsupported encoding");
  return end;
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
