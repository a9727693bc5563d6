/**
 * Client memory for 10,000 idle watchers on distinct keys of one client: JS heap plus external
 * memory (which includes ArrayBuffers) once settled, before and after creating them, with a
 * first batch of watchers open already.
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type { BenchContext, Workload } from "../lib/workload.ts";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

/**
 * Heap and external bytes once garbage is collected and its finalizers ran: collect, let the
 * event loop turn (external memory of collected buffers is released in callbacks), collect
 * again. `external` already includes `arrayBuffers`, so that is not added again.
 */
export async function settledMemory(): Promise<number> {
  gc();
  await new Promise((resolve) => setImmediate(resolve));
  gc();
  await new Promise((resolve) => setImmediate(resolve));
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

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
