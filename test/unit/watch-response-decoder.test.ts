/**
 * The hand-written WatchResponse decoder of the frame-stream watch path against protobuf-es: for
 * randomized responses (every field, prev_kv, fragments, progress and cancel replies, 64-bit
 * extremes, a namespace, unknown fields) it must give what `fromBinary` and `messageReply` give,
 * events and the per-revision batches built only when taken alike.
 * etcd cannot be made to send every combination on demand.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import fc from "fast-check";
import { WatchResponseSchema } from "../../gen/etcdserverpb/rpc_pb.ts";
import { Event_EventType } from "../../gen/mvccpb/kv_pb.ts";
import { Keyspace } from "../../src/kv/keyspace.ts";
import type { WatchEvent } from "../../src/watch/events.ts";
import { readyBatch } from "../../src/watch/pending-batch.ts";
import { messageReply, type WatchReply } from "../../src/watch/watch-reply.ts";
import { WatchResponseDecoder } from "../../src/watch/watch-response-decoder.ts";

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

const int64 = fc.oneof(
  fc.bigInt({ min: 0n, max: 2n ** 20n }),
  fc.bigInt({ min: 2n ** 48n, max: 2n ** 50n }),
  fc.bigInt({ min: INT64_MIN, max: INT64_MAX }),
  fc.constant(-1n),
);
const uint64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
const bytes = fc.oneof(
  fc.uint8Array({ maxLength: 12 }),
  fc.uint8Array({ minLength: 120, maxLength: 400 }),
);
const keyValue = fc.record({
  key: bytes,
  value: bytes,
  createRevision: int64,
  // Often one of a few: consecutive events of one revision make batches of several events.
  modRevision: fc.oneof(int64, fc.constantFrom(5n, 6n, 7n)),
  version: int64,
  lease: int64,
});
const event = fc.record({
  type: fc.constantFrom(Event_EventType.PUT, Event_EventType.DELETE),
  kv: keyValue,
  prevKv: fc.option(keyValue, { nil: undefined }),
});
const watchResponse = fc.record({
  header: fc.option(
    fc.record({ clusterId: uint64, memberId: uint64, revision: int64, raftTerm: uint64 }),
    { nil: undefined },
  ),
  watchId: int64,
  created: fc.boolean(),
  canceled: fc.boolean(),
  compactRevision: int64,
  cancelReason: fc.oneof(fc.constant(""), fc.string(), fc.string({ unit: "grapheme" })),
  fragment: fc.boolean(),
  events: fc.array(event, { maxLength: 12 }),
});

/** An unknown field of every wire type, as a newer etcd might add. */
const unknownFields = new Uint8Array([
  ...[0xf8, 0x01, 0x96, 0x01], // field 31, varint 150
  ...[0x81, 0x02, 1, 2, 3, 4, 5, 6, 7, 8], // field 32, fixed64
  ...[0x8a, 0x02, 3, 0x61, 0x62, 0x63], // field 33, 3 bytes
  ...[0x95, 0x02, 1, 2, 3, 4], // field 34, fixed32
]);

/** Everything a reply tells, as plain data. */
function plain(reply: WatchReply, keyspace: Keyspace) {
  return {
    header: { ...reply.header },
    watchId: reply.watchId,
    created: reply.created,
    canceled: reply.canceled,
    compactRevision: reply.compactRevision,
    cancelReason: reply.cancelReason,
    fragment: reply.fragment,
    eventCount: reply.eventCount,
    events: reply.events(keyspace).map(plainEvent),
    // Taken in reverse order: a pending batch decodes its own events, whatever was taken before.
    batches: reply
      .batches(keyspace)
      .reverse()
      .map((pending) => {
        const batch = readyBatch(pending);
        return { ...batch, header: { ...batch.header }, events: batch.events.map(plainEvent) };
      }),
  };
}

