/**
 * Linearizable single-key gets of 256-byte values, with 1 and with 200 in flight; our client
 * with and without read coalescing.
 */
import { closedLoop } from "../lib/measure.ts";
import { type BenchContext, opsPerSecond, settleReads, type Workload } from "../lib/workload.ts";

const KEYS = 1000;
const VALUE = "g".repeat(256);

async function prepare(ctx: BenchContext): Promise<void> {
  const base = `${ctx.prefix}get/`;
  for (let i = 0; i < KEYS; i += 100) {
    await Promise.all(
      Array.from({ length: 100 }, (_, j) => ctx.admin.put(`${base}${i + j}`, VALUE)),
    );
  }
}

function gets(concurrency: number): Workload {
  return {
    id: `get-${concurrency}`,
    title: `get, ${concurrency} in flight`,
    headline: opsPerSecond,
    clients: [
      "ours",
      "etcd3",
      "connect.raw",
      "ours+coalesce",
      "ours.raw",
      "connect",
      "h2.floor",
      "ours+otel",
    ],
    prepare,
    beforeEach: settleReads,
    async run(client, ctx) {
      const get = client.get;
      if (!get) return undefined;
      const base = `${ctx.prefix}get/`;
      return closedLoop((i) => get(`${base}${i % KEYS}`), {
        total: concurrency === 1 ? ctx.scale(3_000, 100) : ctx.scale(20_000, 400),
        concurrency,
      });
    },
  };
}

export const get1 = gets(1);
export const get200 = gets(200);
