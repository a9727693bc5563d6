/**
 * Client memory for 10,000 idle watchers on distinct keys of one client: JS heap plus external
 * memory (which includes ArrayBuffers) once settled, before and after creating them, with a
 * first batch of watchers open already.
 */
import { settledMemory } from "../lib/settled-memory.ts";
import type { BenchContext, Workload } from "../lib/workload.ts";

function watcherCount(ctx: BenchContext): number {
  return ctx.scale(10_000, 200);
}

export const idleWatchers: Workload = {
  id: "watchers-10k",
  title: "memory for 10,000 idle watchers",
  headline: {
    unit: "bytes/watcher",
    higherIsBetter: false,
    value: (s) => s.extra?.bytesPerWatcher ?? Number.NaN,
  },
  clients: ["ours", "etcd3"],
  async run(client, ctx) {
    const open = client.idleWatchers;
    if (!open) return undefined;
    const n = watcherCount(ctx);
    // A first batch opens the watch stream and compiles the code paths, costs that are not per
    // watcher and that otherwise moved the result by hundreds of bytes from round to round.
    const closeWarm = await open(`${ctx.prefix}idle/${client.name}/warm/`, ctx.scale(100, 10));
    const before = await settledMemory();
    const t0 = performance.now();
    const close = await open(`${ctx.prefix}idle/${client.name}/`, n);
    const wallMs = performance.now() - t0;
    const after = await settledMemory();
    await close();
    await closeWarm();
    return {
      ops: n,
      wallMs,
      opsPerSec: (n * 1000) / wallMs,
      cpuUsPerOp: Number.NaN,
      extra: { bytesPerWatcher: (after - before) / n },
    };
  },
};
