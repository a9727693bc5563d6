/**
 * The cache on a 3-member cluster: while a writer commits a random mix of puts, deletes and
 * txns, the member carrying the cache's watch is killed and restarted; the cache follows on
 * another member without a relist and ends equal to a fresh range at its revision. Then a
 * cache whose only endpoint is killed falls behind a compaction made while it was down: when
 * the member is back, the cache lists again, delivers one resync change, and again equals a
 * fresh range; a model built only from the changes it delivered agrees.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Etcd, prefix } from "../../src/index.ts";
import {
  assertCacheMatchesRange,
  ChangeModel,
  randomWrites,
  seededRandom,
} from "../support/cache-check.ts";
import {
  type Cluster,
  type Member,
  testClientOptions,
  uniquePrefix,
  useEtcd,
} from "../support/index.ts";

const fx = useEtcd({ size: 3 });
const WATCHERS = "etcd_debugging_mvcc_watcher_total";

describe("cache under faults", () => {
  let cluster: Cluster;
  let writer: Etcd;

  before(() => {
    if (!fx.cluster) throw new Error("cache fault tests need a spawned cluster");
    cluster = fx.cluster;
    writer = new Etcd({ ...testClientOptions(), endpoints: fx.endpoints, timeoutMs: 20_000 });
  });

  after(async () => {
    await writer?.close();
    for (const member of cluster.members) if (!member.running) member.start();
  });

  /** The member on which etcd holds the cache's watcher (this file's only watcher). */
  async function watchMember(): Promise<Member> {
    for (;;) {
      for (const member of cluster.members) {
        if (!member.running) continue;
        if ((await cluster.metric(member, WATCHERS).catch(() => 0)) > 0) return member;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  test("a killed member: the watch moves, no relist, the cache equals a fresh range", async () => {
    const p = uniquePrefix("cache-kill");
    const seed = Number(process.env.CACHE_SEED ?? Date.now() % 1_000_000);
    const random = seededRandom(seed);
    await randomWrites(writer, p, random, 30);
    await using etcd = new Etcd({ ...testClientOptions(), endpoints: fx.endpoints });
    await using cache = await etcd.cache(prefix(p), { pageSize: 5 });
    const model = new ChangeModel(cache);
    cache.onChange((change) => model.apply(change));
    for (let round = 0; round < 2; round++) {
      const victim = await watchMember();
      const writing = randomWrites(writer, p, random, 60, true);
      await victim.kill();
      await writing;
      victim.start();
      await cluster.waitHealthy();
    }
    const last = await randomWrites(writer, p, random, 20);
    await cache.waitForRevision(last);
    await assertCacheMatchesRange(writer, cache, prefix(p));
    assert.deepEqual(model.sorted(), cacheRows(cache), `seed ${seed}`);
    assert.ok(
      model.kinds.every((kind) => kind === "watch"),
      `seed ${seed}: ${model.kinds}`,
    );
    assert.ok(
      etcd.watchStream.connects >= 3,
      `the stream reconnected: ${etcd.watchStream.connects}`,
    );
  });

  test("its only member killed while history is compacted: one resync on return", async () => {
    const p = uniquePrefix("cache-compact");
    const seed = Number(process.env.CACHE_SEED ?? Date.now() % 1_000_000);
    const random = seededRandom(seed);
    await randomWrites(writer, p, random, 30);
    const [lonely, ...others] = cluster.members as [Member, ...Member[]];
    await using etcd = new Etcd({ ...testClientOptions(), endpoints: [lonely.clientUrl] });
    await using cache = await etcd.cache(prefix(p), { pageSize: 5 });
    const model = new ChangeModel(cache);
    cache.onChange((change) => model.apply(change));
    const errors: string[] = [];
    cache.onError((error) => errors.push(error.name));
    await lonely.kill();
    await using survivors = new Etcd({
      ...testClientOptions(),
      endpoints: others.map((m) => m.clientUrl),
      timeoutMs: 20_000,
    });
    await randomWrites(survivors, p, random, 80, true);
    const last = await persist(() => survivors.put(`${p}k00`, "last"));
    await persist(() => survivors.compact(last.revision, { physical: true }));
    lonely.start();
    await cluster.waitHealthy();
    await cache.waitForRevision(last.revision);
    await assertCacheMatchesRange(writer, cache, prefix(p));
    assert.deepEqual(model.sorted(), cacheRows(cache), `seed ${seed}`);
    assert.deepEqual(model.kinds, ["resync"], `seed ${seed}`);
    assert.ok(errors.includes("WatchCompactedError"), errors.join());
    const { revision } = await writer.put(`${p}after`, "1");
    await cache.waitForRevision(revision);
    assert.equal(cache.get(`${p}after`)?.text, "1");
    await assertCacheMatchesRange(writer, cache, prefix(p));
  });
});

/** Runs a write again until it succeeds (a leader election may refuse it for a while). */
async function persist<T>(write: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      if (attempt >= 50) throw error;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

function cacheRows(
  cache: Iterable<{
    keyText: string;
    text: string;
    createRevision: bigint;
    modRevision: bigint;
    version: bigint;
    lease: bigint;
  }>,
): string[] {
  return [...cache].map(
    (kv) =>
      `${kv.keyText}=${kv.text}@c${kv.createRevision}m${kv.modRevision}v${kv.version}l${kv.lease}`,
  );
}
