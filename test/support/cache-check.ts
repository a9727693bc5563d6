import assert from "node:assert/strict";
import {
  type CacheChange,
  compare,
  type KeyOrRange,
  type KeyspaceView,
  type KeyValue,
  op,
  prefix,
  range,
  type WatchCache,
} from "../../src/index.ts";

/** A small seeded generator, so that a failing random mix can be replayed with its seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}

/** One key's state as the tests compare it. */
function row(kv: KeyValue): string {
  return `${kv.keyText}=${kv.text}@c${kv.createRevision}m${kv.modRevision}v${kv.version}l${kv.lease}`;
}

/**
 * Asserts the cache holds exactly what a fresh range of `target` at the cache's revision reads:
 * keys, values, create and mod revisions, versions, leases.
 */
export async function assertCacheMatchesRange(
  view: KeyspaceView,
  cache: WatchCache,
  target: KeyOrRange,
): Promise<bigint> {
  const revision = cache.revision;
  const cached = cache.range().kvs.map(row);
  const fresh = await view.range(target, { revision });
  assert.deepEqual(cached, fresh.kvs.map(row), `cache at revision ${revision}`);
  return revision;
}

/**
 * A model kept only from the changes a subscriber receives: a test that the changes alone (the
 * resync included) turn the first state into the current one.
 */
export class ChangeModel {
  readonly rows = new Map<string, string>();
  revision: bigint;
  readonly kinds: CacheChange["kind"][] = [];

  constructor(cache: WatchCache) {
    for (const kv of cache) this.rows.set(kv.keyText, row(kv));
    this.revision = cache.revision;
  }

  apply(change: CacheChange): void {
    assert.ok(change.revision > this.revision, "changes come in revision order");
    this.revision = change.revision;
    this.kinds.push(change.kind);
    for (const event of change.events) {
      if (event.type === "put") this.rows.set(event.kv.keyText, row(event.kv));
      else {
        assert.ok(
          this.rows.delete(event.kv.keyText),
          `delete of a key the model holds: ${event.kv.keyText}`,
        );
      }
    }
  }

  sorted(): string[] {
    return [...this.rows.keys()].sort().map((k) => this.rows.get(k) as string);
  }
}

/**
 * Writes a random mix under `base`: puts (new and existing keys), deletes of single keys and of
 * small ranges, and txns that put and delete several keys at one revision. Returns the last
 * revision written. With `tolerant`, a failed write (a member killed under it) is skipped: the
 * tests compare with what etcd holds, not with what was sent.
 */
export async function randomWrites(
  view: KeyspaceView,
  base: string,
  random: () => number,
  count: number,
  tolerant = false,
): Promise<bigint> {
  let revision = 0n;
  for (let i = 0; i < count; i++) {
    try {
      revision = await randomWrite(view, base, random, i);
    } catch (error) {
      if (!tolerant) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return revision;
}

async function randomWrite(
  view: KeyspaceView,
  base: string,
  random: () => number,
  i: number,
): Promise<bigint> {
  const name = () => `${base}k${String(Math.floor(random() * 40)).padStart(2, "0")}`;
  let revision = 0n;
  {
    const dice = random();
    if (dice < 0.5) {
      revision = (await view.put(name(), `v${i}`)).revision;
    } else if (dice < 0.65) {
      revision = (await view.delete(name())).header.revision;
    } else if (dice < 0.7) {
      const a = name();
      const b = name();
      const [from, to] = a < b ? [a, b] : [b, a];
      revision = (await view.delete(range(from, to))).header.revision;
    } else {
      const keys = new Set<string>();
      while (keys.size < 3) keys.add(name());
      const [a, b, c] = [...keys] as [string, string, string];
      const result = await view.txn({
        compare: [compare.version(a, ">", 0)],
        success: [op.put(a, `t${i}`), op.put(b, `t${i}`), op.delete(c)],
        failure: [op.put(b, `f${i}`), op.delete(prefix(c))],
      });
      revision = result.header.revision;
    }
  }
  return revision;
}
