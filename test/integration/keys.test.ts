/**
 * Each key/range_end case, proven against etcd: a set of binary keys is written around every
 * edge (0x00, 0xff runs, the prefix end itself), and each helper must select exactly the keys
 * the rule says. Results are checked two ways: every key etcd returns satisfies the rule, and
 * of the keys this file wrote, exactly the expected ones come back (so the checks also hold
 * against a shared etcd given by ETCD_ENDPOINTS).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { all, Etcd, fromKey, type KeyRange, key, prefix, range } from "../../src/index.ts";
import { testClientOptions, uniquePrefix, useEtcd } from "../support/index.ts";

const fx = useEtcd();
let etcd: Etcd;

const b = (...bytes: number[]) => new Uint8Array(bytes);
const enc = new TextEncoder();
function cat(...parts: Array<Uint8Array | string | number[]>): Uint8Array {
  const bytes = parts.map((p) =>
    typeof p === "string" ? enc.encode(p) : p instanceof Uint8Array ? p : Uint8Array.from(p),
  );
  const out = new Uint8Array(bytes.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of bytes) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function cmp(x: Uint8Array, y: Uint8Array): number {
  return Buffer.compare(Buffer.from(x.buffer, x.byteOffset, x.length), Buffer.from(y));
}

/** Printable form for assertion diffs: ASCII as is, other bytes as \xHH. */
function show(k: Uint8Array): string {
  let s = "";
  for (const byte of k) {
    s +=
      byte >= 0x21 && byte < 0x7f && byte !== 0x5c
        ? String.fromCharCode(byte)
        : `\\x${byte.toString(16).padStart(2, "0")}`;
  }
  return s;
}

/** etcd's rule for Range(key, range_end). */
function selects(r: KeyRange, k: Uint8Array): boolean {
  if (r.rangeEnd.length === 0) return cmp(k, r.key) === 0;
  if (r.rangeEnd.length === 1 && r.rangeEnd[0] === 0) return cmp(k, r.key) >= 0;
  return cmp(k, r.key) >= 0 && cmp(k, r.rangeEnd) < 0;
}

// B: a unique printable base, so the in-the-middle keys do not meet other runs' keys.
const base = enc.encode(uniquePrefix("keys"));
const A = cat(base, "a");
const edgeKeys: Uint8Array[] = [
  // the smallest keys there are
  b(0x00),
  b(0x00, 0x00),
  b(0x00, 0xff),
  // around the base
  base.subarray(0, base.length - 1),
  base,
  cat(base, [0x00]),
  cat(base, "`"), // 0x60, just below "a"
  A,
  cat(A, [0x00]),
  cat(A, [0x01]),
  cat(A, "/x"),
  cat(A, [0xfe]),
  cat(A, [0xfe, 0xff]),
  cat(A, [0xff]),
  cat(A, [0xff, 0x00]),
  cat(A, [0xff, 0x01]),
  cat(A, [0xff, 0xff]),
  cat(A, [0xff, 0xff, 0x00]),
  cat(A, [0xff, 0xff, 0xff]),
  cat(base, "b"), // prefixEnd(A) and prefixEnd(A + 0xff...)
  cat(base, "b", [0x00]),
  cat(base, "c"),
  cat(base, [0xff]),
  cat(base, [0xff, 0xff]),
  prefixEndOf(base), // first key after everything under the base
  // the top of the keyspace
  b(0xfe),
  b(0xfe, 0xff),
  b(0xfe, 0xff, 0xff),
  b(0xff),
  b(0xff, 0x00),
  b(0xff, 0xfe),
  b(0xff, 0xfe, 0xff),
  b(0xff, 0xff),
  b(0xff, 0xff, 0x00),
  b(0xff, 0xff, 0xff),
  b(0xff, 0xff, 0xff, 0xff),
];

function prefixEndOf(p: Uint8Array): Uint8Array {
  const end = p.slice();
  end[end.length - 1] = (end[end.length - 1] as number) + 1; // base ends in "/", never 0xff
  return end;
}

// Inside the describe: root-level before hooks run concurrently, so the cluster from useEtcd()
// may not be up yet in another root-level hook.
function setup() {
  before(async () => {
    etcd = new Etcd({ ...testClientOptions(), endpoints: fx.endpoints });
    for (const k of edgeKeys) await etcd.put(k, cat("v:", k));
  });
  after(async () => {
    for (const k of edgeKeys) await etcd.delete(k);
    await etcd.close();
  });
}

