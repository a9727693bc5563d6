import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type ResponseHeader, WatchCompactedError } from "../../src/index.ts";
import { Keyspace } from "../../src/kv/keyspace.ts";
import type { WatchBatch } from "../../src/watch/events.ts";
import { WatchState } from "../../src/watch/watch-state.ts";

const header: ResponseHeader = { clusterId: 1n, memberId: 1n, revision: 9n, raftTerm: 1n };

function events(revision: bigint, count: number): WatchBatch {
  const kv = { key: new Uint8Array(), value: new Uint8Array() } as never;
  return {
    kind: "events",
    revision,
    events: Array.from({ length: count }, () => ({ type: "put", kv, prevKv: undefined })),
    header,
  };
}

function progress(revision: bigint): WatchBatch {
  return { kind: "progress", revision, events: [], header };
}

function state(limit = 10): WatchState {
  return new WatchState(
    { key: new Uint8Array([1]), rangeEnd: new Uint8Array() },
    0n,
    new Keyspace(),
    limit,
  );
}

describe("WatchState", () => {
  test("hands batches to a waiting consumer directly, buffers them otherwise, in order", async () => {
    const s = state();
    const waiting = s.take();
    assert.equal(s.push([events(2n, 1)]), false);
    assert.equal((await waiting).value?.revision, 2n);
    assert.equal(s.bufferedEvents, 0);
    s.push([events(3n, 2), events(4n, 1)]);
    assert.equal(s.bufferedEvents, 3);
    assert.equal((await s.take()).value?.revision, 3n);
    assert.equal((await s.take()).value?.revision, 4n);
    assert.equal(s.bufferedEvents, 0);
  });

  test("reports the limit reached, and asks to resume once half is read while paused", async () => {
    const s = state(10);
    let drained = 0;
    s.onDrained = () => drained++;
    assert.equal(s.push([events(2n, 6)]), false);
    assert.equal(s.push([events(3n, 4)]), true, "10 buffered events reach the limit of 10");
    s.phase = "paused";
    await s.take(); // 4 left: <= half
    assert.equal(drained, 1);
  });

  test("an unread bookmark is replaced by a newer one, so bookmarks cannot pile up", async () => {
    const s = state();
    s.pushProgress(progress(5n));
    s.pushProgress(progress(6n));
    s.pushProgress(progress(7n));
    s.push([events(8n, 1)]);
    s.pushProgress(progress(8n));
    const items = [await s.take(), await s.take(), await s.take()].map((r) => [
      r.value?.kind,
      r.value?.revision,
    ]);
    assert.deepEqual(items, [
      ["progress", 7n],
      ["events", 8n],
      ["progress", 8n],
    ]);
  });

  test("an error comes after the buffered batches, then the iteration is done", async () => {
    const s = state();
    s.push([events(2n, 1)]);
    s.end(new WatchCompactedError("compacted", undefined, { compactRevision: 5n }));
    assert.equal((await s.take()).value?.revision, 2n);
    await assert.rejects(s.take(), WatchCompactedError);
    assert.deepEqual(await s.take(), { done: true, value: undefined });
  });

  test("closing drops the buffer and ends pending reads; created() rejects if never created", async () => {
    const s = state();
    const created = s.created;
    const waiting = s.take();
    s.end();
    assert.deepEqual(await waiting, { done: true, value: undefined });
    await assert.rejects(created);
    const t = state();
    t.push([events(2n, 3)]);
    t.end();
    assert.equal(t.bufferedEvents, 0);
    assert.deepEqual(await t.take(), { done: true, value: undefined });
  });

  test("created() resolves with the first creation's revision only", async () => {
    const s = state();
    s.markCreated(7n);
    s.markCreated(12n);
    assert.equal(await s.created, 7n);
    assert.equal(s.lastCreatedRevision, 12n);
  });

  test("created() asked before the creation settles with it, and the same promise is shared", async () => {
    const s = state();
    const first = s.created;
    assert.equal(s.created, first, "callers waiting together share one promise");
    s.markCreated(7n);
    assert.equal(await first, 7n);
    assert.equal(await s.created, 7n, "asked again after the creation");
    const t = state();
    const early = t.created;
    const error = new WatchCompactedError("compacted", undefined, { compactRevision: 5n });
    t.end(error);
    await assert.rejects(early, (e) => e === error);
    await assert.rejects(t.created, (e) => e === error, "asked after the end: the same reason");
  });

  test("created() that nobody asks for reports no unhandled rejection when the watcher fails", async () => {
    const unhandled: unknown[] = [];
    const record = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", record);
    try {
      const asked = state();
      void asked.created;
      asked.end(new Error("failed while queued"));
      state().end(new Error("failed while queued, never asked"));
      void state().created;
      await new Promise((resolve) => setTimeout(resolve, 10));
      const s = state();
      s.end(new Error("ended"));
      void s.created;
      await new Promise((resolve) => setTimeout(resolve, 10));
    } finally {
      process.off("unhandledRejection", record);
    }
    assert.deepEqual(unhandled, []);
  });
});
