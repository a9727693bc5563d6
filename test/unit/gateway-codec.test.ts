import assert from "node:assert/strict";
import { test } from "node:test";
import {
  create,
  type DescField,
  type DescMessage,
  fromJson,
  type JsonValue,
  ScalarType,
  toBinary,
  toJsonString,
} from "@bufbuild/protobuf";
import fc from "fast-check";
import { file_authpb_auth } from "../../gen/authpb/auth_pb.ts";
import {
  AuthenticateRequestSchema,
  CompareSchema,
  file_etcdserverpb_rpc,
  WatchRequestSchema,
} from "../../gen/etcdserverpb/rpc_pb.ts";
import { file_mvccpb_kv } from "../../gen/mvccpb/kv_pb.ts";
import { file_v3electionpb_v3election } from "../../gen/v3electionpb/v3election_pb.ts";
import { file_v3lockpb_v3lock } from "../../gen/v3lockpb/v3lock_pb.ts";
import { fromGatewayJson, toGatewayJson } from "../../src/gateway/gateway-codec.ts";
import { protobufSize } from "../../src/gateway/protobuf-size.ts";

// The web entry's JSON codec (and its protobuf size, for the size limits) must write and read exactly what protobuf-es's general codec does
// with the options the gateway used before (useProtoFieldName; ignoreUnknownFields), for every
// message of etcd's protos. JSON that etcd never writes (numbers as strings, camelCase names,
// unknown enum names from a newer etcd, nulls) is compared here, where it can be produced.

const WRITE = { useProtoFieldName: true } as const;
const READ = { ignoreUnknownFields: true } as const;

const messages: DescMessage[] = [];
const collect = (list: readonly DescMessage[]) => {
  for (const m of list) {
    messages.push(m);
    collect(m.nestedMessages);
  }
};
for (const file of [
  file_etcdserverpb_rpc,
  file_mvccpb_kv,
  file_authpb_auth,
  file_v3electionpb_v3election,
  file_v3lockpb_v3lock,
]) {
  collect(file.messages);
}

const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
const uint64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });

function scalar(type: ScalarType): fc.Arbitrary<unknown> {
  switch (type) {
    case ScalarType.STRING:
      return fc.oneof(
        fc.constant(""),
        fc.string({ unit: "grapheme" }),
        fc.string({ unit: "binary" }),
      );
    case ScalarType.BYTES:
      return fc.oneof(fc.constant(new Uint8Array(0)), fc.uint8Array({ maxLength: 40 }));
    case ScalarType.BOOL:
      return fc.boolean();
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return fc.oneof(fc.constant(0n), int64);
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return fc.oneof(fc.constant(0n), uint64);
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return fc.oneof(fc.constant(0), fc.nat({ max: 0xffffffff }));
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return fc.oneof(fc.constant(0), fc.integer());
    default:
      return fc.oneof(fc.constant(0), fc.integer(), fc.integer({ min: -(2 ** 31), max: -1 }));
  }
}

function value(field: DescField, depth: number): fc.Arbitrary<unknown> {
  if (field.message !== undefined) return init(field.message, depth + 1);
  if (field.enum !== undefined) {
    return fc.constantFrom(...field.enum.values.map((v) => v.number), 99);
  }
  return scalar(field.scalar as ScalarType);
}

/** A random message of `desc`: every field unset or set (default values included). */
function init(desc: DescMessage, depth = 0): fc.Arbitrary<unknown> {
  if (depth > 3) return fc.constant(create(desc));
  const parts: Record<string, fc.Arbitrary<unknown>> = {};
  for (const field of desc.fields) {
    if (field.oneof !== undefined) continue;
    parts[field.localName] =
      field.fieldKind === "list"
        ? fc.array(value(field, depth), { maxLength: 3 })
        : value(field, depth);
  }
  for (const oneof of desc.oneofs) {
    parts[oneof.localName] = fc.oneof(
      fc.constant({ case: undefined }),
      ...oneof.fields.map((f) => value(f, depth).map((v) => ({ case: f.localName, value: v }))),
    );
  }
  return fc
    .record(parts, { requiredKeys: [] })
    .map((fields) => create(desc, fields as Record<string, never>));
}

