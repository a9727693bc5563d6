/**
 * list() over etcd 3.7's RangeStream and over paged Range, against a real three-member cluster
 * of whatever line runs: both give the same keys, values and revisions (10,000 binary keys, a
 * limit, a past revision, writes during the listing), 3.7+ members stream, older ones are found
 * out once per endpoint (and again after a reconnect) with no error reaching the caller, and a
 * stream cut by a killed member is taken up elsewhere with no key twice or missing.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Interceptor } from "@connectrpc/connect";
import { Etcd, type KeyValue, type ListOptions, prefix } from "../../src/index.ts";
import { testClientOptions, uniquePrefix, useEtcd } from "../support/index.ts";

const fx = useEtcd({ size: 3 });
const enc = new TextEncoder();

/** Every call the clients made, as "Method host". */
const calls: string[] = [];
const recorder: Interceptor = (next) => (req) => {
  calls.push(`${req.method.name} ${new URL(req.url).host}`);
  return next(req);
};

function countCalls(method: string): number {
  return calls.filter((c) => c.startsWith(`${method} `)).length;
}

function hostsOf(method: string): string[] {
  return calls.filter((c) => c.startsWith(`${method} `)).map((c) => c.split(" ")[1] as string);
}

let etcd: Etcd;
/** Whether the cluster's members serve RangeStream, from the version they report. */
let streams: boolean;
let version: string;

function client(): Etcd {
  return new Etcd({ ...testClientOptions(), endpoints: fx.endpoints, interceptors: [recorder] });
}

/** One KeyValue with everything list() reports, bytes in hex. */
function fingerprint(kv: KeyValue): string {
  const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
  return `${hex(kv.key)} ${hex(kv.value)} c${kv.createRevision} m${kv.modRevision} v${kv.version} l${kv.lease}`;
}

async function collect(iterable: AsyncIterable<KeyValue>): Promise<KeyValue[]> {
  const out: KeyValue[] = [];
  for await (const kv of iterable) out.push(kv);
  return out;
}

/** Lists with the default (stream where served) and with Range only; returns both. */
async function bothWays(
  target: Parameters<Etcd["list"]>[0],
  options: ListOptions = {},
): Promise<{ streamed: KeyValue[]; paged: KeyValue[]; streamCalls: number; pages: number }> {
  calls.length = 0;
  const streamed = await collect(etcd.list(target, options));
  const streamCalls = countCalls("RangeStream");
  const pagesBefore = countCalls("Range");
  const paged = await collect(etcd.list(target, { ...options, stream: false }));
  assert.equal(countCalls("RangeStream"), streamCalls, "stream: false never streams");
  return { streamed, paged, streamCalls, pages: countCalls("Range") - pagesBefore };
}

