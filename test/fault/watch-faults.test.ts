/**
 * Watch under faults, on a 3-member cluster: while a writer commits thousands of revisions (puts,
 * deletes, range deletes and multi-key txns) through its own client, members are killed and
 * restarted, and paused (SIGSTOP, longer than the watcher's keep-alive ping timeout) and resumed.
 * A prefix watcher on its own client, with all three endpoints, records what it gets. Afterwards
 * the history is rebuilt from Range at every revision (not from watch), and the validator proves
 * the watcher saw it exactly: nothing lost, nothing repeated, in order, no revision split,
 * bookmarks in place.
 *
 * Every other fault comes from the shared nemesis (`test/support/nemesis.ts`): a network partition
 * (members in namespaces; needs root) or a slow link (latency, bandwidth limit, stall, resets
 * mid-stream) on the watcher's links, which go through relays. The run prints the count per fault
 * kind and the longest time without an event delivered per kind.
 *
 * FAULTS (default 14, `long`: 40) sets the number of faults; of this suite's own, half are kills,
 * half pauses, alternating between the member carrying the watch stream and the leader.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  compare,
  Etcd,
  key,
  op,
  prefix,
  type TxnRequest,
  type WatchBatch,
} from "../../src/index.ts";
import {
  type Member,
  progressNotifyFlag,
  testClientOptions,
  uniquePrefix,
} from "../support/index.ts";
import { faultCount, Nemesis, startFaultCluster } from "../support/nemesis.ts";
import {
  historyFromSnapshots,
  type RecordedBatch,
  validateWatch,
} from "../support/watch-validator.ts";

const FAULTS = faultCount(14, 40);
const MIN_REVISIONS = 2_000;
const KEYS = 40;
const KEEPALIVE_INTERVAL_MS = 10_000;
const KEEPALIVE_TIMEOUT_MS = 2_000;
/** Longer than a ping interval plus its timeout: the watcher must notice the hang by itself. */
const PAUSE_MS = KEEPALIVE_INTERVAL_MS + KEEPALIVE_TIMEOUT_MS + 1_000;
const KILL_DOWN_MS = 1_000;
/** The writer's pause between writes: keeps the history (and its Range rebuild) moderate. */
const WRITE_GAP_MS = Number(process.env.WRITE_GAP_MS ?? 10);
const STREAMS = "etcd_debugging_mvcc_watch_stream_total";

