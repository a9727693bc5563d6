/**
 * Client CPU per watch event, outside the full benchmark: `node bench/watch-cpu.ts [events]
 * [runs]` starts a fresh etcd (ETCD_BIN), stores `events` puts (256-byte values, 100 per
 * revision, as the watch-events row does), then `runs` times replays them to one watcher and
 * prints events/s and CPU µs per event of each run. Run it under `node --cpu-prof` to see where
 * that CPU goes.
 */
import { Etcd, op, prefix } from "../src/index.ts";
import { cpuNow, median } from "./lib/measure.ts";
import { startServer } from "./lib/server.ts";

const events = Number(process.argv[2] ?? 100_000);
const runs = Number(process.argv[3] ?? 5);
const PER_REVISION = 100;
const VALUE = "w".repeat(256);

const server = await startServer();
const etcd = new Etcd({ endpoints: server.endpoints });
try {
  let firstRevision = 0n;
  for (let i = 0; i < events; i += PER_REVISION) {
    const count = Math.min(PER_REVISION, events - i);
    const { revision } = await etcd.txn({
      success: Array.from({ length: count }, (_, j) => op.put(`w/${j}`, VALUE)),
    });
    if (firstRevision === 0n) firstRevision = revision;
  }
  const perEvent: number[] = [];
  for (let r = 0; r < runs; r++) {
    const cpu0 = cpuNow();
    const t0 = performance.now();
    let seen = 0;
    for await (const batch of etcd.watch(prefix("w/"), { startRevision: firstRevision })) {
      seen += batch.events.length;
      if (seen >= events) break;
    }
    const wallMs = performance.now() - t0;
    const cpu = cpuNow() - cpu0;
    perEvent.push(cpu / events);
    process.stdout.write(
      `run ${r + 1}: ${Math.round((events * 1000) / wallMs)} events/s, ${(cpu / events).toFixed(2)} µs/event\n`,
    );
  }
  process.stdout.write(`median ${median(perEvent).toFixed(2)} µs/event\n`);
} finally {
  await etcd.close();
  await server.stop();
}
