/**
 * Watch throughput to one consumer: etcd replays 100,000 stored put events (256-byte values, 100
 * per revision) to a watcher started at their first revision, fifteen times in a run; the row
 * counts events per second delivered to the consumer (the median replay), and client CPU per
 * event. The row has an etcd of its own: etcd reads every revision after the watcher's start
 * while replaying, so on the shared etcd each round replayed more slowly than the one before
 * (the other rows write ~200,000 revisions a round).
 */
import { op, prefix } from "../../src/index.ts";
import type { ClientName } from "../lib/bench-client.ts";
import { cpuNow, median, type Sample } from "../lib/measure.ts";
import { collectYoungGarbage } from "../lib/settled-memory.ts";
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
  async runTogether(clients, ctx) {
    const n = eventCount(ctx);
    const sides = clients.flatMap((client) => {
      const replay = client.watchEvents;
      return replay
        ? [{ name: client.name, replay, rates: [] as number[], wallMs: 0, cpuUs: 0 }]
        : [];
    });
    // One replay per client in turn, the order rotating each turn, fifteen turns: the clients
    // share the same stretches of the machine's time. Replayed one client after the other, each
    // client's fifteen replays fell on a stretch of their own (~5-10 s), and our advantage over
    // etcd3 moved 13-35 % across rounds with them. A replay takes ~0.3 s on a quiet etcd and
    // the replays of one client differ by a fifth or more (ours: 291, 347, 262, 342, 228k
    // events/s in one run of five): the median of fifteen is a client's number.
    const turns = ctx.scale(REPLAYS, 1);
    for (let turn = 0; turn < turns; turn++) {
      for (let i = 0; i < sides.length; i++) {
        const side = sides[(turn + i) % sides.length];
        if (!side) continue;
        const cpu0 = cpuNow();
        const t0 = performance.now();
        await side.replay(`${ctx.prefix}watch/`, firstRevision, n);
        const ms = performance.now() - t0;
        // The replay's young garbage is collected now, on this client's CPU: left alone, it would
        // be collected during the next client's replay. (A full collection here cost ~0.3 µs per
        // event for every client: it marks the whole process's heap, not the replay's garbage.)
        collectYoungGarbage();
        side.cpuUs += cpuNow() - cpu0;
        side.wallMs += ms;
        side.rates.push((n * 1000) / ms);
      }
    }
    const samples: Partial<Record<ClientName, Sample>> = {};
    for (const side of sides) {
      samples[side.name] = {
        ops: n * turns,
        wallMs: side.wallMs,
        opsPerSec: median(side.rates),
        cpuUsPerOp: side.cpuUs / (n * turns),
      };
    }
    return samples;
  },
};
