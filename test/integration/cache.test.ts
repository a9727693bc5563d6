/**
 * The watch-backed cache against etcd: it equals a fresh range at its revision after a random
 * mix of puts, deletes and txns; waitForRevision gives read-your-writes (also for a revision
 * that changed nothing in the range); subscribers see every change in order; many subscribers
 * cost one watcher on the server; a compaction behind a stalled watch forces a relist whose
 * single resync change turns the old state into the new; namespaces; close, signal and
 * `await using`.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { WatchCache } from "../../src/cache/watch-cache.ts";
import {
  type CacheChange,
  type CallOptions,
  CanceledError,
  ClientClosedError,
  Etcd,
  InvalidArgumentError,
  type KeyOrRange,
  prefix,
  type RangeOptions,
  TimeoutError,
  type WatchOptions,
} from "../../src/index.ts";
import {
  assertCacheMatchesRange,
  ChangeModel,
  randomWrites,
  seededRandom,
} from "../support/cache-check.ts";
import { fetchText, testClientOptions, uniquePrefix, useEtcd } from "../support/index.ts";
import { TcpRelay } from "../support/tcp-relay.ts";

const fx = useEtcd();

/** Watchers etcd has open, from its metrics. */
async function serverWatchers(): Promise<number> {
  const text = await fetchText(`${fx.endpoints[0]}/metrics`);
  const match = /^etcd_debugging_mvcc_watcher_total (\d+)/m.exec(text);
  assert.ok(match, "etcd reports etcd_debugging_mvcc_watcher_total");
  return Number(match[1]);
}

