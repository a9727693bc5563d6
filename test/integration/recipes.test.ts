/**
 * Go's client/v3/experimental/recipes, in TypeScript, against real etcd, under contention from
 * several clients: queue (N producers, M consumers, each item delivered once, in order per
 * producer), priority queue (drained in priority order), barrier (hold, wait, release), double
 * barrier (N parties enter and leave together), readers-writer mutex (readers share, a writer is
 * alone: checked on recorded intervals). The keys each recipe writes have Go's layout, as
 * etcdctl shows them, and items etcdctl writes in that layout are dequeued.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  BarrierFullError,
  CanceledError,
  Etcd,
  prefix,
  type Session,
  type WatchEvent,
} from "../../src/index.ts";
import { etcdctl, testClientOptions, uniquePrefix, useEtcd } from "../support/index.ts";

const fx = useEtcd();
const clients: Etcd[] = [];

function client(): Etcd {
  const etcd = new Etcd({ ...testClientOptions(), endpoints: fx.endpoints, timeoutMs: 10_000 });
  clients.push(etcd);
  return etcd;
}

after(async () => {
  await Promise.all(clients.map((c) => c.close()));
});

/** Polls `condition` (each call is a request to etcd) until it holds. */
async function until(condition: () => Promise<boolean>): Promise<void> {
  while (!(await condition())) await new Promise((r) => setTimeout(r, 20));
}

async function etcdctlKeys(keyPrefix: string): Promise<string[]> {
  const out = await etcdctl(fx.endpoints, ["get", "--prefix", keyPrefix, "--keys-only"]);
  return out.stdout
    .toString("utf8")
    .split("\n")
    .filter((line) => line !== "");
}

/** Every delete event under `keys` from `revision` on, in revision order, until `stop` aborts. */
function recordDeletes(etcd: Etcd, keys: string, revision: bigint, stop: AbortSignal) {
  const deletes: WatchEvent[] = [];
  const ready = (async () => {
    const watcher = etcd.watch(prefix(keys), {
      startRevision: revision,
      prevKv: true,
      signal: stop,
    });
    try {
      for await (const batch of watcher) {
        for (const event of batch.events) if (event.type === "delete") deletes.push(event);
      }
    } catch (error) {
      if (!(error instanceof CanceledError)) throw error;
    }
  })();
  return { deletes, done: ready };
}

describe("queue", () => {
  test("3 producers, 3 consumers: every item exactly once, each producer's items in order", async () => {
    const name = `${uniquePrefix("queue")}jobs`;
    const producers = 3;
    const perProducer = 20;
    const total = producers * perProducer;
    const observer = client();
    const start = (await observer.range(prefix(name))).revision + 1n;
    const stopWatch = new AbortController();
    const history = recordDeletes(observer, `${name}/`, start, stopWatch.signal);

    const stop = new AbortController();
    const received: string[][] = [];
    let delivered = 0;
    const consumers = Array.from({ length: 3 }, async (_, c) => {
      const queue = client().queue(name);
      const mine: string[] = [];
      received[c] = mine;
      for (;;) {
        try {
          const item = await queue.dequeue({ signal: stop.signal });
          mine.push(item.text);
          if (++delivered === total) stop.abort();
        } catch (error) {
          if (error instanceof CanceledError && stop.signal.aborted) return;
          throw error;
        }
      }
    });
    const produced = Array.from({ length: producers }, async (_, p) => {
      const queue = client().queue(name);
      for (let i = 0; i < perProducer; i++) await queue.enqueue(`p${p}:${i}`);
    });
    await Promise.all([...produced, ...consumers]);

    const all = received.flat();
    assert.equal(all.length, total);
    assert.equal(new Set(all).size, total, "an item was delivered twice");
    for (const mine of received) {
      for (let p = 0; p < producers; p++) {
        const seq = mine.filter((v) => v.startsWith(`p${p}:`)).map((v) => Number(v.split(":")[1]));
        assert.deepEqual(
          seq,
          [...seq].sort((a, b) => a - b),
          `consumer saw p${p} out of order`,
        );
      }
    }
    // The claims as etcd applied them (one delete per item), in revision order.
    await until(async () => history.deletes.length >= total);
    stopWatch.abort();
    await history.done;
    assert.equal(history.deletes.length, total);
    for (let p = 0; p < producers; p++) {
      const seq = history.deletes
        .map((e) => e.prevKv?.text ?? "")
        .filter((v) => v.startsWith(`p${p}:`))
        .map((v) => Number(v.split(":")[1]));
      assert.deepEqual(
        seq,
        Array.from({ length: perProducer }, (_, i) => i),
      );
    }
    assert.deepEqual(await etcdctlKeys(`${name}/`), [], "items left in the queue");
  });

  test("Go's key layout both ways: etcdctl sees <prefix>/<unix nanos>; items etcdctl puts are dequeued", async () => {
    const name = `${uniquePrefix("queue")}interop`;
    const queue = client().queue(name);
    const { key } = await queue.enqueue("from-ts");
    const keys = await etcdctlKeys(`${name}/`);
    assert.equal(keys.length, 1);
    assert.equal(keys[0], Buffer.from(key).toString());
    assert.match(keys[0] ?? "", new RegExp(`^${name}/\\d{19}$`));
    const nanos = BigInt((keys[0] ?? "").slice(name.length + 1));
    const now = BigInt(Date.now()) * 1_000_000n;
    assert.ok(nanos <= now && now - nanos < 3_600_000_000_000n, "the suffix is Unix nanoseconds");
    assert.equal((await queue.dequeue()).text, "from-ts");
    // What a Go producer writes: `<prefix>/<UnixNano>`.
    await etcdctl(fx.endpoints, ["put", `${name}/${now}`, "from-go-layout"]);
    assert.equal((await queue.dequeue()).text, "from-go-layout");
  });

  test("dequeue waits on an empty queue until an item comes; its signal ends the wait", async () => {
    const name = `${uniquePrefix("queue")}wait`;
    const queue = client().queue(name);
    const waiting = queue.dequeue();
    await client().queue(name).enqueue("late");
    assert.equal((await waiting).text, "late");
    const controller = new AbortController();
    const canceled = queue.dequeue({ signal: controller.signal });
    controller.abort();
    await assert.rejects(canceled, CanceledError);
  });
});

