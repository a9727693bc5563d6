/**
 * Timing and statistics for the benchmark: a closed-loop driver that keeps `concurrency`
 * operations in flight, per-operation latency, and client CPU from `process.cpuUsage()`.
 */

/** What one run of one workload on one client measured. */
export interface Sample {
  /** Operations completed (or events, for the watch row). */
  ops: number;
  /** Wall time of the run, ms. */
  wallMs: number;
  /** Operations per second. */
  opsPerSec: number;
  /** Latency percentiles in ms (undefined for rows without per-op latency). */
  p50Ms?: number;
  p99Ms?: number;
  /** Client CPU (user + system) per operation, µs. */
  cpuUsPerOp: number;
  /** Anything else a row reports (bytes per watcher, CPU per second...). */
  extra?: Record<string, number>;
}

/** CPU time of this process so far, in µs. */
export function cpuNow(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

/**
 * Runs `op` `total` times with `concurrency` in flight and measures throughput, latency and
 * client CPU. The first `warmup` operations are run before measuring.
 */
export async function closedLoop(
  op: (i: number) => Promise<unknown>,
  options: { total: number; concurrency: number; warmup?: number },
): Promise<Sample> {
  const { total, concurrency } = options;
  const warmup = options.warmup ?? Math.min(2000, Math.ceil(total / 5));
  await drive(op, warmup, concurrency, undefined);
  const latencies = new Float64Array(total);
  const cpu0 = cpuNow();
  const t0 = performance.now();
  await drive(op, total, concurrency, latencies);
  const wallMs = performance.now() - t0;
  const cpu = cpuNow() - cpu0;
  latencies.sort();
  return {
    ops: total,
    wallMs,
    opsPerSec: (total * 1000) / wallMs,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    cpuUsPerOp: cpu / total,
  };
}

async function drive(
  op: (i: number) => Promise<unknown>,
  total: number,
  concurrency: number,
  latencies: Float64Array | undefined,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < total) {
      const i = next++;
      const start = performance.now();
      await op(i);
      if (latencies) latencies[i] = performance.now() - start;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
}

/** The q-quantile of sorted values (nearest rank). */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index] as number;
}

/** The median of some numbers (NaN for none). */
export function median(values: number[]): number {
  const finite = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (finite.length === 0) return Number.NaN;
  const mid = finite.length >> 1;
  return finite.length % 2 === 1
    ? (finite[mid] as number)
    : ((finite[mid - 1] as number) + (finite[mid] as number)) / 2;
}

/** The median sample of several rounds, field by field. */
export function medianSample(samples: Sample[]): Sample {
  const pick = (f: (s: Sample) => number | undefined) =>
    median(samples.map(f).filter((v): v is number => v !== undefined));
  const extraKeys = new Set(samples.flatMap((s) => Object.keys(s.extra ?? {})));
  const extra: Record<string, number> = {};
  for (const key of extraKeys) extra[key] = pick((s) => s.extra?.[key]);
  const result: Sample = {
    ops: pick((s) => s.ops),
    wallMs: pick((s) => s.wallMs),
    opsPerSec: pick((s) => s.opsPerSec),
    cpuUsPerOp: pick((s) => s.cpuUsPerOp),
  };
  const p50 = pick((s) => s.p50Ms);
  const p99 = pick((s) => s.p99Ms);
  if (Number.isFinite(p50)) result.p50Ms = p50;
  if (Number.isFinite(p99)) result.p99Ms = p99;
  if (extraKeys.size > 0) result.extra = extra;
  return result;
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
