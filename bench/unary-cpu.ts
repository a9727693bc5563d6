/**
 * One call at a time against the node:http2 floor, outside the full benchmark: `node
 * bench/unary-cpu.ts [calls] [pairs]` runs `pairs` pairs of (our client, the floor) for get and
 * for put, each side in a process of its own with a fresh etcd (ETCD_BIN), `calls` awaited calls
 * after a warm-up, and prints ops/s and client CPU µs per call of each, the pair's ratio and
 * CPU difference, and their medians. The full benchmark runs every client in one process, where
 * the others' garbage and the rotation move these rows by tens of percent; here only the client
 * measured runs. Run a side alone under `node --cpu-prof`: `node bench/unary-cpu.ts get ours`.
 *
 * `node bench/unary-cpu.ts --interleaved [calls] [pairs] [in flight]` runs both clients in one
 * process on one etcd instead, alternating slices of `calls` calls, `in flight` at a time (1
 * unless given; ours, floor, then floor, ours in the next pair, so that neither side always
 * follows the other's garbage), and prints the median of the pairs' differences: drift of the
 * machine (load, frequency, etcd's own compactions) moves both halves of a pair alike, where
 * separate processes see it apart.
 */
import { spawnSync } from "node:child_process";
import { Etcd } from "../src/index.ts";
import { h2FloorClient } from "./lib/h2-floor.ts";
import { cpuNow, median } from "./lib/measure.ts";
import { startServer } from "./lib/server.ts";

const WARM_UP = 2_000;

async function measureSide(op: "get" | "put", side: "ours" | "floor", calls: number) {
  const server = await startServer();
  const ours = new Etcd({ endpoints: server.endpoints });
  const floor = h2FloorClient(server.endpoints[0] as string);
  try {
    await ours.put("k", "v");
    const call =
      side === "ours"
        ? op === "get"
          ? () => ours.get("k")
          : () => ours.put("k", "v")
        : op === "get"
          ? () => floor.get?.("k")
          : () => floor.put?.("k", "v");
    for (let i = 0; i < WARM_UP; i++) await call();
    const cpu0 = cpuNow();
    const t0 = performance.now();
    for (let i = 0; i < calls; i++) await call();
    const seconds = (performance.now() - t0) / 1000;
    return { opsPerSec: calls / seconds, cpuUs: (cpuNow() - cpu0) / calls };
  } finally {
    await ours.close();
    await floor.close?.();
    await server.stop();
  }
}

async function interleaved(calls: number, pairs: number, inFlight: number) {
  const server = await startServer();
  const ours = new Etcd({ endpoints: server.endpoints });
  const floor = h2FloorClient(server.endpoints[0] as string);
  const slice = async (call: () => unknown) => {
    const cpu0 = cpuNow();
    const t0 = performance.now();
    let started = 0;
    const worker = async () => {
      while (started < calls) {
        started++;
        await call();
      }
    };
    await Promise.all(Array.from({ length: inFlight }, worker));
    return {
      opsPerSec: calls / ((performance.now() - t0) / 1000),
      cpuUs: (cpuNow() - cpu0) / calls,
    };
  };
  try {
    await ours.put("k", "v");
    for (const op of ["get", "put"] as const) {
      const sides = {
        ours: op === "get" ? () => ours.get("k") : () => ours.put("k", "v"),
        floor: op === "get" ? () => floor.get?.("k") : () => floor.put?.("k", "v"),
      };
      for (let i = 0; i < WARM_UP; i++) {
        await sides.ours();
        await sides.floor();
      }
      const ratios: number[] = [];
      const above: number[] = [];
      for (let i = 0; i < pairs; i++) {
        const first = i % 2 === 0 ? "ours" : "floor";
        const a = await slice(sides[first]);
        const b = await slice(sides[first === "ours" ? "floor" : "ours"]);
        const [o, f] = first === "ours" ? [a, b] : [b, a];
        ratios.push(o.opsPerSec / f.opsPerSec);
        above.push(o.cpuUs - f.cpuUs);
      }
      const sorted = [...ratios].sort((x, y) => x - y);
      console.log(
        `${op}, ${inFlight} in flight, ${pairs} interleaved pairs of ${calls} calls: median ${median(ratios).toFixed(2)}x the floor's ops/s (pairs ${sorted[0]?.toFixed(2)}-${sorted.at(-1)?.toFixed(2)}), ${median(above).toFixed(1)} µs CPU per call above it`,
      );
    }
  } finally {
    await ours.close();
    await floor.close?.();
    await server.stop();
  }
}

const [first, second] = process.argv.slice(2);
if (first === "--interleaved") {
  await interleaved(
    Number(second ?? 2_000),
    Number(process.argv[4] ?? 21),
    Number(process.argv[5] ?? 1),
  );
} else if (first === "get" || first === "put") {
  const side = second === "floor" ? "floor" : "ours";
  const result = await measureSide(first, side, Number(process.argv[4] ?? 20_000));
  console.log(JSON.stringify(result));
} else {
  const calls = Number(first ?? 20_000);
  const pairs = Number(second ?? 3);
  const side = (op: string, name: string) => {
    const run = spawnSync(process.execPath, [import.meta.filename, op, name, String(calls)], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
    });
    if (run.status !== 0) throw new Error(`${op} ${name} exited ${run.status}`);
    return JSON.parse(run.stdout.trim().split("\n").at(-1) as string) as {
      opsPerSec: number;
      cpuUs: number;
    };
  };
  for (const op of ["get", "put"]) {
    const ratios: number[] = [];
    const above: number[] = [];
    for (let i = 1; i <= pairs; i++) {
      const ours = side(op, "ours");
      const floor = side(op, "floor");
      ratios.push(ours.opsPerSec / floor.opsPerSec);
      above.push(ours.cpuUs - floor.cpuUs);
      console.log(
        `${op} pair ${i}: ours ${ours.opsPerSec.toFixed(0)} ops/s ${ours.cpuUs.toFixed(1)} µs, floor ${floor.opsPerSec.toFixed(0)} ops/s ${floor.cpuUs.toFixed(1)} µs: ${ratios.at(-1)?.toFixed(2)}x, ${above.at(-1)?.toFixed(1)} µs above`,
      );
    }
    console.log(
      `${op}, 1 in flight: median ${median(ratios).toFixed(2)}x the floor's ops/s, ${median(above).toFixed(1)} µs CPU per call above it`,
    );
  }
}
