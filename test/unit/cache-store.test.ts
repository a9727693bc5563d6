/**
 * The cache's in-memory parts, property-tested: the store answers every range like a sorted
 * reference built from scratch, for any mix of sets and deletes (binary keys, 0xff bytes
 * included); and the resync difference, applied to any old state, gives exactly the new one.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { diffSnapshot } from "../../src/cache/cache-change.ts";
import { CacheStore } from "../../src/cache/cache-store.ts";
import { KeyBounds, orderKey } from "../../src/cache/key-order.ts";
import { all, fromKey, prefix, range } from "../../src/index.ts";
import { KeyValue } from "../../src/kv/key-value.ts";

const keyArb = fc.uint8Array({ minLength: 1, maxLength: 4, min: 0, max: 255 }).map((bytes) => {
  // Few distinct bytes, so that keys collide and share prefixes.
  return Uint8Array.from(bytes, (b) => [0x00, 0x61, 0x62, 0xff][b % 4] as number);
});

function kv(key: Uint8Array, rev: number): KeyValue {
  return new KeyValue(key, new Uint8Array([rev % 256]), 1n, BigInt(rev), 1n, 0n);
}

function reference(map: Map<string, KeyValue>, bounds: KeyBounds): string[] {
  return [...map.keys()].filter((k) => bounds.contains(k)).sort();
}

test("the store's ranges match a sorted reference after any sets and deletes", () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.boolean(), keyArb), { maxLength: 60 }),
      keyArb,
      keyArb,
      (ops, a, b) => {
        const store = new CacheStore();
        const model = new Map<string, KeyValue>();
        ops.forEach(([put, key], i) => {
          const k = orderKey(key);
          if (put) {
            store.set(k, kv(key, i));
            model.set(k, kv(key, i));
          } else {
            assert.equal(store.delete(k), model.delete(k));
          }
        });
        assert.equal(store.size, model.size);
        const [lo, hi] = orderKey(a) <= orderKey(b) ? [a, b] : [b, a];
        for (const target of [all(), prefix(a), fromKey(a), range(lo, hi), a]) {
          const bounds = KeyBounds.of(target);
          assert.deepEqual(
            store.range(bounds).map((x) => orderKey(x.key)),
            reference(model, bounds),
          );
        }
      },
    ),
  );
});

test("a resync's difference turns any old state into the listed one", () => {
  const stateArb = fc.array(fc.tuple(keyArb, fc.integer({ min: 1, max: 5 })), { maxLength: 20 });
  fc.assert(
    fc.property(stateArb, stateArb, (before, after) => {
      const store = new CacheStore();
      for (const [key, rev] of before) store.set(orderKey(key), kv(key, rev));
      const listed = new Map<string, KeyValue>();
      for (const [key, rev] of after) listed.set(orderKey(key), kv(key, rev));
      const kvs = [...listed.keys()].sort().map((k) => listed.get(k) as KeyValue);
      const events = diffSnapshot(store, { revision: 10n, kvs });
      const keys = events.map((e) => orderKey(e.kv.key));
      assert.deepEqual(keys, [...keys].sort(), "in key order");
      for (const event of events) {
        const k = orderKey(event.kv.key);
        assert.equal(event.prevKv, store.get(k));
        if (event.type === "put") store.set(k, event.kv);
        else store.delete(k);
      }
      assert.deepEqual(
        store.range(KeyBounds.of(all())).map((x) => [orderKey(x.key), x.modRevision]),
        kvs.map((x) => [orderKey(x.key), x.modRevision]),
      );
    }),
  );
});