/** Ranges over `r` and checks the result against `expected` (a subset of edgeKeys). */
async function expectSelection(r: KeyRange, expected: Uint8Array[]) {
  const result = await etcd.range(r);
  const got = result.kvs.map((kv) => kv.key);
  for (const k of got) {
    assert.ok(selects(r, k), `etcd returned ${show(k)}, outside the rule`);
  }
  for (let i = 1; i < got.length; i++) {
    assert.ok(cmp(got[i - 1] as Uint8Array, got[i] as Uint8Array) < 0, "keys in ascending order");
  }
  const ours = got.filter((k) => edgeKeys.some((e) => cmp(e, k) === 0));
  const want = [...expected].sort(cmp);
  assert.deepEqual(ours.map(show), want.map(show));
  // The rule itself agrees with the expectation written out by hand.
  assert.deepEqual(
    edgeKeys
      .filter((k) => selects(r, k))
      .sort(cmp)
      .map(show),
    want.map(show),
  );
  // Values came back with their keys.
  for (const kv of result.kvs.filter((kv) => want.some((w) => cmp(w, kv.key) === 0))) {
    assert.deepEqual(kv.value, cat("v:", kv.key));
  }
  assert.equal(result.count, BigInt(got.length));
  return result;
}

const above = (k: Uint8Array) => edgeKeys.filter((e) => cmp(e, k) >= 0);

