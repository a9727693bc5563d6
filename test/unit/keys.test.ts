import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { toKeyRange } from "../../src/core/keys.ts";
import {
  all,
  fromKey,
  InvalidArgumentError,
  KeyRange,
  key,
  prefix,
  prefixEnd,
  range,
  toBytes,
  toText,
} from "../../src/index.ts";
import { Keyspace } from "../../src/kv/keyspace.ts";
import { deleteRequest, putRequest, rangeRequest, txnRequest } from "../../src/kv/kv-wire.ts";
import { compare, op } from "../../src/kv/txn.ts";

const enc = new TextEncoder();
const b = (...bytes: number[]) => new Uint8Array(bytes);
const root = new Keyspace();

/** Bytewise comparison, as etcd orders keys. */
function cmp(x: Uint8Array, y: Uint8Array): number {
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) {
    const d = (x[i] as number) - (y[i] as number);
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

function startsWith(k: Uint8Array, p: Uint8Array): boolean {
  return k.length >= p.length && cmp(k.subarray(0, p.length), p) === 0;
}

/** Whether etcd's Range(key, rangeEnd) selects `k`: the rule the helpers must encode. */
function selects(r: { key: Uint8Array; rangeEnd: Uint8Array }, k: Uint8Array): boolean {
  if (r.rangeEnd.length === 0) return cmp(k, r.key) === 0;
  if (r.rangeEnd.length === 1 && r.rangeEnd[0] === 0) return cmp(k, r.key) >= 0;
  return cmp(k, r.key) >= 0 && cmp(k, r.rangeEnd) < 0;
}

/** Bytes with the edge values (0x00, 0xfe, 0xff) frequent, so 0xff runs actually happen. */
const edgyBytes = (maxLength: number) =>
  fc
    .array(fc.oneof(fc.constantFrom(0x00, 0x01, 0xfe, 0xff), fc.integer({ min: 0, max: 255 })), {
      maxLength,
    })
    .map((a) => Uint8Array.from(a));

/** A key near `p`: unrelated, p plus a suffix, a cut of p, or p with one byte changed. */
const keyNear = (p: Uint8Array) =>
  fc.oneof(
    edgyBytes(8),
    edgyBytes(4).map((s) => concat(p, s)),
    fc.nat(p.length).map((n) => p.slice(0, n)),
    fc.tuple(fc.nat(Math.max(0, p.length - 1)), fc.integer({ min: -1, max: 1 })).map(([i, d]) => {
      const k = p.slice();
      if (k.length > 0) k[i] = Math.min(255, Math.max(0, (k[i] as number) + d));
      return k;
    }),
  );

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

describe("prefixEnd", () => {
  test("increments the last byte", () => {
    assert.deepEqual(prefixEnd("a/"), enc.encode("a0"));
    assert.deepEqual(prefixEnd(b(0x61)), b(0x62));
    assert.deepEqual(prefixEnd(b(0x00)), b(0x01));
    assert.deepEqual(prefixEnd(b(0xfe)), b(0xff));
  });

  test("drops trailing 0xff bytes and increments the byte before them", () => {
    assert.deepEqual(prefixEnd(b(0x61, 0xff)), b(0x62));
    assert.deepEqual(prefixEnd(b(0x61, 0xfe, 0xff, 0xff)), b(0x61, 0xff));
    assert.deepEqual(prefixEnd(b(0x00, 0xff)), b(0x01));
  });

  test('empty and all-0xff prefixes have no end: "\\0" (unbounded)', () => {
    assert.deepEqual(prefixEnd(""), b(0));
    assert.deepEqual(prefixEnd(b()), b(0));
    assert.deepEqual(prefixEnd(b(0xff)), b(0));
    assert.deepEqual(prefixEnd(b(0xff, 0xff, 0xff)), b(0));
  });

  test("strings are UTF-8 encoded first", () => {
    // "é" is c3 a9
    assert.deepEqual(prefixEnd("é"), b(0xc3, 0xaa));
  });

  test("returns a fresh array each time", () => {
    const one = prefixEnd(b(0xff));
    one[0] = 9;
    assert.deepEqual(prefixEnd(b(0xff)), b(0));
    const input = b(1, 2);
    assert.notEqual(prefixEnd(input).buffer, input.buffer);
  });

  test("property: k starts with p <=> p <= k < prefixEnd(p) (\\0 = unbounded)", () => {
    fc.assert(
      fc.property(
        edgyBytes(6).chain((p) => fc.tuple(fc.constant(p), keyNear(p))),
        ([p, k]) => {
          const end = prefixEnd(p);
          const unbounded = end.length === 1 && end[0] === 0;
          const inRange = cmp(k, p) >= 0 && (unbounded || cmp(k, end) < 0);
          assert.equal(inRange, startsWith(k, p), `p=${[...p]} k=${[...k]} end=${[...end]}`);
        },
      ),
      { numRuns: 3000 },
    );
  });

  test("property: the end is the tightest bound and never starts with the prefix", () => {
    fc.assert(
      fc.property(edgyBytes(8), (p) => {
        const end = prefixEnd(p);
        if (end.length === 1 && end[0] === 0) {
          // Unbounded only when no byte can be incremented.
          assert.ok(p.every((x) => x === 0xff));
          return;
        }
        assert.ok(cmp(end, p) > 0);
        assert.ok(!startsWith(end, p));
        assert.ok(end.length <= p.length);
        // The key just below `end` (end with its last byte decremented, then 0xff forever)
        // still starts with p: nothing between the prefix's keys and `end` is skipped.
        const below = end.slice();
        below[below.length - 1] = (below[below.length - 1] as number) - 1;
        const padded = concat(below, new Uint8Array(p.length).fill(0xff));
        assert.ok(startsWith(padded, p));
      }),
      { numRuns: 2000 },
    );
  });

  test("property: the input is never modified", () => {
    fc.assert(
      fc.property(edgyBytes(8), (p) => {
        const before = p.slice();
        prefixEnd(p);
        prefix(p.length === 0 ? b(1) : p);
        assert.deepEqual(p, before);
      }),
    );
  });

  test("a view into a larger buffer is read and left alone", () => {
    const backing = b(0x10, 0x61, 0xff, 0x20);
    const view = backing.subarray(1, 3);
    assert.deepEqual(prefixEnd(view), b(0x62));
    assert.deepEqual(backing, b(0x10, 0x61, 0xff, 0x20));
  });
});

describe("range helpers", () => {
  test("key: exact key, empty range end", () => {
    const r = key("a");
    assert.ok(r instanceof KeyRange);
    assert.deepEqual(r.key, enc.encode("a"));
    assert.equal(r.rangeEnd.length, 0);
    assert.equal(r.isSingleKey, true);
  });

  test("prefix: [p, prefixEnd(p))", () => {
    const r = prefix("cfg/");
    assert.deepEqual(r.key, enc.encode("cfg/"));
    assert.deepEqual(r.rangeEnd, enc.encode("cfg0"));
    assert.equal(r.isSingleKey, false);
    const ff = prefix(b(0x61, 0xff));
    assert.deepEqual(ff.key, b(0x61, 0xff));
    assert.deepEqual(ff.rangeEnd, b(0x62));
  });

  test('prefix of all 0xff: from the prefix with no upper bound ("\\0")', () => {
    const r = prefix(b(0xff, 0xff));
    assert.deepEqual(r.key, b(0xff, 0xff));
    assert.deepEqual(r.rangeEnd, b(0));
  });

  test("empty prefix means every key, like all()", () => {
    for (const r of [prefix(""), prefix(b())]) {
      assert.deepEqual(r.key, b(0));
      assert.deepEqual(r.rangeEnd, b(0));
    }
  });

  test("range: [a, b)", () => {
    const r = range("a", "c");
    assert.deepEqual(r.key, enc.encode("a"));
    assert.deepEqual(r.rangeEnd, enc.encode("c"));
  });

  test('range with an end of "\\0" is etcd\'s "every key >= start", not an empty range', () => {
    const r = range("a", "\0");
    assert.deepEqual(r.rangeEnd, b(0));
    assert.equal(selects(r, enc.encode("zzz")), true);
  });

  test('fromKey: every key >= k (range end "\\0")', () => {
    const r = fromKey("m");
    assert.deepEqual(r.key, enc.encode("m"));
    assert.deepEqual(r.rangeEnd, b(0));
  });

  test('all: key "\\0", range end "\\0"', () => {
    const r = all();
    assert.deepEqual(r.key, b(0));
    assert.deepEqual(r.rangeEnd, b(0));
  });

  test("modifying one range's bytes does not leak into the next", () => {
    const first = all();
    first.key[0] = 7;
    first.rangeEnd[0] = 7;
    assert.deepEqual(all().key, b(0));
    assert.deepEqual(all().rangeEnd, b(0));
    assert.deepEqual(fromKey("x").rangeEnd, b(0));
    assert.deepEqual(prefix("").rangeEnd, b(0));
  });

  test("toKeyRange: bytes become an exact key, a KeyRange passes through", () => {
    const r = prefix("x");
    assert.equal(toKeyRange(r), r);
    const k = toKeyRange(b(1, 2));
    assert.deepEqual(k.key, b(1, 2));
    assert.equal(k.isSingleKey, true);
  });

  test("property: each helper selects exactly the keys it promises", () => {
    fc.assert(
      fc.property(
        edgyBytes(4).filter((x) => x.length > 0),
        edgyBytes(4).filter((x) => x.length > 0),
        edgyBytes(6),
        (p, q, k) => {
          if (k.length === 0) return; // etcd has no empty key
          assert.equal(selects(key(p), k), cmp(k, p) === 0);
          assert.equal(selects(prefix(p), k), startsWith(k, p));
          assert.equal(selects(fromKey(p), k), cmp(k, p) >= 0);
          // etcd's wire rule wins for an end of "\0": range(p, "\0") is fromKey(p).
          const unbounded = q.length === 1 && q[0] === 0;
          assert.equal(selects(range(p, q), k), cmp(k, p) >= 0 && (unbounded || cmp(k, q) < 0));
          assert.equal(selects(all(), k), true);
          assert.equal(selects(prefix(""), k), true);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe("encoding", () => {
  test("strings are UTF-8", () => {
    assert.deepEqual(toBytes("a/b"), b(0x61, 0x2f, 0x62));
    assert.deepEqual(toBytes("é"), b(0xc3, 0xa9));
    assert.deepEqual(toBytes("€"), b(0xe2, 0x82, 0xac));
    assert.deepEqual(toBytes("😀"), b(0xf0, 0x9f, 0x98, 0x80));
    assert.deepEqual(toBytes("\0"), b(0));
    assert.deepEqual(toBytes(""), b());
  });

  test("bytes are used as they are: same object, not copied", () => {
    const bytes = b(0xff, 0x00, 0x80);
    assert.equal(toBytes(bytes), bytes);
    const buf = Buffer.from([1, 2, 3]);
    assert.equal(toBytes(buf), buf);
  });

  test("a lone surrogate becomes U+FFFD (what TextEncoder does), never throws", () => {
    assert.deepEqual(toBytes("\ud800"), b(0xef, 0xbf, 0xbd));
  });

  test("toText decodes UTF-8; invalid bytes become U+FFFD", () => {
    assert.equal(toText(b(0x68, 0x69)), "hi");
    assert.equal(toText(b(0xff)), "\ufffd");
  });

  test("property: UTF-8 round trip of any well-formed string", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 40 }), (s) => {
        const bytes = toBytes(s);
        assert.deepEqual(bytes, new Uint8Array(Buffer.from(s, "utf8")));
        assert.equal(toText(bytes), s);
      }),
      { numRuns: 2000 },
    );
  });

  test("property: string ranges follow UTF-8 byte order, not UTF-16 string order", () => {
    // "\uffff" > "\u{1f600}" as JS strings, but ef bf bf < f0 9f 98 80 as bytes: etcd orders
    // bytes, so the helpers must compare encoded bytes.
    assert.ok(selects(range("\uffff", "\u{1f601}"), toBytes("\u{1f600}")));
    const str = fc.string({ unit: "binary", minLength: 1, maxLength: 4 });
    fc.assert(
      fc.property(str, str, str, (x, y, k) => {
        const kb = Buffer.from(k, "utf8");
        const expected =
          Buffer.compare(kb, Buffer.from(x, "utf8")) >= 0 &&
          (y === "\0" || Buffer.compare(kb, Buffer.from(y, "utf8")) < 0);
        assert.equal(selects(range(x, y), toBytes(k)), expected);
      }),
    );
  });

  test("property: bytes pass through to the wire request unchanged", () => {
    fc.assert(
      fc.property(edgyBytes(16), edgyBytes(16), (k, v) => {
        if (k.length === 0) return;
        const req = putRequest(k, v, {}, root);
        assert.equal(req.key, k);
        assert.equal(req.value, v);
      }),
    );
  });
});

describe("Keyspace", () => {
  const ns = new Keyspace(enc.encode("app/"));

  test("the root keyspace is the identity and does not copy", () => {
    const k = b(1, 2);
    assert.equal(root.isRoot, true);
    assert.equal(root.encodeKey(k), k);
    assert.equal(root.decodeKey(k), k);
    const r = prefix("x");
    assert.equal(root.encodeRange(r), r);
  });

  test("keys get the prefix on the way in and lose it on the way out", () => {
    assert.equal(ns.isRoot, false);
    const stored = ns.encodeKey(enc.encode("a"));
    assert.deepEqual(stored, enc.encode("app/a"));
    assert.deepEqual(ns.decodeKey(stored), enc.encode("a"));
  });

  test("ranges stay inside the namespace", () => {
    const exact = ns.encodeRange(key("a"));
    assert.deepEqual(exact.key, enc.encode("app/a"));
    assert.equal(exact.rangeEnd.length, 0);

    const p = ns.encodeRange(prefix("cfg/"));
    assert.deepEqual(p.key, enc.encode("app/cfg/"));
    assert.deepEqual(p.rangeEnd, enc.encode("app/cfg0"));

    const r = ns.encodeRange(range("a", "c"));
    assert.deepEqual(r.key, enc.encode("app/a"));
    assert.deepEqual(r.rangeEnd, enc.encode("app/c"));

    const from = ns.encodeRange(fromKey("m"));
    assert.deepEqual(from.key, enc.encode("app/m"));
    assert.deepEqual(from.rangeEnd, enc.encode("app0"));

    const every = ns.encodeRange(all());
    assert.deepEqual(every.rangeEnd, enc.encode("app0"));
    // The namespace key itself ("app/", an empty key to the caller) is not part of it.
    assert.equal(selects(every, enc.encode("app/")), false);
    assert.equal(selects(every, enc.encode("app/\0")), true);
  });

  test("prefix ending in 0xff inside a namespace", () => {
    const r = ns.encodeRange(prefix(b(0x61, 0xff)));
    assert.deepEqual(r.key, concat(enc.encode("app/"), b(0x61, 0xff)));
    assert.deepEqual(r.rangeEnd, concat(enc.encode("app/"), b(0x62)));
    // An all-0xff prefix inside a namespace ends where the namespace ends.
    const top = ns.encodeRange(prefix(b(0xff)));
    assert.deepEqual(top.key, concat(enc.encode("app/"), b(0xff)));
    assert.deepEqual(top.rangeEnd, enc.encode("app0"));
  });

  test("a namespace of 0xff bytes has no upper bound", () => {
    const top = new Keyspace(b(0xff, 0xff));
    assert.deepEqual(top.encodeRange(all()).rangeEnd, b(0));
  });

  test("child keyspaces nest", () => {
    const child = ns.child(enc.encode("svc/"));
    assert.deepEqual(child.prefix, enc.encode("app/svc/"));
    assert.deepEqual(child.encodeKey(enc.encode("k")), enc.encode("app/svc/k"));
  });

  test("decodeKey is a view, encodeKey never modifies its input", () => {
    const stored = enc.encode("app/xyz");
    const decoded = ns.decodeKey(stored);
    assert.equal(decoded.buffer, stored.buffer);
    const k = b(1, 2, 3);
    ns.encodeKey(k);
    assert.deepEqual(k, b(1, 2, 3));
  });

  test("property: a namespaced range selects exactly the namespaced keys its caller range selects", () => {
    const callerRange = fc.oneof(
      edgyBytes(3)
        .filter((x) => x.length > 0)
        .map((x) => key(x)),
      edgyBytes(3).map((x) => prefix(x)),
      edgyBytes(3)
        .filter((x) => x.length > 0)
        .map((x) => fromKey(x)),
      fc
        .tuple(edgyBytes(3), edgyBytes(3))
        .filter(([x, y]) => x.length > 0 && y.length > 0)
        .map(([x, y]) => range(x, y)),
      fc.constant(all()),
    );
    fc.assert(
      fc.property(
        edgyBytes(3).filter((x) => x.length > 0),
        callerRange,
        edgyBytes(6),
        (nsPrefix, r, stored) => {
          const space = new Keyspace(nsPrefix);
          const encoded = space.encodeRange(r);
          // Every stored key the encoded range selects is a namespaced, non-empty caller key...
          const inside = startsWith(stored, nsPrefix) && stored.length > nsPrefix.length;
          if (selects(encoded, stored)) {
            assert.ok(inside, `selects ${[...stored]} outside namespace ${[...nsPrefix]}`);
          }
          // ...and it is selected exactly when the caller's range selects the caller's key.
          if (inside) {
            assert.equal(selects(encoded, stored), selects(r, space.decodeKey(stored)));
          }
        },
      ),
      { numRuns: 3000 },
    );
  });
});

describe("input validation", () => {
  function rejects(fn: () => unknown, pattern: RegExp) {
    assert.throws(fn, (e: unknown) => {
      assert.ok(e instanceof InvalidArgumentError, `not InvalidArgumentError: ${String(e)}`);
      assert.match((e as Error).message, pattern);
      assert.equal((e as InvalidArgumentError).codeName, "InvalidArgument");
      return true;
    });
  }

  test("empty keys", () => {
    rejects(() => key(""), /key must not be empty/);
    rejects(() => key(b()), /key must not be empty/);
    rejects(() => fromKey(""), /key must not be empty/);
    rejects(() => range("", "b"), /key must not be empty/);
    rejects(() => range("a", ""), /range end must not be empty/);
    rejects(() => toKeyRange(""), /key must not be empty/);
    rejects(() => putRequest("", "v", {}, root), /key must not be empty/);
    rejects(() => rangeRequest("", {}, root), /key must not be empty/);
    rejects(() => deleteRequest("", {}, root), /key must not be empty/);
  });

  test("keys and values that are neither string nor bytes", () => {
    const bad = [42, null, undefined, {}, [1, 2], new ArrayBuffer(2), new Uint16Array(1)];
    for (const value of bad) {
      rejects(() => toBytes(value as never), /must be a string or Uint8Array/);
      rejects(() => key(value as never), /key must be a string or Uint8Array/);
      rejects(() => prefix(value as never), /prefix must be a string or Uint8Array/);
      rejects(() => prefixEnd(value as never), /prefix must be a string or Uint8Array/);
      rejects(() => putRequest("k", value as never, {}, root), /value must be/);
    }
    rejects(() => toBytes(42 as never), /got number/);
    rejects(() => toBytes(null as never), /got null/);
    rejects(() => toBytes(new ArrayBuffer(1) as never), /got ArrayBuffer/);
  });

  test("integers: revisions, limits and leases", () => {
    rejects(() => rangeRequest("k", { limit: 1.5 }, root), /limit must be an integer/);
    rejects(() => rangeRequest("k", { limit: -1 }, root), /limit must not be negative/);
    rejects(() => rangeRequest("k", { revision: 2 ** 53 }, root), /revision must be an integer/);
    rejects(() => rangeRequest("k", { revision: Number.NaN }, root), /revision/);
    rejects(() => rangeRequest("k", { revision: 2n ** 63n }, root), /outside the int64 range/);
    rejects(() => rangeRequest("k", { minModRevision: "1" as never }, root), /minModRevision/);
    rejects(() => putRequest("k", "v", { lease: 0.5 }, root), /lease must be an integer/);
    assert.equal(rangeRequest("k", { revision: 2n ** 63n - 1n }, root).revision, 2n ** 63n - 1n);
    assert.equal(putRequest("k", "v", { lease: 2 ** 53 - 1 }, root).lease, 2n ** 53n - 1n);
  });

  test("unknown enum choices", () => {
    rejects(() => rangeRequest("k", { sortOrder: "up" as never }, root), /unknown sortOrder/);
    rejects(() => rangeRequest("k", { sortTarget: "size" as never }, root), /unknown sortTarget/);
    rejects(
      () => txnRequest({ compare: [compare.value("k", "~" as never, "v")] }, root),
      /unknown compare operator/,
    );
    rejects(
      () =>
        txnRequest({ compare: [{ ...compare.version("k", "=", 1), target: "x" as never }] }, root),
      /unknown compare target/,
    );
    rejects(
      () => txnRequest({ success: [{ type: "nope" } as never] }, root),
      /unknown txn operation/,
    );
    rejects(() => txnRequest(null as never, root), /txn expects/);
  });

  test("put option conflicts", () => {
    rejects(() => putRequest("k", "v", { ignoreValue: true }, root), /value must be empty/);
    rejects(
      () => putRequest("k", "", { lease: 1, ignoreLease: true }, root),
      /lease must not be set together with ignoreLease/,
    );
  });

  test("bad input inside a nested txn is found before sending", () => {
    rejects(
      () => txnRequest({ success: [op.txn({ failure: [op.put("", "v")] })] }, root),
      /key must not be empty/,
    );
  });
});
