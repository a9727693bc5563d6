import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import fc from "fast-check";
import { PutResponseSchema } from "../../gen/etcdserverpb/rpc_pb.ts";
import { Keyspace } from "../../src/kv/keyspace.ts";
import { toPutResult } from "../../src/kv/kv-wire.ts";
import { PutResultDecoder } from "../../src/kv/put-result-decoder.ts";
import type { PutResult } from "../../src/kv/results.ts";

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const int64 = fc.oneof(
  fc.bigInt({ min: 0n, max: 2n ** 20n }),
  fc.bigInt({ min: INT64_MIN, max: INT64_MAX }),
);
const uint64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
const bytes = fc.oneof(
  fc.uint8Array({ maxLength: 12 }),
  fc.uint8Array({ minLength: 120, maxLength: 400 }),
);

const putResponse = fc.record({
  header: fc.option(
    fc.record({ clusterId: uint64, memberId: uint64, revision: int64, raftTerm: uint64 }),
    { nil: undefined },
  ),
  prevKv: fc.option(
    fc.record({
      key: bytes,
      value: bytes,
      createRevision: int64,
      modRevision: int64,
      version: int64,
      lease: int64,
    }),
    { nil: undefined },
  ),
});

/** The payload cut at the given offsets. */
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

function decode(pieces: Uint8Array[], keyspace: Keyspace): PutResult {
  const decoder = new PutResultDecoder(keyspace);
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

describe("PutResultDecoder", () => {
  test("gives what protobuf-es and toPutResult give, however the payload is cut", () => {
    fc.assert(
      fc.property(
        putResponse,
        fc.array(fc.nat(), { maxLength: 10 }),
        fc.constantFrom("", "app/"),
        fc.boolean(),
        (init, offsets, namespace, withUnknown) => {
          const keyspace = new Keyspace(new TextEncoder().encode(namespace));
          const message = create(PutResponseSchema, {
            ...(init.header && { header: init.header }),
            ...(init.prevKv && {
              prevKv: { ...init.prevKv, key: keyspace.encodeKey(init.prevKv.key) },
            }),
          });
          let payload = toBinary(PutResponseSchema, message);
          if (withUnknown) payload = new Uint8Array([...unknownFields, ...payload]);
          const expected = toPutResult(fromBinary(PutResponseSchema, payload), keyspace);
          const actual = decode(cut(payload, offsets), keyspace);
          assert.deepEqual(actual, expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  test("a namespace's prefix is taken off the previous key", () => {
    const keyspace = new Keyspace(new TextEncoder().encode("app/"));
    const payload = toBinary(
      PutResponseSchema,
      create(PutResponseSchema, {
        header: { revision: 42n, clusterId: 2n ** 64n - 1n },
        prevKv: { key: new TextEncoder().encode("app/cfg"), value: new Uint8Array([1]) },
      }),
    );
    const result = decode([payload], keyspace);
    assert.equal(result.revision, 42n);
    assert.equal(result.header.clusterId, 2n ** 64n - 1n);
    assert.equal(result.prevKv?.keyText, "cfg");
  });

  test("an empty payload is a result at revision 0 without a previous key", () => {
    const result = decode([], new Keyspace());
    assert.equal(result.revision, 0n);
    assert.equal(result.prevKv, undefined);
  });

  test("a payload cut inside a field is an error, not a shorter result", () => {
    const payload = toBinary(
      PutResponseSchema,
      create(PutResponseSchema, {
        header: { revision: 7n },
        prevKv: { value: new Uint8Array(50) },
      }),
    );
    assert.throws(() => decode([payload.subarray(0, payload.length - 3)], new Keyspace()), /past/);
  });

  test("a known field with the wrong wire type is an error", () => {
    // Field 1 (header) as a varint.
    assert.throws(() => decode([new Uint8Array([0x08, 0x01])], new Keyspace()), /wire type/);
  });
});
