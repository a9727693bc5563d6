/**
 * How the shared watch stream drives each watcher's state, on a fake Watch client whose
 * streams the test answers reply by reply (watch-state.test.ts covers the buffer itself): the
 * revision a watcher resumes from after events, after its progress notifications and for a
 * watch from "now"; fragments merged into one delivery; pipelined creates, each `created` reply
 * given to the oldest create in flight; cancellation with compact_revision and created+canceled refusals
 * with a cancel_reason. A real etcd cannot be made to break a stream between exactly these
 * replies on demand.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { type Client, Code, ConnectError } from "@connectrpc/connect";
import {
  type Watch,
  type WatchResponse,
  WatchResponseSchema,
} from "../../gen/etcdserverpb/rpc_pb.ts";
import { Event_EventType } from "../../gen/mvccpb/kv_pb.ts";
import { PermissionDeniedError, WatchCompactedError } from "../../src/core/errors.ts";
import { key, prefix } from "../../src/core/keys.ts";
import { Keyspace } from "../../src/kv/keyspace.ts";
import type { WatchBatch } from "../../src/watch/events.ts";
import { WatchStream } from "../../src/watch/watch-stream.ts";
import type { Watcher } from "../../src/watch/watcher.ts";
import { collect, ResponseChannel, settle } from "../support/fake-transport.ts";

type Init = MessageInitShape<typeof WatchResponseSchema>;
const enc = new TextEncoder();
const dec = new TextDecoder();

interface FakeStream {
  readonly sent: WatchRequestLike[];
  readonly responses: ResponseChannel<WatchResponse>;
  reply(init: Init): void;
  /** The member went away. */
  break(): void;
}

interface WatchRequestLike {
  requestUnion:
    | { case: "createRequest"; value: { key: Uint8Array; startRevision?: bigint } }
    | { case: "cancelRequest"; value: { watchId: bigint } }
    | { case: "progressRequest"; value: object }
    | { case: undefined };
}

/** A Watch client whose every stream the test answers. */
class FakeWatch {
  readonly streams: FakeStream[] = [];
  readonly client = {
    watch: (requests: AsyncIterable<WatchRequestLike>, options: { signal: AbortSignal }) => {
      const responses = new ResponseChannel<WatchResponse>();
      const sent: WatchRequestLike[] = [];
      collect(requests, sent);
      options.signal.addEventListener("abort", () =>
        responses.fail(new ConnectError("aborted", Code.Canceled)),
      );
      this.streams.push({
        sent,
        responses,
        reply: (init) => responses.push(create(WatchResponseSchema, init)),
        break: () => responses.fail(new ConnectError("read ECONNRESET", Code.Unavailable)),
      });
      return responses;
    },
  };

  get last(): FakeStream {
    const stream = this.streams[this.streams.length - 1];
    assert.ok(stream, "a stream was opened");
    return stream;
  }

  /** The create requests a stream carried: key and start revision. */
  creates(stream = this.last): [string, bigint][] {
    return stream.sent
      .filter((r) => r.requestUnion.case === "createRequest")
      .map((r) => {
        const value = (r.requestUnion as { value: { key: Uint8Array; startRevision?: bigint } })
          .value;
        return [dec.decode(value.key), value.startRevision ?? 0n];
      });
  }
}

function setup() {
  const fake = new FakeWatch();
  const stream = new WatchStream(fake.client as unknown as Client<typeof Watch>);
  return { fake, stream, keyspace: new Keyspace() };
}

const header = (revision: bigint) => ({ clusterId: 1n, memberId: 2n, revision, raftTerm: 1n });
const put = (k: string, revision: bigint) => ({
  type: Event_EventType.PUT,
  kv: { key: enc.encode(k), value: enc.encode("v"), modRevision: revision, createRevision: 1n },
});

