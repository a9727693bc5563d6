/**
 * Client CPU for keeping 1,000 leases alive: leases of TTL 6 s (renewed every 2 s), CPU of the
 * client process over a 12 s window once all are granted.
 */
import { cpuNow, sleep } from "../lib/measure.ts";
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
    const keep = client.keepLeases;
    if (!keep) return undefined;
    const n = leaseCount(ctx);
    const windowMs = ctx.scale(12_000, 2_500);
    const release = await keep(n, TTL_SECONDS);
    // Let the first renewals spread out, then measure a whole number of renewal periods.
    await sleep(ctx.quick ? 200 : 1_000);
    const cpu0 = cpuNow();
    const t0 = performance.now();
    await sleep(windowMs);
    const wallMs = performance.now() - t0;
    const cpu = cpuNow() - cpu0;
    await release();
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
