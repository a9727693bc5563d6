/**
 * A transaction mix, 64 in flight: compare a key's value; on success put it again and read
 * another key, on failure read it.
 */
import { closedLoop } from "../lib/measure.ts";
import { opsPerSecond, type Workload } from "../lib/workload.ts";

const KEYS = 1000;
const VALUE = "t".repeat(256);

export const txnMix: Workload = {
  id: "txn-mix",
  title: "txn (compare, put + get), 64 in flight",
  headline: opsPerSecond,
  clients: ["ours", "etcd3", "connect.raw", "ours.raw", "connect"],
  async prepare(ctx) {
    const base = `${ctx.prefix}txn/`;
    for (let i = 0; i < KEYS; i += 100) {
      await Promise.all(
        Array.from({ length: 100 }, (_, j) => ctx.admin.put(`${base}${i + j}`, VALUE)),
      );
    }
  },
  async run(client, ctx) {
    const txn = client.txn;
    if (!txn) return undefined;
    const base = `${ctx.prefix}txn/`;
    return closedLoop((i) => txn(`${base}${i % KEYS}`, VALUE, `${base}${(i * 7 + 3) % KEYS}`), {
      total: ctx.scale(10_000, 200),
      concurrency: 64,
    });
  },
};