function plainEvent(e: WatchEvent) {
  return { type: e.type, kv: { ...e.kv }, prevKv: e.prevKv ? { ...e.prevKv } : undefined };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

describe("WatchResponseDecoder", () => {
  test("gives what protobuf-es fromBinary gives, for randomized responses: fields, events and batches per revision", () => {
    const decoder = new WatchResponseDecoder();
    fc.assert(
      fc.property(
        watchResponse,
        fc.constantFrom("", "app/"),
        fc.boolean(),
        (init, namespace, withUnknown) => {
          const keyspace = new Keyspace(new TextEncoder().encode(namespace));
          let payload: Uint8Array = toBinary(
            WatchResponseSchema,
            create(WatchResponseSchema, init),
          );
          if (withUnknown) payload = concat(unknownFields, concat(payload, unknownFields));
          const expected = plain(messageReply(fromBinary(WatchResponseSchema, payload)), keyspace);
          // Decoded inside a larger buffer, as a payload is a view of a received chunk.
          const chunk = concat(concat(new Uint8Array([9, 9, 9]), payload), new Uint8Array([7]));
          const view = chunk.subarray(3, 3 + payload.length);
          assert.deepEqual(plain(decoder.read(view), keyspace), expected);
        },
      ),
      { numRuns: 500 },
    );
  });

  test("revisions are compared by value: a mod_revision encoded in more bytes than needed, or 0 written out, joins its batch", () => {
    const decoder = new WatchResponseDecoder();
    const keyspace = new Keyspace();
    // key "a" (field 1), then mod_revision (field 3, varint) as given, or none
    const kv = (revision: number[]) => [
      0x0a,
      1,
      0x61,
      ...(revision.length ? [0x18] : []),
      ...revision,
    ];
    const event = (revision: number[]) => [0x12, kv(revision).length, ...kv(revision)];
    const events = [[0x05], [0x85, 0x00], [0x05], [], [0x00], [0x86, 0x80, 0x00]].map(event);
    const payload = Uint8Array.from(events.flatMap((e) => [0x5a, e.length, ...e]));
    const decoded = plain(decoder.read(payload), keyspace);
    assert.deepEqual(
      decoded,
      plain(messageReply(fromBinary(WatchResponseSchema, payload)), keyspace),
    );
    assert.deepEqual(decoded.batches.map((b) => [b.revision, b.events.length]).reverse(), [
      [5n, 3],
      [0n, 2],
      [6n, 1],
    ]);
  });

  test("a reused decoder forgets the previous response's fields and events", () => {
    const decoder = new WatchResponseDecoder();
    const keyspace = new Keyspace();
    const first = create(WatchResponseSchema, {
      header: { revision: 9n },
      watchId: 4n,
      created: true,
      canceled: true,
      compactRevision: 3n,
      cancelReason: "x",
      fragment: true,
      events: [{ kv: { key: new Uint8Array([1]), modRevision: 9n } }],
    });
    decoder.read(toBinary(WatchResponseSchema, first));
    const empty = decoder.read(new Uint8Array(0));
    assert.deepEqual(
      plain(empty, keyspace),
      plain(messageReply(create(WatchResponseSchema)), keyspace),
    );
  });

  test("an event without a key and a cut-off message are errors, as with protobuf-es", () => {
    const decoder = new WatchResponseDecoder();
    const keyspace = new Keyspace();
    const keyless = toBinary(
      WatchResponseSchema,
      create(WatchResponseSchema, { watchId: 1n, events: [{ type: Event_EventType.DELETE }] }),
    );
    assert.throws(() => decoder.read(keyless).events(keyspace), /without a key/);
    assert.throws(() => decoder.read(keyless).batches(keyspace), /without a key/);
    assert.throws(
      () => messageReply(fromBinary(WatchResponseSchema, keyless)).events(keyspace),
      /without a key/,
    );
    const whole = toBinary(
      WatchResponseSchema,
      create(WatchResponseSchema, {
        header: { revision: 5n },
        events: [{ kv: { key: new Uint8Array([1, 2, 3]), value: new Uint8Array(20) } }],
      }),
    );
    const cut = whole.subarray(0, whole.length - 4);
    assert.throws(() => fromBinary(WatchResponseSchema, cut));
    assert.throws(() => decoder.read(cut).events(keyspace));
    assert.throws(() => decoder.read(cut).batches(keyspace));
  });
});
