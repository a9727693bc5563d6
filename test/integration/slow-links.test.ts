/**
 * Slow links through the user-space relay (`test/support/tcp-relay.ts`): added latency, a
 * bandwidth limit, a stall and resets mid-stream, each asserted by what a client behind the relay
 * sees from real etcd. The bounds checked are lower bounds the relay guarantees (a byte delayed
 * 150 ms cannot arrive sooner), never how fast the machine is.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Etcd, prefix, type WatchEvent } from "../../src/index.ts";
import { testClientOptions, uniquePrefix, useEtcd } from "../support/index.ts";
import { TcpRelay } from "../support/tcp-relay.ts";

const fx = useEtcd({ spawn: true });

describe("slow links", () => {
  let relay: TcpRelay;
  let direct: Etcd;
  let behind: Etcd;
  const p = uniquePrefix("slow-links");
  before(async () => {
    relay = await TcpRelay.start(fx.endpoints[0] as string);
    direct = new Etcd({ ...testClientOptions(), endpoints: fx.endpoints });
    behind = new Etcd({ ...testClientOptions(), endpoints: [relay.url] });
  });
  after(async () => {
    await behind.close();
    await direct.close();
    await relay[Symbol.asyncDispose]();
  });

  test("latency delays each way: a get takes at least two delays", async () => {
    await direct.put(`${p}lat`, "v");
    assert.equal((await behind.get(`${p}lat`))?.text, "v"); // connected before shaping
    relay.shape({ latencyMs: 150 });
    try {
      const started = performance.now();
      assert.equal((await behind.get(`${p}lat`))?.text, "v");
      assert.ok(performance.now() - started >= 300, "request and answer were each delayed");
    } finally {
      relay.shape({});
    }
  });

  test("a bandwidth limit paces a large value, which arrives intact", async () => {
    const value = "x".repeat(256 * 1024);
    await behind.get(`${p}bw`);
    relay.shape({ bytesPerSecond: 256 * 1024 });
    try {
      const started = performance.now();
      await behind.put(`${p}bw`, value);
      const took = performance.now() - started;
      assert.ok(took >= 1000, `256 KiB at 256 KiB/s took ${took.toFixed(0)} ms`);
      assert.equal((await behind.get(`${p}bw`))?.text, value);
    } finally {
      relay.shape({});
    }
  });

  test("a stall holds a watch's events without closing it; they arrive after", async () => {
    const key = `${p}stall`;
    const seen: string[] = [];
    const watcher = behind.watch(key);
    const reading = (async () => {
      for await (const batch of watcher) {
        for (const e of batch.events) seen.push(e.kv.text);
        if (seen.length >= 2) return;
      }
    })();
    await watcher.ready();
    await direct.put(key, "before");
    while (seen.length < 1) await new Promise((r) => setTimeout(r, 20));
    const connections = relay.connections;
    relay.stall();
    await direct.put(key, "held");
    await new Promise((r) => setTimeout(r, 800));
    assert.deepEqual(seen, ["before"], "nothing passes a stalled link");
    assert.equal(relay.connections, connections, "the stall closed no connection");
    relay.unstall();
    await reading;
    await watcher.close();
    assert.deepEqual(seen, ["before", "held"]);
  });

  test("resets mid-watch: the watch resumes without losing or repeating an event", async () => {
    const root = `${p}reset/`;
    const events: WatchEvent[] = [];
    const watcher = behind.watch(prefix(root));
    const total = 300;
    const reading = (async () => {
      for await (const batch of watcher) {
        events.push(...batch.events);
        if (events.length >= total) return;
      }
    })();
    await watcher.ready();
    let resets = 0;
    for (let i = 0; i < total; i++) {
      await direct.put(`${root}${i % 7}`, String(i));
      if (i % 60 === 30) {
        assert.ok(relay.connections > 0);
        relay.reset();
        resets++;
      }
    }
    await reading;
    await watcher.close();
    assert.equal(resets, 5);
    assert.deepEqual(
      events.map((e) => e.kv.text),
      Array.from({ length: total }, (_, i) => String(i)),
    );
    const revisions = events.map((e) => e.kv.modRevision);
    assert.deepEqual(
      revisions,
      [...revisions].sort((a, b) => (a < b ? -1 : 1)),
    );
  });
});