describe("key/range_end against etcd", () => {
  setup();

  test("key(k): exactly k, not k + \\0 or k + anything", async () => {
    await expectSelection(key(A), [A]);
    await expectSelection(key(b(0x00)), [b(0x00)]);
    await expectSelection(key(b(0xff)), [b(0xff)]);
    await expectSelection(key(cat(A, [0xff, 0xff])), [cat(A, [0xff, 0xff])]);
    // A plain key argument means the same.
    assert.deepEqual(
      (await etcd.range(A)).kvs.map((kv) => show(kv.key)),
      [show(A)],
    );
    assert.equal((await etcd.get(cat(A, [0x02])))?.key, undefined);
  });

  test("prefix(p): every key starting with p, and not prefixEnd(p) itself", async () => {
    const r = prefix(A);
    assert.deepEqual(r.rangeEnd, cat(base, "b"));
    await expectSelection(r, [
      A,
      cat(A, [0x00]),
      cat(A, [0x01]),
      cat(A, "/x"),
      cat(A, [0xfe]),
      cat(A, [0xfe, 0xff]),
      cat(A, [0xff]),
      cat(A, [0xff, 0x00]),
      cat(A, [0xff, 0x01]),
      cat(A, [0xff, 0xff]),
      cat(A, [0xff, 0xff, 0x00]),
      cat(A, [0xff, 0xff, 0xff]),
    ]);
  });

  test("prefix ending in 0xff bytes: the end drops them and increments the byte before", async () => {
    const one = prefix(cat(A, [0xff]));
    assert.deepEqual(one.rangeEnd, cat(base, "b"));
    await expectSelection(one, [
      cat(A, [0xff]),
      cat(A, [0xff, 0x00]),
      cat(A, [0xff, 0x01]),
      cat(A, [0xff, 0xff]),
      cat(A, [0xff, 0xff, 0x00]),
      cat(A, [0xff, 0xff, 0xff]),
    ]);
    const two = prefix(cat(A, [0xff, 0xff]));
    assert.deepEqual(two.rangeEnd, cat(base, "b"));
    await expectSelection(two, [
      cat(A, [0xff, 0xff]),
      cat(A, [0xff, 0xff, 0x00]),
      cat(A, [0xff, 0xff, 0xff]),
    ]);
    const fe = prefix(cat(A, [0xfe, 0xff]));
    assert.deepEqual(fe.rangeEnd, cat(A, [0xff]));
    await expectSelection(fe, [cat(A, [0xfe, 0xff])]);
    // Top of the keyspace with a non-0xff byte first.
    await expectSelection(prefix(b(0xfe, 0xff)), [b(0xfe, 0xff), b(0xfe, 0xff, 0xff)]);
  });

  test('all-0xff prefix: no end exists, range_end "\\0" reaches the top of the keyspace', async () => {
    const one = prefix(b(0xff));
    assert.deepEqual(one.rangeEnd, b(0));
    await expectSelection(one, [
      b(0xff),
      b(0xff, 0x00),
      b(0xff, 0xfe),
      b(0xff, 0xfe, 0xff),
      b(0xff, 0xff),
      b(0xff, 0xff, 0x00),
      b(0xff, 0xff, 0xff),
      b(0xff, 0xff, 0xff, 0xff),
    ]);
    await expectSelection(prefix(b(0xff, 0xff)), [
      b(0xff, 0xff),
      b(0xff, 0xff, 0x00),
      b(0xff, 0xff, 0xff),
      b(0xff, 0xff, 0xff, 0xff),
    ]);
    await expectSelection(prefix(b(0xff, 0xff, 0xff)), [
      b(0xff, 0xff, 0xff),
      b(0xff, 0xff, 0xff, 0xff),
    ]);
  });

  test("empty prefix: every key, from \\0 up", async () => {
    await expectSelection(prefix(""), edgeKeys);
    await expectSelection(prefix(b()), edgeKeys);
  });

  test("range(a, b): a included, b excluded", async () => {
    await expectSelection(range(A, cat(base, "b")), [
      A,
      cat(A, [0x00]),
      cat(A, [0x01]),
      cat(A, "/x"),
      cat(A, [0xfe]),
      cat(A, [0xfe, 0xff]),
      cat(A, [0xff]),
      cat(A, [0xff, 0x00]),
      cat(A, [0xff, 0x01]),
      cat(A, [0xff, 0xff]),
      cat(A, [0xff, 0xff, 0x00]),
      cat(A, [0xff, 0xff, 0xff]),
    ]);
    await expectSelection(range(cat(A, [0x00]), cat(A, [0xfe])), [
      cat(A, [0x00]),
      cat(A, [0x01]),
      cat(A, "/x"),
    ]);
    await expectSelection(range(cat(A, [0xff]), cat(A, [0xff, 0xff])), [
      cat(A, [0xff]),
      cat(A, [0xff, 0x00]),
      cat(A, [0xff, 0x01]),
    ]);
    // Across the top: [0xfe 0xff, 0xff 0xff)
    await expectSelection(range(b(0xfe, 0xff), b(0xff, 0xff)), [
      b(0xfe, 0xff),
      b(0xfe, 0xff, 0xff),
      b(0xff),
      b(0xff, 0x00),
      b(0xff, 0xfe),
      b(0xff, 0xfe, 0xff),
    ]);
    // From the smallest key.
    await expectSelection(range(b(0x00), b(0x00, 0xff)), [b(0x00), b(0x00, 0x00)]);
    // Empty and inverted ranges select nothing.
    await expectSelection(range(A, A), []);
    await expectSelection(range(cat(base, "c"), A), []);
  });

  test('fromKey(k): every key >= k (range_end "\\0" is not "prefix k")', async () => {
    await expectSelection(fromKey(cat(A, [0xff])), above(cat(A, [0xff])));
    // Keys past the prefix come back too: "\0" does not mean "with prefix".
    const result = await expectSelection(fromKey(cat(base, "b")), above(cat(base, "b")));
    assert.ok(result.kvs.some((kv) => cmp(kv.key, b(0xff, 0xff, 0xff, 0xff)) === 0));
    await expectSelection(fromKey(b(0xff, 0xff)), above(b(0xff, 0xff)));
    await expectSelection(fromKey(b(0x00)), edgeKeys);
    // range(k, "\0") is the same request.
    await expectSelection(range(cat(base, "c"), "\0"), above(cat(base, "c")));
  });

  test('all(): key "\\0", range_end "\\0", every key', async () => {
    await expectSelection(all(), edgeKeys);
    const { count } = await etcd.range(all(), { countOnly: true });
    assert.ok(count >= BigInt(edgeKeys.length));
  });

  test("delete uses the same rule: a 0xff-ended prefix deletes exactly its keys", async () => {
    const p = cat(A, [0xff]);
    const doomed = edgeKeys.filter((k) => selects(prefix(p), k));
    const { deleted, prevKvs } = await etcd.delete(prefix(p), { prevKv: true });
    assert.equal(deleted, BigInt(doomed.length));
    assert.deepEqual(
      prevKvs.map((kv) => show(kv.key)),
      doomed.map(show),
    );
    const left = await etcd.range(prefix(A), { keysOnly: true });
    assert.deepEqual(
      left.kvs.map((kv) => show(kv.key)),
      [A, cat(A, [0x00]), cat(A, [0x01]), cat(A, "/x"), cat(A, [0xfe]), cat(A, [0xfe, 0xff])].map(
        show,
      ),
    );
    assert.ok(await etcd.get(cat(base, "b")), "prefixEnd(p) itself survives");
    for (const k of doomed) await etcd.put(k, cat("v:", k));
    // And an all-0xff prefix deletes to the top, nothing below.
    const top = edgeKeys.filter((k) => k[0] === 0xff && k[1] === 0xff);
    const removed = await etcd.delete(prefix(b(0xff, 0xff)), { prevKv: true });
    assert.ok(removed.prevKvs.every((kv) => kv.key[0] === 0xff && kv.key[1] === 0xff));
    assert.ok(await etcd.get(b(0xff, 0xfe, 0xff)));
    for (const k of top) await etcd.put(k, cat("v:", k));
  });
});
