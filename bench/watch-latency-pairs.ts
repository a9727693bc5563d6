/**
 * Put-to-event latency of our client and etcd3 side by side, outside the full benchmark: `node
 * bench/watch-latency-pairs.ts [watchers] [puts] [pairs]` opens `watchers` watchers of one key
 * on each client at once (each client its own key) against a fresh etcd (ETCD_BIN), then runs
 * `pairs` pairs of slices, `puts` puts each, one put at a time: a slice for one client, then one
 * for the other (ours first in even pairs, etcd3 first in odd ones). Latency is from just before
 * the put is issued to the event's arrival at each watcher. Prints p50 and p99 over every
 * sample of each client, and the median over pairs of each percentile's difference.
 *
 * The benchmark's watch-latency rows measure the same way (`bench/lib/latency-pairs.ts`), with
 * thirty turns per round; this script runs as many as asked, on an etcd of its own, and prints
 * the median difference between the clients over the turns.
 *
 *   ETCD_BIN=/usr/bin/etcd node bench/watch-latency-pairs.ts 1 300 20
 */
import { Etcd } from "../src/index.ts";
import { createClients } from "./lib/clients.ts";
import { pairedLatency } from "./lib/latency-pairs.ts";
import { median, percentile } from "./lib/measure.ts";
import { startServer } from "./lib/server.ts";

const watchers = Number(process.argv[2] ?? 1);
const puts = Number(process.argv[3] ?? 300);
const pairs = Number(process.argv[4] ?? 20);

const server = await startServer();
const writer = new Etcd({ endpoints: server.endpoints });
const clients = createClients(server.endpoints, ["ours", "etcd3"]);
try {
  const { sides, turns } = await pairedLatency(clients, writer, {
    watchers,
    puts,
    turns: pairs,
    warmUp: 100,
    keyPrefix: "latency-pairs/",
  });
  console.log(
    `${watchers} watcher(s) per client, ${pairs} pairs of ${puts} puts, one at a time (etcd ${server.version}):`,
  );
  for (const side of sides) {
    console.log(
      `  ${side.name.padEnd(5)} p50 ${percentile(side.latencies, 0.5).toFixed(3)} ms  p99 ${percentile(side.latencies, 0.99).toFixed(3)} ms  (${side.latencies.length} events)`,
    );
  }
  const difference = (of: (turn: (typeof turns)[number]) => number[]) =>
    median(turns.map((turn) => (of(turn)[0] as number) - (of(turn)[1] as number))).toFixed(3);
  console.log(
    `  ours - etcd3, median over pairs: p50 ${difference((t) => t.p50)} ms, p99 ${difference((t) => t.p99)} ms`,
  );
} finally {
  for (const client of clients) await client.close?.();
  await writer.close();
  await server.stop();
}
