/**
 * A settled heap for the benchmark: garbage collected and its finalizers run, so that a row
 * measures its own work rather than what earlier rows left behind.
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as (options?: { type: "major" | "minor" }) => void;

/**
 * A young-generation collection now (a scavenge: it costs what survives, not the whole heap), so
 * that the short-lived garbage of the work just done is collected on its own CPU time rather than
 * during whatever runs next.
 *
 * @example
 * await replay();
 * collectYoungGarbage();
 */
export function collectYoungGarbage(): void {
  gc({ type: "minor" });
}

/**
 * Heap and external bytes once garbage is collected and its finalizers ran: collect, let the
 * event loop turn (external memory of collected buffers is released in callbacks), collect
 * again. `external` already includes `arrayBuffers`, so that is not added again.
 *
 * @example
 * const before = await settledMemory();
 */
export async function settledMemory(): Promise<number> {
  gc();
  await new Promise((resolve) => setImmediate(resolve));
  gc();
  await new Promise((resolve) => setImmediate(resolve));
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}
