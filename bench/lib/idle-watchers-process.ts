/**
 * One client's idle watchers in a process of its own, for the idle-watcher memory row:
 *
 *   node bench/lib/idle-watchers-process.ts <client> <endpoints> <keyPrefix> <warm> <watchers>
 *
 * opens `warm` watchers on distinct keys (the watch stream and the compiler's work on their code
 * paths, costs that are not per watcher), then `watchers` more, and prints one JSON line,
 * `{"bytesPerWatcher": ..., "wallMs": ...}`: the growth of the settled heap plus external memory
 * over the second batch, divided by its size, and the time that batch took to be created.
 */

import type { ClientName } from "./bench-client.ts";
import { createClients } from "./clients.ts";
import { settledMemory } from "./settled-memory.ts";

const [name, endpoints, keyPrefix, warm, watchers] = process.argv.slice(2);
const [client] = createClients((endpoints ?? "").split(","), [name as ClientName]);
if (!client?.idleWatchers) throw new Error(`client ${name} cannot open idle watchers`);
try {
  const n = Number(watchers);
  const closeWarm = await client.idleWatchers(`${keyPrefix}warm/`, Number(warm));
  const before = await settledMemory();
  const t0 = performance.now();
  const close = await client.idleWatchers(keyPrefix ?? "", n);
  const wallMs = performance.now() - t0;
  const after = await settledMemory();
  process.stdout.write(`${JSON.stringify({ bytesPerWatcher: (after - before) / n, wallMs })}\n`);
  await close();
  await closeWarm();
} finally {
  await client.close();
}
