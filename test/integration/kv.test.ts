/**
 * The KV facade against real etcd: every option of Range, Put, DeleteRange and Txn with a checked
 * outcome, compaction, the paged list, typed errors (with the store untouched after a refused
 * write), and the client's lifecycle, cancellation and deadlines.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Interceptor } from "@connectrpc/connect";
import {
  CanceledError,
  ClientClosedError,
  Code,
  CompactedError,
  type Compare,
  type CompareOperator,
  compare,
  DuplicateKeyError,
  Etcd,
  EtcdError,
  FutureRevisionError,
  InvalidArgumentError,
  KeyNotFoundError,
  KeyNotProvidedError,
  LeaseNotFoundError,
  NoEndpointsError,
  op,
  prefix,
  type RangeResult,
  RequestTooLargeError,
  range,
  TimeoutError,
  TooManyOpsError,
  toEtcdError,
  UnavailableError,
} from "../../src/index.ts";
import {
  Cluster,
  freePort,
  scriptArgs,
  testClientOptions,
  uniquePrefix,
  useEtcd,
} from "../support/index.ts";

const fx = useEtcd();
let etcd: Etcd;
const projectRoot = resolve(import.meta.dirname, "../..");

function client(extra: Partial<ConstructorParameters<typeof Etcd>[0]> = {}): Etcd {
  return new Etcd({ ...testClientOptions(), endpoints: fx.endpoints, ...extra });
}

/** The store's current revision. */
async function storeRevision(): Promise<bigint> {
  return (await etcd.range("\0", { countOnly: true })).revision;
}

async function texts(result: Promise<RangeResult>): Promise<string[]> {
  return (await result).kvs.map((kv) => kv.keyText.slice(kv.keyText.lastIndexOf("/") + 1));
}

async function grantLease(ttl = 60): Promise<bigint> {
  const { ID } = await etcd.raw.lease.leaseGrant({ TTL: BigInt(ttl) });
  return ID;
}

/** Asserts that a write was refused with `cls` and that the store did not move. */
async function refused(
  write: () => Promise<unknown>,
  cls: abstract new (...args: never[]) => EtcdError,
  message: RegExp,
): Promise<EtcdError> {
  const before = await storeRevision();
  let caught: unknown;
  try {
    await write();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof cls, `expected ${cls.name}, got ${String(caught)}`);
  assert.match((caught as EtcdError).message, message);
  assert.equal(await storeRevision(), before, "nothing was written");
  return caught as EtcdError;
}

