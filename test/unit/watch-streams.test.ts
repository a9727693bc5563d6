/**
 * How `WatchStreams` spreads watchers: the counts a real etcd would need thousands of watchers
 * and a second stream's worth of load to show are checked here on stand-in streams.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Keyspace } from "../../src/kv/keyspace.ts";
import type { WatchStream } from "../../src/watch/watch-stream.ts";
import {
  MAX_WATCH_STREAMS,
  WATCHERS_PER_STREAM,
  WatchStreams,
} from "../../src/watch/watch-streams.ts";
import type { Watcher } from "../../src/watch/watcher.ts";

/** Counts its watchers and progress requests, as far as `WatchStreams` looks. */
class StandInStream {
  size = 0;
  progressRequests = 0;
  closed = false;
  connects = 0;
  open = false;
  progressRequested: (() => void) | undefined;
  watch(): Watcher {
    this.size++;
    return {} as Watcher;
  }
  requestProgress(): void {
    if (this.progressRequested) this.progressRequested();
    else this.requestOwnProgress();
  }
  requestOwnProgress(): void {
    this.progressRequests++;
  }
  close(): void {
    this.closed = true;
  }
}

function streamsOf(max?: number) {
  const made: StandInStream[] = [];
  const streams = new WatchStreams(() => {
    const stream = new StandInStream();
    made.push(stream);
    return stream as unknown as WatchStream;
  }, max);
  const watch = (n: number) => {
    for (let i = 0; i < n; i++) streams.watch("k", {}, new Keyspace());
  };
  return { streams, made, watch };
}

describe("WatchStreams", () => {
  test("fills a stream to its limit before opening the next", () => {
    const { streams, made, watch } = streamsOf();
    watch(WATCHERS_PER_STREAM);
    assert.equal(made.length, 1);
    watch(1);
    assert.equal(made.length, 2);
    watch(WATCHERS_PER_STREAM * 8 - 1);
    assert.deepEqual(
      made.map((s) => s.size),
      Array(9).fill(WATCHERS_PER_STREAM),
    );
    assert.equal(streams.size, WATCHERS_PER_STREAM * 9);
  });

  test("a stream with room again takes the next watcher before a new stream opens", () => {
    const { made, watch } = streamsOf();
    watch(WATCHERS_PER_STREAM * 2);
    (made[0] as StandInStream).size -= 10; // ten watchers of the first stream ended
    watch(10);
    assert.equal(made.length, 2);
    assert.equal(made[0]?.size, WATCHERS_PER_STREAM);
  });

  test("past the stream limit, the least loaded stream takes the watcher", () => {
    const { made, watch } = streamsOf();
    watch(WATCHERS_PER_STREAM * MAX_WATCH_STREAMS);
    assert.equal(made.length, MAX_WATCH_STREAMS);
    (made[5] as StandInStream).size = WATCHERS_PER_STREAM + 1;
    for (const stream of made) stream.size += 2;
    (made[3] as StandInStream).size -= 1;
    watch(1);
    assert.equal(made.length, MAX_WATCH_STREAMS);
    assert.equal(made[3]?.size, WATCHERS_PER_STREAM + 2);
  });

  test("one stream when told (the gateway's WebSocket per stream)", () => {
    const { made, watch } = streamsOf(1);
    watch(WATCHERS_PER_STREAM * 3);
    assert.equal(made.length, 1);
    assert.equal(made[0]?.size, WATCHERS_PER_STREAM * 3);
  });

  test("a watcher's progress request goes to every stream with watchers", () => {
    const { made, watch } = streamsOf();
    watch(WATCHERS_PER_STREAM * 4);
    (made[2] as StandInStream).size = 0; // its watchers ended
    (made[1] as StandInStream).requestProgress();
    assert.deepEqual(
      made.map((s) => s.progressRequests),
      [1, 1, 0, 1],
    );
  });

  test("closing closes every stream, and one made afterwards", () => {
    const { streams, made, watch } = streamsOf();
    watch(WATCHERS_PER_STREAM + 1);
    streams.close();
    assert.deepEqual(
      made.map((s) => s.closed),
      [true, true],
    );
    (made[0] as StandInStream).size = WATCHERS_PER_STREAM;
    (made[1] as StandInStream).size = WATCHERS_PER_STREAM;
    watch(1);
    assert.equal(made[2]?.closed, true);
  });
});
