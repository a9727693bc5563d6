/** One Range over 10,000 keys of 256-byte values (about 2.7 MB per response), one at a time. */
import { closedLoop } from "../lib/measure.ts";
import { type BenchContext, opsPerSecond, settleReads, type Workload } from "../lib/workload.ts";

const VALUE = "r".repeat(256);

function keyCount(ctx: BenchContext): number {
  return ctx.scale(10_000, 200);
}

export const range10k: Workload = {
  id: "range-10k",
  title: "range of 10,000 keys",
  headline: opsPerSecond,
  clients: ["ours", "etcd3", "connect.raw", "ours.raw", "connect", "h2.floor"],
  async prepare(ctx) {
    const base = `${ctx.prefix}range/`;
    const n = keyCount(ctx);
    for (let i = 0; i < n; i += 200) {
      await Promise.all(
        Array.from({ length: Math.min(200, n - i) }, (_, j) =>
          ctx.admin.put(`${base}${String(i + j).padStart(6, "0")}`, VALUE),
        ),
      );
    }
  },
  beforeEach: settleReads,
  async run(client, ctx) {
    const rangePrefix = client.rangePrefix;
    if (!rangePrefix) return undefined;
    const base = `${ctx.prefix}range/`;
    const expected = keyCount(ctx);
    return closedLoop(
      async () => {
        const n = await rangePrefix(base);
        if (n !== expected) throw new Error(`${client.name} read ${n} keys, expected ${expected}`);
      },
      { total: ctx.scale(100, 4), concurrency: 1, warmup: ctx.scale(10, 1) },
    );
  },
};