describe("priority queue", () => {
  test("3 producers at once, 3 consumers at once: drained by priority, then enqueue order", async () => {
    const name = `${uniquePrefix("pq")}tasks`;
    const priorities = [5, 0, 9, 0, 3, 5, 1, 9, 3, 0];
    await Promise.all(
      Array.from({ length: 3 }, async (_, p) => {
        const queue = client().priorityQueue(name);
        for (const [i, priority] of priorities.entries()) {
          await queue.enqueue(`${priority}:p${p}:${i}`, priority);
        }
      }),
    );
    const total = priorities.length * 3;
    const keys = await etcdctlKeys(`${name}/`);
    assert.equal(keys.length, total, "every item has its own key (no sequence number reused)");
    for (const k of keys) assert.match(k, new RegExp(`^${name}/\\d{5}/\\d{16}$`));
    assert.deepEqual(await etcdctlKeys(`__${name}/`), [
      `__${name}/00000`,
      `__${name}/00001`,
      `__${name}/00003`,
      `__${name}/00005`,
      `__${name}/00009`,
    ]);

    const observer = client();
    const start = (await observer.range(prefix(name))).revision + 1n;
    const stopWatch = new AbortController();
    const history = recordDeletes(observer, `${name}/`, start, stopWatch.signal);
    const taken: string[] = [];
    const stop = new AbortController();
    await Promise.all(
      Array.from({ length: 3 }, async () => {
        const queue = client().priorityQueue(name);
        for (;;) {
          try {
            taken.push((await queue.dequeue({ signal: stop.signal })).text);
            if (taken.length === total) stop.abort();
          } catch (error) {
            if (error instanceof CanceledError && stop.signal.aborted) return;
            throw error;
          }
        }
      }),
    );
    assert.equal(taken.length, total);
    await until(async () => history.deletes.length >= total);
    stopWatch.abort();
    await history.done;
    const claimed = history.deletes.map((e) => ({
      key: e.kv.keyText,
      value: e.prevKv?.text ?? "",
    }));
    assert.deepEqual(
      claimed.map((c) => c.key),
      [...keys],
      "claimed in key order: priority, then sequence",
    );
    const order = claimed.map((c) => Number(c.value.split(":")[0]));
    assert.deepEqual(
      order,
      [...order].sort((a, b) => a - b),
    );
    for (let p = 0; p < 3; p++) {
      for (const priority of new Set(priorities)) {
        const seq = claimed
          .filter((c) => c.value.startsWith(`${priority}:p${p}:`))
          .map((c) => Number(c.value.split(":")[2]));
        assert.deepEqual(
          seq,
          [...seq].sort((a, b) => a - b),
        );
      }
    }
    assert.deepEqual([...taken].sort(), claimed.map((c) => c.value).sort());
  });
});

describe("barrier", () => {
  test("waiters on other clients are held while the key exists and all go on release", async () => {
    const name = `${uniquePrefix("barrier")}gate`;
    const holder = client().barrier(name);
    assert.equal(await holder.hold(), true);
    assert.equal(await client().barrier(name).hold(), false, "held already");
    assert.deepEqual(await etcdctlKeys(name), [name]);
    const released: boolean[] = [false, false, false];
    const waiters = released.map((_, i) =>
      client()
        .barrier(name)
        .wait()
        .then(() => {
          released[i] = true;
        }),
    );
    // Each waiter has read the key (it exists) and watches: still held.
    await until(async () => (await client().get(name)) !== undefined);
    assert.deepEqual(released, [false, false, false]);
    await holder.release();
    await Promise.all(waiters);
    assert.deepEqual(released, [true, true, true]);
    await client().barrier(name).wait(); // down: at once
  });
});

