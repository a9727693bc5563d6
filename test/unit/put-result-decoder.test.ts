/**
 * The hand-written PutResponse decoder against protobuf-es: for randomized responses (64-bit
 * extremes, a previous key-value or none, a namespace, unknown fields, any cut into pieces) it
 * must give what `fromBinary` and `toPutResult` give. etcd cannot be made to send every one.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import fc from "fast-check";
import { PutResponseSchema } from "../../gen/etcdserverpb/rpc_pb.ts";
import { Keyspace } from "../../src/kv/keyspace.ts";
import { toPutResult } from "../../src/kv/kv-wire.ts";
import { PutResultDecoder } from "../../src/kv/put-result-decoder.ts";
import type { PutResult } from "../../src/kv/results.ts";
import { cutPayload, keyValue, responseHeader, unknownFields } from "../support/kv-wire-inputs.ts";

const putResponse = fc.record({
  header: fc.option(responseHeader, { nil: undefined }),
  prevKv: fc.option(keyValue, { nil: undefined }),
});

function decode(pieces: Uint8Array[], keyspace: Keyspace): PutResult {
  const decoder = new PutResultDecoder(keyspace);
  for (const piece of pieces) decoder.push(piece);
  return decoder.finish();
}

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
          const actual = decode(cutPayload(payload, offsets), keyspace);
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
