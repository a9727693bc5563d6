/**
 * Watch throughput to one consumer: etcd replays 100,000 stored put events (256-byte values, 100
 * per revision) to a watcher started at their first revision; the row counts events per second
 * delivered to the consumer, and client CPU per event.
 */
import { op, prefix } from "../../src/index.ts";
import { cpuNow } from "../lib/measure.ts";
import type { BenchContext, Workload } from "../lib/workload.ts";

const VALUE = "w".repeat(256);
const PER_REVISION = 100;
let firstRevision = 0n;

function eventCount(ctx: BenchContext): number {
  return ctx.scale(100_000, 1_000);
}

export const watchEvents: Workload = {
  id: "watch-events",
  title: "watch: events/s to one consumer",
  headline: { unit: "events/s", higherIsBetter: true, value: (s) => s.opsPerSec },
  clients: ["ours", "etcd3", "connect"],
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
    const cpu0 = cpuNow();
    const t0 = performance.now();
    await watchEvents(`${ctx.prefix}watch/`, firstRevision, n);
    const wallMs = performance.now() - t0;
    return {
      ops: n,
      wallMs,
      opsPerSec: (n * 1000) / wallMs,
      cpuUsPerOp: (cpuNow() - cpu0) / n,
    };
  },
};