describe("cache", () => {
  let etcd: Etcd;

  before(() => {
    etcd = new Etcd({ ...testClientOptions(), endpoints: fx.endpoints, timeoutMs: 10_000 });
  });

  after(async () => {
    await etcd?.close();
  });

  test("lists in pages at one revision and serves get, range and iteration from memory", async () => {
    const p = uniquePrefix("cache-list");
    for (let i = 0; i < 25; i++) await etcd.put(`${p}k${String(i).padStart(2, "0")}`, `v${i}`);
    await etcd.put(`${p.slice(0, -1)}0outside`, "x");
    await using cache = await etcd.cache(prefix(p), { pageSize: 4 });
    assert.equal(cache.size, 25);
    assert.equal(cache.get(`${p}k07`)?.text, "v7");
    assert.equal(cache.get(`${p}nope`), undefined);
    const sub = cache.range(prefix(`${p}k1`));
    assert.deepEqual(
      sub.kvs.map((kv) => kv.keyText),
      Array.from({ length: 10 }, (_, i) => `${p}k1${i}`),
    );
    assert.equal(sub.revision, cache.revision);
    assert.deepEqual(
      [...cache].map((kv) => kv.text),
      Array.from({ length: 25 }, (_, i) => `v${i}`),
    );
    await assertCacheMatchesRange(etcd, cache, prefix(p));
    assert.throws(() => cache.get(`${p.slice(0, -1)}0outside`), InvalidArgumentError);
    assert.throws(() => cache.range(prefix("elsewhere/")), InvalidArgumentError);
  });

  test("equals a fresh range at its revision after a random mix of puts, deletes and txns", async () => {
    const p = uniquePrefix("cache-mix");
    const seed = Number(process.env.CACHE_SEED ?? Date.now() % 1_000_000);
    const random = seededRandom(seed);
    await randomWrites(etcd, p, random, 40);
    await using cache = await etcd.cache(prefix(p), { pageSize: 7 });
    const model = new ChangeModel(cache);
    const off = cache.onChange((change) => model.apply(change));
    const last = await randomWrites(etcd, p, random, 200);
    await cache.waitForRevision(last);
    off();
    const revision = await assertCacheMatchesRange(etcd, cache, prefix(p));
    assert.ok(revision >= last, `seed ${seed}`);
    assert.deepEqual(
      model.sorted(),
      cache.range().kvs.map((kv) => row(kv)),
      `seed ${seed}`,
    );
    assert.ok(model.kinds.every((k) => k === "watch"));
  });

  test("waitForRevision: read your own write, also one outside the range", async () => {
    const p = uniquePrefix("cache-ryw");
    await using cache = await etcd.cache(prefix(p));
    const put = await etcd.put(`${p}a`, "1");
    assert.equal(await cache.waitForRevision(put.revision), put.revision);
    assert.equal(cache.get(`${p}a`)?.text, "1");
    // Writes elsewhere move the store's revision without an event for this cache.
    await etcd.put(uniquePrefix("elsewhere"), "x");
    const outside = await etcd.put(uniquePrefix("elsewhere"), "y");
    assert.ok((await cache.waitForRevision(outside.revision)) >= outside.revision);
    assert.equal(cache.revision >= outside.revision, true);
    await assertCacheMatchesRange(etcd, cache, prefix(p));
    // A revision nobody wrote yet: the deadline and the signal end the wait.
    await assert.rejects(
      cache.waitForRevision(outside.revision + 1000n, { timeoutMs: 50 }),
      TimeoutError,
    );
    const controller = new AbortController();
    const waiting = cache.waitForRevision(outside.revision + 1000n, { signal: controller.signal });
    controller.abort();
    await assert.rejects(waiting, CanceledError);
  });

  test("without bookmarks, a quiet range is confirmed at a revision by a keys-only read", async () => {
    const p = uniquePrefix("cache-probe");
    await etcd.put(`${p}a`, "1");
    // A source whose watchers never ask for bookmarks (as on etcd before 3.4.24/3.5.8, where the
    // stream withholds them): only the cache's own check can confirm a revision.
    const probes: bigint[] = [];
    const source = {
      range: (target: KeyOrRange, options?: RangeOptions & CallOptions) => {
        if (options?.minModRevision !== undefined) probes.push(BigInt(options.minModRevision));
        return etcd.range(target, options);
      },
      watch: (target: KeyOrRange, options?: WatchOptions) => {
        const watcher = etcd.watch(target, options);
        return new Proxy(watcher, {
          get: (w, name) => {
            if (name === "requestProgress") return () => {};
            const value: unknown = Reflect.get(w, name, w);
            return typeof value === "function" ? value.bind(w) : value;
          },
        });
      },
    };
    await using cache = await WatchCache.open(source, prefix(p));
    const listed = cache.revision;
    const outside = await etcd.put(uniquePrefix("elsewhere"), "x");
    assert.equal(await cache.waitForRevision(outside.revision), outside.revision);
    assert.deepEqual(probes, [listed + 1n]);
    assert.equal(cache.get(`${p}a`)?.text, "1");
    // Changes in the range still arrive as events, after the confirmed revision.
    const inside = await etcd.put(`${p}a`, "2");
    await cache.waitForRevision(inside.revision);
    assert.equal(cache.get(`${p}a`)?.text, "2");
    await assertCacheMatchesRange(etcd, cache, prefix(p));
  });

  test("many subscribers of one cache share one watcher on the server", async () => {
    const p = uniquePrefix("cache-subs");
    const before = await serverWatchers();
    await using cache = await etcd.cache(prefix(p));
    const iterators = Array.from({ length: 8 }, () => cache.changes());
    const seen: CacheChange[][] = Array.from({ length: 8 }, () => []);
    const offs = seen.map((list) => cache.onChange((c) => list.push(c)));
    assert.equal(await serverWatchers(), before + 1);
    await etcd.put(`${p}a`, "1");
    const { revision } = await etcd.delete(`${p}a`);
    for (const it of iterators) {
      const first = await it.next();
      const second = await it.next();
      assert.equal(first.value?.events[0]?.type, "put");
      assert.equal(second.value?.events[0]?.type, "delete");
      assert.equal(second.value?.events[0]?.prevKv?.text, "1");
      assert.equal(second.value?.revision, revision);
    }
    assert.ok(seen.every((list) => list.length === 2));
    assert.equal(await serverWatchers(), before + 1);
    for (const off of offs) off();
    for (const it of iterators) await it.return?.();
    await cache.close();
    assert.equal(await serverWatchers(), before);
  });

  test("a compaction past a cut-off watch forces a relist, delivered as one resync change", async () => {
    const p = uniquePrefix("cache-compact");
    for (let i = 0; i < 10; i++) await etcd.put(`${p}k${i}`, `v${i}`);
    // A second client behind a relay we cut: its cache cannot follow while this client
    // rewrites the range and compacts the history the cache's watch would resume from.
    await using relay = await TcpRelay.start(fx.endpoints[0] as string);
    await using cut = new Etcd({ ...testClientOptions(), endpoints: [relay.url] });
    await using cache = await cut.cache(prefix(p));
    const model = new ChangeModel(cache);
    cache.onChange((change) => model.apply(change));
    const errors: Error[] = [];
    cache.onError((e) => errors.push(e));
    relay.cut();
    const last = await randomWrites(etcd, p, seededRandom(7), 60);
    await etcd.compact(last, { physical: true });
    relay.restore();
    await cache.waitForRevision(last);
    await assertCacheMatchesRange(etcd, cache, prefix(p));
    assert.deepEqual(
      model.sorted(),
      cache.range().kvs.map((kv) => row(kv)),
    );
    assert.deepEqual(model.kinds, ["resync"]);
    assert.ok(
      errors.some((e) => e.name === "WatchCompactedError"),
      String(errors),
    );
    // And it follows from there.
    const { revision } = await etcd.put(`${p}after`, "1");
    await cache.waitForRevision(revision);
    assert.equal(cache.get(`${p}after`)?.text, "1");
    assert.deepEqual(model.kinds, ["resync", "watch"]);
  });

  test("a namespace's cache holds its keys without the prefix", async () => {
    const p = uniquePrefix("cache-ns");
    const ns = etcd.namespace(p);
    await ns.put("a", "1");
    await etcd.put(`${p.slice(0, -1)}`, "outside");
    await using cache = await ns.cache(prefix(""));
    assert.deepEqual(
      [...cache].map((kv) => kv.keyText),
      ["a"],
    );
    const { revision } = await ns.put("b", "2");
    await cache.waitForRevision(revision);
    assert.equal(cache.get("b")?.text, "2");
    await assertCacheMatchesRange(ns, cache, prefix(""));
  });

  test("close, the signal and closing the client end the cache and its subscribers", async () => {
    const p = uniquePrefix("cache-close");
    const controller = new AbortController();
    const cache = await etcd.cache(prefix(p), { signal: controller.signal });
    const changes = cache.changes();
    controller.abort();
    assert.deepEqual(await changes.next(), { done: true, value: undefined });
    assert.equal(cache.closed, true);
    await cache.close();
    await assert.rejects(cache.waitForRevision(cache.revision + 1n), ClientClosedError);

    const own = new Etcd({ ...testClientOptions(), endpoints: fx.endpoints });
    const owned = await own.cache(prefix(p));
    const ended = owned.changes();
    await own.close();
    await assert.rejects(ended.next(), ClientClosedError);
    assert.equal(owned.closed, true);
  });
});

function row(kv: {
  keyText: string;
  text: string;
  createRevision: bigint;
  modRevision: bigint;
  version: bigint;
  lease: bigint;
}) {
  return `${kv.keyText}=${kv.text}@c${kv.createRevision}m${kv.modRevision}v${kv.version}l${kv.lease}`;
}
