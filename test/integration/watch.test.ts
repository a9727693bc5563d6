/**
 * Watch against real etcd: events and batches, prevKv, filters, history replay, namespaces,
 * bookmarks (server progress and requested), fragmented responses reassembled, compaction as a
 * typed error, every way of cancelling ends the server-side watcher, a thousand watchers on one
 * server stream, a child process exits after close, the slow-consumer policy, and a watch refused
 * by auth ends with a typed error.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import type { Interceptor } from "@connectrpc/connect";
import {
  all,
  CanceledError,
  ClientClosedError,
  Etcd,
  InvalidArgumentError,
  key,
  op,
  PermissionDeniedError,
  prefix,
  type WatchBatch,
  WatchCompactedError,
  type Watcher,
} from "../../src/index.ts";
import {
  Cluster,
  progressNotifyFlag,
  scriptArgs,
  testClientOptions,
  testTransport,
  uniquePrefix,
  useEtcd,
} from "../support/index.ts";

const WATCHERS = "etcd_debugging_mvcc_watcher_total";
const STREAMS = "etcd_debugging_mvcc_watch_stream_total";
const PROGRESS_INTERVAL = progressNotifyFlag("500ms");

const fx = useEtcd({ args: [PROGRESS_INTERVAL] });
let etcd: Etcd;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** The next item of an iterator, or a failure after `ms` (a test must never hang). */
async function next<T>(it: AsyncIterator<T>, ms = 10_000): Promise<IteratorResult<T>> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no watch item within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([it.next(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Reads event batches until `count` events arrived (bookmarks skipped). */
async function readEvents(it: AsyncIterator<WatchBatch>, count: number): Promise<WatchBatch[]> {
  const batches: WatchBatch[] = [];
  let seen = 0;
  while (seen < count) {
    const result = await next(it);
    assert.equal(result.done, false, "watch ended early");
    const batch = result.value as WatchBatch;
    if (batch.kind !== "events") continue;
    batches.push(batch);
    seen += batch.events.length;
  }
  return batches;
}

function describeBatch(batch: WatchBatch): string[] {
  return batch.events.map(
    (e) => `${e.type} ${e.kv.keyText}${e.type === "put" ? `=${e.kv.text}` : ""}`,
  );
}

async function metric(name: string): Promise<number> {
  const member = fx.cluster?.members[0];
  assert.ok(member, "these tests need a spawned etcd");
  return fx.cluster?.metric(member, name) ?? 0;
}

async function settled(what: string, watchers: number, streams: number) {
  await waitFor(
    `${what}: ${watchers} watchers and ${streams} streams on the server`,
    async () => (await metric(WATCHERS)) === watchers && (await metric(STREAMS)) === streams,
  );
}

describe("watch", () => {
  before(() => {
    etcd = new Etcd({ ...testClientOptions(), endpoints: fx.endpoints });
  });
  after(async () => {
    await etcd.close();
  });

  test("put, overwrite, delete and a multi-key txn arrive as one batch per revision", async () => {
    const p = uniquePrefix("basic");
    await using watcher = etcd.watch(prefix(p));
    const created = await watcher.ready();
    assert.equal(watcher.nextRevision, created + 1n);
    const r1 = await etcd.put(`${p}a`, "1");
    const r2 = await etcd.put(`${p}a`, "2");
    const t = await etcd.txn({
      success: [op.put(`${p}b`, "1"), op.put(`${p}c`, "1"), op.delete(key(`${p}a`))],
    });
    const r4 = await etcd.delete(prefix(p));
    await etcd.put("elsewhere", "x");
    const it = watcher[Symbol.asyncIterator]();
    const batches = await readEvents(it, 7);
    assert.deepEqual(
      batches.map((b) => [b.revision, describeBatch(b)]),
      [
        [r1.revision, [`put ${p}a=1`]],
        [r2.revision, [`put ${p}a=2`]],
        [t.revision, [`put ${p}b=1`, `put ${p}c=1`, `delete ${p}a`]],
        [r4.revision, [`delete ${p}b`, `delete ${p}c`]],
      ],
    );
    const [first, second] = batches;
    assert.equal(first?.events[0]?.kv.version, 1n);
    assert.equal(first?.events[0]?.kv.createRevision, r1.revision);
    assert.equal(second?.events[0]?.kv.version, 2n);
    assert.equal(second?.events[0]?.prevKv, undefined, "no prevKv unless asked");
    assert.equal(batches[3]?.events[0]?.kv.modRevision, r4.revision);
    assert.equal(watcher.nextRevision, r4.revision + 1n);
  });

  test("events() yields single events; ending the loop closes the watcher", async () => {
    const p = uniquePrefix("events");
    const base = await metric(WATCHERS);
    const watcher = etcd.watch(prefix(p));
    await watcher.ready();
    await etcd.txn({ success: [op.put(`${p}a`, "1"), op.put(`${p}b`, "2")] });
    await etcd.put(`${p}c`, "3");
    const seen: string[] = [];
    for await (const event of watcher.events()) {
      seen.push(`${event.kv.keyText}=${event.kv.text}`);
      if (seen.length === 3) break;
    }
    assert.deepEqual(seen, [`${p}a=1`, `${p}b=2`, `${p}c=3`]);
    assert.equal(watcher.closed, true);
    await settled("after events() loop", base, 0);
  });

  test("prevKv, and the noPut / noDelete filters", async () => {
    const p = uniquePrefix("filters");
    await using withPrev = etcd.watch(prefix(p), { prevKv: true });
    await using deletesOnly = etcd.watch(prefix(p), { noPut: true });
    await using putsOnly = etcd.watch(prefix(p), { noDelete: true });
    await Promise.all([withPrev.ready(), deletesOnly.ready(), putsOnly.ready()]);
    await etcd.put(`${p}k`, "old");
    await etcd.put(`${p}k`, "new");
    const del = await etcd.delete(key(`${p}k`));

    const prev = await readEvents(withPrev[Symbol.asyncIterator](), 3);
    assert.equal(prev[0]?.events[0]?.prevKv, undefined, "a new key has no previous state");
    assert.equal(prev[1]?.events[0]?.prevKv?.text, "old");
    assert.equal(prev[2]?.events[0]?.type, "delete");
    assert.equal(prev[2]?.events[0]?.prevKv?.text, "new");
    assert.equal(prev[2]?.events[0]?.kv.text, "", "a delete event has no value");

    const deletes = await readEvents(deletesOnly[Symbol.asyncIterator](), 1);
    assert.deepEqual(
      deletes.map((b) => [b.revision, describeBatch(b)]),
      [[del.revision, [`delete ${p}k`]]],
    );
    const puts = await readEvents(putsOnly[Symbol.asyncIterator](), 2);
    assert.deepEqual(puts.flatMap(describeBatch), [`put ${p}k=old`, `put ${p}k=new`]);
    // Nothing else is pending for the put-only watcher: a later put is the next item.
    const later = await etcd.put(`${p}z`, "1");
    const after = await readEvents(putsOnly[Symbol.asyncIterator](), 1);
    assert.equal(after[0]?.revision, later.revision);
  });

  test("startRevision replays history exactly, for a range and for one key", async () => {
    const p = uniquePrefix("replay");
    const revisions: bigint[] = [];
    for (let i = 0; i < 5; i++) revisions.push((await etcd.put(`${p}${i % 2}`, `v${i}`)).revision);
    const from = revisions[1] as bigint;
    await using ranged = etcd.watch(prefix(p), { startRevision: from });
    const replay = await readEvents(ranged[Symbol.asyncIterator](), 4);
    assert.deepEqual(
      replay.map((b) => b.revision),
      revisions.slice(1),
    );
    assert.deepEqual(replay.flatMap(describeBatch), [
      `put ${p}1=v1`,
      `put ${p}0=v2`,
      `put ${p}1=v3`,
      `put ${p}0=v4`,
    ]);
    await using single = etcd.watch(`${p}0`, { startRevision: Number(from) });
    const one = await readEvents(single[Symbol.asyncIterator](), 2);
    assert.deepEqual(one.flatMap(describeBatch), [`put ${p}0=v2`, `put ${p}0=v4`]);
  });

  test("a namespace watches its own keys, without the prefix", async () => {
    const p = uniquePrefix("ns");
    const ns = etcd.namespace(p);
    await using watcher = ns.watch(all());
    await watcher.ready();
    await etcd.put(`${p}inside`, "1");
    await etcd.put(`${p.slice(0, -1)}-outside`, "2");
    await ns.put("also", "3");
    const batches = await readEvents(watcher[Symbol.asyncIterator](), 2);
    assert.deepEqual(batches.flatMap(describeBatch), ["put inside=1", "put also=3"]);
  });

  test("bookmarks: server progress notifications and requestProgress() carry the revision", async () => {
    const p = uniquePrefix("progress");
    await using watcher = etcd.watch(prefix(p), { progressNotify: true });
    await watcher.ready();
    const written = await etcd.put(`${p}a`, "1");
    await etcd.put("unrelated", "x");
    const it = watcher[Symbol.asyncIterator]();
    const first = await next(it);
    assert.equal(first.value?.kind, "events");
    // The server's own notification (every 500 ms here) reports the store revision.
    const mark = await next(it, 15_000);
    assert.equal(mark.value?.kind, "progress");
    assert.deepEqual(mark.value?.events, []);
    const current = (await etcd.range(key("unrelated"))).revision;
    assert.ok((mark.value?.revision ?? 0n) >= written.revision + 1n);
    assert.ok((mark.value?.revision ?? 0n) <= current);
    assert.equal(watcher.nextRevision, (mark.value?.revision ?? 0n) + 1n);

    await using quiet = etcd.watch(prefix(`${p}quiet/`));
    await quiet.ready();
    const now = (await etcd.put("unrelated", "y")).revision;
    quiet.requestProgress();
    const requested = await next(quiet[Symbol.asyncIterator]());
    assert.equal(requested.value?.kind, "progress");
    assert.equal(requested.value?.revision, now);
  });

  test("a compacted start revision ends the watcher with WatchCompactedError(compactRevision)", async () => {
    const p = uniquePrefix("compact");
    const first = await etcd.put(`${p}a`, "1");
    await etcd.put(`${p}a`, "2");
    const last = await etcd.put(`${p}a`, "3");
    await etcd.compact(last.revision);
    const watcher = etcd.watch(prefix(p), { startRevision: first.revision });
    const it = watcher[Symbol.asyncIterator]();
    const error = await next(it).then(
      () => assert.fail("expected WatchCompactedError"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof WatchCompactedError, String(error));
    assert.equal(error.compactRevision, last.revision);
    assert.equal(watcher.closed, true);
    assert.deepEqual(await next(it), { done: true, value: undefined });
    // The documented recovery: re-list, then watch from the list's revision + 1.
    const listed = await etcd.range(prefix(p));
    await using again = etcd.watch(prefix(p), { startRevision: listed.revision + 1n });
    const put = await etcd.put(`${p}a`, "4");
    const batches = await readEvents(again[Symbol.asyncIterator](), 1);
    assert.equal(batches[0]?.revision, put.revision);
  });

  test("bad arguments throw InvalidArgumentError before anything is sent", () => {
    assert.throws(() => etcd.watch(""), InvalidArgumentError);
    assert.throws(() => etcd.watch("k", { startRevision: -1 }), InvalidArgumentError);
    assert.throws(() => etcd.watch("k", { startRevision: 1.5 }), InvalidArgumentError);
    assert.throws(() => etcd.watch("k", { noPut: true, noDelete: true }), InvalidArgumentError);
    assert.throws(() => etcd.watch("k", { maxBufferedEvents: 0 }), InvalidArgumentError);
  });

  describe("cancelling stops the server-side watcher", () => {
    async function watching(p: string): Promise<Watcher> {
      const watcher = etcd.watch(prefix(p));
      await watcher.ready();
      await etcd.put(`${p}a`, "1");
      return watcher;
    }

    test("break out of for await", async () => {
      const base = await metric(WATCHERS);
      const watcher = await watching(uniquePrefix("break"));
      assert.equal(await metric(WATCHERS), base + 1);
      for await (const batch of watcher) {
        assert.equal(batch.events.length, 1);
        break;
      }
      await settled("after break", base, 0);
    });

    test("close()", async () => {
      const base = await metric(WATCHERS);
      const watcher = await watching(uniquePrefix("close"));
      assert.equal(await metric(WATCHERS), base + 1);
      await watcher.close();
      // close() resolves once etcd acknowledged the cancel: the gauge is already down.
      assert.equal(await metric(WATCHERS), base);
      await watcher.close();
      assert.deepEqual(await watcher[Symbol.asyncIterator]().next(), {
        done: true,
        value: undefined,
      });
      await settled("after close()", base, 0);
    });

    test("await using", async () => {
      const base = await metric(WATCHERS);
      {
        await using watcher = await watching(uniquePrefix("using"));
        assert.equal(await metric(WATCHERS), base + 1);
        assert.equal(watcher.closed, false);
      }
      assert.equal(await metric(WATCHERS), base);
      await settled("after await using", base, 0);
    });

    test("the caller's signal: the loop rejects with CanceledError", async () => {
      const base = await metric(WATCHERS);
      const controller = new AbortController();
      const watcher = etcd.watch(prefix(uniquePrefix("signal")), { signal: controller.signal });
      await watcher.ready();
      assert.equal(await metric(WATCHERS), base + 1);
      const loop = (async () => {
        for await (const _ of watcher) {
          // nothing arrives
        }
      })();
      setTimeout(() => controller.abort(new Error("shutting down")), 50);
      await assert.rejects(loop, CanceledError);
      await settled("after abort", base, 0);
      const aborted = etcd.watch("k", { signal: AbortSignal.abort() });
      await assert.rejects(aborted[Symbol.asyncIterator]().next(), CanceledError);
    });

    test("closing the client ends its watchers with ClientClosedError", async () => {
      const base = await metric(WATCHERS);
      const own = new Etcd({ ...testClientOptions(), endpoints: fx.endpoints });
      const watcher = own.watch(prefix(uniquePrefix("client-close")));
      await watcher.ready();
      const it = watcher[Symbol.asyncIterator]();
      const pending = it.next();
      await own.close();
      await assert.rejects(pending, ClientClosedError);
      assert.throws(() => own.watch("k"), ClientClosedError);
      await settled("after client close", base, 0);
    });
  });

  test("1,000 watchers go on streams of 100 (one on the gateway); cancelling them all leaves none", async () => {
    const p = uniquePrefix("thousand");
    const own = new Etcd({ ...testClientOptions(), endpoints: fx.endpoints });
    // The gateway opens a WebSocket per stream: there every watcher shares one.
    const streams = testTransport() === "gateway" ? 1 : 10;
    try {
      const baseWatchers = await metric(WATCHERS);
      const baseStreams = await metric(STREAMS);
      const watchers = Array.from({ length: 1000 }, (_, i) => own.watch(`${p}${i}`));
      await Promise.all(watchers.map((w) => w.ready()));
      assert.equal(await metric(STREAMS), baseStreams + streams, "Watch streams of the client");
      assert.equal(await metric(WATCHERS), baseWatchers + 1000);
      assert.equal(own.watchStream.connects, streams);
      assert.equal(own.watchStream.count, streams);
      // Every watcher gets its own key's event, and only that.
      await own.txn({ success: [op.put(`${p}7`, "seven"), op.put(`${p}999`, "last")] });
      const seven = await readEvents((watchers[7] as Watcher)[Symbol.asyncIterator](), 1);
      assert.deepEqual(seven.flatMap(describeBatch), [`put ${p}7=seven`]);
      const lastIterator = (watchers[999] as Watcher)[Symbol.asyncIterator]();
      const last = await readEvents(lastIterator, 1);
      assert.deepEqual(last.flatMap(describeBatch), [`put ${p}999=last`]);
      // A progress request from a watcher on the first stream brings a bookmark to one on the
      // last: the request goes to every stream.
      (watchers[0] as Watcher).requestProgress();
      const bookmark = await next(lastIterator);
      assert.equal((bookmark.value as WatchBatch).kind, "progress");
      await Promise.all(watchers.map((w) => w.close()));
      assert.equal(own.watchStream.size, 0);
      await settled("after closing 1,000 watchers", baseWatchers, baseStreams);
      assert.equal(own.watchStream.open, false, "the stream closes with its last watcher");
    } finally {
      await own.close();
    }
  });

  test("slow consumer: the unread watcher pauses on the server, the others keep flowing, nothing is lost", async () => {
    const p = uniquePrefix("slow");
    const base = await metric(WATCHERS);
    await using slow = etcd.watch(prefix(p), { maxBufferedEvents: 10 });
    await using fast = etcd.watch(prefix(p));
    await Promise.all([slow.ready(), fast.ready()]);
    assert.equal(await metric(WATCHERS), base + 2);
    const written: bigint[] = [];
    for (let i = 0; i < 100; i++) written.push((await etcd.put(`${p}${i % 7}`, `v${i}`)).revision);
    // The fast watcher gets everything while the slow one is not read at all.
    const fastBatches = await readEvents(fast[Symbol.asyncIterator](), 100);
    assert.deepEqual(
      fastBatches.map((b) => b.revision),
      written,
    );
    // The slow one went past its bound: it was cancelled on the server (memory stays bounded).
    await waitFor(
      "the slow watcher paused on the server",
      async () => (await metric(WATCHERS)) === base + 1,
    );
    // Reading it now yields every revision once, in order: it is created again as it drains.
    const slowBatches = await readEvents(slow[Symbol.asyncIterator](), 100);
    assert.deepEqual(
      slowBatches.map((b) => b.revision),
      written,
    );
    assert.deepEqual(
      slowBatches.flatMap(describeBatch),
      written.map((_, i) => `put ${p}${i % 7}=v${i}`),
    );
    await waitFor(
      "the slow watcher created again",
      async () => (await metric(WATCHERS)) === base + 2,
    );
  });

  test("a child process that watches exits by itself after close", async () => {
    const script = fileURLToPath(new URL("../fixtures/watch-child.ts", import.meta.url));
    const child = spawn(process.execPath, scriptArgs(script, fx.endpoints.join(",")), {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d) => {
      output += d;
    });
    child.stderr.on("data", (d) => {
      output += d;
    });
    const code = await new Promise<number | string>((resolve) => {
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        resolve("hung");
      }, 30_000);
      child.on("exit", (c, signal) => {
        clearTimeout(timer);
        resolve(c ?? String(signal));
      });
    });
    assert.equal(code, 0, `child ${code}: ${output}`);
    assert.match(output, /got put watch-child\/a=1/);
    assert.match(output, /closed/);
  });
});

describe("watch with fragmented responses", () => {
  test("a response over maxReceiveBytes makes etcd fragment; the revision still arrives whole", async () => {
    await using cluster = await Cluster.start({ args: ["--max-request-bytes=2048"] });
    let fragments = 0;
    const countFragments: Interceptor = (nextCall) => async (req) => {
      const res = await nextCall(req);
      if (!res.stream || req.method.name !== "Watch") return res;
      const messages = res.message;
      return {
        ...res,
        message: (async function* () {
          for await (const m of messages) {
            if ((m as { fragment?: boolean }).fragment) fragments++;
            yield m;
          }
        })(),
      };
    };
    await using client = new Etcd({
      ...testClientOptions(),
      endpoints: cluster.endpoints,
      interceptors: [countFragments],
      // Below the 750 KB revision, above etcd's fragment size (2 KB + 512 KiB of allowance).
      maxReceiveBytes: 600 * 1024,
    });
    // Responses come whole until one exceeds maxReceiveBytes; then the stream reopens asking
    // etcd to split them above its max request size plus 512 KiB of gRPC allowance. 500 deleted
    // keys with 1.5 KB previous values make one revision of about 750 KB.
    const p = "frag/";
    const count = 500;
    const name = (i: number) => `${p}${String(i).padStart(3, "0")}`;
    const value = "v".repeat(1500);
    for (let i = 0; i < count; i += 50) {
      await Promise.all(
        Array.from({ length: 50 }, (_, j) => client.put(name(i + j), `${i + j}${value}`)),
      );
    }
    await using watcher = client.watch(prefix(p), { prevKv: true });
    await watcher.ready();
    const deleted = await client.delete(prefix(p));
    assert.equal(deleted.deleted, BigInt(count));
    const it = watcher[Symbol.asyncIterator]();
    const batch = (await next(it)).value as WatchBatch;
    assert.equal(batch.revision, deleted.revision);
    assert.equal(batch.events.length, count, "the whole revision in one batch");
    batch.events.forEach((event, i) => {
      assert.equal(event.type, "delete");
      assert.equal(event.kv.keyText, name(i));
      assert.equal(event.prevKv?.text, `${i}${value}`);
    });
    // Every piece but the last carries fragment = true.
    assert.ok(fragments >= 1, `etcd split the revision into ${fragments + 1} responses`);
    assert.equal(client.watchStream.connects, 2, "one reopen, with fragment requested");
    // Later watchers on the stream ask for fragments too, and small responses are unaffected.
    await using small = client.watch("frag-small");
    await small.ready();
    const put = await client.put("frag-small", "1");
    const smallBatch = (await next(small[Symbol.asyncIterator]())).value as WatchBatch;
    assert.equal(smallBatch.revision, put.revision);
  });
});

describe("watch refused by auth", () => {
  test("a user without permission gets PermissionDeniedError, not a hang", async () => {
    await using cluster = await Cluster.start();
    const endpoints = cluster.endpoints;
    {
      await using admin = new Etcd({ ...testClientOptions(), endpoints });
      await admin.raw.auth.userAdd({ name: "root", password: "root-pw" });
      await admin.raw.auth.roleAdd({ name: "root" });
      await admin.raw.auth.userGrantRole({ user: "root", role: "root" });
      await admin.raw.auth.userAdd({ name: "nobody", password: "nobody-pw" });
      await admin.raw.auth.authEnable({});
    }
    let token: string;
    {
      await using login = new Etcd({ ...testClientOptions(), endpoints });
      token = (await login.raw.auth.authenticate({ name: "nobody", password: "nobody-pw" })).token;
    }
    await using restricted = new Etcd({ ...testClientOptions(), endpoints, token });
    const watcher = restricted.watch(prefix("secret/"));
    const error = await next(watcher[Symbol.asyncIterator]()).then(
      () => assert.fail("expected PermissionDeniedError"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof PermissionDeniedError, String(error));
    assert.equal(error.rawMessage, "etcdserver: permission denied");
    await assert.rejects(watcher.ready(), PermissionDeniedError);
    assert.equal(watcher.closed, true);
    // Root, with a password, watches the same range fine on the same cluster.
    await using root = new Etcd({
      ...testClientOptions(),
      endpoints,
      username: "root",
      password: "root-pw",
    });
    await using allowed = root.watch(prefix("secret/"));
    await allowed.ready();
    const put = await root.put("secret/a", "1");
    const batch = await readEvents(allowed[Symbol.asyncIterator](), 1);
    assert.equal(batch[0]?.revision, put.revision);
  });
});
