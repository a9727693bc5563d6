/**
 * Client CPU for keeping 1,000 leases alive: leases of TTL 6 s (renewed every 2 s), each client in
 * a process of its own (`bench/lib/keep-alive-process.ts`), CPU of that process over its third
 * 12 s window after the grants. In the benchmark's own process the window also held the collection
 * of every earlier row's heap, and the first windows after the grants the compiler's work and the
 * grants' garbage (a fresh process of ours: ~37, 15, 10, 9 µs per renewal in four windows in a
 * row; etcd3 ~110, 135, 95, 65 µs).
 */
import { lastJsonLine } from "../lib/child-process.ts";
import type { BenchContext, Workload } from "../lib/workload.ts";

const TTL_SECONDS = 6;

function leaseCount(ctx: BenchContext): number {
  return ctx.scale(1_000, 20);
}

export const leaseKeepAlive: Workload = {
  id: "leases-1k",
  title: "CPU to keep 1,000 leases alive",
  headline: {
    unit: "CPU ms/s",
    higherIsBetter: false,
    value: (s) => s.extra?.cpuMsPerSec ?? Number.NaN,
  },
  clients: ["ours", "etcd3"],
  async run(client, ctx) {
    if (!client.keepLeases) return undefined;
    const n = leaseCount(ctx);
    const windows = ctx.scale(3, 1);
    const windowMs = ctx.scale(12_000, 2_500);
    const { cpuUs: cpu, wallMs } = await lastJsonLine<{ cpuUs: number; wallMs: number }>(
      "keep-alive-process.ts",
      [
        client.name,
        ctx.endpoints.join(","),
        String(n),
        String(TTL_SECONDS),
        String(windows),
        String(windowMs),
      ],
    );
    const renewals = (n * wallMs) / ((TTL_SECONDS * 1000) / 3);
    return {
      ops: renewals,
      wallMs,
      opsPerSec: (renewals * 1000) / wallMs,
      cpuUsPerOp: cpu / renewals,
      extra: { cpuMsPerSec: cpu / wallMs },
    };
  },
};