function concat(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

describe("list over RangeStream and paged Range", () => {
  before(async () => {
    etcd = client();
    const status = await etcd.maintenance.status({ endpoint: fx.endpoints[0] as string });
    version = status.version;
    const [major = 0, minor = 0] = version.split(".").map(Number);
    streams = major > 3 || (major === 3 && minor >= 7);
  });

  after(async () => {
    await etcd.close();
  });

  describe("RangeStream and paged Range list the same keys", () => {
    const P = uniquePrefix("list-stream");
    const base = enc.encode(P);
    const N = 10_000;
    /** Key i: the prefix, i in two bytes, then 0x00 and 0xff (and two more 0xff for some). */
    const keyOf = (i: number) =>
      concat(
        base,
        new Uint8Array([i >> 8, i & 0xff, 0x00, 0xff]),
        i % 7 === 0 ? new Uint8Array([0xff, 0xff]) : new Uint8Array(0),
      );
    const valueAt = (i: number, round: string) =>
      concat(new Uint8Array([0x00, i & 0xff, 0xff]), enc.encode(`${round}${i}`));
    /** The store's revision once the 10,000 keys are written, before anything changes. */
    let written: bigint;

    before(async () => {
      for (let i = 0; i < N; i += 250) {
        await Promise.all(
          Array.from({ length: Math.min(250, N - i) }, (_, j) =>
            etcd.put(keyOf(i + j), valueAt(i + j, "a")),
          ),
        );
      }
      written = (await etcd.range(prefix(P), { countOnly: true })).revision;
    });

    function assertWritten(kvs: KeyValue[], count = N): void {
      assert.equal(kvs.length, count);
      for (let i = 0; i < count; i++) {
        const kv = kvs[i] as KeyValue;
        assert.deepEqual(kv.key, keyOf(i), `key ${i}`);
        assert.deepEqual(kv.value, valueAt(i, "a"), `value ${i}`);
      }
    }

    test("every key of 10,000 with 0x00 and 0xff bytes: identical, and the path the server's version calls for", async () => {
      const { streamed, paged, streamCalls, pages } = await bothWays(prefix(P));
      assertWritten(paged);
      assert.deepEqual(streamed.map(fingerprint), paged.map(fingerprint));
      assert.equal(pages, N / 1000, "stream: false reads page after page");
      if (streams) {
        assert.equal(streamCalls, 1, `etcd ${version}: the rest came as one RangeStream`);
        assert.equal(countCalls("Range"), 1 + N / 1000, "one Range page before the stream");
      } else {
        // Older members: the first listing may ask one of them once; the listing is paged.
        assert.ok(streamCalls <= 1, `etcd ${version}: at most one RangeStream probe`);
        assert.equal(countCalls("Range"), 2 * (N / 1000), "both listings paged");
      }
    });

    test("a limit: the first keys, the same either way, on every page size", async () => {
      for (const [limit, pageSize] of [
        [7_777, 500],
        [2_001, 1000],
        [N + 5, 3000],
      ] as const) {
        const { streamed, paged, streamCalls } = await bothWays(prefix(P), { limit, pageSize });
        assertWritten(paged, Math.min(limit, N));
        assert.deepEqual(streamed.map(fingerprint), paged.map(fingerprint), `limit ${limit}`);
        if (streams) assert.equal(streamCalls, 1, `limit ${limit}: streamed`);
      }
      // Within two pages nothing is streamed: one more Range is cheaper.
      const { streamed, streamCalls } = await bothWays(prefix(P), { limit: 1500, pageSize: 1000 });
      assertWritten(streamed, 1500);
      assert.equal(streamCalls, 0);
    });

    test("writes during the listing are not seen; a past revision lists the past", async () => {
      const changed = (i: number) => valueAt(i, "b");
      // Both listings start (their first pages are read) before the store changes.
      const streaming = etcd.list(prefix(P))[Symbol.asyncIterator]();
      const paging = etcd.list(prefix(P), { stream: false })[Symbol.asyncIterator]();
      const streamed = [(await streaming.next()).value as KeyValue];
      const paged = [(await paging.next()).value as KeyValue];
      // Change a key near the end, delete one, add one past the last.
      await etcd.put(keyOf(N - 2), changed(N - 2));
      await etcd.delete(keyOf(N - 3));
      await etcd.put(keyOf(N), changed(N));
      for await (const kv of { [Symbol.asyncIterator]: () => streaming }) streamed.push(kv);
      for await (const kv of { [Symbol.asyncIterator]: () => paging }) paged.push(kv);
      assertWritten(streamed);
      assertWritten(paged);
      // Both saw the store as it was when they began, revisions included.
      assert.deepEqual(streamed.map(fingerprint), paged.map(fingerprint));

      // The store did move on; at the revision of the writing, it is the old listing again.
      const now = await collect(etcd.list(prefix(P)));
      assert.equal(now.length, N, "one deleted, one added");
      assert.deepEqual(now[N - 3]?.value, changed(N - 2));
      const past = await bothWays(prefix(P), { revision: written });
      assertWritten(past.paged);
      assert.deepEqual(past.streamed.map(fingerprint), past.paged.map(fingerprint));
      assert.deepEqual(past.paged.map(fingerprint), paged.map(fingerprint));
      if (streams) assert.equal(past.streamCalls, 1);
    });
  });

  describe("finding out which members serve RangeStream", () => {
    const P = uniquePrefix("probe");
    const N = 2_500;

    before(async () => {
      for (let i = 0; i < N; i += 250) {
        await Promise.all(
          Array.from({ length: 250 }, (_, j) =>
            etcd.put(`${P}${String(i + j).padStart(5, "0")}`, "v"),
          ),
        );
      }
    });

    test("asked once per endpoint and again after it reconnects; every listing complete, no error", async () => {
      await using fresh = client();
      calls.length = 0;
      const listings = 6;
      for (let i = 0; i < listings; i++) {
        const kvs = await collect(fresh.list(prefix(P), { pageSize: 500 }));
        assert.equal(kvs.length, N);
        assert.equal(kvs[N - 1]?.keyText, `${P}${String(N - 1).padStart(5, "0")}`);
      }
      const asked = hostsOf("RangeStream");
      const hosts = fx.endpoints.map((e) => new URL(e).host).sort();
      if (streams) {
        assert.equal(asked.length, listings, `etcd ${version}: every listing streamed`);
        assert.equal(countCalls("Range"), listings, "one page each before the stream");
      } else {
        assert.deepEqual(
          [...asked].sort(),
          hosts,
          `etcd ${version}: each endpoint asked exactly once, then never again`,
        );
        assert.equal(countCalls("Range"), listings * (N / 500), "every listing paged");
      }

      // A member that comes back may have been upgraded: its new connection is asked again.
      const member = fx.cluster?.members[1];
      assert.ok(member, "the harness spawned the cluster");
      await member.restart();
      await fx.cluster?.waitHealthy();
      await fresh.maintenance.status({ endpoint: member.clientUrl }); // reconnects
      calls.length = 0;
      assert.equal((await collect(fresh.list(prefix(P), { pageSize: 500 }))).length, N);
      assert.equal((await collect(fresh.list(prefix(P), { pageSize: 500 }))).length, N);
      const again = hostsOf("RangeStream");
      if (streams) assert.equal(again.length, 2);
      else assert.deepEqual(again, [new URL(member.clientUrl).host], "only the reconnected one");
    });
  });

  describe("a stream cut by a lost member", () => {
    const P = uniquePrefix("cut");
    const N = 3_000;
    // 2 KB values: 6 MB in all, far more than HTTP/2 lets a server send ahead of the reader.
    const value = "x".repeat(2048);
    const keyAt = (i: number) => `${P}${String(i).padStart(5, "0")}`;

    before(async () => {
      for (let i = 0; i < N; i += 100) {
        await Promise.all(Array.from({ length: 100 }, (_, j) => etcd.put(keyAt(i + j), value)));
      }
    });

    test("is taken up after the last key it delivered, on another member: nothing twice, nothing missing", async () => {
      const cluster = fx.cluster;
      assert.ok(cluster, "the harness spawned the cluster");
      await using fresh = client();
      calls.length = 0;
      // Serializable: any live member answers, whoever led. Pages of 100: what is left after the
      // page that takes up the cut stream is long enough to stream again.
      const listing = fresh
        .list(prefix(P), { serializable: true, pageSize: 100 })
        [Symbol.asyncIterator]();
      const seen: string[] = [];
      while (seen.length < 1_500) {
        const step = await listing.next();
        assert.equal(step.done, false);
        seen.push((step.value as KeyValue).keyText);
      }
      // The member serving the listing right now: the stream's, or the last page's.
      const serving = (streams ? hostsOf("RangeStream") : hostsOf("Range")).at(-1);
      const victim = cluster.members.find((m) => new URL(m.clientUrl).host === serving);
      assert.ok(victim, `a member serves ${serving}`);
      await victim.kill();
      try {
        for (;;) {
          const step = await listing.next();
          if (step.done) break;
          seen.push(step.value.keyText);
        }
        assert.deepEqual(
          seen,
          Array.from({ length: N }, (_, i) => keyAt(i)),
        );
        if (streams) {
          // A stream that broke before the kill (a loaded machine) was taken up the same way;
          // what counts is that the one cut by the kill was followed by exactly one more.
          const asked = hostsOf("RangeStream");
          const afterCut = asked.slice(asked.lastIndexOf(serving as string) + 1);
          const trail = `calls: ${calls.join(", ")}`;
          assert.equal(
            afterCut.length,
            1,
            `one stream finished the listing after the cut; ${trail}`,
          );
          assert.notEqual(afterCut[0], serving, `it went to another member; ${trail}`);
        }
      } finally {
        victim.start();
        await cluster.waitHealthy();
      }
    });
  });
});
