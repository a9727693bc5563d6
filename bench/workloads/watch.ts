/**
 * Watch throughput to one consumer: etcd replays 100,000 stored put events (256-byte values, 100
 * per revision) to a watcher started at their first revision, fifteen times in a run; the row
 * counts events per second delivered to the consumer (the median replay), and client CPU per
 * event. The row has an etcd of its own: etcd reads every revision after the watcher's start
 * while replaying, so on the shared etcd each round replayed more slowly than the one before
 * (the other rows write ~200,000 revisions a round).
 */
import { op, prefix } from "../../src/index.ts";
import { cpuNow, median } from "../lib/measure.ts";
import type { BenchContext, Workload } from "../lib/workload.ts";

const VALUE = "w".repeat(256);
const PER_REVISION = 100;
const REPLAYS = 15;
let firstRevision = 0n;

function eventCount(ctx: BenchContext): number {
  return ctx.scale(100_000, 1_000);
}

export const watchEvents: Workload = {
  id: "watch-events",
  title: "watch: events/s to one consumer",
  headline: { unit: "events/s", higherIsBetter: true, value: (s) => s.opsPerSec },
  clients: ["ours", "etcd3", "connect"],
  ownServer: true,
  async prepare(ctx) {
    const base = `${ctx.prefix}watch/`;
    const n = eventCount(ctx);
    firstRevision = 0n;
    // 100 puts per txn: etcd replays history to a new watcher at most 1,000 revisions per 100 ms
    // sync, which would otherwise cap the row at 10,000 revisions' worth of events per second
    // whatever the client does. etcd sends those revisions as one message unless the client asks
    // for fragments (etcd3 does not), so etcd3 runs with grpc-js's 4 MiB receive limit lifted.
    for (let i = 0; i < n; i += PER_REVISION) {
      const count = Math.min(PER_REVISION, n - i);
      const { revision } = await ctx.admin.txn({
        success: Array.from({ length: count }, (_, j) => op.put(`${base}${j}`, VALUE)),
      });
      if (firstRevision === 0n) firstRevision = revision;
    }
    // One unmeasured replay of the whole history: the first replay after the writes was ~40 %
    // slower for whichever client came first (etcd reading it cold), a spread across rounds
    // that was etcd's, not the clients'.
    let seen = 0;
    for await (const batch of ctx.admin.watch(prefix(base), { startRevision: firstRevision })) {
      seen += batch.events.length;
      if (seen >= n) break;
    }
  },
  async run(client, ctx) {
    const watchEvents = client.watchEvents;
    if (!watchEvents) return undefined;
    const n = eventCount(ctx);
    // On a quiet etcd a replay takes ~0.3 s: one replay was at the mercy of a single pause of
    // etcd or of the machine, and the replays of one run still differ by a fifth or more (ours:
    // 291, 347, 262, 342, 228k events/s in one run of five). The median of fifteen is the run's
    // number; CPU counts all fifteen.
    const replays = ctx.scale(REPLAYS, 1);
    const rates: number[] = [];
    let wallMs = 0;
    const cpu0 = cpuNow();
    for (let i = 0; i < replays; i++) {
      const t0 = performance.now();
      await watchEvents(`${ctx.prefix}watch/`, firstRevision, n);
      const ms = performance.now() - t0;
      wallMs += ms;
      rates.push((n * 1000) / ms);
    }
    return {
      ops: n * replays,
      wallMs,
      opsPerSec: median(rates),
      cpuUsPerOp: (cpuNow() - cpu0) / (n * replays),
    };
  },
};
