/**
 * Latency from a put to its event at the watchers: 1 and 1,000 watchers of one key on the
 * measured client; the same writer (the bench's own client) puts the key 3,000 times (1 watcher)
 * or 300 times (1,000 watchers), one at a time, each once every watcher has the previous event,
 * after 100 unmeasured puts. Latency is from just before the put is issued to the event's
 * arrival at each watcher; p50 and p99 over every watcher and put.
 */
import { closedLoop, percentile } from "../lib/measure.ts";
import { timedPut } from "../lib/timed-put.ts";
import type { Workload } from "../lib/workload.ts";

function latency(watchers: number, id: string): Workload {
  return {
    id,
    title: `watch: put-to-event latency, ${watchers === 1 ? "1 watcher" : "1,000 watchers"}`,
    headline: { unit: "ms p50", higherIsBetter: false, value: (s) => s.p50Ms ?? Number.NaN },
    clients: ["ours", "etcd3"],
    async run(client, ctx) {
      if (!client.watchersOnKey) return undefined;
      const key = `${ctx.prefix}latency/${id}/${client.name}`;
      // p99 of 1 watcher needs more puts than of 1,000 (one event per put, not 1,000).
      const puts = ctx.scale(watchers === 1 ? 3_000 : 300, 20);
      const n = ctx.scale(watchers, Math.min(watchers, 50));
      const sentAt = new Map<number, number>();
      const latencies: number[] = [];
      let measuring = false;
      const crowd = await client.watchersOnKey(key, n, (_i, revision) => {
        const at = sentAt.get(revision);
        if (measuring && at !== undefined) latencies.push(performance.now() - at);
      });
      try {
        const once = async () => {
          const put = () => ctx.admin.put(key, "x");
          nextRevision = (await timedPut(put, nextRevision, sentAt, crowd)) + 1;
        };
        let nextRevision = Number((await ctx.admin.put(key, "warm")).revision) + 1;
        for (let i = 0; i < 100; i++) await once();
        measuring = true;
        const sample = await closedLoop(once, { total: puts, concurrency: 1, warmup: 0 });
        const sorted = Float64Array.from(latencies).sort();
        return {
          ...sample,
          p50Ms: percentile(sorted, 0.5),
          p99Ms: percentile(sorted, 0.99),
          extra: { events: sorted.length },
        };
      } finally {
        await crowd.close();
      }
    },
  };
}

export const watchLatency1 = latency(1, "watch-latency-1");
export const watchLatency1k = latency(1000, "watch-latency-1k");
