/**
 * Watch throughput to one consumer: etcd replays 20,000 stored put events (256-byte values) to a
 * watcher started at their first revision; the row counts events per second delivered to the
 * consumer, and client CPU per event.
 */
import { cpuNow } from "../lib/measure.ts";
import type { BenchContext, Workload } from "../lib/workload.ts";

const VALUE = "w".repeat(256);
let firstRevision = 0n;

function eventCount(ctx: BenchContext): number {
  return ctx.scale(20_000, 300);
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
    for (let i = 0; i < n; i += 200) {
      const results = await Promise.all(
        Array.from({ length: Math.min(200, n - i) }, (_, j) =>
          ctx.admin.put(`${base}${(i + j) % 500}`, VALUE),
        ),
      );
      for (const r of results) {
        if (firstRevision === 0n || r.revision < firstRevision) firstRevision = r.revision;
      }
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
