/**
 * Sessions, mutexes, elections and STM against real etcd, and against Go's implementations of
 * the same protocols through etcdctl (`etcdctl lock`, `etcdctl elect`): what one side holds, the
 * other waits for, in both orders, with the same key format.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { openSession } from "../../src/concurrency/session.ts";
import {
  CanceledError,
  compare,
  Etcd,
  type Isolation,
  LockReleasedError,
  NotLeaderError,
  op,
  prefix,
  SessionExpiredError,
  TimeoutError,
} from "../../src/index.ts";
import { spawnEtcdctl, testClientOptions, uniquePrefix, useEtcd } from "../support/index.ts";

const fx = useEtcd();
let etcd: Etcd;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const text = (bytes: Uint8Array | undefined) => (bytes ? Buffer.from(bytes).toString() : "");

/** Settles within `ms`? (used to show that a waiter is still waiting, never as a pass condition alone). */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let settled = false;
  promise.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  await sleep(ms);
  return settled;
}

// Root-level before hooks run concurrently with useEtcd's: the client is made inside a describe.
describe("concurrency", () => {
  before(() => {
    etcd = new Etcd({ ...testClientOptions(), endpoints: fx.endpoints });
  });
  after(async () => {
    await etcd.close();
  });

  describe("session", () => {
    test("a session is a kept-alive lease; close revokes it; lost is reported", async () => {
      const session = await etcd.session({ ttl: 5 });
      assert.equal(session.lease.state, "alive");
      assert.equal(session.lease.grantedTtl, 5n);
      await session.close();
      assert.equal((await etcd.lease.timeToLive(session.id)).ttl, -1n);
      assert.ok(session.done);

      const other = await etcd.session({ ttl: 5 });
      const heard: SessionExpiredError[] = [];
      other.onLost((e) => heard.push(e));
      await etcd.lease.revoke(other.id);
      const error = await other.lost;
      assert.ok(error instanceof SessionExpiredError);
      assert.ok(other.signal.reason instanceof SessionExpiredError);
      assert.equal(heard.length, 1);
    });

    test("default TTL is 60 s like Go; an existing lease can back a session", async () => {
      const session = await etcd.session();
      assert.equal(session.lease.grantedTtl, 60n);
      const lease = await etcd.lease.grant(7);
      const adopted = await etcd.session({ lease });
      assert.equal(adopted.id, lease.id);
      assert.equal(lease.state, "alive");
      const byId = await etcd.session({ lease: session.id });
      assert.equal(byId.id, session.id);
      byId.orphan();
      await adopted.close();
      await session.close();
    });
  });

  describe("mutex", () => {
    test("keys are <prefix>/<lease hex>; the fencing token is the key's create revision", async () => {
      const name = `${uniquePrefix("mutex")}job`;
      await using session = await etcd.session({ ttl: 10 });
      const mutex = session.mutex(name);
      await mutex.lock();
      assert.equal(mutex.keyText, `${name}/${session.id.toString(16)}`);
      const kv = await etcd.get(mutex.keyText);
      assert.ok(kv);
      assert.equal(kv.lease, session.id);
      assert.equal(mutex.fencingToken, kv.createRevision);
      assert.ok(mutex.held);

      const guarded = await etcd.txn({
        compare: [mutex.isOwner()],
        success: [op.put(`${name}-data`, "x")],
      });
      assert.ok(guarded.succeeded);
      const inner = await mutex.txn({
        compare: [compare.value(`${name}-data`, "=", "x")],
        success: [op.put(`${name}-data`, "y")],
      });
      assert.ok(inner.succeeded);
      assert.equal((await etcd.get(`${name}-data`))?.text, "y");

      await mutex.unlock();
      assert.equal(mutex.held, false);
      assert.equal(await etcd.get(`${name}/${session.id.toString(16)}`), undefined);
      assert.throws(() => mutex.isOwner(), LockReleasedError);
      assert.throws(() => mutex.fencingToken, LockReleasedError);
    });

    test("two sessions exclude each other; the waiter gets a larger fencing token", async () => {
      const name = `${uniquePrefix("mutex")}excl`;
      await using a = await etcd.session({ ttl: 10 });
      await using b = await etcd.session({ ttl: 10 });
      await using c = await etcd.session({ ttl: 10 });
      const ma = await a.mutex(name).lock();
      const mb = b.mutex(name);
      const waiting = mb.lock();
      assert.equal(await settlesWithin(waiting, 500), false, "b waits while a holds");
      assert.equal(await c.mutex(name).tryLock(), false, "tryLock fails while held");
      const waiters = await etcd.range(prefix(`${name}/`), { countOnly: true });
      assert.equal(waiters.count, 2n, "tryLock removed its key; a and b remain");
      const tokenA = ma.fencingToken;
      await ma.unlock();
      await waiting;
      assert.ok(mb.held);
      assert.ok(mb.fencingToken > tokenA);
      await assert.rejects(ma.txn({ success: [op.put(`${name}-x`, "1")] }), LockReleasedError);
      assert.equal(await etcd.get(`${name}-x`), undefined, "a's fenced write did not apply");
      await mb.unlock();
      assert.equal(await c.mutex(name).tryLock(), true);
    });

    test("lock gives up after timeoutMs or on its signal, and removes its waiting key", async () => {
      const name = `${uniquePrefix("mutex")}timeout`;
      await using a = await etcd.session({ ttl: 10 });
      await using b = await etcd.session({ ttl: 10 });
      await a.mutex(name).lock();
      await assert.rejects(b.mutex(name).lock({ timeoutMs: 300 }), TimeoutError);
      const controller = new AbortController();
      const aborted = b.mutex(name).lock({ signal: controller.signal });
      await sleep(100);
      controller.abort();
      await assert.rejects(aborted, CanceledError);
      const keys = await etcd.range(prefix(`${name}/`));
      assert.deepEqual(
        keys.kvs.map((kv) => kv.keyText),
        [`${name}/${a.id.toString(16)}`],
        "only the holder's key is left",
      );
    });

    test("a waiter whose session is lost fails with SessionExpiredError", async () => {
      const name = `${uniquePrefix("mutex")}expire`;
      await using a = await etcd.session({ ttl: 10 });
      const b = await etcd.session({ ttl: 3 });
      await a.mutex(name).lock();
      const waiting = b.mutex(name).lock();
      await sleep(200);
      await etcd.lease.revoke(b.id);
      await assert.rejects(waiting, SessionExpiredError);
    });

    test("interop: etcdctl lock holds, we wait; etcdctl releases, we acquire", async () => {
      const name = `${uniquePrefix("mutex")}ctl-first`;
      const ctl = spawnEtcdctl(fx.endpoints, ["lock", name]);
      try {
        const [ctlKey] = await ctl.waitLines(1);
        assert.match(ctlKey ?? "", new RegExp(`^${name}/[0-9a-f]+$`), "Go's key format");
        await using session = await etcd.session({ ttl: 10 });
        const mutex = session.mutex(name);
        assert.equal(await mutex.tryLock(), false, "etcdctl holds the lock");
        const waiting = mutex.lock();
        assert.equal(await settlesWithin(waiting, 1000), false, "we wait while etcdctl holds");
        await ctl.stop();
        await waiting;
        assert.ok(mutex.held);
        assert.equal(await etcd.get(ctlKey ?? ""), undefined, "etcdctl unlocked");
        assert.equal(
          mutex.keyText.replace(/[0-9a-f]+$/, ""),
          (ctlKey ?? "").replace(/[0-9a-f]+$/, ""),
        );
      } finally {
        await ctl.stop();
      }
    });

    test("interop: we hold, etcdctl lock waits; we release, etcdctl acquires", async () => {
      const name = `${uniquePrefix("mutex")}ours-first`;
      await using session = await etcd.session({ ttl: 10 });
      const mutex = await session.mutex(name).lock();
      const ctl = spawnEtcdctl(fx.endpoints, ["lock", name]);
      try {
        // etcdctl queues its own key behind ours, and prints nothing while it waits.
        for (
          let i = 0;
          (await etcd.range(prefix(`${name}/`), { countOnly: true })).count < 2n;
          i++
        ) {
          assert.ok(i < 100, "etcdctl never queued its key");
          await sleep(100);
        }
        await sleep(500);
        assert.deepEqual(ctl.lines, [], "etcdctl waits while we hold");
        assert.ok(ctl.running);
        await mutex.unlock();
        const [ctlKey] = await ctl.waitLines(1);
        assert.match(ctlKey ?? "", new RegExp(`^${name}/[0-9a-f]+$`));
        assert.equal(await session.mutex(name).tryLock(), false, "etcdctl holds it now");
      } finally {
        await ctl.stop();
      }
    });

    test("interop: the server-side lock service and our mutex exclude each other", async () => {
      const name = `${uniquePrefix("mutex")}service`;
      await using a = await etcd.session({ ttl: 10 });
      await using b = await etcd.session({ ttl: 10 });
      const mutex = await a.mutex(name).lock();
      const served = etcd.lockService.lock(name, { lease: b });
      assert.equal(await settlesWithin(served, 500), false);
      await mutex.unlock();
      const { key } = await served;
      assert.equal(text(key), `${name}/${b.id.toString(16)}`, "same key as Go's mutex");
      assert.equal(await a.mutex(name).tryLock(), false);
      await etcd.lockService.unlock(key);
      assert.equal(await a.mutex(name).tryLock(), true);
    });

    test("in a namespace, keys are stored under the namespace and etcdctl contends there", async () => {
      const ns = etcd.namespace(uniquePrefix("ns"));
      const session = await openSession(
        { kv: ns.kv, keyspace: ns.keyspace, lease: ns.lease, watchStream: etcd.watchStream },
        { ttl: 10 },
      );
      try {
        const mutex = await session.mutex("jobs").lock();
        assert.equal(mutex.keyText, `jobs/${session.id.toString(16)}`);
        const stored = `${text(ns.prefix)}jobs/${session.id.toString(16)}`;
        assert.ok(await etcd.get(stored), "stored under the namespace prefix");
        const ctl = spawnEtcdctl(fx.endpoints, ["lock", `${text(ns.prefix)}jobs`]);
        try {
          await sleep(500);
          assert.deepEqual(ctl.lines, []);
          await mutex.unlock();
          const [ctlKey] = await ctl.waitLines(1);
          assert.ok(ctlKey?.startsWith(`${text(ns.prefix)}jobs/`));
        } finally {
          await ctl.stop();
        }
      } finally {
        await session.close();
      }
    });
  });

  describe("election", () => {
    test("campaign, leader, proclaim, resign; observe sees every change", async () => {
      const name = `${uniquePrefix("elect")}svc`;
      await using a = await etcd.session({ ttl: 10 });
      await using b = await etcd.session({ ttl: 10 });
      const observer = etcd.election(name);
      assert.equal(await observer.leader(), undefined);

      const controller = new AbortController();
      const seen: string[] = [];
      const observing = (async () => {
        try {
          for await (const leader of observer.observe({ signal: controller.signal })) {
            seen.push(`${leader.keyText}=${leader.text}`);
          }
        } catch (error) {
          if (!(error instanceof CanceledError)) throw error;
        }
      })();

      try {
        const ea = await a.election(name).campaign("a1");
        assert.ok(ea.leading);
        assert.equal(ea.keyText, `${name}/${a.id.toString(16)}`);
        assert.equal((await observer.leader())?.text, "a1");
        const eb = b.election(name);
        const campaigning = eb.campaign("b1");
        assert.equal(await settlesWithin(campaigning, 300), false, "b waits while a leads");
        await ea.proclaim("a2");
        assert.equal((await observer.leader())?.text, "a2");
        await assert.rejects(b.election(name).proclaim("nope"), NotLeaderError, "not campaigning");
        await ea.resign();
        assert.equal(ea.leading, false);
        await assert.rejects(ea.proclaim("a3"), NotLeaderError);
        await campaigning;
        assert.ok(eb.leading);
        assert.equal((await observer.leader())?.text, "b1");
        const ka = `${name}/${a.id.toString(16)}`;
        const kb = `${name}/${b.id.toString(16)}`;
        for (let i = 0; seen.length < 3 && i < 100; i++) await sleep(50);
        assert.deepEqual(seen, [`${ka}=a1`, `${ka}=a2`, `${kb}=b1`]);
      } finally {
        controller.abort();
        await observing;
      }
    });

    test("a campaign withdrawn by timeout leaves no candidate key", async () => {
      const name = `${uniquePrefix("elect")}withdraw`;
      await using a = await etcd.session({ ttl: 10 });
      await using b = await etcd.session({ ttl: 10 });
      await a.election(name).campaign("a");
      await assert.rejects(b.election(name).campaign("b", { timeoutMs: 300 }), TimeoutError);
      assert.equal((await etcd.range(prefix(`${name}/`), { countOnly: true })).count, 1n);
    });

    test("interop: etcdctl elect leads and we observe it; we lead after it resigns, it observes us", async () => {
      const name = `${uniquePrefix("elect")}ctl`;
      const campaigner = spawnEtcdctl(fx.endpoints, ["elect", name, "go-value"]);
      const listener = spawnEtcdctl(fx.endpoints, ["elect", "-l", name]);
      try {
        const [ctlKey, ctlValue] = await campaigner.waitLines(2);
        assert.match(ctlKey ?? "", new RegExp(`^${name}/[0-9a-f]+$`));
        assert.equal(ctlValue, "go-value");
        const leader = await etcd.election(name).leader();
        assert.equal(leader?.keyText, ctlKey);
        assert.equal(leader?.text, "go-value", "we see Go's leader and value");

        await using session = await etcd.session({ ttl: 10 });
        const ours = session.election(name);
        const campaigning = ours.campaign("ts-value");
        assert.equal(await settlesWithin(campaigning, 500), false, "we wait while Go leads");
        await campaigner.stop();
        await campaigning;
        assert.ok(ours.leading);
        await ours.proclaim("ts-value-2");

        // etcdctl elect -l prints key and value for every leader change it observes.
        const lines = await listener.waitLines(6);
        assert.deepEqual(lines, [
          ctlKey,
          "go-value",
          ours.keyText,
          "ts-value",
          ours.keyText,
          "ts-value-2",
        ]);

        // And the other way round: a Go campaigner waits for us, we observe it take over.
        const second = spawnEtcdctl(fx.endpoints, ["elect", name, "go-again"]);
        try {
          await sleep(500);
          assert.deepEqual(second.lines, [], "Go waits while we lead");
          const controller = new AbortController();
          const observed = (async () => {
            for await (const kv of etcd.election(name).observe({ signal: controller.signal })) {
              if (kv.text === "go-again") return kv.keyText;
            }
            return undefined;
          })();
          await ours.resign();
          const [secondKey] = await second.waitLines(2);
          assert.equal(await observed, secondKey);
          controller.abort();
        } finally {
          await second.stop();
        }
      } finally {
        await campaigner.stop();
        await listener.stop();
      }
    });

    test("the server-side election service contends in the same election", async () => {
      const name = `${uniquePrefix("elect")}service`;
      await using a = await etcd.session({ ttl: 10 });
      await using b = await etcd.session({ ttl: 10 });
      const svc = etcd.electionService;
      const leader = await svc.campaign(name, "svc-1", { lease: a });
      assert.equal(text(leader.key), `${name}/${a.id.toString(16)}`);
      assert.equal((await svc.leader(name))?.text, "svc-1");
      assert.equal((await etcd.election(name).leader())?.text, "svc-1");
      const ours = b.election(name);
      const campaigning = ours.campaign("ts");
      await svc.proclaim(leader, "svc-2");
      assert.equal((await svc.leader(name))?.text, "svc-2");
      const controller = new AbortController();
      const observed: string[] = [];
      const observing = (async () => {
        for await (const kv of svc.observe(name, { signal: controller.signal })) {
          observed.push(kv.text);
          if (kv.text === "ts") return;
        }
      })();
      await svc.resign(leader);
      await campaigning;
      await observing;
      controller.abort();
      assert.equal(observed.at(-1), "ts");
      assert.equal(await svc.leader(`${name}-nobody`), undefined);
      await assert.rejects(svc.proclaim(leader, "late"), NotLeaderError);
    });
  });

  describe("stm", () => {
    const isolations: Isolation[] = ["serializable-snapshot", "serializable", "repeatable-read"];
    for (const isolation of isolations) {
      test(`${isolation}: concurrent transfers keep the total`, async (t) => {
        const p = uniquePrefix(`stm-${isolation}`);
        const accounts = 4;
        const start = 100;
        for (let i = 0; i < accounts; i++) await etcd.put(`${p}${i}`, String(start));
        const clients = [etcd, new Etcd({ ...testClientOptions(), endpoints: fx.endpoints })];
        let attempts = 0;
        let commits = 0;
        try {
          await Promise.all(
            Array.from({ length: 8 }, async (_, worker) => {
              const client = clients[worker % clients.length] as Etcd;
              for (let n = 0; n < 12; n++) {
                const from = (worker + n) % accounts;
                const to = (worker + n + 1 + (n % (accounts - 1))) % accounts;
                const result = await client.stm(
                  async (tx) => {
                    const a = Number(await tx.text(`${p}${from}`));
                    const b = Number(await tx.text(`${p}${to}`));
                    const amount = Math.min(a, 1 + ((worker * 7 + n) % 10));
                    tx.put(`${p}${from}`, String(a - amount));
                    tx.put(`${p}${to}`, String(b + amount));
                    return amount;
                  },
                  { isolation },
                );
                attempts += result.attempts;
                commits++;
              }
            }),
          );
        } finally {
          await clients[1]?.close();
        }
        const balances = (await etcd.range(prefix(p))).kvs.map((kv) => Number(kv.text));
        t.diagnostic(
          `${commits} transfers in ${attempts} attempts; balances ${balances.join(",")}`,
        );
        assert.equal(balances.length, accounts);
        assert.equal(
          balances.reduce((x, y) => x + y, 0),
          accounts * start,
          "no money created or lost",
        );
        assert.ok(balances.every((b) => b >= 0));
        assert.equal(commits, 8 * 12);
        assert.ok(attempts > commits, "transfers conflicted and were retried");
      });
    }

    test("read-committed commits without conflict checks; reads see the attempt's writes", async () => {
      const p = uniquePrefix("stm-rc");
      await etcd.put(`${p}a`, "1");
      const { value, attempts } = await etcd.stm(
        async (tx) => {
          const before = await tx.text(`${p}a`);
          tx.put(`${p}a`, "2");
          tx.delete(`${p}b`);
          return [before, await tx.text(`${p}a`), await tx.get(`${p}b`)];
        },
        { isolation: "read-committed" },
      );
      assert.deepEqual(value, ["1", "2", undefined]);
      assert.equal(attempts, 1);
      assert.equal((await etcd.get(`${p}a`))?.text, "2");
    });

    test("serializable-snapshot catches a blind write over a concurrent change", async () => {
      const p = uniquePrefix("stm-ww");
      await etcd.put(`${p}r`, "read");
      await etcd.put(`${p}w`, "0");
      let runs = 0;
      const { attempts } = await etcd.stm(async (tx) => {
        runs++;
        await tx.get(`${p}r`);
        if (runs === 1) await etcd.put(`${p}w`, "changed meanwhile");
        tx.put(`${p}w`, `written by attempt ${runs}`);
      });
      assert.equal(attempts, 2, "the write conflict forced a second attempt");
      assert.equal((await etcd.get(`${p}w`))?.text, "written by attempt 2");

      // Plain serializable only guards reads: the same blind write commits at once.
      runs = 0;
      const plain = await etcd.stm(
        async (tx) => {
          runs++;
          await tx.get(`${p}r`);
          if (runs === 1) await etcd.put(`${p}w`, "changed again");
          tx.put(`${p}w`, "blind");
        },
        { isolation: "serializable" },
      );
      assert.equal(plain.attempts, 1);
    });

    test("an error thrown inside aborts without writing; maxAttempts bounds the retries", async () => {
      const p = uniquePrefix("stm-abort");
      await assert.rejects(
        etcd.stm(async (tx) => {
          tx.put(`${p}x`, "1");
          throw new Error("changed my mind");
        }),
        /changed my mind/,
      );
      assert.equal(await etcd.get(`${p}x`), undefined);
      await etcd.put(`${p}c`, "0");
      await assert.rejects(
        etcd.stm(
          async (tx) => {
            const n = Number(await tx.text(`${p}c`));
            await etcd.put(`${p}c`, String(n + 100)); // always conflicts
            tx.put(`${p}c`, String(n + 1));
          },
          { maxAttempts: 3 },
        ),
        { name: "StmConflictError" },
      );
    });
  });
});
