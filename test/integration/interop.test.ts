/**
 * Interop with a client we did not write: etcdctl (Go's clientv3) reads what we write and we read
 * what it writes, byte for byte, binary keys and values included. etcdctl's `-w json` output
 * base64-encodes keys and values, so binary data survives the trip through its stdout.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { CompactedError, Etcd, fromKey, prefix } from "../../src/index.ts";
import { etcdctl, testClientOptions, uniquePrefix, useEtcd } from "../support/index.ts";

const fx = useEtcd();
let etcd: Etcd;

const enc = new TextEncoder();
const allBytes = Uint8Array.from({ length: 256 }, (_, i) => i);
const allBytesReversed = allBytes.slice().reverse();

/** Deterministic pseudo-random bytes (xorshift), so a failure can be reproduced. */
function noise(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

function cat(...parts: Array<Uint8Array | string>): Uint8Array {
  return Buffer.concat(parts.map((p) => (typeof p === "string" ? enc.encode(p) : p)));
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

interface CtlKv {
  key: Uint8Array;
  value: Uint8Array;
  createRevision: bigint;
  modRevision: bigint;
  version: bigint;
  lease: bigint;
}

/**
 * `etcdctl get <args> -w json`, decoded. Numbers are read from the raw text so that int64s (lease
 * IDs, cluster IDs) keep every digit; fields etcd leaves empty are omitted from its JSON.
 */
async function ctlGet(args: string[]): Promise<{ revision: bigint; kvs: CtlKv[] }> {
  const { stdout } = await etcdctl(fx.endpoints, ["get", ...args, "-w", "json"]);
  const text = stdout.toString("utf8");
  const exact = JSON.parse(text.replace(/:(\d{15,})/g, ':"$1"')) as {
    header: { revision: number | string };
    kvs?: Array<Record<string, string | number | undefined>>;
  };
  return {
    revision: BigInt(exact.header.revision),
    kvs: (exact.kvs ?? []).map((kv) => ({
      key: Buffer.from(String(kv.key ?? ""), "base64"),
      value: Buffer.from(String(kv.value ?? ""), "base64"),
      createRevision: BigInt(kv.create_revision ?? 0),
      modRevision: BigInt(kv.mod_revision ?? 0),
      version: BigInt(kv.version ?? 0),
      lease: BigInt(kv.lease ?? 0),
    })),
  };
}

/** Runs `etcdctl txn` non-interactively with no compares and the given success ops. */
function ctlTxn(ops: string[]) {
  return etcdctl(fx.endpoints, ["txn"], { input: `\n${ops.join("\n")}\n\n\n` });
}

/** A Go double-quoted string literal for any bytes: what etcdctl txn's parser reads back. */
function goQuote(bytes: Uint8Array): string {
  return `"${[...bytes].map((b) => `\\x${b.toString(16).padStart(2, "0")}`).join("")}"`;
}

describe("interop with etcdctl", () => {
  before(() => {
    etcd = new Etcd({ ...testClientOptions(), endpoints: fx.endpoints });
  });
  after(async () => {
    await etcd.close();
  });

  describe("etcdctl reads what etcd-connect writes", () => {
    const P = uniquePrefix("ours");

    test("a UTF-8 text value, through --print-value-only", async () => {
      const value = "héllo wörld ✓ 😀 \u0000 end";
      await etcd.put(`${P}text`, value);
      const { stdout } = await etcdctl(fx.endpoints, ["get", `${P}text`, "--print-value-only"]);
      assert.equal(hex(stdout), hex(cat(value, "\n")));
      assert.equal(stdout.toString("utf8"), `${value}\n`);
    });

    test("binary values: all 256 byte values, both orders, empty, and noise", async () => {
      const values: Array<[string, Uint8Array]> = [
        ["all", allBytes],
        ["reversed", allBytesReversed],
        ["empty", new Uint8Array(0)],
        ["zero", new Uint8Array([0])],
        ["ff", new Uint8Array([0xff, 0xff])],
        ["crlf", enc.encode("a\r\nb\n")],
        ["noise", noise(64 * 1024, 7)],
      ];
      for (const [name, value] of values) await etcd.put(`${P}bin/${name}`, value);
      for (const [name, value] of values) {
        const { kvs } = await ctlGet([`${P}bin/${name}`]);
        assert.equal(kvs.length, 1, name);
        assert.equal(hex(kvs[0]?.value ?? new Uint8Array()), hex(value), name);
      }
      // The raw value output is the bytes and a newline, also for binary data.
      const { stdout } = await etcdctl(fx.endpoints, ["get", `${P}bin/all`, "--print-value-only"]);
      assert.equal(hex(stdout), hex(cat(allBytes, "\n")));
    });

    test("binary keys under a text prefix, with their metadata", async () => {
      const B = `${P}keys/`;
      const suffixes = [
        new Uint8Array([0x00]),
        new Uint8Array([0x00, 0x00]),
        new Uint8Array([0x7f]),
        new Uint8Array([0x80]),
        new Uint8Array([0xc3, 0x28]), // invalid UTF-8
        new Uint8Array([0xfe, 0xff]),
        new Uint8Array([0xff]),
        new Uint8Array([0xff, 0xff, 0xff]),
        allBytes,
      ];
      const written = new Map<string, bigint>();
      for (const [i, suffix] of suffixes.entries()) {
        const k = cat(B, suffix);
        const { revision } = await etcd.put(k, noise(i + 1, i + 11));
        written.set(hex(k), revision);
      }
      await etcd.put(cat(B, new Uint8Array([0xff])), "again");
      const ours = await etcd.range(prefix(B));
      const theirs = await ctlGet([B, "--prefix"]);
      assert.equal(theirs.kvs.length, suffixes.length);
      assert.deepEqual(
        theirs.kvs.map((kv) => hex(kv.key)),
        ours.kvs.map((kv) => hex(kv.key)),
      );
      for (const [i, kv] of theirs.kvs.entries()) {
        const mine = ours.kvs[i];
        assert.ok(mine);
        assert.equal(hex(kv.value), hex(mine.value));
        assert.equal(kv.createRevision, mine.createRevision);
        assert.equal(kv.modRevision, mine.modRevision);
        assert.equal(kv.version, mine.version);
        assert.equal(kv.createRevision, written.get(hex(kv.key)));
      }
      const twice = theirs.kvs.find((kv) => hex(kv.key) === hex(cat(B, new Uint8Array([0xff]))));
      assert.equal(twice?.version, 2n);
      assert.equal(Buffer.from(twice?.value ?? []).toString(), "again");
    });

    test("a lease ID (an int64 beyond 2^53 as often as not) reads the same", async () => {
      const { ID } = await etcd.raw.lease.leaseGrant({ TTL: 60n });
      try {
        await etcd.put(`${P}leased`, "v", { lease: ID });
        const { kvs } = await ctlGet([`${P}leased`]);
        assert.equal(kvs[0]?.lease, ID);
        const { stdout } = await etcdctl(fx.endpoints, ["lease", "list"]);
        assert.match(stdout.toString(), new RegExp(ID.toString(16)));
      } finally {
        await etcd.raw.lease.leaseRevoke({ ID });
      }
    });

    test("etcdctl's --prefix and --from-key select what prefix() and fromKey() select", async () => {
      const R = `${P}sel/`;
      for (const k of ["a", "a/", "a/b", "a0", "b", "b/c"]) await etcd.put(R + k, k);
      const ourPrefix = await etcd.range(prefix(`${R}a/`));
      const theirPrefix = await ctlGet([`${R}a/`, "--prefix"]);
      assert.deepEqual(
        theirPrefix.kvs.map((kv) => hex(kv.key)),
        ourPrefix.kvs.map((kv) => hex(kv.key)),
      );
      assert.equal(ourPrefix.kvs.length, 2);
      const ourFrom = await etcd.range(fromKey(`${R}a0`), { limit: 3 });
      const theirFrom = await ctlGet([`${R}a0`, "--from-key", "--limit=3"]);
      assert.deepEqual(
        theirFrom.kvs.map((kv) => hex(kv.key)),
        ourFrom.kvs.map((kv) => hex(kv.key)),
      );
      assert.deepEqual(
        ourFrom.kvs.map((kv) => kv.text),
        ["a0", "b", "b/c"],
      );
    });

    test("what we delete, etcdctl no longer sees", async () => {
      await etcd.put(`${P}gone`, "x");
      assert.equal((await ctlGet([`${P}gone`])).kvs.length, 1);
      await etcd.delete(`${P}gone`);
      assert.equal((await ctlGet([`${P}gone`])).kvs.length, 0);
    });
  });

  describe("etcd-connect reads what etcdctl writes", () => {
    const P = uniquePrefix("theirs");

    test("a UTF-8 text value given as an argument", async () => {
      const value = "grüße ✓ 😀 \t tab";
      await etcdctl(fx.endpoints, ["put", `${P}text`, value]);
      const kv = await etcd.get(`${P}text`);
      assert.equal(kv?.text, value);
      assert.equal(hex(kv?.value ?? new Uint8Array()), hex(enc.encode(value)));
      assert.equal(kv?.keyText, `${P}text`);
    });

    test("all 256 byte values, through etcdctl put's stdin", async () => {
      for (const [name, value] of [
        ["all", allBytes],
        ["reversed", allBytesReversed],
        ["noise", noise(64 * 1024, 3)],
      ] as const) {
        await etcdctl(fx.endpoints, ["put", `${P}stdin/${name}`], { input: value });
        const kv = await etcd.get(`${P}stdin/${name}`);
        assert.equal(hex(kv?.value ?? new Uint8Array()), hex(value), name);
      }
    });

    test("binary keys and values, through etcdctl txn's quoted strings", async () => {
      const pairs: Array<[Uint8Array, Uint8Array]> = [
        [cat(P, "txn/", new Uint8Array([0x00, 0xff])), allBytes],
        [cat(P, "txn/", new Uint8Array([0xff, 0xfe, 0x00])), new Uint8Array([0x00])],
        [cat(P, "txn/", allBytesReversed.subarray(0, 255)), allBytesReversed],
      ];
      const result = await ctlTxn(pairs.map(([k, v]) => `put ${goQuote(k)} ${goQuote(v)}`));
      assert.match(result.stdout.toString(), /SUCCESS/);
      for (const [k, v] of pairs) {
        const kv = await etcd.get(k);
        assert.ok(kv, `key ${hex(k)} exists`);
        assert.equal(hex(kv.key), hex(k));
        assert.equal(hex(kv.value), hex(v));
      }
      // One txn, one revision.
      const { kvs } = await etcd.range(prefix(`${P}txn/`));
      assert.equal(kvs.length, 3);
      assert.equal(new Set(kvs.map((kv) => kv.modRevision)).size, 1);
    });

    test("a key put with an etcdctl lease carries that lease", async () => {
      const granted = await etcdctl(fx.endpoints, ["lease", "grant", "60"]);
      const id = /lease ([0-9a-f]+) granted/.exec(granted.stdout.toString())?.[1];
      assert.ok(id, granted.stdout.toString());
      try {
        await etcdctl(fx.endpoints, ["put", `${P}leased`, "v", `--lease=${id}`]);
        assert.equal((await etcd.get(`${P}leased`))?.lease, BigInt(`0x${id}`));
      } finally {
        await etcdctl(fx.endpoints, ["lease", "revoke", id]);
      }
      assert.equal(await etcd.get(`${P}leased`), undefined);
    });

    test("etcdctl's del and compaction are what we observe", async () => {
      const first = (await etcd.put(`${P}c`, "1")).revision;
      await etcdctl(fx.endpoints, ["put", `${P}c`, "2"]);
      const { revision } = await ctlGet([`${P}c`]);
      await etcdctl(fx.endpoints, ["compaction", String(revision), "--physical"]);
      await assert.rejects(etcd.get(`${P}c`, { revision: first }), CompactedError);
      assert.equal((await etcd.get(`${P}c`))?.text, "2");
      const deleted = await etcdctl(fx.endpoints, ["del", `${P}c`]);
      assert.equal(deleted.stdout.toString().trim(), "1");
      assert.equal(await etcd.get(`${P}c`), undefined);
    });
  });
});
