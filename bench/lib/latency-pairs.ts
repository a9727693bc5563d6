/**
 * Put-to-event latency of several clients measured in the same stretches of time: each client
 * watches a key of its own with `watchers` watchers, one writer puts the keys one at a time, and
 * the puts come in slices, one slice per client in turn, the clients' order reversed every other
 * turn. Etcd's own pauses, the growth of the store and the machine's drift then fall on every
 * client alike, where measuring one client after the other put them on whichever ran then.
 */
import type { Etcd } from "../../src/index.ts";
import type { BenchClient, ClientName } from "./bench-client.ts";
import { cpuNow, percentile } from "./measure.ts";
import { timedPut } from "./timed-put.ts";

/** What one client measured over all its slices. */
export interface LatencySide {
  name: ClientName;
  /** Every watcher's latency of every measured put, ms, sorted. */
  latencies: Float64Array;
  /** Measured puts. */
  puts: number;
  /** Wall time of this client's slices, ms. */
  wallMs: number;
  /** Process CPU during this client's slices, µs. */
  cpuUs: number;
}

/** The sides, and per turn of slices the p50 and p99 of each client (ms), in `clients` order. */
export interface PairedLatency {
  sides: LatencySide[];
  turns: { p50: number[]; p99: number[] }[];
}

/** How much to measure. */
export interface LatencyPlan {
  /** Watchers per client, all on the client's key. */
  watchers: number;
  /** Measured puts per client per slice. */
  puts: number;
  /** Turns of slices (every client measures one slice per turn). */
  turns: number;
  /** Unmeasured puts per client first. */
  warmUp: number;
  /** Prefix of the clients' keys. */
  keyPrefix: string;
}

/**
 * Measures put-to-event latency of `clients` in alternating slices, `writer` making every put.
 *
 * @example
 * const { sides } = await pairedLatency([ours, etcd3], admin, { watchers: 1, puts: 300, turns: 10, warmUp: 100, keyPrefix: "lat/" });
 */
export async function pairedLatency(
  clients: BenchClient[],
  writer: Etcd,
  plan: LatencyPlan,
): Promise<PairedLatency> {
  /** One writer, one put at a time: the next put's revision is the last one's plus one. */
  let revision = Number((await writer.put(`${plan.keyPrefix}start`, "")).revision);
  const opened: { close(): Promise<void> }[] = [];
  try {
    const sides = await Promise.all(
      clients.map(async (client) => {
        if (!client.watchersOnKey) throw new Error(`${client.name} cannot watch`);
        const key = `${plan.keyPrefix}${client.name}`;
        const sentAt = new Map<number, number>();
        let into: number[] | undefined;
        const crowd = await client.watchersOnKey(key, plan.watchers, (_i, eventRevision) => {
          const at = sentAt.get(eventRevision);
          if (into !== undefined && at !== undefined) into.push(performance.now() - at);
        });
        opened.push(crowd);
        const put = () => writer.put(key, "x");
        const side: LatencySide & { all: number[] } = {
          name: client.name,
          latencies: new Float64Array(0),
          puts: 0,
          wallMs: 0,
          cpuUs: 0,
          all: [],
        };
        const slice = async (samples: number[] | undefined, count: number) => {
          into = samples;
          const cpu0 = cpuNow();
          const t0 = performance.now();
          for (let n = 0; n < count; n++) {
            revision = await timedPut(put, revision + 1, sentAt, crowd);
          }
          if (samples) {
            side.wallMs += performance.now() - t0;
            side.cpuUs += cpuNow() - cpu0;
            side.puts += count;
          }
          into = undefined;
        };
        return { side, slice };
      }),
    );
    for (const { slice } of sides) await slice(undefined, plan.warmUp);
    const turns: PairedLatency["turns"] = [];
    for (let turn = 0; turn < plan.turns; turn++) {
      const order = turn % 2 === 0 ? sides : [...sides].reverse();
      const of = new Map<ClientName, number[]>();
      for (const { side, slice } of order) {
        const samples: number[] = [];
        await slice(samples, plan.puts);
        side.all.push(...samples);
        samples.sort((a, b) => a - b);
        of.set(side.name, samples);
      }
      const at = (q: number) => sides.map(({ side }) => percentile(of.get(side.name) ?? [], q));
      turns.push({ p50: at(0.5), p99: at(0.99) });
    }
    return {
      sides: sides.map(({ side: { all, ...side } }) => ({
        ...side,
        latencies: Float64Array.from(all).sort(),
      })),
      turns,
    };
  } finally {
    await Promise.all(opened.map((crowd) => crowd.close()));
  }
}
