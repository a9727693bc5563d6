import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import fc from "fast-check";
import { RangeResponseSchema } from "../../gen/etcdserverpb/rpc_pb.ts";
import { Keyspace } from "../../src/kv/keyspace.ts";
import { toRangeResult } from "../../src/kv/kv-wire.ts";
import { RangeResultDecoder } from "../../src/kv/range-result-decoder.ts";
import type { RangeResult } from "../../src/kv/results.ts";

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

const int64 = fc.oneof(
  fc.bigInt({ min: 0n, max: 2n ** 20n }),
  fc.bigInt({ min: 2n ** 48n, max: 2n ** 50n }),
  fc.bigInt({ min: INT64_MIN, max: INT64_MAX }),
);
const uint64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
const bytes = fc.oneof(
  fc.uint8Array({ maxLength: 12 }),
  fc.uint8Array({ minLength: 120, maxLength: 400 }),
);

const rangeResponse = fc.record({
  header: fc.option(
    fc.record({ clusterId: uint64, memberId: uint64, revision: int64, raftTerm: uint64 }),
    { nil: undefined },
  ),
  kvs: fc.array(
    fc.record({
      key: bytes,
      value: bytes,
      createRevision: int64,
      modRevision: int64,
      version: int64,
      lease: int64,
    }),
    { maxLength: 20 },
  ),
  more: fc.boolean(),
  count: int64,
});

/** The payload cut at the given (sorted, deduplicated) offsets. */
function cut(payload: Uint8Array, offsets: number[]): Uint8Array[] {
  const points = [...new Set(offsets.map((o) => o % (payload.length + 1)))].sort((a, b) => a - b);
  const pieces: Uint8Array[] = [];
  let start = 0;
  for (const point of [...points, payload.length]) {
    pieces.push(payload.slice(start, point));
    start = point;
  }
  return pieces;
}

function decode(pieces: Uint8Array[], keyspace: Keyspace): RangeResult {
  const decoder = new RangeResultDecoder(keyspace);
  for (const piece of pieces) decoder.push(piece);
  return decoder.finish();
}

/** An unknown field of every wire type, as a newer etcd might add. */
const unknownFields = new Uint8Array([
  ...[0x78, 0x96, 0x01], // field 15, varint 150
  ...[0x81, 0x01, 1, 2, 3, 4, 5, 6, 7, 8], // field 16, fixed64
  ...[0x8a, 0x01, 3, 0x61, 0x62, 0x63], // field 17, 3 bytes
  ...[0x95, 0x01, 1, 2, 3, 4], // field 18, fixed32
]);

describe("RangeResultDecoder", () => {
  test("gives what protobuf-es and toRangeResult give, however the payload is cut", () => {
    fc.assert(
      fc.property(
        rangeResponse,
        fc.array(fc.nat(), { maxLength: 30 }),
        fc.constantFrom("", "app/"),
        fc.boolean(),
        (init, offsets, namespace, withUnknown) => {
          const keyspace = new Keyspace(new TextEncoder().encode(namespace));
          const message = create(RangeResponseSchema, {
            ...init,
            kvs: init.kvs.map((kv) => ({ ...kv, key: keyspace.encodeKey(kv.key) })),
          });
          let payload = toBinary(RangeResponseSchema, message);
          if (withUnknown) payload = new Uint8Array([...unknownFields, ...payload]);
          const expected = toRangeResult(fromBinary(RangeResponseSchema, payload), keyspace);
          const actual = decode(cut(payload, offsets), keyspace);
          assert.deepEqual(actual, expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  test("also cut into single bytes", () => {
    const message = create(RangeResponseSchema, {
      header: { revision: 2n ** 62n, clusterId: 2n ** 64n - 1n },
      kvs: [{ key: new Uint8Array([1, 2]), value: new Uint8Array(300).fill(7), lease: -1n }],
      count: 1n,
    });
    const payload = toBinary(RangeResponseSchema, message);
    const actual = decode(cut(payload, [...payload.keys()]), new Keyspace());
    assert.deepEqual(actual, toRangeResult(message, new Keyspace()));
    assert.equal(actual.kvs[0]?.lease, -1n);
    assert.equal(actual.header.clusterId, 2n ** 64n - 1n);
  });

  test("an empty payload is an empty result", () => {
    const result = decode([], new Keyspace());
    assert.deepEqual(result.kvs, []);
    assert.equal(result.count, 0n);
    assert.equal(result.revision, 0n);
  });

  test("a payload cut inside a field is an error, not a shorter result", () => {
    const payload = toBinary(
      RangeResponseSchema,
      create(RangeResponseSchema, {
        kvs: [{ key: new Uint8Array([1]), value: new Uint8Array(50) }],
      }),
    );
    const decoder = new RangeResultDecoder(new Keyspace());
    decoder.push(payload.subarray(0, payload.length - 3));
    assert.throws(() => decoder.finish(), /cut short/);
  });

  test("a known field with the wrong wire type is an error", () => {
    // Field 2 (kvs) as a varint.
    assert.throws(() => decode([new Uint8Array([0x10, 0x01])], new Keyspace()), /wire type/);
  });
});
