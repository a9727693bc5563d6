import {
  create,
  type DescEnum,
  type DescField,
  type DescMessage,
  type JsonValue,
  type MessageShape,
  ScalarType,
} from "@bufbuild/protobuf";
import { base64Decode, base64Encode } from "@bufbuild/protobuf/wire";
import { errorText } from "../core/error-text.ts";

// Protobuf JSON as etcd's gateway speaks it, for the messages of etcd's protos (proto3, no
// well-known types, no extensions): proto field names out, default values left out, unknown
// fields and enum names ignored in. The same output and the same messages as protobuf-es's
// toJsonString({ useProtoFieldName: true }) and fromJson({ ignoreUnknownFields: true })
// (test/unit/gateway-codec.test.ts compares them), without the general JSON codec, its
// well-known types and its registry, which are a third of the web entry's protobuf runtime.

type Fields = Record<string, unknown>;
type JsonObject = { [key: string]: JsonValue };

/** `FeatureSet.FieldPresence.IMPLICIT`: a proto3 scalar, absent on the wire when zero. */
const IMPLICIT = 2;
/** How deep messages may nest in a JSON message read, as in protobuf-es. */
const RECURSION_LIMIT = 100;
/** An enum name this code does not know, read from a newer etcd: the field stays unset. */
const UNKNOWN_ENUM = Symbol("unknown enum");

/**
 * A message as the gateway's JSON request body: proto field names, in field-number order;
 * fields at their default value left out; 64-bit integers as strings, bytes as base64, enums by
 * name.
 *
 * @example
 * const body = toGatewayJson(PutRequestSchema, create(PutRequestSchema, { key, value }));
 */
export function toGatewayJson<D extends DescMessage>(schema: D, message: MessageShape<D>): string {
  return JSON.stringify(writeMessage(schema, message as unknown as Fields));
}

/**
 * A message from the gateway's JSON: either field name (proto or JSON) is accepted, unknown
 * fields and unknown enum names are skipped, null leaves a field at its default.
 *
 * @example
 * const response = fromGatewayJson(RangeResponseSchema, JSON.parse(text));
 */
export function fromGatewayJson<D extends DescMessage>(
  schema: D,
  json: JsonValue,
): MessageShape<D> {
  const message = create(schema);
  readMessage(schema, message as unknown as Fields, json, 0);
  return message;
}

const sortedFields = new WeakMap<DescMessage, readonly DescField[]>();

function writeMessage(desc: DescMessage, message: Fields): JsonObject {
  let fields = sortedFields.get(desc);
  if (fields === undefined) {
    fields = desc.fields.concat().sort((a, b) => a.number - b.number);
    sortedFields.set(desc, fields);
  }
  const first = fields[0];
  if (message.$typeName !== desc.typeName && first !== undefined) {
    throw new Error(`cannot use ${first} with message ${String(message.$typeName)}`);
  }
  const json: JsonObject = {};
  for (const field of fields) {
    const value = writeField(field, message);
    if (value !== undefined) json[field.name] = value;
  }
  return json;
}

/** The field's JSON, or undefined when it is left out (unset, or at its default). */
function writeField(field: DescField, message: Fields): JsonValue | undefined {
  const value = message[field.localName];
  if (field.oneof !== undefined) {
    const oneof = message[field.oneof.localName] as { case?: string; value?: unknown };
    return oneof.case === field.localName ? writeValue(field, oneof.value) : undefined;
  }
  if (field.fieldKind === "list") {
    const items = value as unknown[];
    return items.length === 0 ? undefined : items.map((item) => writeValue(field, item));
  }
  if (field.fieldKind === "map") {
    const record = value as Fields;
    const keys = Object.keys(record);
    if (keys.length === 0) return undefined;
    const json: JsonObject = {};
    for (const key of keys) json[key] = writeValue(field, record[key]);
    return json;
  }
  if (field.presence !== IMPLICIT) {
    return value !== undefined && Object.hasOwn(message, field.localName)
      ? writeValue(field, value)
      : undefined;
  }
  const isDefault =
    field.fieldKind === "enum"
      ? value === field.enum.values[0]?.number
      : field.scalar === ScalarType.BYTES
        ? value instanceof Uint8Array && value.byteLength === 0
        : field.scalar === ScalarType.DOUBLE || field.scalar === ScalarType.FLOAT
          ? Object.is(value, 0)
          : field.scalar === ScalarType.BOOL
            ? value === false
            : field.scalar === ScalarType.STRING
              ? value === ""
              : // biome-ignore lint/suspicious/noDoubleEquals: 0, 0n and "0" are all the default
                value == 0;
  return isDefault ? undefined : writeValue(field, value);
}

