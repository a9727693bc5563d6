/**
 * One client keeping leases alive in a process of its own, for the leases row:
 *
 *   node bench/lib/keep-alive-process.ts <client> <endpoints> <leases> <ttlSeconds> <windows> <windowMs>
 *
 * grants the leases with keep-alive on a fresh client (`ours`, `etcd3`, ...), then measures the
 * process's CPU over `windows` consecutive windows and prints one JSON line per window,
 * `{"cpuUs": ..., "wallMs": ...}`. The row takes the last: the first windows after the grants also
 * hold the compiler's work on the renewal path and the collection of the grants' garbage, and in
 * the benchmark's own process the collection of every earlier row's heap.
 */

import type { ClientName } from "./bench-client.ts";
import { createClients } from "./clients.ts";
import { cpuNow, sleep } from "./measure.ts";
import { settledMemory } from "./settled-memory.ts";

const [name, endpoints, leases, ttlSeconds, windows, windowMs] = process.argv.slice(2);
const [client] = createClients((endpoints ?? "").split(","), [name as ClientName]);
if (!client?.keepLeases) throw new Error(`client ${name} cannot keep leases`);
try {
  const release = await client.keepLeases(Number(leases), Number(ttlSeconds));
  await settledMemory();
  for (let w = 0; w < Number(windows); w++) {
    const cpu0 = cpuNow();
    const t0 = performance.now();
    await sleep(Number(windowMs));
    const wallMs = performance.now() - t0;
    process.stdout.write(`${JSON.stringify({ cpuUs: cpuNow() - cpu0, wallMs })}\n`);
  }
  await release();
} finally {
  await client.close();
}