describe("kv", () => {
  before(() => {
    etcd = client();
  });
  after(async () => {
    await etcd.close();
  });

  describe("range options", () => {
    const P = uniquePrefix("range");
    // Built so that every sort target orders the three keys differently:
    //   key a,b,c   createRevision c,b,a   modRevision b,a,c   version a,c,b   value b,c,a
    const rev: bigint[] = [];
    before(async () => {
      const writes: Array<[string, string]> = [
        ["c", "2"],
        ["b", "x"],
        ["b", "y"],
        ["b", "1"],
        ["a", "3"],
        ["c", "2"],
      ];
      for (const [k, v] of writes) rev.push((await etcd.put(P + k, v)).revision);
    });
    const r = (i: number) => rev[i - 1] as bigint;

    test("limit: the first keys, more and count tell the rest", async () => {
      const page = await etcd.range(prefix(P), { limit: 2 });
      assert.deepEqual(
        page.kvs.map((kv) => kv.keyText),
        [`${P}a`, `${P}b`],
      );
      assert.equal(page.more, true);
      assert.equal(page.count, 3n);
      const whole = await etcd.range(prefix(P), { limit: 3 });
      assert.equal(whole.kvs.length, 3);
      assert.equal(whole.more, false);
      const unlimited = await etcd.range(prefix(P), { limit: 0 });
      assert.equal(unlimited.kvs.length, 3);
      assert.equal(unlimited.more, false);
    });

    test("revision: reads the store as it was", async () => {
      const atR1 = await etcd.range(prefix(P), { revision: r(1) });
      assert.deepEqual(
        atR1.kvs.map((kv) => [kv.keyText, kv.text, kv.version]),
        [[`${P}c`, "2", 1n]],
      );
      const atR3 = await etcd.range(prefix(P), { revision: r(3) });
      assert.deepEqual(
        atR3.kvs.map((kv) => [kv.keyText, kv.text, kv.version]),
        [
          [`${P}b`, "y", 2n],
          [`${P}c`, "2", 1n],
        ],
      );
      assert.equal((await etcd.get(`${P}b`, { revision: Number(r(2)) }))?.text, "x");
      assert.equal(await etcd.get(`${P}a`, { revision: r(4) }), undefined);
      assert.equal((await etcd.get(`${P}a`))?.text, "3");
    });

    test("sortOrder x sortTarget", async () => {
      const ascending = {
        key: ["a", "b", "c"],
        createRevision: ["c", "b", "a"],
        modRevision: ["b", "a", "c"],
        version: ["a", "c", "b"],
        value: ["b", "c", "a"],
      } as const;
      for (const [target, order] of Object.entries(ascending)) {
        const sortTarget = target as keyof typeof ascending;
        assert.deepEqual(
          await texts(etcd.range(prefix(P), { sortTarget, sortOrder: "ascend" })),
          order,
          `${target} ascend`,
        );
        assert.deepEqual(
          await texts(etcd.range(prefix(P), { sortTarget, sortOrder: "descend" })),
          [...order].reverse(),
          `${target} descend`,
        );
        // "none" with a target other than key: etcd sorts ascending by that target.
        assert.deepEqual(
          await texts(etcd.range(prefix(P), { sortTarget, sortOrder: "none" })),
          order,
          `${target} none`,
        );
      }
      // The default is key order.
      assert.deepEqual(await texts(etcd.range(prefix(P))), ["a", "b", "c"]);
      assert.deepEqual(await texts(etcd.range(prefix(P), { sortOrder: "descend" })), [
        "c",
        "b",
        "a",
      ]);
    });

    test("sort applies before limit", async () => {
      const top = await etcd.range(prefix(P), {
        sortTarget: "modRevision",
        sortOrder: "descend",
        limit: 1,
      });
      assert.deepEqual(
        top.kvs.map((kv) => kv.keyText),
        [`${P}c`],
      );
      assert.equal(top.more, true);
      assert.equal(top.count, 3n);
    });

    test("keysOnly: keys and metadata, no values", async () => {
      const result = await etcd.range(prefix(P), { keysOnly: true });
      assert.deepEqual(
        result.kvs.map((kv) => [kv.keyText, kv.value.length, kv.version]),
        [
          [`${P}a`, 0, 1n],
          [`${P}b`, 0, 3n],
          [`${P}c`, 0, 2n],
        ],
      );
      const one = await etcd.get(`${P}b`, { keysOnly: true });
      assert.equal(one?.value.length, 0);
      assert.equal(one?.modRevision, r(4));
    });

    test("countOnly: the count, no keys", async () => {
      const result = await etcd.range(prefix(P), { countOnly: true });
      assert.equal(result.kvs.length, 0);
      assert.equal(result.count, 3n);
      assert.equal((await etcd.range(prefix(`${P}zz`), { countOnly: true })).count, 0n);
    });

    test("min/max mod revision and min/max create revision", async () => {
      // create: c r1, b r2, a r5; mod: c r6, b r4, a r5
      assert.deepEqual(await texts(etcd.range(prefix(P), { minModRevision: r(5) })), ["a", "c"]);
      assert.deepEqual(await texts(etcd.range(prefix(P), { maxModRevision: r(4) })), ["b"]);
      assert.deepEqual(
        await texts(etcd.range(prefix(P), { minModRevision: r(4), maxModRevision: r(5) })),
        ["a", "b"],
      );
      assert.deepEqual(await texts(etcd.range(prefix(P), { minCreateRevision: r(2) })), ["a", "b"]);
      assert.deepEqual(await texts(etcd.range(prefix(P), { maxCreateRevision: r(2) })), ["b", "c"]);
      assert.deepEqual(
        await texts(
          etcd.range(prefix(P), { minCreateRevision: Number(r(2)), maxCreateRevision: r(4) }),
        ),
        ["b"],
      );
    });

    test("serializable: a member without quorum still serves its local state", async () => {
      const cluster = await Cluster.start({ size: 3 });
      try {
        const survivor = cluster.members[2];
        assert.ok(survivor);
        const c = new Etcd({
          ...testClientOptions(),
          endpoints: [survivor.clientUrl],
        });
        try {
          await c.put("s", "local");
          // A linearizable read through the survivor: it has applied the put.
          assert.equal((await c.get("s"))?.text, "local");
          await cluster.members[0]?.kill();
          await cluster.members[1]?.kill();
          const kv = await c.get("s", { serializable: true, timeoutMs: 5_000 });
          assert.equal(kv?.text, "local");
          const page = await c.range(prefix("s"), { serializable: true, timeoutMs: 5_000 });
          assert.equal(page.count, 1n);
          // Without serializable the read needs a quorum, and there is none.
          await assert.rejects(c.get("s", { timeoutMs: 1_000 }), EtcdError);
        } finally {
          await c.close();
        }
      } finally {
        await cluster.stop();
      }
    });
  });

  describe("put options", () => {
    const P = uniquePrefix("put");

    test("a plain put: revision, version, create and mod revision", async () => {
      const first = await etcd.put(`${P}k`, "v1");
      assert.equal(first.kind, "put");
      assert.equal(first.prevKv, undefined);
      assert.equal(first.revision, first.header.revision);
      const kv = await etcd.get(`${P}k`);
      assert.equal(kv?.text, "v1");
      assert.equal(kv?.version, 1n);
      assert.equal(kv?.createRevision, first.revision);
      assert.equal(kv?.modRevision, first.revision);
      assert.equal(kv?.lease, 0n);
      const second = await etcd.put(`${P}k`, new Uint8Array([0, 1, 255]));
      assert.ok(second.revision > first.revision);
      const again = await etcd.get(`${P}k`);
      assert.deepEqual(again?.value, new Uint8Array([0, 1, 255]));
      assert.equal(again?.version, 2n);
      assert.equal(again?.createRevision, first.revision);
    });

    test("prevKv: the previous key-value, undefined for a new key", async () => {
      const created = await etcd.put(`${P}p`, "one", { prevKv: true });
      assert.equal(created.prevKv, undefined);
      const replaced = await etcd.put(`${P}p`, "two", { prevKv: true });
      assert.equal(replaced.prevKv?.text, "one");
      assert.equal(replaced.prevKv?.keyText, `${P}p`);
      assert.equal(replaced.prevKv?.modRevision, created.revision);
      assert.equal(replaced.prevKv?.version, 1n);
      const without = await etcd.put(`${P}p`, "three");
      assert.equal(without.prevKv, undefined);
    });

    test("lease: the key carries it and goes away with it", async () => {
      const lease = await grantLease();
      await etcd.put(`${P}l`, "leased", { lease });
      assert.equal((await etcd.get(`${P}l`))?.lease, lease);
      await etcd.raw.lease.leaseRevoke({ ID: lease });
      assert.equal(await etcd.get(`${P}l`), undefined);
    });

    test("lease 0 detaches; a plain put detaches too", async () => {
      const lease = await grantLease();
      try {
        await etcd.put(`${P}d`, "x", { lease });
        await etcd.put(`${P}d`, "y", { lease: 0 });
        assert.equal((await etcd.get(`${P}d`))?.lease, 0n);
        await etcd.put(`${P}d`, "z", { lease });
        await etcd.put(`${P}d`, "w");
        assert.equal((await etcd.get(`${P}d`))?.lease, 0n);
      } finally {
        await etcd.raw.lease.leaseRevoke({ ID: lease });
      }
      assert.equal((await etcd.get(`${P}d`))?.text, "w", "detached key outlives the lease");
    });

    test("ignoreValue: keeps the value, changes the rest", async () => {
      const lease = await grantLease();
      try {
        await etcd.put(`${P}iv`, "kept");
        const result = await etcd.put(`${P}iv`, "", { ignoreValue: true, lease, prevKv: true });
        assert.equal(result.prevKv?.text, "kept");
        const kv = await etcd.get(`${P}iv`);
        assert.equal(kv?.text, "kept");
        assert.equal(kv?.version, 2n);
        assert.equal(kv?.lease, lease);
      } finally {
        await etcd.raw.lease.leaseRevoke({ ID: lease });
      }
    });

    test("ignoreLease: keeps the lease, changes the value", async () => {
      const lease = await grantLease();
      try {
        await etcd.put(`${P}il`, "v1", { lease });
        await etcd.put(`${P}il`, "v2", { ignoreLease: true });
        const kv = await etcd.get(`${P}il`);
        assert.equal(kv?.text, "v2");
        assert.equal(kv?.lease, lease);
      } finally {
        await etcd.raw.lease.leaseRevoke({ ID: lease });
      }
      assert.equal(await etcd.get(`${P}il`), undefined, "still attached, so revoked with it");
    });

    test("ignoreValue and ignoreLease on a missing key are refused by etcd", async () => {
      for (const error of [
        await refused(
          () => etcd.put(`${P}missing`, "", { ignoreValue: true }),
          KeyNotFoundError,
          /etcdserver: key not found/,
        ),
        await refused(
          () => etcd.put(`${P}missing`, "v", { ignoreLease: true }),
          KeyNotFoundError,
          /etcdserver: key not found/,
        ),
      ]) {
        assert.ok(error instanceof InvalidArgumentError, "still an InvalidArgumentError");
        assert.equal(error.code, Code.InvalidArgument);
      }
    });
  });

  describe("delete", () => {
    const P = uniquePrefix("delete");
    before(async () => {
      for (const k of ["a", "b", "b/1", "c", "d"]) await etcd.put(P + k, `v-${k}`);
    });

    test("one key; prevKv returns it", async () => {
      const result = await etcd.delete(`${P}d`, { prevKv: true });
      assert.equal(result.kind, "delete");
      assert.equal(result.deleted, 1n);
      assert.deepEqual(
        result.prevKvs.map((kv) => [kv.keyText, kv.text]),
        [[`${P}d`, "v-d"]],
      );
      assert.equal(await etcd.get(`${P}d`), undefined);
    });

    test("a range [a, c) deletes a, b, b/1 and keeps c; without prevKv nothing comes back", async () => {
      const result = await etcd.delete(range(`${P}a`, `${P}c`));
      assert.equal(result.deleted, 3n);
      assert.deepEqual(result.prevKvs, []);
      assert.deepEqual(await texts(etcd.range(prefix(P))), ["c"]);
    });

    test("a prefix, with prevKv", async () => {
      await etcd.put(`${P}x/1`, "1");
      await etcd.put(`${P}x/2`, "2");
      const result = await etcd.delete(prefix(`${P}x/`), { prevKv: true });
      assert.equal(result.deleted, 2n);
      assert.deepEqual(
        result.prevKvs.map((kv) => kv.text),
        ["1", "2"],
      );
      assert.equal((await etcd.range(prefix(`${P}x/`), { countOnly: true })).count, 0n);
    });

    test("deleting nothing deletes nothing and does not move the revision", async () => {
      const before = await storeRevision();
      const result = await etcd.delete(prefix(`${P}nothing/`), { prevKv: true });
      assert.equal(result.deleted, 0n);
      assert.deepEqual(result.prevKvs, []);
      assert.equal(await storeRevision(), before);
    });
  });

  describe("txn", () => {
    const P = uniquePrefix("txn");
    const K = `${P}k`;
    let created: bigint;
    let modified: bigint;
    let lease: bigint;
    before(async () => {
      lease = await grantLease();
      created = (await etcd.put(K, "m")).revision;
      modified = (await etcd.put(K, "m", { lease })).revision;
    });
    after(async () => {
      await etcd.raw.lease.leaseRevoke({ ID: lease });
    });

    const holds = (op: CompareOperator, actual: bigint | string, operand: bigint | string) =>
      op === "="
        ? actual === operand
        : op === "!="
          ? actual !== operand
          : op === ">"
            ? actual > operand
            : actual < operand;

    /** Runs one compare; returns whether the success branch ran (checked from the results). */
    async function evaluate(condition: Compare): Promise<boolean> {
      const result = await etcd.txn({
        compare: [condition],
        success: [op.get(K, { keysOnly: true })],
        failure: [],
      });
      assert.equal(result.results.length, result.succeeded ? 1 : 0, "results of the branch run");
      return result.succeeded;
    }

    test("every compare target with every operator", async () => {
      const operators: CompareOperator[] = ["=", "!=", ">", "<"];
      const cases: Array<[string, Compare, boolean]> = [];
      for (const operator of operators) {
        for (const operand of ["l", "m", "n", "m\0", ""]) {
          cases.push([
            `value ${operator} ${JSON.stringify(operand)}`,
            compare.value(K, operator, operand),
            holds(operator, "m", operand),
          ]);
        }
        const numeric: Array<[string, bigint, (o: bigint) => Compare]> = [
          ["version", 2n, (o) => compare.version(K, operator, o)],
          ["createRevision", created, (o) => compare.createRevision(K, operator, o)],
          ["modRevision", modified, (o) => compare.modRevision(K, operator, o)],
          ["lease", lease, (o) => compare.lease(K, operator, o)],
        ];
        for (const [name, actual, build] of numeric) {
          for (const operand of [actual - 1n, actual, actual + 1n]) {
            cases.push([
              `${name} ${operator} ${operand}`,
              build(operand),
              holds(operator, actual, operand),
            ]);
          }
        }
      }
      const outcomes = await Promise.all(cases.map(([, c]) => evaluate(c)));
      cases.forEach(([label, , expected], i) => {
        assert.equal(outcomes[i], expected, label);
      });
      assert.equal(cases.length, 4 * (5 + 4 * 3));
    });

    test("compares on a missing key: version, revisions and lease are 0; a value compare fails", async () => {
      const M = `${P}missing`;
      assert.equal(await evaluate(compare.version(M, "=", 0)), true);
      assert.equal(await evaluate(compare.createRevision(M, "=", 0)), true);
      assert.equal(await evaluate(compare.modRevision(M, "=", 0)), true);
      assert.equal(await evaluate(compare.lease(M, "=", 0)), true);
      assert.equal(await evaluate(compare.version(M, ">", 0)), false);
      assert.equal(await evaluate(compare.value(M, "=", "")), false);
      assert.equal(await evaluate(compare.value(M, "!=", "")), false);
    });

    test("a range compare must hold for every key in the range", async () => {
      const R = `${P}r/`;
      await etcd.put(`${R}a`, "x");
      await etcd.put(`${R}b`, "x");
      await etcd.put(`${R}b`, "x");
      assert.equal(await evaluate(compare.version(prefix(R), ">", 0)), true);
      assert.equal(await evaluate(compare.version(prefix(R), ">", 1)), false); // a is 1
      assert.equal(await evaluate(compare.version(prefix(R), "<", 3)), true);
      assert.equal(await evaluate(compare.value(prefix(R), "=", "x")), true);
      assert.equal(await evaluate(compare.value(range(`${R}b`, `${R}c`), "=", "x")), true);
      await etcd.put(`${R}c`, "y");
      assert.equal(await evaluate(compare.value(prefix(R), "=", "x")), false);
      assert.equal(await evaluate(compare.value(prefix(R), "!=", "z")), true);
      assert.equal(await evaluate(compare.value(range(`${R}a`, `${R}c`), "=", "x")), true);
    });

    test("success and failure branches with typed results at one revision", async () => {
      await etcd.put(`${P}d0`, "0");
      const ok = await etcd.txn({
        compare: [compare.value(K, "=", "m")],
        success: [
          op.put(`${P}s1`, "1", { prevKv: true }),
          op.put(`${P}s2`, "2"),
          op.get(prefix(`${P}s`)),
          op.delete(`${P}d0`, { prevKv: true }),
        ],
        failure: [op.put(`${P}f`, "never")],
      });
      assert.equal(ok.kind, "txn");
      assert.equal(ok.succeeded, true);
      assert.deepEqual(
        ok.results.map((r) => r.kind),
        ["put", "put", "range", "delete"],
      );
      const [put1, , read, del] = ok.results;
      assert.ok(put1?.kind === "put" && put1.prevKv === undefined);
      assert.ok(read?.kind === "range");
      assert.deepEqual(
        read.kvs.map((kv) => kv.text),
        ["1", "2"],
        "reads in a txn see its earlier writes",
      );
      assert.ok(del?.kind === "delete");
      assert.equal(del.deleted, 1n);
      assert.equal(del.prevKvs[0]?.text, "0");
      assert.equal(await etcd.get(`${P}d0`), undefined);
      assert.equal((await etcd.get(`${P}s1`))?.modRevision, ok.revision, "one revision");
      assert.equal(await etcd.get(`${P}f`), undefined);

      const no = await etcd.txn({
        compare: [compare.value(K, "=", "not m"), compare.version(K, "=", 2)],
        success: [op.put(`${P}never`, "x")],
        failure: [op.get(K), op.put(`${P}f`, "failure ran")],
      });
      assert.equal(no.succeeded, false);
      assert.deepEqual(
        no.results.map((r) => r.kind),
        ["range", "put"],
      );
      const got = no.results[0];
      assert.ok(got?.kind === "range");
      assert.equal(got.kvs[0]?.text, "m");
      assert.equal((await etcd.get(`${P}f`))?.text, "failure ran");
      assert.equal(await etcd.get(`${P}never`), undefined);
    });

    test("an empty txn succeeds with no results; no compares means success", async () => {
      const empty = await etcd.txn({});
      assert.equal(empty.succeeded, true);
      assert.deepEqual(empty.results, []);
      const writes = await etcd.txn({ success: [op.put(`${P}e`, "1")] });
      assert.equal(writes.succeeded, true);
      assert.equal((await etcd.get(`${P}e`))?.text, "1");
    });

    test("nested txn: the inner compare picks the inner branch", async () => {
      const result = await etcd.txn({
        compare: [compare.version(K, ">", 0)],
        success: [
          op.txn({
            compare: [compare.value(K, "=", "m")],
            success: [op.put(`${P}inner`, "yes")],
            failure: [op.put(`${P}inner`, "no")],
          }),
          op.txn({
            compare: [compare.value(K, "=", "other")],
            success: [op.put(`${P}inner2`, "yes")],
            failure: [op.get(K), op.txn({ success: [op.get(`${P}inner`)] })],
          }),
        ],
      });
      assert.equal(result.succeeded, true);
      const [first, second] = result.results;
      assert.ok(first?.kind === "txn" && second?.kind === "txn");
      assert.equal(first.succeeded, true);
      assert.equal(first.results[0]?.kind, "put");
      assert.equal(second.succeeded, false);
      assert.deepEqual(
        second.results.map((r) => r.kind),
        ["range", "txn"],
      );
      const deepest = second.results[1];
      assert.ok(deepest?.kind === "txn");
      const deepRead = deepest.results[0];
      assert.ok(deepRead?.kind === "range");
      assert.equal(deepRead.kvs[0]?.text, "yes", "sees the earlier nested put");
      assert.equal((await etcd.get(`${P}inner`))?.text, "yes");
      assert.equal(await etcd.get(`${P}inner2`), undefined);
    });
  });

  // The paging itself, request by request (stream: false keeps etcd 3.7+ from streaming the
  // rest); list-stream.test.ts compares it with the streamed listing.
  describe("paged list", () => {
    const P = uniquePrefix("list");
    const keys = ["a", "b", "c", "d", "e", "f", "g"].map((k) => P + k);
    const ranges: Array<{ revision: bigint; limit: bigint; key: string; served: bigint }> = [];
    const recorder: Interceptor = (next) => async (req) => {
      if (req.method.name === "Range") {
        const message = req.message as unknown as {
          revision: bigint;
          limit: bigint;
          key: Uint8Array;
        };
        const response = await next(req);
        const header = (response.message as unknown as { header?: { revision: bigint } }).header;
        ranges.push({
          revision: message.revision,
          limit: message.limit,
          key: Buffer.from(message.key).toString(),
          served: header?.revision ?? 0n,
        });
        return response;
      }
      return next(req);
    };
    let recorded: Etcd;
    before(async () => {
      for (const k of keys) await etcd.put(k, `old ${k}`);
      recorded = client({ interceptors: [recorder] });
    });
    after(async () => {
      await recorded.close();
    });

    async function collect(iterable: AsyncIterable<{ keyText: string; text: string }>) {
      const out: string[] = [];
      for await (const kv of iterable) out.push(`${kv.keyText}=${kv.text}`);
      return out;
    }

    test("pages of one, every page pinned to the first page's revision; writes during paging are not seen", async () => {
      ranges.length = 0;
      const seen: string[] = [];
      let writes = 0;
      for await (const kv of recorded.list(prefix(P), { pageSize: 1, stream: false })) {
        seen.push(`${kv.keyText}=${kv.text}`);
        if (writes === 0) {
          // Between pages: change a key ahead, delete one ahead, add one at the end.
          await etcd.put(`${P}c`, "new c");
          await etcd.delete(`${P}e`);
          await etcd.put(`${P}h`, "new h");
          writes++;
        }
      }
      assert.deepEqual(
        seen,
        keys.map((k) => `${k}=old ${k}`),
      );
      assert.equal(ranges.length, keys.length, "one request per key");
      const first = ranges[0];
      assert.ok(first);
      assert.equal(first.revision, 0n, "the first page reads the newest revision");
      // Every later page asks for the revision the first page was served at, though the store
      // moved on (three writes) in between.
      for (const r of ranges.slice(1)) {
        assert.equal(r.revision, first.served);
        assert.equal(r.limit, 1n);
      }
      assert.ok((await storeRevision()) >= first.served + 3n);
      // Each page starts right after the previous key.
      assert.deepEqual(
        ranges.slice(1).map((r) => r.key),
        keys.slice(0, -1).map((k) => `${k}\0`),
      );
      // The store did change.
      assert.deepEqual(await texts(etcd.range(prefix(P))), ["a", "b", "c", "d", "f", "g", "h"]);
      await etcd.put(`${P}c`, `old ${P}c`);
      await etcd.put(`${P}e`, `old ${P}e`);
      await etcd.delete(`${P}h`);
    });

    test("pageSize larger than the range: one request", async () => {
      ranges.length = 0;
      const seen = await collect(recorded.list(prefix(P), { pageSize: 100 }));
      assert.equal(seen.length, keys.length);
      assert.equal(ranges.length, 1);
      ranges.length = 0;
      await collect(recorded.list(prefix(P), { pageSize: keys.length }));
      assert.equal(ranges.length, 1, "a full first page with more=false ends the listing");
    });

    test("pages of three: 3 + 3 + 1", async () => {
      ranges.length = 0;
      const seen = await collect(recorded.list(prefix(P), { pageSize: 3, stream: false }));
      assert.deepEqual(
        seen,
        keys.map((k) => `${k}=old ${k}`),
      );
      assert.equal(ranges.length, 3);
    });

    test("an explicit revision, keysOnly, a single key and an empty range", async () => {
      const atStart = (await etcd.get(keys[0] as string))?.modRevision as bigint;
      const early = await collect(etcd.list(prefix(P), { revision: atStart, pageSize: 2 }));
      assert.deepEqual(early, [`${keys[0]}=old ${keys[0]}`]);
      const names = await collect(etcd.list(prefix(P), { keysOnly: true, pageSize: 4 }));
      assert.deepEqual(
        names,
        keys.map((k) => `${k}=`),
      );
      assert.deepEqual(await collect(etcd.list(`${P}b`)), [`${P}b=old ${P}b`]);
      assert.deepEqual(await collect(etcd.list(prefix(`${P}none/`))), []);
    });

    test("a bad pageSize is refused", async () => {
      for (const pageSize of [0, -1, 1.5]) {
        await assert.rejects(collect(etcd.list(prefix(P), { pageSize })), InvalidArgumentError);
      }
    });
  });

  describe("typed errors, nothing half-written", () => {
    const P = uniquePrefix("errors");

    test("empty key: refused before sending; etcd's own refusal is KeyNotProvidedError", async () => {
      await refused(() => etcd.put("", "v"), InvalidArgumentError, /key must not be empty/);
      await assert.rejects(etcd.get(""), InvalidArgumentError);
      await assert.rejects(etcd.delete(""), InvalidArgumentError);
      await refused(
        () => etcd.txn({ success: [op.put(`${P}ok`, "1"), op.put("", "v")] }),
        InvalidArgumentError,
        /key must not be empty/,
      );
      const raw = await etcd.raw.kv
        .put({ key: new Uint8Array(0), value: new Uint8Array(0) })
        .catch(toEtcdError);
      assert.ok(raw instanceof KeyNotProvidedError);
      assert.equal(raw.code, Code.InvalidArgument);
      assert.equal(raw.rawMessage, "etcdserver: key is not provided");
    });

    test("a txn of 129 ops is TooManyOpsError; 128 ops pass", async () => {
      const ops = Array.from({ length: 129 }, (_, i) => op.put(`${P}op/${i}`, "x"));
      const error = await refused(
        () => etcd.txn({ success: ops }),
        TooManyOpsError,
        /too many operations in txn request/,
      );
      assert.equal(error.code, Code.InvalidArgument);
      assert.equal((await etcd.range(prefix(`${P}op/`), { countOnly: true })).count, 0n);
      const ok = await etcd.txn({ success: ops.slice(1) });
      assert.equal(ok.results.length, 128);
      // The limit counts the branch etcd would run and the other one alike.
      await refused(
        () => etcd.txn({ compare: [compare.version(`${P}x`, ">", 0)], failure: ops }),
        TooManyOpsError,
        /too many operations/,
      );
    });

    test("duplicate keys in a txn are DuplicateKeyError", async () => {
      await refused(
        () => etcd.txn({ success: [op.put(`${P}dup`, "1"), op.put(`${P}dup`, "2")] }),
        DuplicateKeyError,
        /duplicate key given in txn request/,
      );
      await refused(
        () => etcd.txn({ success: [op.put(`${P}dup/a`, "1"), op.delete(prefix(`${P}dup/`))] }),
        DuplicateKeyError,
        /duplicate key/,
      );
      assert.equal(await etcd.get(`${P}dup`), undefined);
    });

    test("a value over the server's request limit is RequestTooLargeError", async () => {
      // Over etcd's 1.5 MiB: refused by etcd.
      const overServer = await refused(
        () => etcd.put(`${P}big`, new Uint8Array(1.6 * 1024 * 1024)),
        RequestTooLargeError,
        /request is too large/,
      );
      assert.equal(overServer.code, Code.InvalidArgument);
      // Over the client's 2 MiB send limit: refused before sending.
      const overClient = await refused(
        () => etcd.put(`${P}big`, new Uint8Array(3 * 1024 * 1024)),
        RequestTooLargeError,
        /3145\d+ bytes|message size/,
      );
      assert.equal(overClient.code, Code.ResourceExhausted);
      assert.equal(await etcd.get(`${P}big`), undefined);
      // Just under the limit goes through.
      await etcd.put(`${P}big`, new Uint8Array(1024 * 1024));
      assert.equal((await etcd.get(`${P}big`))?.value.length, 1024 * 1024);
      await etcd.delete(`${P}big`);
    });

    test("an unknown lease is LeaseNotFoundError", async () => {
      const error = await refused(
        () => etcd.put(`${P}l`, "v", { lease: 0x7ead_beefn }),
        LeaseNotFoundError,
        /requested lease not found/,
      );
      assert.equal(error.code, Code.NotFound);
      assert.equal(await etcd.get(`${P}l`), undefined);
    });

    test("a future revision is FutureRevisionError", async () => {
      const now = await storeRevision();
      for (const read of [
        () => etcd.get(`${P}x`, { revision: now + 1000n }),
        () => etcd.range(prefix(P), { revision: now + 1n }),
      ]) {
        const error = await read().catch((e: unknown) => e);
        assert.ok(error instanceof FutureRevisionError, String(error));
        assert.equal(error.code, Code.OutOfRange);
        assert.match(error.message, /future revision/);
      }
    });

    test("an unreachable endpoint is UnavailableError naming it", async () => {
      const port = await freePort();
      const c = new Etcd({
        ...testClientOptions(),
        endpoints: [`http://127.0.0.1:${port}`],
        dialTimeoutMs: 500,
      });
      try {
        const error = await c.get("k", { timeoutMs: 600 }).catch((e: unknown) => e);
        assert.ok(error instanceof UnavailableError, String(error));
        assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
        await assert.rejects(c.put("k", "v", { timeoutMs: 400 }), UnavailableError);
      } finally {
        await c.close();
      }
    });

    test("a malformed endpoint URL is refused when the client is made", () => {
      for (const endpoints of [
        ["http://exa mple:2379"],
        ["ftp://127.0.0.1:2379"],
        ["http://127.0.0.1:2379/v3"],
        ["http://127.0.0.1:99999"],
        [42 as unknown as string],
      ]) {
        assert.throws(
          () => new Etcd({ endpoints }),
          (e: unknown) => e instanceof InvalidArgumentError && /endpoint/.test(e.message),
          JSON.stringify(endpoints),
        );
      }
      assert.throws(() => new Etcd({ endpoints: [] }), NoEndpointsError);
      assert.throws(() => new Etcd({ endpoints: " , " }), NoEndpointsError);
      assert.throws(() => new Etcd(undefined as never), InvalidArgumentError);
    });
  });

  describe("compact", () => {
    test("physical compaction: older revisions are gone, CompactedError says so", async () => {
      const P = uniquePrefix("compact");
      const v1 = (await etcd.put(`${P}k`, "v1")).revision;
      const v2 = (await etcd.put(`${P}k`, "v2")).revision;
      assert.equal((await etcd.get(`${P}k`, { revision: v1 }))?.text, "v1");
      const result = await etcd.compact(v2, { physical: true });
      assert.ok(result.revision >= v2);
      const error = await etcd.get(`${P}k`, { revision: v1 }).catch((e: unknown) => e);
      assert.ok(error instanceof CompactedError, String(error));
      assert.equal(error.code, Code.OutOfRange);
      assert.match(error.message, /compacted/);
      // The compaction revision itself is still readable.
      assert.equal((await etcd.get(`${P}k`, { revision: v2 }))?.text, "v2");
      // Compacting again at or below it is refused the same way.
      await assert.rejects(etcd.compact(v1), CompactedError);
      await assert.rejects(etcd.compact(v2 + 1_000_000n), FutureRevisionError);
      await assert.rejects(etcd.compact(-1), InvalidArgumentError);
    });
  });

  describe("cancellation and deadlines", () => {
    const P = uniquePrefix("cancel");

    test("an aborted signal rejects every call with CanceledError", async () => {
      const signal = AbortSignal.abort();
      const calls: Array<() => Promise<unknown>> = [
        () => etcd.get(`${P}k`, { signal }),
        () => etcd.range(prefix(P), { signal }),
        () => etcd.put(`${P}k`, "v", { signal }),
        () => etcd.delete(`${P}k`, { signal }),
        () => etcd.txn({ success: [op.put(`${P}k`, "v")] }, { signal }),
        () => etcd.compact(1, { signal }),
        async () => {
          for await (const _ of etcd.list(prefix(P), { signal })) {
            // never reached
          }
        },
      ];
      const before = await storeRevision();
      for (const call of calls) {
        const error = await call().catch((e: unknown) => e);
        assert.ok(error instanceof CanceledError, String(error));
        assert.equal(error.code, Code.Canceled);
      }
      assert.equal(await storeRevision(), before);
      assert.equal(await etcd.get(`${P}k`), undefined);
    });

    test("a signal aborted mid-call and a timeoutMs that passes, on a hung member", async (t) => {
      const member = fx.cluster?.members[0];
      if (!member) {
        t.skip("needs a spawned etcd to pause");
        return;
      }
      await etcd.put(`${P}warm`, "1"); // the connection is open
      const withDefault = client({ timeoutMs: 300 });
      await withDefault.get(`${P}warm`);
      member.pause();
      try {
        const controller = new AbortController();
        const pending = etcd.get(`${P}warm`, { signal: controller.signal });
        setTimeout(() => controller.abort(), 100);
        const aborted = await pending.catch((e: unknown) => e);
        assert.ok(aborted instanceof CanceledError, String(aborted));

        const late = await etcd.get(`${P}warm`, { timeoutMs: 200 }).catch((e: unknown) => e);
        assert.ok(late instanceof TimeoutError, String(late));
        assert.equal(late.code, Code.DeadlineExceeded);

        // A deadline given as a signal reads like timeoutMs, not like a cancel.
        const timedOut = await etcd
          .get(`${P}warm`, { signal: AbortSignal.timeout(200) })
          .catch((e: unknown) => e);
        assert.ok(timedOut instanceof TimeoutError, String(timedOut));
        assert.equal(timedOut.code, Code.DeadlineExceeded);

        const byDefault = await withDefault.get(`${P}warm`).catch((e: unknown) => e);
        assert.ok(
          byDefault instanceof TimeoutError,
          `client default timeoutMs: ${String(byDefault)}`,
        );
      } finally {
        member.resume();
        await withDefault.close();
      }
      // The client keeps working once the member is back.
      assert.equal((await etcd.get(`${P}warm`, { timeoutMs: 10_000 }))?.text, "1");
    });
  });

  describe("results and requests are never thenable", () => {
    test("no result object has a then property", async () => {
      const P = uniquePrefix("then");
      const put = await etcd.put(`${P}k`, "v", { prevKv: true });
      const put2 = await etcd.put(`${P}k`, "w", { prevKv: true });
      const got = await etcd.get(`${P}k`);
      const page = await etcd.range(prefix(P));
      const txn = await etcd.txn({
        success: [op.get(`${P}k`), op.txn({ success: [op.put(`${P}j`, "1")] })],
      });
      const del = await etcd.delete(prefix(P), { prevKv: true });
      const compacted = await etcd.compact(del.revision);
      const things: unknown[] = [
        put,
        put2,
        put2.prevKv,
        got,
        page,
        page.kvs[0],
        page.header,
        txn,
        ...txn.results,
        del,
        del.prevKvs[0],
        compacted,
        prefix(P),
        compare.value("k", "=", "v"),
        op.put("k", "v"),
        op.txn({}),
        etcd,
        etcd.kv,
        etcd.list(prefix(P)),
      ];
      for (const [i, thing] of things.entries()) {
        assert.ok(thing !== undefined && thing !== null, `item ${i} exists`);
        assert.equal("then" in (thing as object), false, `item ${i} has no then`);
      }
    });
  });

  describe("client lifecycle", () => {
    test("close is idempotent; calls after close reject with ClientClosedError", async () => {
      const c = client();
      await c.put(uniquePrefix("close"), "v");
      assert.equal(c.closed, false);
      const first = c.close();
      const second = c.close();
      await Promise.all([first, second]);
      await c.close();
      assert.equal(c.closed, true);
      const calls: Array<() => Promise<unknown>> = [
        () => c.get("k"),
        () => c.range(prefix("k")),
        () => c.put("k", "v"),
        () => c.delete("k"),
        () => c.txn({}),
        () => c.compact(1),
        () =>
          c.raw.kv
            .range({ key: new Uint8Array([1]) })
            .catch((e: unknown) => Promise.reject(toEtcdError(e))),
        async () => {
          for await (const _ of c.list(prefix("k"))) {
            // never reached
          }
        },
      ];
      for (const call of calls) {
        const error = await call().catch((e: unknown) => e);
        assert.ok(error instanceof ClientClosedError, String(error));
      }
    });

    test("await using closes the client at the end of the block", async () => {
      let escaped: Etcd | undefined;
      {
        await using c = client();
        escaped = c;
        await c.put(uniquePrefix("using"), "v");
      }
      assert.equal(escaped.closed, true);
      await assert.rejects(escaped.get("k"), ClientClosedError);
    });

    test("calls in flight keep the process alive, and it exits once they are done", async () => {
      // The puts go out on an established connection (the lean transport's fast path). Nothing
      // else is pending: if the connection did not hold the process open while they are in
      // flight, it would exit before printing.
      const outcome = await runChild([
        `const etcd = new Etcd({ ...testClientOptions(), endpoints });`,
        `await etcd.get("alive/warm");`,
        `const puts = Array.from({ length: 50 }, (_, i) => etcd.put(\`alive/\${i}\`, "v"));`,
        `Promise.all(puts).then((r) => console.log(r.length, "done"), (e) => console.log(String(e)));`,
      ]);
      assert.equal(outcome.signal, null, `child did not exit by itself:\n${outcome.err}`);
      assert.equal(outcome.code, 0, outcome.err);
      assert.equal(outcome.out.trim(), "50 done");
      assert.equal((await etcd.get("alive/49"))?.text, "v");
    });

    test("a process that puts, gets and closes exits on its own", async () => {
      const outcome = await runChild([
        `const etcd = new Etcd({ ...testClientOptions(), endpoints });`,
        `await etcd.put("exit/k", "bye");`,
        `const kv = await etcd.get("exit/k");`,
        `const pending = etcd.range(prefix("exit/"));`,
        `await etcd.close();`,
        `await pending.catch(() => {});`,
        `{ await using other = new Etcd({ ...testClientOptions(), endpoints }); await other.get("exit/k"); }`,
        `new Etcd({ ...testClientOptions(), endpoints }).close();`,
        `console.log(kv?.text);`,
      ]);
      assert.equal(outcome.signal, null, `child did not exit by itself:\n${outcome.err}`);
      assert.equal(outcome.code, 0, outcome.err);
      assert.equal(outcome.out.trim(), "bye");
    });
  });
});

/**
 * Runs `lines` as a module in a child Node process (with `Etcd`, `prefix`, `testClientOptions`
 * and `endpoints` in scope) and reports how it ended. Its timeout only catches a hang.
 */
async function runChild(
  lines: string[],
): Promise<{ code: number | null; signal: string | null; out: string; err: string }> {
  const dir = mkdtempSync(join(tmpdir(), "etcd-connect-exit-"));
  try {
    const file = join(dir, "child.ts");
    const index = JSON.stringify(join(projectRoot, "src/index.ts"));
    const support = JSON.stringify(join(projectRoot, "test/support/client-options.ts"));
    const head = [
      `import { Etcd, prefix } from ${index};`,
      `import { testClientOptions } from ${support};`,
      `const endpoints = ${JSON.stringify(fx.endpoints)};`,
    ];
    writeFileSync(file, [...head, ...lines].join("\n"));
    return await new Promise((done) => {
      execFile(process.execPath, scriptArgs(file), { timeout: 30_000 }, (error, stdout, stderr) => {
        done({
          code: error ? (typeof error.code === "number" ? error.code : null) : 0,
          signal: error?.signal ?? null,
          out: stdout,
          err: stderr,
        });
      });
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
