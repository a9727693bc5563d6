/**
 * CPU time the host took from this virtual machine: the "steal" column of Linux's /proc/stat,
 * time a virtual CPU was ready to run and the hypervisor ran something else. On the 2-core
 * machine of the README's table it is ~0 for minutes, then 10-30 % for tens of seconds, and
 * while it lasts every client's latency rises with it (per-turn p50 of the 1-watcher latency row
 * followed it with a correlation of 0.65-0.69 in such a stretch, ~0.1-0.3 outside one).
 */
import { readFileSync } from "node:fs";

/** Jiffies since boot, summed over the CPUs: stolen and all. */
export interface CpuClock {
  steal: number;
  total: number;
}

/** Now, or undefined where /proc/stat cannot be read (not Linux). */
export function readCpuClock(): CpuClock | undefined {
  try {
    const line = readFileSync("/proc/stat", "utf8").slice(0, 256).split("\n", 1)[0] ?? "";
    // cpu user nice system idle iowait irq softirq steal [guest guest_nice: inside user/nice]
    const fields = line.trim().split(/\s+/).slice(1, 9).map(Number);
    if (fields.length < 8 || fields.some((n) => !Number.isFinite(n))) return undefined;
    return { steal: fields[7] as number, total: fields.reduce((a, b) => a + b, 0) };
  } catch {
    return undefined;
  }
}

/**
 * The share (0-1) of the machine's CPU time the host took between two readings; undefined
 * without readings or when no time passed.
 *
 * @example
 * const before = readCpuClock();
 * await work();
 * const stolen = stolenShare(before, readCpuClock());
 */
export function stolenShare(from?: CpuClock, to?: CpuClock): number | undefined {
  if (!from || !to || to.total <= from.total) return undefined;
  return (to.steal - from.steal) / (to.total - from.total);
}
