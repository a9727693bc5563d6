/**
 * list() over 10,000 keys of 256-byte values, one listing at a time: the default (the first page
 * a Range, the rest one RangeStream, on etcd 3.7+) against Range pages only (`stream: false`),
 * both with pages of 1,000. Before 3.7 the default lists page by page as well, so the streamed
 * row is left out there: nothing would tell the two apart.
 */
import { closedLoop } from "../lib/measure.ts";
import { type BenchContext, opsPerSecond, settleReads, type Workload } from "../lib/workload.ts";

const VALUE = "l".repeat(256);

function keyCount(ctx: BenchContext): number {
  return ctx.scale(10_000, 3_000);
}

/** Whether the server under test serves RangeStream (etcd 3.7 or later). */
function streams(ctx: BenchContext): boolean {
  const [major = 0, minor = 0] = ctx.serverVersion.split(".").map(Number);
  return major > 3 || (major === 3 && minor >= 7);
}

export const list10k: Workload = {
  id: "list-10k",
  title: "list() of 10,000 keys: RangeStream vs Range pages",
  headline: opsPerSecond,
  clients: ["ours", "ours+paged"],
  detailOnly: true,
  async prepare(ctx) {
    const base = `${ctx.prefix}list/`;
    const n = keyCount(ctx);
    for (let i = 0; i < n; i += 200) {
      await Promise.all(
        Array.from({ length: Math.min(200, n - i) }, (_, j) =>
          ctx.admin.put(`${base}${String(i + j).padStart(6, "0")}`, VALUE),
        ),
      );
    }
    if (!streams(ctx)) {
      process.stdout.write(
        `list-10k: etcd ${ctx.serverVersion} has no RangeStream; only the paged row runs (ETCD_BIN=<etcd 3.7> for both)\n`,
      );
    }
  },
  beforeEach: settleReads,
  async run(client, ctx) {
    const listPrefix = client.listPrefix;
    if (!listPrefix || (client.name === "ours" && !streams(ctx))) return undefined;
    const base = `${ctx.prefix}list/`;
    const expected = keyCount(ctx);
    return closedLoop(
      async () => {
        const n = await listPrefix(base);
        if (n !== expected)
          throw new Error(`${client.name} listed ${n} keys, expected ${expected}`);
      },
      { total: ctx.scale(100, 4), concurrency: 1, warmup: ctx.scale(10, 1) },
    );
  },
};
