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

/**
 * A proto3 field with implicit presence: written unless it holds its zero value or is absent
 * (`undefined`, in an init object).
 */
type Field =
  | { kind: "bytes"; tag: number; value: Uint8Array | undefined }
  | { kind: "int64"; tag: number; value: bigint | undefined }
  | { kind: "varint"; tag: number; value: number | undefined }
  | { kind: "bool"; tag: number; value: boolean | undefined };

/**
 * The gRPC frame (prefix included) of a RangeRequest or PutRequest, the requests a client
 * sends most, written without protobuf-es's reflection: the same bytes as `toBinary` of
 * `create(schema, message)`, in one buffer. `message` is a message or an init object (absent
 * fields are zero), so the facade's requests need no `create`. Undefined for any other message,
 * for one that carries unknown fields (protobuf-es writes those back), for an enum value outside
 * int32's positive range and for a field of another type than the generated one (an int64 as a
 * number, say), so the caller falls back to protobuf-es. Every field number is below 16, so
 * each tag takes one byte.
 *
 * @example
 * const frame = knownRequestFrame(method.input, input) ?? encodeFrame(toBinary(method.input, create(method.input, input)));
 */
export function knownRequestFrame(schema: DescMessage, message: unknown): Buffer | undefined {
  if (typeof message !== "object" || message === null) return undefined;
  if ((message as { $unknown?: unknown[] }).$unknown?.length) return undefined;
  if (schema === RangeRequestSchema) return frame(rangeFields(message as Partial<RangeRequest>));
  if (schema === PutRequestSchema) return frame(putFields(message as Partial<PutRequest>));
  return undefined;
}

function rangeFields(m: Partial<RangeRequest>): Field[] {
  return [
    { kind: "bytes", tag: RANGE.key.number, value: m.key },
    { kind: "bytes", tag: RANGE.rangeEnd.number, value: m.rangeEnd },
    { kind: "int64", tag: RANGE.limit.number, value: m.limit },
    { kind: "int64", tag: RANGE.revision.number, value: m.revision },
    { kind: "varint", tag: RANGE.sortOrder.number, value: m.sortOrder },
    { kind: "varint", tag: RANGE.sortTarget.number, value: m.sortTarget },
    { kind: "bool", tag: RANGE.serializable.number, value: m.serializable },
    { kind: "bool", tag: RANGE.keysOnly.number, value: m.keysOnly },
    { kind: "bool", tag: RANGE.countOnly.number, value: m.countOnly },
    { kind: "int64", tag: RANGE.minModRevision.number, value: m.minModRevision },
    { kind: "int64", tag: RANGE.maxModRevision.number, value: m.maxModRevision },
    { kind: "int64", tag: RANGE.minCreateRevision.number, value: m.minCreateRevision },
    { kind: "int64", tag: RANGE.maxCreateRevision.number, value: m.maxCreateRevision },
  ];
}

function putFields(m: Partial<PutRequest>): Field[] {
  return [
    { kind: "bytes", tag: PUT.key.number, value: m.key },
    { kind: "bytes", tag: PUT.value.number, value: m.value },
    { kind: "int64", tag: PUT.lease.number, value: m.lease },
    { kind: "bool", tag: PUT.prevKv.number, value: m.prevKv },
    { kind: "bool", tag: PUT.ignoreValue.number, value: m.ignoreValue },
    { kind: "bool", tag: PUT.ignoreLease.number, value: m.ignoreLease },
  ];
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function frame(fields: Field[]): Buffer | undefined {
  // First pass: check each value's type, size what is written, and mark what is not (a zero
  // value) as absent for the second.
  let size = 0;
  for (const field of fields) {
    if (field.value === undefined) continue;
    switch (field.kind) {
      case "bytes":
        if (!(field.value instanceof Uint8Array)) return undefined;
        if (field.value.byteLength === 0) field.value = undefined;
        else size += 1 + uint32VarintSize(field.value.byteLength) + field.value.byteLength;
        break;
      case "int64":
        // protobuf-es rejects what int64 cannot hold; it says how.
        if (typeof field.value !== "bigint" || field.value < INT64_MIN || field.value > INT64_MAX)
          return undefined;
        if (field.value === 0n) field.value = undefined;
        else size += 1 + int64VarintSize(field.value);
        break;
      case "varint":
        if (field.value === 0) field.value = undefined;
        // A negative, fractional or out-of-range enum value (only the raw client lets one
        // through) is left to protobuf-es.
        else if (!Number.isInteger(field.value) || !(field.value > 0 && field.value <= 0x7fffffff))
          return undefined;
        else size += 1 + uint32VarintSize(field.value);
        break;
      case "bool":
        if (typeof field.value !== "boolean") return undefined;
        if (field.value) size += 2;
        else field.value = undefined;
        break;
    }
  }
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + size);
  out[0] = 0;
  out.writeUInt32BE(size, 1);
  let pos = FRAME_HEADER_BYTES;
  for (const field of fields) {
    if (field.value === undefined) continue;
    switch (field.kind) {
      case "bytes":
        out[pos++] = (field.tag << 3) | LEN;
        pos = writeUint32Varint(out, pos, field.value.byteLength);
        out.set(field.value, pos);
        pos += field.value.byteLength;
        break;
      case "int64":
        out[pos++] = field.tag << 3;
        pos = writeInt64Varint(out, pos, field.value);
        break;
      case "varint":
        out[pos++] = field.tag << 3;
        pos = writeUint32Varint(out, pos, field.value);
        break;
      case "bool":
        out[pos++] = field.tag << 3;
        out[pos++] = 1;
        break;
    }
  }
  return out;
}
