/**
 * Client memory for 10,000 idle watchers on distinct keys of one client: JS heap plus external
 * and ArrayBuffer memory after a full garbage collection, before and after creating them.
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type { BenchContext, Workload } from "../lib/workload.ts";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

/** Heap, external and ArrayBuffer bytes after collecting garbage twice. */
export function settledMemory(): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.external + m.arrayBuffers;
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
    const before = settledMemory();
    const t0 = performance.now();
    const close = await open(`${ctx.prefix}idle/${client.name}/`, n);
    const wallMs = performance.now() - t0;
    const after = settledMemory();
    await close();
    return {
      ops: n,
      wallMs,
      opsPerSec: (n * 1000) / wallMs,
      cpuUsPerOp: Number.NaN,
      extra: { bytesPerWatcher: (after - before) / n },
    };
  },
};
