import type { DescMessage } from "@bufbuild/protobuf";
import {
  type PutRequest,
  PutRequestSchema,
  type RangeRequest,
  RangeRequestSchema,
} from "../../gen/etcdserverpb/rpc_pb.ts";
import {
  int64VarintSize,
  uint32VarintSize,
  writeInt64Varint,
  writeUint32Varint,
} from "../core/wire-writer.ts";
import { FRAME_HEADER_BYTES } from "./grpc-frame.ts";

// Field numbers from the generated schemas, so that a regenerated API cannot drift from them.
const RANGE = RangeRequestSchema.field;
const PUT = PutRequestSchema.field;
const LEN = 2;

/** A proto3 field with implicit presence: written unless it holds its zero value. */
type Field =
  | { kind: "bytes"; tag: number; value: Uint8Array }
  | { kind: "int64"; tag: number; value: bigint }
  | { kind: "varint"; tag: number; value: number };

/**
 * The gRPC frame (prefix included) of a RangeRequest or PutRequest, the requests a client
 * sends most, written without protobuf-es's reflection: the same bytes as `toBinary`, in one
 * buffer. Undefined for any other message, for one that carries unknown fields (protobuf-es
 * writes those back) and for an enum value outside int32's positive range, so the caller falls
 * back to `toBinary`. Every field number is below 16, so each tag takes one byte.
 *
 * @example
 * const frame = knownRequestFrame(method.input, message) ?? encodeFrame(toBinary(method.input, message));
 */
export function knownRequestFrame(schema: DescMessage, message: object): Buffer | undefined {
  if ((message as { $unknown?: unknown[] }).$unknown?.length) return undefined;
  if (schema === RangeRequestSchema) return frame(rangeFields(message as RangeRequest));
  if (schema === PutRequestSchema) return frame(putFields(message as PutRequest));
  return undefined;
}

function rangeFields(m: RangeRequest): Field[] {
  return [
    { kind: "bytes", tag: RANGE.key.number, value: m.key },
    { kind: "bytes", tag: RANGE.rangeEnd.number, value: m.rangeEnd },
    { kind: "int64", tag: RANGE.limit.number, value: m.limit },
    { kind: "int64", tag: RANGE.revision.number, value: m.revision },
    { kind: "varint", tag: RANGE.sortOrder.number, value: m.sortOrder },
    { kind: "varint", tag: RANGE.sortTarget.number, value: m.sortTarget },
    { kind: "varint", tag: RANGE.serializable.number, value: m.serializable ? 1 : 0 },
    { kind: "varint", tag: RANGE.keysOnly.number, value: m.keysOnly ? 1 : 0 },
    { kind: "varint", tag: RANGE.countOnly.number, value: m.countOnly ? 1 : 0 },
    { kind: "int64", tag: RANGE.minModRevision.number, value: m.minModRevision },
    { kind: "int64", tag: RANGE.maxModRevision.number, value: m.maxModRevision },
    { kind: "int64", tag: RANGE.minCreateRevision.number, value: m.minCreateRevision },
    { kind: "int64", tag: RANGE.maxCreateRevision.number, value: m.maxCreateRevision },
  ];
}

function putFields(m: PutRequest): Field[] {
  return [
    { kind: "bytes", tag: PUT.key.number, value: m.key },
    { kind: "bytes", tag: PUT.value.number, value: m.value },
    { kind: "int64", tag: PUT.lease.number, value: m.lease },
    { kind: "varint", tag: PUT.prevKv.number, value: m.prevKv ? 1 : 0 },
    { kind: "varint", tag: PUT.ignoreValue.number, value: m.ignoreValue ? 1 : 0 },
    { kind: "varint", tag: PUT.ignoreLease.number, value: m.ignoreLease ? 1 : 0 },
  ];
}

function frame(fields: Field[]): Buffer | undefined {
  let size = 0;
  for (const field of fields) {
    if (field.kind === "bytes") {
      const length = field.value.byteLength;
      if (length !== 0) size += 1 + uint32VarintSize(length) + length;
    } else if (field.kind === "int64") {
      if (field.value !== 0n) size += 1 + int64VarintSize(field.value);
    } else if (field.value !== 0) {
      // A negative or out-of-range enum value (only the raw client lets one through) is left
      // to protobuf-es.
      if (!(field.value > 0 && field.value <= 0x7fffffff)) return undefined;
      size += 1 + uint32VarintSize(field.value);
    }
  }
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + size);
  out[0] = 0;
  out.writeUInt32BE(size, 1);
  let pos = FRAME_HEADER_BYTES;
  for (const field of fields) {
    if (field.kind === "bytes") {
      const length = field.value.byteLength;
      if (length === 0) continue;
      out[pos++] = (field.tag << 3) | LEN;
      pos = writeUint32Varint(out, pos, length);
      out.set(field.value, pos);
      pos += length;
    } else if (field.kind === "int64") {
      if (field.value === 0n) continue;
      out[pos++] = field.tag << 3;
      pos = writeInt64Varint(out, pos, field.value);
    } else if (field.value !== 0) {
      out[pos++] = field.tag << 3;
      pos = writeUint32Varint(out, pos, field.value);
    }
  }
  return out;
}
