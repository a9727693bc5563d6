/**
 * Client CPU per keep-alive renewal, outside the full benchmark: `node bench/keepalive-cpu.ts
 * [leases] [windows]` starts a fresh etcd (ETCD_BIN), keeps `leases` leases of TTL 6 s alive
 * (renewed every 2 s) on one client and prints the CPU µs per renewal of each 12 s window.
 * Run it under `node --cpu-prof` to see where that CPU goes.
 */
import { Etcd } from "../src/index.ts";
import { cpuNow, median, sleep } from "./lib/measure.ts";
import { startServer } from "./lib/server.ts";

const leases = Number(process.argv[2] ?? 1_000);
const windows = Number(process.argv[3] ?? 3);
const TTL_SECONDS = 6;
const WINDOW_MS = 12_000;

const server = await startServer();
const etcd = new Etcd({ endpoints: server.endpoints });
try {
  const held = await Promise.all(
    Array.from({ length: leases }, () => etcd.lease.grant(TTL_SECONDS, { keepAlive: true })),
  );
  await sleep(1_000);
  const perRenewal: number[] = [];
  for (let w = 0; w < windows; w++) {
    const renewals0 = etcd.lease.keepAliveStats().renewals;
    const cpu0 = cpuNow();
    await sleep(WINDOW_MS);
    const cpu = cpuNow() - cpu0;
    const renewals = etcd.lease.keepAliveStats().renewals - renewals0;
    perRenewal.push(cpu / renewals);
    process.stdout.write(
      `window ${w + 1}: ${renewals} renewals, ${(cpu / 1000).toFixed(0)} ms CPU, ${(cpu / renewals).toFixed(1)} µs/renewal\n`,
    );
  }
  process.stdout.write(`median ${median(perRenewal).toFixed(1)} µs/renewal\n`);
  const lost = held.filter((lease) => lease.state !== "alive").length;
  if (lost > 0) throw new Error(`${lost} leases not alive`);
  await Promise.all(held.map((lease) => lease.revoke()));
} finally {
  await etcd.close();
  await server.stop();
}
