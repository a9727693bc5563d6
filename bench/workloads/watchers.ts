/**
 * Client memory for 10,000 idle watchers on distinct keys of one client: JS heap plus external
 * memory (which includes ArrayBuffers) once settled, before and after creating them, with a
 * first batch of 1,000 watchers open already (after a first batch of 100, the 10,000 still held
 * one-off work of the compiler: ~674 B each for ours and ~2,176 for etcd3, against ~617 and
 * ~2,137 after 1,000, three runs each); each client in a process of its own
 * (`bench/lib/idle-watchers-process.ts`). In the benchmark's own process, after the watch replay
 * row's five replays per client, the same watchers measured ~2,090 B each for ours (~640 after
 * one replay, and in a fresh process after five): what that row leaves in the process changed
 * the measure.
 */
import { lastJsonLine } from "../lib/child-process.ts";
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
    if (!client.idleWatchers) return undefined;
    const n = watcherCount(ctx);
    const { bytesPerWatcher, wallMs } = await lastJsonLine<{
      bytesPerWatcher: number;
      wallMs: number;
    }>("idle-watchers-process.ts", [
      client.name,
      ctx.endpoints.join(","),
      `${ctx.prefix}idle/${client.name}/${Date.now().toString(36)}/`,
      String(ctx.scale(1_000, 10)),
      String(n),
    ]);
    return {
      ops: n,
      wallMs,
      opsPerSec: (n * 1000) / wallMs,
      cpuUsPerOp: Number.NaN,
      extra: { bytesPerWatcher },
    };
  },
};
