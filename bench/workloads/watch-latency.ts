/**
 * Latency from a put to its event at the watchers: 1 and 1,000 watchers of one key on each
 * client, both clients open at once, each on a key of its own. The bench's own client puts the
 * keys one at a time, each once every watcher has the previous event: 300 unmeasured puts per
 * client, then thirty turns of slices, one slice per client per turn (300 puts with 1 watcher, 30
 * with 1,000), the clients' order reversed every other turn, so that etcd's pauses and the key's
 * growing history fall on both clients alike. A turn takes a quarter of a second or so, and the
 * machine's pace drifts over seconds: thirty turns average more of it than ten did (per-turn p50
 * of one client over thirty turns: 0.23-0.64 ms, in stretches). Each row has an etcd of its own,
 * which the other rows' writes do not grow. Latency is from just before the put is issued to
 * the event's arrival at each watcher; p50 and p99 over every watcher and measured put; CPU is
 * the process's during the client's own slices, the writer's included.
 */
import type { ClientName } from "../lib/bench-client.ts";
import { pairedLatency } from "../lib/latency-pairs.ts";
import { percentile, type Sample } from "../lib/measure.ts";
import type { Workload } from "../lib/workload.ts";

const TURNS = 30;
const WARM_UP_PUTS = 300;

function latency(watchers: number, id: string): Workload {
  return {
    id,
    title: `watch: put-to-event latency, ${watchers === 1 ? "1 watcher" : "1,000 watchers"}`,
    headline: { unit: "ms p50", higherIsBetter: false, value: (s) => s.p50Ms ?? Number.NaN },
    clients: ["ours", "etcd3"],
    ownServer: true,
    async runTogether(clients, ctx) {
      // p99 of 1 watcher needs more puts than of 1,000 (one event per put, not 1,000).
      const puts = ctx.scale(watchers === 1 ? 300 : 30, 10);
      const { sides } = await pairedLatency(clients, ctx.admin, {
        watchers: ctx.scale(watchers, Math.min(watchers, 50)),
        puts,
        turns: ctx.scale(TURNS, 2),
        warmUp: ctx.scale(WARM_UP_PUTS, 10),
        keyPrefix: `${ctx.prefix}latency/${id}/${Date.now().toString(36)}/`,
      });
      const samples: Partial<Record<ClientName, Sample>> = {};
      for (const side of sides) {
        samples[side.name] = {
          ops: side.puts,
          wallMs: side.wallMs,
          opsPerSec: (side.puts * 1000) / side.wallMs,
          p50Ms: percentile(side.latencies, 0.5),
          p99Ms: percentile(side.latencies, 0.99),
          cpuUsPerOp: side.cpuUs / side.puts,
          extra: { events: side.latencies.length },
        };
      }
      return samples;
    },
  };
}

export const watchLatency1 = latency(1, "watch-latency-1");
export const watchLatency1k = latency(1000, "watch-latency-1k");
