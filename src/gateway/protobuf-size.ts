import {
  type DescField,
  type DescMessage,
  type MessageShape,
  ScalarType,
} from "@bufbuild/protobuf";

// The gateway's size limits count a message as gRPC would, by its protobuf size; this computes
// that size from the message without encoding it, so that the web entry needs no protobuf
// encoder (protobuf-es's toBinary and its writer). test/unit/gateway-codec.test.ts checks it
// against toBinary for every etcd message.

type Fields = Record<string, unknown>;
type UnknownField = { no: number; wireType: number; data: Uint8Array };

/** `FeatureSet.FieldPresence.IMPLICIT`: a proto3 scalar, absent on the wire when zero. */
const IMPLICIT = 2;

/**
 * The length of `message` in the protobuf binary encoding, unknown fields included: what
 * `toBinary(schema, message).byteLength` gives.
 *
 * @example
 * if (protobufSize(PutRequestSchema, request) > maxSendBytes) throw tooLarge();
 */
export function protobufSize<D extends DescMessage>(schema: D, message: MessageShape<D>): number {
  return messageSize(schema, message as unknown as Fields);
}

function messageSize(desc: DescMessage, message: Fields): number {
  let size = 0;
  for (const field of desc.fields) size += fieldSize(field, message);
  for (const { no, wireType, data } of (message.$unknown as UnknownField[] | undefined) ?? []) {
    size += varintSize((no << 3) | wireType) + data.byteLength;
  }
  return size;
}

function fieldSize(field: DescField, message: Fields): number {
  const value = message[field.localName];
  if (field.oneof !== undefined) {
    const oneof = message[field.oneof.localName] as { case?: string; value?: unknown };
    return oneof.case === field.localName ? tagged(field, valueSize(field, oneof.value)) : 0;
  }
  if (field.fieldKind === "list") {
    const items = value as unknown[];
    if (items.length === 0) return 0;
    if (field.listKind === "scalar" || field.listKind === "enum") {
      if (field.packed) {
        let payload = 0;
        for (const item of items) payload += valueSize(field, item);
        return tagSize(field.number) + varintSize(payload) + payload;
      }
    }
    let size = 0;
    for (const item of items) size += tagged(field, valueSize(field, item));
    return size;
  }
  if (field.fieldKind === "map") {
    let size = 0;
    const record = value as Fields;
    for (const key of Object.keys(record)) {
      const keySize = tagSize(1) + scalarSize(field.mapKey, mapKey(field.mapKey, key));
      const entry = keySize + tagSize(2) + valueSize(field, record[key]);
      size += tagSize(field.number) + varintSize(entry) + entry;
    }
    return size;
  }
  if (field.presence === IMPLICIT ? isZero(field, value) : value === undefined) return 0;
  return tagged(field, valueSize(field, value));
}

/** A value's size behind its tag; a length-delimited value's length prefix included. */
function valueSize(field: DescField, value: unknown): number {
  if (field.message !== undefined) {
    const size = messageSize(field.message, value as Fields);
    return varintSize(size) + size;
  }
  if (field.enum !== undefined) return int32Size(value as number);
  return scalarSize(field.scalar as ScalarType, value);
}

function tagged(field: { number: number }, valueSize: number): number {
  return tagSize(field.number) + valueSize;
}

function scalarSize(scalar: ScalarType, value: unknown): number {
  switch (scalar) {
    case ScalarType.STRING: {
      const length = utf8Length(value as string);
      return varintSize(length) + length;
    }
    case ScalarType.BYTES: {
      const length = (value as Uint8Array).byteLength;
      return varintSize(length) + length;
    }
    case ScalarType.BOOL:
      return 1;
    case ScalarType.FIXED32:
    case ScalarType.SFIXED32:
    case ScalarType.FLOAT:
      return 4;
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
    case ScalarType.DOUBLE:
      return 8;
    case ScalarType.INT32:
      return int32Size(value as number);
    case ScalarType.UINT32:
      return varintSize(value as number);
    case ScalarType.SINT32: {
      const n = value as number;
      return varintSize(((n << 1) ^ (n >> 31)) >>> 0);
    }
    case ScalarType.SINT64: {
      const n = BigInt(value as bigint);
      return varint64Size(BigInt.asUintN(64, (n << 1n) ^ (n >> 63n)));
    }
    default:
      // INT64, UINT64: the 64-bit two's complement as a varint.
      return varint64Size(BigInt.asUintN(64, BigInt(value as bigint)));
  }
}

/** A map key as the message holds it (an object key) back as its scalar. */
function mapKey(scalar: ScalarType, key: string): unknown {
  if (scalar === ScalarType.STRING) return key;
  if (scalar === ScalarType.BOOL) return key === "true";
  return scalar === ScalarType.INT64 ||
    scalar === ScalarType.UINT64 ||
    scalar === ScalarType.SINT64 ||
    scalar === ScalarType.FIXED64 ||
    scalar === ScalarType.SFIXED64
    ? BigInt(key)
    : Number(key);
}

/** An implicit-presence field at its default, which the encoding leaves out. */
function isZero(field: DescField, value: unknown): boolean {
  if (field.scalar === ScalarType.STRING) return value === "";
  if (field.scalar === ScalarType.BYTES) return (value as Uint8Array).byteLength === 0;
  // biome-ignore lint/suspicious/noDoubleEquals: 0, 0n, "0" (a long as string) and false
  return value == 0;
}

/** An int32 (or enum): a negative one takes ten bytes, sign-extended to 64 bits. */
function int32Size(value: number): number {
  return value < 0 ? 10 : varintSize(value);
}

function tagSize(fieldNumber: number): number {
  return varintSize(fieldNumber * 8);
}

function varintSize(value: number): number {
  let size = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 128);
    size++;
  }
  return size;
}

function varint64Size(value: bigint): number {
  let size = 1;
  while (value >= 0x80n) {
    value >>= 7n;
    size++;
  }
  return size;
}

/** The UTF-8 length of a string; a lone surrogate counts as U+FFFD, as TextEncoder writes it. */
function utf8Length(text: string): number {
  let length = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) length += 1;
    else if (code < 0x800) length += 2;
    else if (code >= 0xd800 && code < 0xdc00 && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next < 0xe000) {
        length += 4;
        i++;
      } else length += 3;
    } else length += 3;
  }
  return length;
}