test("every etcd message is written as protobuf-es writes it, and read back the same", () => {
  for (const desc of messages) {
    fc.assert(
      fc.property(init(desc), (message) => {
        const expected = toJsonString(desc, message as never, WRITE);
        assert.equal(toGatewayJson(desc, message as never), expected, desc.typeName);
        const json = JSON.parse(expected) as JsonValue;
        assert.deepEqual(fromGatewayJson(desc, json), fromJson(desc, json, READ), desc.typeName);
      }),
      { numRuns: 40 },
    );
  }
});

test("JSON etcd does not write is read as protobuf-es reads it", () => {
  const cases: [DescMessage, JsonValue][] = [
    // camelCase names, numbers as strings and numbers, enum numbers and unknown names
    [CompareSchema, { result: 2, target: "LEASE", key: "a2V5", lease: 7, rangeEnd: "AA==" }],
    [CompareSchema, { target: "NOT_YET_INVENTED", version: "12", result: "GREATER" }],
    [CompareSchema, { create_revision: "-5", value: null, mod_revision: null }],
    [CompareSchema, { lease: "9223372036854775807", key: "a2V5-_w", unknown: { x: [1] } }],
    [
      WatchRequestSchema,
      {
        createRequest: {
          key: "",
          filters: ["NOPUT", 1, "SOMEDAY"],
          start_revision: 3,
          watch_id: "4",
          fragment: true,
        },
      },
    ],
    [WatchRequestSchema, { progress_request: {}, unknown_field: null }],
    [WatchRequestSchema, { cancel_request: null }],
    [WatchRequestSchema, { cancelRequest: { watchId: -1 } }],
  ];
  for (const [desc, json] of cases) {
    assert.deepEqual(fromGatewayJson(desc, json), fromJson(desc, json, READ), JSON.stringify(json));
  }
});

test("JSON that is no message of the schema fails, as with protobuf-es", () => {
  const cases: [DescMessage, JsonValue][] = [
    [CompareSchema, []],
    [CompareSchema, { version: "x" }],
    [CompareSchema, { version: 1.5 }],
    [CompareSchema, { lease: "9223372036854775808" }],
    [CompareSchema, { key: 5 }],
    [CompareSchema, { key: "a", value: "b", value_: 1, valueX: 2, target_union: 1 }],
    [CompareSchema, { value: "a", lease: "1" }],
    [CompareSchema, { target: true }],
    [WatchRequestSchema, { create_request: { filters: [null] } }],
    [WatchRequestSchema, { create_request: { fragment: "true" } }],
    [WatchRequestSchema, { create_request: { filters: {} } }],
    [WatchRequestSchema, { cancel_request: { watch_id: "1" }, progressRequest: {} }],
    [WatchRequestSchema, { progress_request: {}, create_request: null }],
  ];
  for (const [desc, json] of cases) {
    let reference: unknown;
    try {
      reference = fromJson(desc, json, READ);
    } catch (error) {
      reference = error;
    }
    if (reference instanceof Error) {
      assert.throws(() => fromGatewayJson(desc, json), Error, JSON.stringify(json));
    } else {
      assert.deepEqual(fromGatewayJson(desc, json), reference, JSON.stringify(json));
    }
  }
});

test("the protobuf size of every etcd message is toBinary's length", () => {
  for (const desc of messages) {
    fc.assert(
      fc.property(init(desc), (message) => {
        const expected = toBinary(desc, message as never).byteLength;
        assert.equal(protobufSize(desc, message as never), expected, desc.typeName);
      }),
      { numRuns: 40 },
    );
  }
  // Strings count in UTF-8: two, three and four bytes, and a lone surrogate (written as U+FFFD).
  const names = create(AuthenticateRequestSchema, { name: "é€😀\ud800x", password: "\udc00" });
  assert.equal(
    protobufSize(AuthenticateRequestSchema, names),
    toBinary(AuthenticateRequestSchema, names).byteLength,
  );
  // Unknown fields count too (a message read from a newer etcd over gRPC, passed on).
  const withUnknown = create(CompareSchema, { key: new Uint8Array([1]) });
  withUnknown.$unknown = [{ no: 99, wireType: 2, data: new Uint8Array([2, 7, 7]) }];
  assert.equal(
    protobufSize(CompareSchema, withUnknown),
    toBinary(CompareSchema, withUnknown).byteLength,
  );
});
