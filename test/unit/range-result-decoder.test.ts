import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import fc from "fast-check";
import { RangeResponseSchema } from "../../gen/etcdserverpb/rpc_pb.ts";
import { Keyspace } from "../../src/kv/keyspace.ts";
import { toRangeResult } from "../../src/kv/kv-wire.ts";
import { RangeResultDecoder } from "../../src/kv/range-result-decoder.ts";
import type { RangeResult } from "../../src/kv/results.ts";
import {
  cutPayload,
  int64,
  keyValue,
  responseHeader,
  unknownFields,
} from "../support/kv-wire-inputs.ts";

const rangeResponse = fc.record({
  header: fc.option(responseHeader, { nil: undefined }),
  kvs: fc.array(keyValue, { maxLength: 20 }),
  more: fc.boolean(),
  count: int64,
});

function decode(pieces: Uint8Array[], keyspace: Keyspace): RangeResult {
  const decoder = new RangeResultDecoder(keyspace);
  for (const piece of pieces) decoder.push(piece);
  return decoder.finish();
}

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
          const actual = decode(cutPayload(payload, offsets), keyspace);
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
    const actual = decode(cutPayload(payload, [...payload.keys()]), new Keyspace());
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