/** One value of the field (an item of a list, a value of a map). */
function writeValue(field: DescField, value: unknown): JsonValue {
  if (field.message !== undefined) return writeMessage(field.message, value as Fields);
  if (field.enum !== undefined) {
    if (typeof value !== "number") {
      throw new Error(`cannot encode ${field.enum} to JSON: expected number, got ${show(value)}`);
    }
    return field.enum.value[value]?.jsonName ?? value;
  }
  const scalar = field.scalar as ScalarType;
  if (isLong(scalar)) {
    if (
      typeof value === "bigint" ||
      typeof value === "string" ||
      (typeof value === "number" && Number.isInteger(value))
    ) {
      return value.toString();
    }
  } else if (scalar === ScalarType.BYTES) {
    if (value instanceof Uint8Array) return base64Encode(value);
  } else if (scalar === ScalarType.STRING) {
    if (typeof value === "string") return value;
  } else if (scalar === ScalarType.BOOL) {
    if (typeof value === "boolean") return value;
  } else if (typeof value === "number") {
    if (scalar !== ScalarType.DOUBLE && scalar !== ScalarType.FLOAT) return value;
    return Number.isFinite(value) ? value : String(value);
  }
  throw new Error(
    `cannot encode ${field} to JSON: expected ${scalarName(scalar)}, got ${show(value)}`,
  );
}

const fieldsByKey = new WeakMap<DescMessage, Map<string, DescField>>();

function readMessage(desc: DescMessage, message: Fields, json: JsonValue, depth: number): void {
  if (depth >= RECURSION_LIMIT) {
    throw new Error(
      `cannot decode ${desc} from JSON: maximum recursion depth of ${RECURSION_LIMIT} reached`,
    );
  }
  if (json === null || Array.isArray(json) || typeof json !== "object") {
    throw new Error(`cannot decode ${desc} from JSON: ${show(json)}`);
  }
  let byKey = fieldsByKey.get(desc);
  if (byKey === undefined) {
    byKey = new Map();
    for (const field of desc.fields) byKey.set(field.name, field).set(field.jsonName, field);
    fieldsByKey.set(desc, byKey);
  }
  const seen = new Set<DescField>();
  const oneofSeen = new Map<unknown, DescField>();
  for (const key of Object.keys(json)) {
    const field = byKey.get(key);
    if (field === undefined) continue;
    const value = json[key] as JsonValue;
    if (seen.has(field)) throw fieldError(field, "set multiple times");
    seen.add(field);
    if (field.oneof !== undefined) {
      if (value === null && field.fieldKind === "scalar") continue;
      const other = oneofSeen.get(field.oneof);
      if (other !== undefined) {
        throw new Error(
          `cannot decode ${field.oneof} from JSON: oneof set multiple times by ${other.name} and ${field.name}`,
        );
      }
      oneofSeen.set(field.oneof, field);
    }
    readField(field, message, value, depth);
  }
}

function readField(field: DescField, message: Fields, json: JsonValue, depth: number): void {
  const local = field.localName;
  if (field.fieldKind === "list") {
    if (json === null) return;
    if (!Array.isArray(json)) throw fieldError(field, `expected Array, got ${show(json)}`);
    const items = message[local] as unknown[];
    for (const item of json) {
      if (item === null) throw fieldError(field, "list item must not be null");
      const value = readValue(field, item, depth, ` list item #${items.length + 1}:`);
      if (value !== UNKNOWN_ENUM) items.push(value);
    }
    return;
  }
  if (field.fieldKind === "map") {
    if (json === null) return;
    if (typeof json !== "object" || Array.isArray(json)) {
      throw fieldError(field, `expected object, got ${show(json)}`);
    }
    const record = message[local] as Fields;
    for (const key of Object.keys(json)) {
      const item = json[key] as JsonValue;
      if (item === null) throw fieldError(field, "map value must not be null");
      const value = readValue(field, item, depth, ` map entry ${show(key)}:`);
      if (value !== UNKNOWN_ENUM) record[readMapKey(field, key)] = value;
    }
    return;
  }
  const oneof = field.oneof?.localName;
  if (json === null) {
    if (oneof !== undefined) {
      if ((message[oneof] as { case?: string }).case === local)
        message[oneof] = { case: undefined };
    } else if (field.presence !== IMPLICIT) {
      delete message[local];
    } else {
      message[local] = zeroOf(field);
    }
    return;
  }
  const value = readValue(field, json, depth, "");
  if (value === UNKNOWN_ENUM) return;
  if (oneof !== undefined) message[oneof] = { case: local, value };
  else message[local] = value;
}

/** The default of an implicit-presence scalar or enum field. */
function zeroOf(field: DescField): unknown {
  if (field.enum !== undefined) return field.enum.values[0]?.number;
  const scalar = field.scalar as ScalarType;
  if (isLong(scalar)) return longAsString(field) ? "0" : 0n;
  if (scalar === ScalarType.BYTES) return new Uint8Array(0);
  if (scalar === ScalarType.STRING) return "";
  if (scalar === ScalarType.BOOL) return false;
  return 0;
}

