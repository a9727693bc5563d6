/**
 * The lean transport's hand-written RangeRequest and PutRequest frames against protobuf-es: the
 * same bytes for any message, and a fall back to protobuf-es for what the hand encoder leaves
 * alone. A real etcd cannot be made to receive every int64 and enum edge on demand.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { create, type DescMessage, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import fc from "fast-check";
import {
  LeaseGrantRequestSchema,
  PutRequestSchema,
  type RangeRequest_SortOrder,
  RangeRequestSchema,
} from "../../gen/etcdserverpb/rpc_pb.ts";
import { encodeFrame } from "../../src/connection/grpc-frame.ts";
import { knownRequestFrame } from "../../src/connection/kv-request-frames.ts";

const int64 = fc.oneof(
  fc.constant(0n),
  fc.bigInt({ min: 1n, max: 2n ** 31n + 5n }),
  fc.bigInt({ min: 2n ** 31n - 5n, max: 2n ** 50n }),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
);
const bytes = fc.oneof(
  fc.uint8Array({ maxLength: 12 }),
  fc.uint8Array({ minLength: 120, maxLength: 20_000 }),
);
const enumValue = fc.oneof(
  fc.constant(0),
  fc.integer({ min: 1, max: 2 }),
  fc.integer({ min: 3, max: 2 ** 31 - 1 }),
);

const rangeModel = {
  key: bytes,
  rangeEnd: bytes,
  limit: int64,
  revision: int64,
  sortOrder: enumValue,
  sortTarget: enumValue,
  serializable: fc.boolean(),
  keysOnly: fc.boolean(),
  countOnly: fc.boolean(),
  minModRevision: int64,
  maxModRevision: int64,
  minCreateRevision: int64,
  maxCreateRevision: int64,
};
const putModel = {
  key: bytes,
  value: bytes,
  lease: int64,
  prevKv: fc.boolean(),
  ignoreValue: fc.boolean(),
  ignoreLease: fc.boolean(),
};
const rangeRequest = fc.record(rangeModel);
const putRequest = fc.record(putModel);
// The same fields, each present or absent, as the facade's init objects come.
const rangeInit = fc.record(rangeModel, { requiredKeys: [] });
const putInit = fc.record(putModel, { requiredKeys: [] });

function protobufFrame(schema: DescMessage, message: object): Buffer {
  // biome-ignore lint/suspicious/noExplicitAny: the schema and message are paired by the caller
  return encodeFrame(toBinary(schema, message as any));
}

describe("knownRequestFrame", () => {
  test("a RangeRequest is the frame protobuf-es writes, for any field values", () => {
    fc.assert(
      fc.property(rangeRequest, (init) => {
        // Any int32 goes into the enum fields, as the raw client lets it.
        const message = create(
          RangeRequestSchema,
          init as unknown as MessageInitShape<typeof RangeRequestSchema>,
        );
        const frame = knownRequestFrame(RangeRequestSchema, message);
        assert.ok(frame);
        assert.deepEqual(frame, protobufFrame(RangeRequestSchema, message));
      }),
      { numRuns: 2_000 },
    );
  });

  test("a PutRequest is the frame protobuf-es writes, for any field values", () => {
    fc.assert(
      fc.property(putRequest, (init) => {
        const message = create(PutRequestSchema, init);
        const frame = knownRequestFrame(PutRequestSchema, message);
        assert.ok(frame);
        assert.deepEqual(frame, protobufFrame(PutRequestSchema, message));
      }),
      { numRuns: 2_000 },
    );
  });

  test("an init object (the facade's requests; absent fields are zero) gives its message's frame", () => {
    fc.assert(
      fc.property(rangeInit, (init) => {
        const frame = knownRequestFrame(RangeRequestSchema, init);
        assert.ok(frame);
        const message = create(
          RangeRequestSchema,
          init as unknown as MessageInitShape<typeof RangeRequestSchema>,
        );
        assert.deepEqual(frame, protobufFrame(RangeRequestSchema, message));
      }),
      { numRuns: 2_000 },
    );
    fc.assert(
      fc.property(putInit, (init) => {
        const frame = knownRequestFrame(PutRequestSchema, init);
        assert.ok(frame);
        const message = create(PutRequestSchema, init);
        assert.deepEqual(frame, protobufFrame(PutRequestSchema, message));
      }),
      { numRuns: 2_000 },
    );
  });

  test("leaves values of another type than the generated one to protobuf-es", () => {
    const key = new Uint8Array([1]);
    for (const init of [
      { key, limit: 5 },
      { key, revision: 2n ** 63n },
      { key, revision: -(2n ** 63n) - 1n },
      { key, serializable: 1 },
      { key, sortOrder: 1.5 },
      { key, sortOrder: "1" },
      { key: "k" },
    ]) {
      assert.equal(
        knownRequestFrame(RangeRequestSchema, init),
        undefined,
        String(Object.keys(init)),
      );
    }
    assert.equal(knownRequestFrame(PutRequestSchema, { key, lease: 7 }), undefined);
    assert.equal(knownRequestFrame(PutRequestSchema, undefined), undefined);
    assert.equal(knownRequestFrame(PutRequestSchema, null), undefined);
    // The extremes int64 holds are written.
    for (const revision of [2n ** 63n - 1n, -(2n ** 63n)]) {
      assert.deepEqual(
        knownRequestFrame(RangeRequestSchema, { key, revision }),
        protobufFrame(RangeRequestSchema, create(RangeRequestSchema, { key, revision })),
      );
    }
  });

  test("an empty request is a bare prefix", () => {
    assert.deepEqual(
      knownRequestFrame(RangeRequestSchema, create(RangeRequestSchema)),
      Buffer.from([0, 0, 0, 0, 0]),
    );
  });

  test("leaves other messages, unknown fields and negative enum values to protobuf-es", () => {
    assert.equal(
      knownRequestFrame(LeaseGrantRequestSchema, create(LeaseGrantRequestSchema)),
      undefined,
    );
    const unknown = create(PutRequestSchema, { key: new Uint8Array([1]) });
    unknown.$unknown = [{ no: 99, wireType: 0, data: new Uint8Array([1]) }];
    assert.equal(knownRequestFrame(PutRequestSchema, unknown), undefined);
    const negative = create(RangeRequestSchema, { sortOrder: -1 as RangeRequest_SortOrder });
    assert.equal(knownRequestFrame(RangeRequestSchema, negative), undefined);
  });
});