const t0 = performance.now();
const log = (message: string) => {
  if (process.env.WATCH_FAULTS_VERBOSE) {
    process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(1)} s] ${message}\n`);
  }
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** A small seeded PRNG so a failing run can be repeated (SEED=...). */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function record(batch: WatchBatch): RecordedBatch {
  return {
    kind: batch.kind,
    revision: batch.revision,
    events: batch.events.map((e) => ({
      type: e.type,
      key: e.kv.keyText,
      value: e.kv.text,
      modRevision: e.kv.modRevision,
      createRevision: e.kv.createRevision,
      version: e.kv.version,
    })),
  };
}

test(`watch sees every revision exactly once through ${FAULTS} member faults`, {
  timeout: 15 * 60_000,
}, async (t) => {
  const seed = Number(process.env.SEED ?? Date.now() % 100_000);
  const rand = random(seed);
  const { cluster, partitionsOff } = await startFaultCluster({
    args: [progressNotifyFlag("1s")],
  });
  const nemesis = await Nemesis.start(cluster);
  const endpoints = cluster.endpoints;
  const writerClient = new Etcd({ ...testClientOptions(), endpoints, timeoutMs: 3_000 });
  // The watcher goes through the relays: slow links and resets reach its stream.
  const watchClient = new Etcd({
    ...testClientOptions(),
    endpoints: nemesis.endpoints,
    pingIntervalMs: KEEPALIVE_INTERVAL_MS,
    pingTimeoutMs: KEEPALIVE_TIMEOUT_MS,
  });
  let stop = false;
  let writer: Promise<void> | undefined;
  try {
    const p = uniquePrefix("watch-faults");
    const k = (i: number) => `${p}k${i}`;
    const startRevision = (await writerClient.range(key(p))).revision + 1n;

    const watcher = watchClient.watch(prefix(p), { startRevision, progressNotify: true });
    const recorded: RecordedBatch[] = [];
    let firstEventAt = 0;
    let lastEventAt = 0;
    const arrivals: number[] = [];
    let readerError: unknown;
    const reader = (async () => {
      for await (const batch of watcher) {
        if (batch.kind === "events") {
          lastEventAt = performance.now();
          arrivals.push(lastEventAt);
          if (firstEventAt === 0) firstEventAt = lastEventAt;
        }
        recorded.push(record(batch));
      }
    })().catch((error: unknown) => {
      readerError = error;
    });

    // The writer: one write in flight, errors retried by simply going on (what etcd holds is
    // read back afterwards, so an ambiguous failure cannot skew the expected history).
    let writes = 0;
    let writeErrors = 0;
    let lastRevision = 0n;
    const writeOne = async (i: number) => {
      const r = rand();
      const v = `w${i}`;
      if (r < 0.45) {
        lastRevision = (await writerClient.put(k(Math.floor(rand() * KEYS)), v)).revision;
      } else if (r < 0.6) {
        lastRevision = (await writerClient.delete(key(k(Math.floor(rand() * KEYS))))).revision;
      } else if (r < 0.65) {
        // Range delete of k1, k10..k19: one revision with many delete events.
        lastRevision = (await writerClient.delete(prefix(`${p}k1`))).revision;
      } else {
        const picked = new Set<number>();
        const size = 2 + Math.floor(rand() * 4);
        while (picked.size < size) picked.add(Math.floor(rand() * KEYS));
        const ops = [...picked].map((n, j) =>
          rand() < 0.75 ? op.put(k(n), `${v}.${j}`) : op.delete(key(k(n))),
        );
        const request: TxnRequest =
          r < 0.9
            ? { success: ops }
            : {
                compare: [compare.version(k(0), ">", 0)],
                success: ops,
                failure: [op.put(k(KEYS - 1), `${v}.failure`)],
              };
        lastRevision = (await writerClient.txn(request)).revision;
      }
    };
    writer = (async () => {
      for (let i = 0; !stop; i++) {
        try {
          await writeOne(i);
          writes++;
        } catch {
          writeErrors++;
          await sleep(50);
        }
        if (WRITE_GAP_MS > 0) await sleep(WRITE_GAP_MS);
      }
    })();

    // The faults.
    const watchMember = async (): Promise<Member | undefined> => {
      for (const member of cluster.members) {
        if (!member.running || member.paused) continue;
        const streams = await cluster.metric(member, STREAMS).catch(() => 0);
        if (streams > 0) return member;
      }
      return undefined;
    };
    const faults: string[] = [];
    const started = performance.now();
    for (let f = 0; f < FAULTS; f++) {
      await sleep(500 + Math.floor(rand() * 1_000));
      const kind = Nemesis.interleave(["own"] as const, f);
      if (kind !== "own") {
        faults.push(await nemesis.inject(kind));
        log(`fault ${f + 1}: ${faults.at(-1)}`);
        continue;
      }
      // This suite's own faults: kill or pause the watch member or the leader, in turn.
      const i = f / 2;
      const faultStart = performance.now();
      let target: Member | undefined;
      if (i % 4 < 2) {
        await waitFor(
          "a member carrying the watch stream",
          async () => {
            target = await watchMember();
            return target !== undefined;
          },
          30_000,
        );
      } else {
        target = (await cluster.leader()) ?? cluster.members[Math.floor(rand() * 3)];
      }
      assert.ok(target);
      const role = i % 4 < 2 ? "watch member" : "leader";
      log(`fault ${f + 1}: ${i % 2 === 0 ? "kill" : "pause"} ${target.name} (${role})`);
      if (i % 2 === 0) {
        faults.push(`kill ${target.name} (${role})`);
        await target.kill();
        await sleep(KILL_DOWN_MS);
        target.start();
      } else {
        faults.push(`pause ${target.name} (${role}) ${PAUSE_MS} ms`);
        target.pause();
        await sleep(PAUSE_MS);
        target.resume();
      }
      await cluster.waitHealthy(60_000);
      nemesis.record(i % 2 === 0 ? "kill" : "pause", role, faultStart);
    }
    const faultSeconds = (performance.now() - started) / 1000;
    await waitFor(
      `${MIN_REVISIONS} revisions written`,
      () => lastRevision >= startRevision + BigInt(MIN_REVISIONS),
      10 * 60_000,
    );
    stop = true;
    await writer;
    await cluster.waitHealthy(60_000);

    // Everything etcd holds, up to the last revision, must reach the watcher.
    const endRevision = (await writerClient.range(key(p))).revision;
    await waitFor("the watcher to catch up", () => watcher.nextRevision > endRevision, 120_000);
    // etcd sends its periodic progress notification only to a watcher that got no events in the
    // last interval, which a busy writer may never leave it: with nothing written now, one must
    // arrive within a few intervals, at endRevision, as a bookmark.
    // In about one run of three on etcd 3.7.1 under the partition nemesis no periodic
    // notification came within 30 s (not yet understood: the watcher had caught up and etcd was
    // healthy); after 10 s the watcher asks for one, which must come as a bookmark all the same.
    const progressBefore = recorded.filter((b) => b.kind === "progress").length;
    const progressed = () => recorded.filter((b) => b.kind === "progress").length > progressBefore;
    const periodic = await waitFor("a periodic progress bookmark", progressed, 10_000).then(
      () => true,
      () => false,
    );
    if (!periodic) {
      t.diagnostic("no periodic progress notification in 10 s: requesting one");
      watcher.requestProgress();
      await waitFor("a requested progress bookmark while nothing is written", progressed, 30_000);
    }
    await watcher.close();
    await reader;
    assert.equal(readerError, undefined, `the watch failed: ${String(readerError)}`);

    // The truth, from Range at every revision (startRevision - 1 gives the keys before).
    const snapshots = [];
    for (let rev = startRevision - 1n; rev <= endRevision; rev += 1n) {
      const page = await writerClient.range(prefix(p), { revision: rev });
      snapshots.push({
        revision: rev,
        kvs: page.kvs.map((kv) => ({
          key: kv.keyText,
          value: kv.text,
          modRevision: kv.modRevision,
          createRevision: kv.createRevision,
          version: kv.version,
        })),
      });
    }
    const expected = historyFromSnapshots(snapshots);
    const report = validateWatch({ startRevision, endRevision, expected, recorded });

    const reconnects = watchClient.watchStream.connects - 1;
    const events = report.counts.deliveredEvents;
    const seconds = (lastEventAt - firstEventAt) / 1000;
    process.stderr.write(
      `watch faults (seed ${seed}): ${faults.length} faults in ${faultSeconds.toFixed(0)} s: ${faults.join(", ")}\n` +
        `  faults by kind: ${nemesis.summary()}${partitionsOff ? ` (partitions left out: ${partitionsOff})` : ""}\n` +
        `  longest stall per fault kind (no event delivered): ${nemesis.describeStalls(arrivals)}\n` +
        `  revisions ${startRevision}..${endRevision} (${report.counts.expectedRevisions} with events), ` +
        `${report.counts.expectedEvents} events expected, ${events} delivered in ${report.counts.deliveredRevisions} batches, ` +
        `${report.counts.bookmarks} bookmarks; ${reconnects} stream reconnects; ` +
        `writer ${writes} writes, ${writeErrors} errors; ${(events / seconds).toFixed(0)} events/s delivered over ${seconds.toFixed(1)} s\n` +
        `  lost ${report.counts.lost}, duplicated ${report.counts.duplicated}, out of order ${report.counts.outOfOrder}, ` +
        `split ${report.counts.split}, mismatched ${report.counts.mismatched}, bad bookmarks ${report.counts.badBookmarks}\n`,
    );
    assert.ok(report.ok, report.violations.join("\n"));
    assert.equal(report.counts.lost, 0);
    assert.equal(report.counts.duplicated, 0);
    assert.ok(
      report.counts.expectedRevisions >= MIN_REVISIONS,
      `${report.counts.expectedRevisions} revisions`,
    );
    assert.equal(faults.length, FAULTS);
    if (FAULTS > 0) assert.ok(reconnects >= 1, "the faults reached the watcher's stream");
    assert.ok(report.counts.bookmarks > 0, "progress notifications arrived as bookmarks");
  } catch (error) {
    process.stderr.write(`\nwatch faults failed; etcd logs:\n${cluster.logs(60)}\n`);
    throw error;
  } finally {
    stop = true;
    await writer;
    await Promise.allSettled([watchClient.close(), writerClient.close()]);
    await nemesis.close();
    await cluster.stop();
  }
});