describe("double barrier", () => {
  let sessions: Session[] = [];
  before(async () => {
    sessions = await Promise.all(Array.from({ length: 4 }, () => client().session({ ttl: 30 })));
  });

  test("3 parties: none passes enter until all entered, nor leave until all left", async () => {
    const name = `${uniquePrefix("dbarrier")}round`;
    const [s0, s1, s2, s3] = sessions as [Session, Session, Session, Session];
    const parties = [s0, s1, s2].map((s) => s.doubleBarrier(name, 3));
    const entered = [false, false, false];
    const left = [false, false, false];
    const waiterCount = async () =>
      (await client().range(prefix(`${name}/waiters/`), { countOnly: true })).count;
    const enter = (i: number) =>
      parties[i]?.enter().then(() => {
        entered[i] = true;
      });
    const e0 = enter(0);
    await until(async () => (await waiterCount()) === 1n);
    const e1 = enter(1);
    await until(async () => (await waiterCount()) === 2n);
    assert.deepEqual(entered, [false, false, false]);
    assert.deepEqual(await etcdctlKeys(`${name}/ready`), []);
    const e2 = enter(2);
    await Promise.all([e0, e1, e2]);
    assert.deepEqual(entered, [true, true, true]);
    const keys = await etcdctlKeys(`${name}/`);
    assert.equal(keys.length, 4);
    assert.ok(keys.includes(`${name}/ready`));
    for (const k of keys.filter((k) => k !== `${name}/ready`)) {
      assert.match(k, new RegExp(`^${name}/waiters/\\d{19}$`));
      const kv = await client().get(k);
      assert.ok([s0.id, s1.id, s2.id].includes(kv?.lease ?? 0n), "on a party's session lease");
    }

    await assert.rejects(s3.doubleBarrier(name, 3).enter(), BarrierFullError);
    assert.equal(await waiterCount(), 3n, "the refused party left no key");

    const leave = (i: number) =>
      parties[i]?.leave().then(() => {
        left[i] = true;
      });
    const l1 = leave(1);
    const l2 = leave(2);
    await until(async () => (await waiterCount()) === 1n);
    assert.deepEqual(left, [false, false, false]);
    const l0 = leave(0);
    await Promise.all([l0, l1, l2]);
    assert.deepEqual(left, [true, true, true]);
    assert.deepEqual(await etcdctlKeys(`${name}/`), []);
  });
});

describe("readers-writer mutex", () => {
  test("readers share; a writer waits for them; a later reader waits for the writer", async () => {
    const name = `${uniquePrefix("rw")}cfg`;
    const [a, b, w, c] = await Promise.all(
      Array.from({ length: 4 }, async () => (await client().session({ ttl: 30 })).rwMutex(name)),
    );
    assert.ok(a && b && w && c);
    await a.rLock();
    await b.rLock(); // resolves while a holds: shared
    const events: string[] = [];
    const writer = w.lock().then(() => events.push("w locked"));
    await until(async () => (await etcdctlKeys(`${name}/write/`)).length === 1);
    const reader = c.rLock().then(() => events.push("c locked"));
    await until(async () => (await etcdctlKeys(`${name}/read/`)).length === 3);
    assert.equal(events.length, 0, events.join(", "));
    const keys = await etcdctlKeys(`${name}/`);
    for (const k of keys) assert.match(k, new RegExp(`^${name}/(read|write)/\\d{19}$`));
    const [writeKey = ""] = await etcdctlKeys(`${name}/write/`);
    assert.equal((await client().get(writeKey))?.lease, w.session.id, "on the writer's lease");
    events.push("a unlock");
    await a.rUnlock();
    events.push("b unlock");
    await b.rUnlock();
    await writer;
    events.push("w unlock");
    await w.unlock();
    await reader;
    await c.rUnlock();
    assert.deepEqual(events, ["a unlock", "b unlock", "w locked", "w unlock", "c locked"]);
  });

  test("4 clients at random: no interval of a writer overlaps any other", async () => {
    const name = `${uniquePrefix("rw")}mix`;
    let clock = 0;
    const intervals: Array<{ mode: "read" | "write"; from: number; to: number }> = [];
    const plan = [
      ["write", "read", "read", "write", "read"],
      ["read", "read", "write", "read", "write"],
      ["read", "write", "read", "read", "read"],
      ["write", "write", "read", "write", "read"],
    ] as const;
    await Promise.all(
      plan.map(async (ops) => {
        const rw = (await client().session({ ttl: 30 })).rwMutex(name);
        for (const mode of ops) {
          if (mode === "read") await rw.rLock();
          else await rw.lock();
          const from = ++clock;
          await client().get(`${name}/work`); // hold it across a request
          const to = ++clock;
          intervals.push({ mode, from, to });
          if (mode === "read") await rw.rUnlock();
          else await rw.unlock();
        }
      }),
    );
    assert.equal(intervals.length, 20);
    for (const x of intervals.filter((i) => i.mode === "write")) {
      for (const y of intervals) {
        if (y === x) continue;
        assert.ok(
          y.to < x.from || y.from > x.to,
          `write ${x.from}-${x.to} overlaps ${y.mode} ${y.from}-${y.to}`,
        );
      }
    }
    assert.deepEqual(await etcdctlKeys(`${name}/`), []);
  });
});
