/**
 * Namespaces against etcd: a client view under a prefix sees and touches only keys under it,
 * through get, range, list, txn (compares and ops), delete-range, all(), fromKey(), watch, and
 * nested namespaces; keys come back without the prefix. Neighbours of the prefix on both sides
 * (the bare prefix without its slash, the prefix end, longer and shorter names) must stay
 * untouched and unseen.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import {
  all,
  compare,
  Etcd,
  fromKey,
  InvalidArgumentError,
  type Namespace,
  op,
  prefix,
  range,
} from "../../src/index.ts";
import { testClientOptions, uniquePrefix, useEtcd } from "../support/index.ts";

const fx = useEtcd();

describe("namespace", () => {
  let etcd: Etcd;
  let base: string;
  let ns: Namespace;
  /** Keys just outside "<base>app/": each must survive everything the namespace does. */
  let outside: string[];

  before(() => {
    etcd = new Etcd({ ...testClientOptions(), endpoints: fx.endpoints, timeoutMs: 10_000 });
  });

  after(async () => {
    await etcd?.close();
  });

  beforeEach(async () => {
    base = uniquePrefix("ns");
    ns = etcd.namespace(`${base}app/`);
    outside = [`${base}app`, `${base}app0`, `${base}apq`, `${base}ap/x`, `${base}other/a`];
    for (const k of outside) await etcd.put(k, "outside");
    for (const k of ["a", "b", "m", "z", "\u00ff"]) await ns.put(k, `in-${k}`);
  });

  async function assertOutsideUntouched() {
    for (const k of outside) assert.equal((await etcd.get(k))?.text, "outside", k);
  }

  async function storedKeys(): Promise<string[]> {
    return (await etcd.range(prefix(base))).kvs.map((kv) => kv.keyText);
  }

  test("put with prevKv: the previous key comes back without the prefix", async () => {
    const before = await ns.get("a");
    const result = await ns.put("a", "again", { prevKv: true });
    assert.equal(result.prevKv?.keyText, "a");
    assert.equal(result.prevKv?.text, "in-a");
    assert.equal(result.prevKv?.modRevision, before?.modRevision);
    assert.ok(result.revision > (before?.modRevision ?? 0n));
    await assertOutsideUntouched();
  });

  test("put and get: stored under the prefix, returned without it", async () => {
    assert.equal((await etcd.get(`${base}app/a`))?.text, "in-a");
    const kv = await ns.get("a");
    assert.equal(kv?.keyText, "a");
    assert.equal(kv?.text, "in-a");
    // A key naming an outside key only names a key inside.
    assert.equal(await ns.get(`${base}other/a`), undefined);
    assert.equal(await ns.get("../other/a"), undefined);
    const put = await ns.put("a", "again", { prevKv: true });
    assert.equal(put.prevKv?.keyText, "a");
  });

  test("range, all(), fromKey(), list: only the namespace's keys, prefix removed", async () => {
    const keys = (await ns.range(all())).kvs.map((kv) => kv.keyText);
    assert.deepEqual(keys, ["a", "b", "m", "z", "\u00ff"]);
    assert.equal((await ns.range(all(), { countOnly: true })).count, 5n);
    assert.deepEqual(
      (await ns.range(fromKey("m"))).kvs.map((kv) => kv.keyText),
      ["m", "z", "\u00ff"],
    );
    assert.deepEqual(
      (await ns.range(range("b", "\u00ff"))).kvs.map((kv) => kv.keyText),
      ["b", "m", "z"],
    );
    assert.deepEqual(
      (await ns.range(prefix(""))).kvs.map((kv) => kv.keyText),
      keys,
    );
    const listed: string[] = [];
    for await (const kv of ns.list(all(), { pageSize: 2 })) listed.push(kv.keyText);
    assert.deepEqual(listed, keys);
  });

  test("delete-range: all() and fromKey() delete only inside", async () => {
    const some = await ns.delete(fromKey("m"), { prevKv: true });
    assert.equal(some.deleted, 3n);
    assert.deepEqual(
      some.prevKvs.map((kv) => kv.keyText),
      ["m", "z", "\u00ff"],
    );
    await assertOutsideUntouched();
    const rest = await ns.delete(all());
    assert.equal(rest.deleted, 2n);
    await assertOutsideUntouched();
    assert.deepEqual((await storedKeys()).sort(), [...outside].sort());
  });

  test("txn: compares and ops address only the namespace", async () => {
    // Outside keys exist under these names, but only inside names are compared.
    const result = await ns.txn({
      compare: [
        compare.value("a", "=", "in-a"),
        compare.version(`${base}other/a`, "=", 0),
        compare.createRevision(all(), ">", 0),
      ],
      success: [
        op.get(all(), { keysOnly: true }),
        op.delete(fromKey("b")),
        op.put("0", "n"),
        op.get(all()),
      ],
      failure: [],
    });
    assert.equal(result.succeeded, true);
    const [listed, , , after] = result.results;
    assert.equal(listed?.kind, "range");
    assert.equal(after?.kind, "range");
    if (listed?.kind !== "range" || after?.kind !== "range") return;
    assert.deepEqual(
      listed.kvs.map((kv) => kv.keyText),
      ["a", "b", "m", "z", "\u00ff"],
    );
    assert.deepEqual(
      after.kvs.map((kv) => kv.keyText),
      ["0", "a"],
    );
    await assertOutsideUntouched();
  });

  test("watch: sees the namespace's changes only, keys without the prefix", async (t) => {
    if (typeof (ns as { watch?: unknown }).watch !== "function") {
      t.skip("watch is not available in this build");
      return;
    }
    const watcher = ns.watch(all());
    try {
      const events = watcher.events()[Symbol.asyncIterator]();
      await watcher.ready();
      for (const k of outside) await etcd.put(k, "changed");
      await etcd.delete(prefix(`${base}other/`));
      await ns.put("w", "1");
      await ns.delete("a");
      const first = await events.next();
      assert.equal(first.done, false);
      assert.equal(first.value?.type, "put");
      assert.equal(first.value?.kv.keyText, "w");
      const second = await events.next();
      assert.equal(second.value?.type, "delete");
      assert.equal(second.value?.kv.keyText, "a");
    } finally {
      await watcher.close();
    }
  });

  test("lease: keys attached inside are listed without the prefix, others not at all", async () => {
    const lease = await ns.lease.grant(30);
    try {
      await ns.put("leased", "1", { lease: lease.id });
      await etcd.put(`${base}other/leased`, "1", { lease: lease.id });
      const inside = await ns.lease.timeToLive(lease.id, { keys: true });
      assert.deepEqual(
        inside.keys.map((k) => Buffer.from(k).toString()),
        ["leased"],
      );
      assert.equal((await ns.get("leased"))?.lease, lease.id);
      const everywhere = await etcd.lease.timeToLive(lease.id, { keys: true });
      assert.equal(everywhere.keys.length, 2);
    } finally {
      await ns.lease.revoke(lease.id);
    }
    assert.equal(await ns.get("leased"), undefined);
  });

  test("locks and STM: a namespace's mutex contends only within it", async () => {
    const other = etcd.namespace(`${base}other-app/`);
    const [mine, rival, stranger] = await Promise.all([
      ns.session({ ttl: 30 }),
      ns.session({ ttl: 30 }),
      other.session({ ttl: 30 }),
    ]);
    try {
      const mutex = mine.mutex("locks/job");
      await mutex.lock();
      const leaseHex = mine.lease.id.toString(16);
      assert.equal(mutex.keyText, `locks/job/${leaseHex}`);
      // Stored under the namespace, where Go's Mutex on the full prefix would look.
      const stored = await etcd.get(`${base}app/locks/job/${leaseHex}`);
      assert.equal(stored?.createRevision, mutex.fencingToken);
      assert.equal(await rival.mutex("locks/job").tryLock(), false, "same namespace contends");
      assert.equal(await stranger.mutex("locks/job").tryLock(), true, "another namespace does not");
      await mutex.unlock();

      await ns.put("counter", "41");
      await ns.stm(async (tx) => {
        tx.put("counter", String(Number(await tx.text("counter")) + 1));
      });
      assert.equal((await ns.get("counter"))?.text, "42");
      assert.equal((await etcd.get(`${base}app/counter`))?.text, "42");
    } finally {
      await Promise.all([mine.close(), rival.close(), stranger.close()]);
    }
    await assertOutsideUntouched();
  });

  test("nested namespaces: prefixes add up; the parent sees the child's keys", async () => {
    const jobs = ns.namespace("jobs/");
    assert.equal(Buffer.from(jobs.prefix).toString(), `${base}app/jobs/`);
    await jobs.put("1", "j1");
    assert.equal((await ns.get("jobs/1"))?.text, "j1");
    assert.equal((await etcd.get(`${base}app/jobs/1`))?.text, "j1");
    assert.deepEqual(
      (await jobs.range(all())).kvs.map((kv) => kv.keyText),
      ["1"],
    );
    await jobs.delete(all());
    assert.equal((await ns.range(all(), { countOnly: true })).count, 5n);
    await assertOutsideUntouched();
  });

  test("an empty prefix is refused", () => {
    assert.throws(() => etcd.namespace(""), InvalidArgumentError);
    assert.throws(() => ns.namespace(new Uint8Array(0)), InvalidArgumentError);
  });
});
