/**
 * The 10,000-key range against the node:http2 floor, outside the full benchmark:
 * `node bench/range-ratio.ts [rounds]` starts a fresh etcd (ETCD_BIN), writes 10,000 keys of 256
 * bytes, then in each round runs 40 ranges on this client and 40 on the floor, alternating which
 * goes first, and prints ops/s and client CPU µs per range of each, and the ratio of the medians.
 */
import { Etcd, prefix } from "../src/index.ts";
import { h2FloorClient } from "./lib/h2-floor.ts";
import { closedLoop, median } from "./lib/measure.ts";
import { startServer } from "./lib/server.ts";

const rounds = Number(process.argv[2] ?? 3);
const KEYS = 10_000;
const base = "range-ratio/";
const server = await startServer();
const etcd = new Etcd({ endpoints: server.endpoints });
const floor = h2FloorClient(server.endpoints[0] as string);
try {
  const value = "r".repeat(256);
  for (let i = 0; i < KEYS; i += 200) {
    await Promise.all(
      Array.from({ length: 200 }, (_, j) =>
        etcd.put(`${base}${String(i + j).padStart(6, "0")}`, value),
      ),
    );
  }
  const runs = {
    ours: async () => {
      if ((await etcd.range(prefix(base))).kvs.length !== KEYS) throw new Error("short range");
    },
    floor: async () => {
      if ((await floor.rangePrefix?.(base)) !== KEYS) throw new Error("short range");
    },
  };
  const results: Record<string, { ops: number[]; cpu: number[] }> = {
    ours: { ops: [], cpu: [] },
    floor: { ops: [], cpu: [] },
  };
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? (["ours", "floor"] as const) : (["floor", "ours"] as const);
    for (const name of order) {
      const sample = await closedLoop(runs[name], { total: 40, concurrency: 1, warmup: 5 });
      results[name]?.ops.push(sample.opsPerSec);
      results[name]?.cpu.push(sample.cpuUsPerOp);
      process.stdout.write(
        `round ${round + 1} ${name.padEnd(5)} ${sample.opsPerSec.toFixed(1)} ops/s, ${sample.cpuUsPerOp.toFixed(0)} µs CPU/range\n`,
      );
    }
  }
  const ours = results.ours as { ops: number[]; cpu: number[] };
  const flr = results.floor as { ops: number[]; cpu: number[] };
  process.stdout.write(
    `median: ours ${median(ours.ops).toFixed(1)} ops/s ${median(ours.cpu).toFixed(0)} µs, floor ${median(flr.ops).toFixed(1)} ops/s ${median(flr.cpu).toFixed(0)} µs; ratio ${(median(ours.ops) / median(flr.ops)).toFixed(2)}x\n`,
  );
} finally {
  await floor.close();
  await etcd.close();
  await server.stop();
}
