/** Puts of 256-byte values over 1,000 keys, with 1 and with 200 in flight. */
import { closedLoop } from "../lib/measure.ts";
import { type BenchContext, opsPerSecond, type Workload } from "../lib/workload.ts";

const VALUE = "v".repeat(256);

function puts(concurrency: number): Workload {
  return {
    id: `put-${concurrency}`,
    title: `put, ${concurrency} in flight`,
    headline: opsPerSecond,
    clients: ["ours", "etcd3", "connect.raw", "ours.raw", "connect", "h2.floor", "ours+otel"],
    async run(client, ctx: BenchContext) {
      const put = client.put;
      if (!put) return undefined;
      const base = `${ctx.prefix}put/`;
      return closedLoop((i) => put(`${base}${i % 1000}`, VALUE), {
        total: concurrency === 1 ? ctx.scale(3_000, 100) : ctx.scale(20_000, 400),
        concurrency,
      });
    },
  };
}

export const put1 = puts(1);
export const put200 = puts(200);
