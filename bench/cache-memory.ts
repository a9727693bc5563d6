/**
 * Memory per cached key: fills etcd with N keys, opens `etcd.cache()` on them, and reports the
 * heap and external memory the cache holds per key, with and without the key and value bytes.
 *
 *   ETCD_BIN=... node --expose-gc bench/cache-memory.ts [keys=100000] [valueBytes=100]
 *
 * Keys are 20 bytes ("mem/key/" and a 12-digit number). The figure in WatchCache's docs comes
 * from this script.
 */
import { Etcd, op, prefix } from "../src/index.ts";
import { startServer } from "./lib/server.ts";

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with node --expose-gc");
const [keysArg = "100000", valueArg = "100"] = process.argv.slice(2);
const count = Number(keysArg);
const valueBytes = Number(valueArg);
const keyBytes = 20;

const server = await startServer();
try {
  const etcd = new Etcd({ endpoints: server.endpoints });
  const value = "v".repeat(valueBytes);
  const name = (i: number) => `mem/key/${String(i).padStart(12, "0")}`;
  const batches: Promise<unknown>[] = [];
  for (let i = 0; i < count; i += 100) {
    const ops = [];
    for (let j = i; j < Math.min(count, i + 100); j++) ops.push(op.put(name(j), value));
    batches.push(etcd.txn({ success: ops }));
    if (batches.length >= 20) await Promise.all(batches.splice(0));
  }
  await Promise.all(batches);
  // Warm the client (connections, decoders) with a listing that is then dropped.
  await etcd.range(prefix("mem/"), { limit: 1000 });

  const used = () => {
    for (let i = 0; i < 3; i++) gc();
    const m = process.memoryUsage();
    return { heap: m.heapUsed, external: m.external + m.arrayBuffers };
  };
  const before = used();
  const cache = await etcd.cache(prefix("mem/"));
  const after = used();
  if (cache.size !== count) throw new Error(`cached ${cache.size} of ${count} keys`);
  const heap = (after.heap - before.heap) / count;
  const external = (after.external - before.external) / count;
  const total = heap + external;
  const payload = keyBytes + valueBytes;
  console.log(
    JSON.stringify({
      etcd: server.version,
      node: process.version,
      keys: count,
      keyBytes,
      valueBytes,
      heapBytesPerKey: Math.round(heap),
      externalBytesPerKey: Math.round(external),
      totalBytesPerKey: Math.round(total),
      overheadBytesPerKey: Math.round(total - payload),
      totalMB:
        Math.round(((after.heap + after.external - before.heap - before.external) / 1e6) * 10) / 10,
    }),
  );
  await cache.close();
  await etcd.close();
} finally {
  await server.stop();
}