/** One value of the field from JSON, or UNKNOWN_ENUM; `where` places an error in a list or map. */
function readValue(field: DescField, json: JsonValue, depth: number, where: string): unknown {
  if (field.message !== undefined) {
    const child = create(field.message) as unknown as Fields;
    readMessage(field.message, child, json, depth + 1);
    return child;
  }
  if (field.enum !== undefined) {
    const value = readEnum(field.enum, json);
    if (value !== UNKNOWN_ENUM && !isInt32(value as number)) {
      throw fieldError(field, `${where} expected number (int32), got ${show(value)}`);
    }
    return value;
  }
  const scalar = field.scalar as ScalarType;
  const value = readScalar(field, scalar, json);
  if (value === undefined) {
    throw fieldError(field, `${where} expected ${scalarName(scalar)}, got ${show(json)}`);
  }
  return value;
}

function readEnum(desc: DescEnum, json: JsonValue): number | typeof UNKNOWN_ENUM {
  if (typeof json === "number" && Number.isInteger(json)) return json;
  if (typeof json === "string") {
    return desc.values.find((v) => v.jsonName === json || v.name === json)?.number ?? UNKNOWN_ENUM;
  }
  throw new Error(`cannot decode ${desc} from JSON: ${show(json)}`);
}

/** The scalar, or undefined when the JSON is not one of its forms. */
function readScalar(field: DescField, scalar: ScalarType, json: JsonValue): unknown {
  switch (scalar) {
    case ScalarType.STRING:
      return typeof json === "string" && isWellFormed(json) ? json : undefined;
    case ScalarType.BOOL:
      return typeof json === "boolean" ? json : undefined;
    case ScalarType.BYTES:
      if (typeof json !== "string") return undefined;
      try {
        return json === "" ? new Uint8Array(0) : base64Decode(json);
      } catch (error) {
        throw fieldError(field, errorText(error));
      }
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT: {
      if (json === "NaN") return Number.NaN;
      if (json === "Infinity") return Number.POSITIVE_INFINITY;
      if (json === "-Infinity") return Number.NEGATIVE_INFINITY;
      const value = typeof json === "string" ? numeric(json) : json;
      if (typeof value !== "number" || !Number.isFinite(value)) return undefined;
      return scalar === ScalarType.FLOAT && Math.abs(value) > 3.4028234663852886e38
        ? undefined
        : value;
    }
  }
  if (isLong(scalar)) {
    if (typeof json !== "number" && (typeof json !== "string" || json === "")) return undefined;
    let value: bigint;
    try {
      value = BigInt(json);
    } catch {
      return undefined;
    }
    const signed =
      scalar === ScalarType.INT64 || scalar === ScalarType.SINT64 || scalar === ScalarType.SFIXED64;
    if ((signed ? BigInt.asIntN(64, value) : BigInt.asUintN(64, value)) !== value) return undefined;
    return longAsString(field) ? String(value) : value;
  }
  const value = typeof json === "string" ? numeric(json) : json;
  if (typeof value !== "number") return undefined;
  const unsigned = scalar === ScalarType.UINT32 || scalar === ScalarType.FIXED32;
  return unsigned
    ? Number.isInteger(value) && value >= 0 && value <= 0xffffffff
      ? value
      : undefined
    : isInt32(value)
      ? value
      : undefined;
}

function readMapKey(field: DescField, key: string): string {
  if (field.fieldKind === "map" && isLong(field.mapKey))
    return /^-?0+$/.test(key) ? "0" : key.replace(/^(-?)0+(?=\d)/, "$1");
  return key;
}

/** A number written as a JSON string ("12", "1e3"); undefined when it is none. */
function numeric(text: string): number | undefined {
  if (text === "" || text.trim() !== text) return undefined;
  const value = Number(text);
  return Number.isNaN(value) ? undefined : value;
}

/** `[jstype = JS_STRING]`: the field holds 64-bit integers as strings (never a map's values). */
function longAsString(field: DescField): boolean {
  return "longAsString" in field && field.longAsString;
}

/** The 64-bit integer types, as bits by `ScalarType` number. */
const LONG =
  (1 << ScalarType.INT64) |
  (1 << ScalarType.UINT64) |
  (1 << ScalarType.SINT64) |
  (1 << ScalarType.FIXED64) |
  (1 << ScalarType.SFIXED64);

function isLong(scalar: ScalarType): boolean {
  return ((1 << scalar) & LONG) !== 0;
}

function isInt32(value: number): boolean {
  return Number.isInteger(value) && value >= -0x80000000 && value <= 0x7fffffff;
}

function isWellFormed(text: string): boolean {
  return (text as { isWellFormed?: () => boolean }).isWellFormed?.() !== false;
}

function scalarName(scalar: ScalarType): string {
  return ScalarType[scalar].toLowerCase();
}

function fieldError(field: DescField, reason: string): Error {
  return new Error(
    `cannot decode ${field} from JSON:${reason.startsWith(" ") ? "" : " "}${reason}`,
  );
}

function show(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}
