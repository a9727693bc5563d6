/**
 * Put-to-event latency of our client and etcd3 side by side, outside the full benchmark: `node
 * bench/watch-latency-pairs.ts [watchers] [puts] [pairs]` opens `watchers` watchers of one key
 * on each client at once (each client its own key) against a fresh etcd (ETCD_BIN), then runs
 * `pairs` pairs of slices, `puts` puts each, one put at a time: a slice for one client, then one
 * for the other (ours first in even pairs, etcd3 first in odd ones). Latency is from just before
 * the put is issued to the event's arrival at each watcher. Prints p50 and p99 over every
 * sample of each client, and the median over pairs of each percentile's difference.
 *
 * The benchmark's watch-latency rows measure each client in its own stretch of time, so etcd's
 * own pauses and the process's warm-up land on whichever client runs then: a round's p99 moves
 * by 2x between rounds of the same client. Here both clients see the same stretches of time.
 *
 *   ETCD_BIN=/usr/bin/etcd node bench/watch-latency-pairs.ts 1 300 20
 */
import { Etcd } from "../src/index.ts";
import { createClients } from "./lib/clients.ts";
import { median, percentile } from "./lib/measure.ts";
import { startServer } from "./lib/server.ts";
import { timedPut } from "./lib/timed-put.ts";

const watchers = Number(process.argv[2] ?? 1);
const puts = Number(process.argv[3] ?? 300);
const pairs = Number(process.argv[4] ?? 20);
const WARM_UP_PUTS = 100;

const server = await startServer();
const writer = new Etcd({ endpoints: server.endpoints });
const names = ["ours", "etcd3"] as const;
const clients = createClients(server.endpoints, [...names]);
/** The store's revision after the last put: one writer, one put at a time, so the next is +1. */
let revision = 0;
try {
  const sides = await Promise.all(
    names.map(async (name, i) => {
      const client = clients[i];
      if (!client?.watchersOnKey) throw new Error(`${name} has no watchersOnKey`);
      const key = `latency-pairs/${name}`;
      const sentAt = new Map<number, number>();
      let into: number[] | undefined;
      const crowd = await client.watchersOnKey(key, watchers, (_i, eventRevision) => {
        const at = sentAt.get(eventRevision);
        if (into !== undefined && at !== undefined) into.push(performance.now() - at);
      });
      const put = () => writer.put(key, "x");
      const once = async () => {
        revision = await timedPut(put, revision + 1, sentAt, crowd);
      };
      const slice = async (samples: number[] | undefined, count: number) => {
        into = samples;
        for (let n = 0; n < count; n++) await once();
        into = undefined;
      };
      return { name, crowd, slice, all: [] as number[] };
    }),
  );
  for (const side of sides) await side.slice(undefined, WARM_UP_PUTS);
  const differences = { p50: [] as number[], p99: [] as number[] };
  for (let pair = 0; pair < pairs; pair++) {
    const order = pair % 2 === 0 ? sides : [...sides].reverse();
    const of: Record<string, number[]> = {};
    for (const side of order) {
      const samples: number[] = [];
      await side.slice(samples, puts);
      side.all.push(...samples);
      of[side.name] = samples.sort((a, b) => a - b);
    }
    const [ours, etcd3] = [of.ours ?? [], of.etcd3 ?? []];
    differences.p50.push(percentile(ours, 0.5) - percentile(etcd3, 0.5));
    differences.p99.push(percentile(ours, 0.99) - percentile(etcd3, 0.99));
  }
  console.log(
    `${watchers} watcher(s) per client, ${pairs} pairs of ${puts} puts, one at a time (etcd ${server.version}):`,
  );
  for (const side of sides) {
    const sorted = Float64Array.from(side.all).sort();
    console.log(
      `  ${side.name.padEnd(5)} p50 ${percentile(sorted, 0.5).toFixed(3)} ms  p99 ${percentile(sorted, 0.99).toFixed(3)} ms  (${sorted.length} events)`,
    );
  }
  console.log(
    `  ours - etcd3, median over pairs: p50 ${median(differences.p50).toFixed(3)} ms, p99 ${median(differences.p99).toFixed(3)} ms`,
  );
  for (const side of sides) await side.crowd.close();
} finally {
  for (const client of clients) await client.close?.();
  await writer.close();
  await server.stop();
}