/** Reads the next batch (or error) of a watcher; fails instead of hanging when none comes. */
async function next(watcher: Watcher): Promise<WatchBatch> {
  const result = await Promise.race([
    watcher[Symbol.asyncIterator]().next(),
    settle(20).then(() => undefined),
  ]);
  if (result === undefined) assert.fail("no batch and no error arrived");
  assert.ok(!result.done, "a batch");
  return result.value;
}

describe("WatchStream", () => {
  test('a watch from "now" resumes at the creation revision + 1', async () => {
    const { fake, stream, keyspace } = setup();
    const watcher = stream.watch(key("k"), {}, keyspace);
    await settle();
    assert.deepEqual(fake.creates(), [["k", 0n]]);
    fake.last.reply({ created: true, watchId: 0n, header: header(10n) });
    assert.equal(await watcher.ready(), 10n);
    assert.equal(watcher.nextRevision, 11n);
    fake.last.break();
    await settle();
    assert.equal(fake.streams.length, 2, "a new stream");
    assert.deepEqual(fake.creates(), [["k", 11n]], "created again after the creation revision");
    stream.close();
  });

  test("after events a watcher resumes at the last event's revision + 1", async () => {
    const { fake, stream, keyspace } = setup();
    const watcher = stream.watch(prefix("k"), { startRevision: 5n }, keyspace);
    await settle();
    assert.deepEqual(fake.creates(), [["k", 5n]]);
    fake.last.reply({ created: true, watchId: 3n, header: header(20n) });
    fake.last.reply({
      watchId: 3n,
      header: header(20n),
      events: [put("k1", 12n), put("k2", 12n), put("k3", 13n)],
    });
    const first = await next(watcher);
    assert.equal(first.revision, 12n);
    assert.equal(first.events.length, 2, "one revision, one batch");
    assert.equal((await next(watcher)).revision, 13n);
    assert.equal(watcher.nextRevision, 14n, "not the header's 20");
    fake.last.break();
    await settle();
    assert.deepEqual(fake.creates(), [["k", 14n]]);
    stream.close();
  });

  test("a watcher's own progress notification moves its next revision; a stream-wide one does not", async () => {
    const { fake, stream, keyspace } = setup();
    const watcher = stream.watch(key("k"), { startRevision: 2n, progressNotify: true }, keyspace);
    await settle();
    fake.last.reply({ created: true, watchId: 1n, header: header(15n) });
    fake.last.reply({ watchId: 1n, header: header(20n) });
    const mark = await next(watcher);
    assert.equal(mark.kind, "progress");
    assert.equal(mark.revision, 20n);
    assert.equal(watcher.nextRevision, 21n);
    // requestProgress()'s answer (watch id -1): a bookmark, but the next revision stays (etcd
    // before 3.4.24/3.5.8 could send it ahead of events still in flight).
    fake.last.reply({ watchId: -1n, header: header(30n) });
    const streamWide = await next(watcher);
    assert.equal(streamWide.kind, "progress");
    assert.equal(streamWide.revision, 30n);
    assert.equal(watcher.nextRevision, 21n);
    fake.last.break();
    await settle();
    assert.deepEqual(fake.creates(), [["k", 21n]]);
    stream.close();
  });

  test("fragments are merged into one delivery", async () => {
    const { fake, stream, keyspace } = setup();
    const watcher = stream.watch(prefix("k"), { startRevision: 5n }, keyspace);
    await settle();
    fake.last.reply({ created: true, watchId: 4n, header: header(9n) });
    fake.last.reply({ watchId: 4n, header: header(9n), fragment: true, events: [put("k1", 5n)] });
    fake.last.reply({ watchId: 4n, header: header(9n), fragment: true, events: [put("k2", 5n)] });
    fake.last.reply({ watchId: 4n, header: header(9n), events: [put("k3", 5n), put("k4", 6n)] });
    const batch = await next(watcher);
    assert.equal(batch.revision, 5n);
    assert.deepEqual(
      batch.events.map((e) => e.kv.keyText),
      ["k1", "k2", "k3"],
      "revision 5 whole, never split across fragments",
    );
    assert.equal((await next(watcher)).revision, 6n);
    stream.close();
  });

  test("creates are pipelined and each created reply belongs to the oldest in flight", async () => {
    const { fake, stream, keyspace } = setup();
    const a = stream.watch(key("a"), { startRevision: 1n }, keyspace);
    const b = stream.watch(key("b"), { startRevision: 1n }, keyspace);
    await settle();
    assert.deepEqual(
      fake.creates(),
      [
        ["a", 1n],
        ["b", 1n],
      ],
      "b is sent without waiting for a's reply",
    );
    fake.last.reply({ created: true, watchId: 7n, header: header(3n) });
    fake.last.reply({ created: true, watchId: 2n, header: header(3n) });
    fake.last.reply({ watchId: 2n, header: header(4n), events: [put("b", 4n)] });
    fake.last.reply({ watchId: 7n, header: header(5n), events: [put("a", 5n)] });
    assert.deepEqual(
      (await next(b)).events.map((e) => e.kv.keyText),
      ["b"],
    );
    assert.deepEqual(
      (await next(a)).events.map((e) => e.kv.keyText),
      ["a"],
    );
    stream.close();
  });

  test("canceled with compact_revision ends that watcher with WatchCompactedError, not the others", async () => {
    const { fake, stream, keyspace } = setup();
    const a = stream.watch(key("a"), { startRevision: 1n }, keyspace);
    const b = stream.watch(key("b"), { startRevision: 1n }, keyspace);
    await settle();
    fake.last.reply({ created: true, watchId: 1n, header: header(9n) });
    await settle();
    fake.last.reply({ created: true, watchId: 2n, header: header(9n) });
    fake.last.reply({ watchId: 1n, canceled: true, compactRevision: 6n, header: header(9n) });
    await assert.rejects(next(a), (error: unknown) => {
      assert.ok(error instanceof WatchCompactedError);
      assert.equal(error.compactRevision, 6n);
      return true;
    });
    assert.equal(a.closed, true);
    fake.last.reply({ watchId: 2n, header: header(10n), events: [put("b", 10n)] });
    assert.equal((await next(b)).revision, 10n);
    assert.equal(fake.streams.length, 1, "the shared stream stays");
    stream.close();
  });

  test("created+canceled with a cancel_reason refuses the head of the queue only", async () => {
    const { fake, stream, keyspace } = setup();
    const a = stream.watch(key("a"), {}, keyspace);
    const b = stream.watch(key("b"), {}, keyspace);
    await settle();
    fake.last.reply({
      created: true,
      canceled: true,
      watchId: -1n,
      cancelReason: "rpc error: code = PermissionDenied desc = etcdserver: permission denied",
      header: header(9n),
    });
    await assert.rejects(a.ready(), PermissionDeniedError);
    await assert.rejects(next(a), PermissionDeniedError);
    await settle();
    assert.deepEqual(fake.creates(), [
      ["a", 0n],
      ["b", 0n],
    ]);
    fake.last.reply({ created: true, watchId: 0n, header: header(9n) });
    assert.equal(await b.ready(), 9n);
    assert.equal(b.closed, false);
    stream.close();
  });

  test("canceled by etcd without a reason: created again where it stopped, on the same stream", async () => {
    const { fake, stream, keyspace } = setup();
    const watcher = stream.watch(key("k"), { startRevision: 1n }, keyspace);
    await settle();
    fake.last.reply({ created: true, watchId: 5n, header: header(9n) });
    fake.last.reply({ watchId: 5n, header: header(9n), events: [put("k", 8n)] });
    await next(watcher);
    fake.last.reply({ watchId: 5n, canceled: true, header: header(9n) });
    await settle();
    assert.equal(fake.streams.length, 1);
    assert.deepEqual(fake.creates(), [
      ["k", 1n],
      ["k", 9n],
    ]);
    assert.equal(watcher.closed, false);
    stream.close();
  });
});
